/**
 * How every function is bundled. The CDK stack (through `NodejsFunction`), `scripts/build.ts` and
 * the benchmark all build from these options, so the bundle that is measured is the bundle that
 * is deployed; `test/lib/bundling.test.ts` checks that they are byte-identical.
 */
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** The repository root: every entry and the lock file are resolved from here. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Each deployed function and its entry module (which exports `handler`), relative to the root. */
export const FUNCTION_ENTRIES = {
  oauth: 'lambda/oauth/index.ts',
  mcp: 'lambda/mcp/index.ts',
  'rotate-keys': 'lambda/rotate-keys/index.ts',
} as const;

export type DeployedFunction = keyof typeof FUNCTION_ENTRIES;

/**
 * `NODE_OPTIONS` of each function, as the stack sets it; the benchmark starts its fresh processes
 * with the same, so a cold start is measured as deployed.
 *
 * `--enable-source-maps` makes Node parse a bundle's source map while it loads the bundle: about
 * 13 ms more per cold start of the mcp function (16 ms on Node.js 22) and 12 ms more for the oauth
 * function's import (doc/performance.md). The two HTTP functions, whose cold starts clients wait
 * for, run without it, and their stack traces name positions in the minified bundle, which
 * `npm run map-stack` turns back into TypeScript positions with the same map; the key rotation
 * function, which no client waits for, keeps mapped traces in its logs.
 */
export const NODE_OPTIONS: Record<DeployedFunction, string> = {
  oauth: '',
  mcp: '',
  'rotate-keys': '--enable-source-maps',
};

/** The bundle's file name inside its asset; `.mjs` makes Lambda load it as an ES module. */
export const BUNDLE_FILE = 'index.mjs';

/** esbuild `target` matching the Lambda runtime the stack deploys (`nodejs24.x`). */
export const NODE_TARGET = 'node24';

/**
 * Some bundled CommonJS dependencies call `require()` for Node built-ins, which an ES module does
 * not have; this banner defines it. The alias avoids clashing with names in the bundle.
 */
export const CREATE_REQUIRE_BANNER =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

/**
 * The esbuild options, apart from the entry and the output file.
 *
 * - Everything is bundled, the AWS SDK included: the runtime's own SDK copy is not tree-shaken,
 *   its version moves under us, and what the benchmark measures must be what runs.
 * - `sourcesContent: false`: stack traces need only the mappings, and a small map keeps
 *   `--enable-source-maps` (where a function runs with it, {@link NODE_OPTIONS}) cheaper at start-up.
 * - `mainFields: module, main`: prefer the ESM build of dependencies so tree-shaking works.
 */
export const ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: NODE_TARGET,
  format: 'esm',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  external: [],
  banner: { js: CREATE_REQUIRE_BANNER },
  logLevel: 'warning',
} as const satisfies BuildOptions;

/** Where the oauth bundle's AWS SDK credential chain resolves (see {@link BUNDLE_ALIASES}). */
const ENV_CREDENTIALS = './lambda/shared/env-credentials.ts';

/** Where the mcp bundle's imports of the stream built-ins resolve (see {@link BUNDLE_ALIASES}). */
const LAZY_STREAMS = './lambda/mcp/protocol/lazy-streams.ts';

/**
 * Import aliases, per function. In the mcp bundle, imports of `node:stream`,
 * `node:stream/promises` and `node:stream/web` (`@middy/core`'s, and unused helpers of
 * `@smithy/core`) resolve to `lambda/mcp/protocol/lazy-streams.ts`, which loads each module when it is
 * first used: middy needs them only to stream a response, which the mcp function never does,
 * and importing them at start-up cost about 2.7 ms of every cold start
 * (doc/performance.md). The oauth and rotation bundles carry the AWS SDK, which uses streams for
 * real. In the oauth bundle the SDK's default credential chain resolves to
 * `lambda/shared/env-credentials.ts`, the environment's credentials, which is what the chain
 * finds in Lambda: the rest of it is about 100 KB that a cold start compiles and never runs. Paths are relative to the project root, esbuild's working directory, so that the asset
 * hash does not depend on where the project is checked out.
 */
export const BUNDLE_ALIASES: Record<DeployedFunction, Readonly<Record<string, string>>> = {
  oauth: { '@aws-sdk/credential-provider-node': ENV_CREDENTIALS },
  mcp: {
    'node:stream': LAZY_STREAMS,
    'node:stream/promises': LAZY_STREAMS,
    'node:stream/web': LAZY_STREAMS,
  },
  'rotate-keys': {},
};

/** The absolute path of a function's entry module. */
export function entryPath(name: DeployedFunction): string {
  return join(PROJECT_ROOT, FUNCTION_ENTRIES[name]);
}

/** The complete esbuild options for one function, writing `<outdir>/index.mjs`. */
export function buildOptions(name: DeployedFunction, outdir: string): BuildOptions {
  return {
    ...ESBUILD_OPTIONS,
    mainFields: [...ESBUILD_OPTIONS.mainFields],
    external: [...ESBUILD_OPTIONS.external],
    banner: { ...ESBUILD_OPTIONS.banner },
    absWorkingDir: PROJECT_ROOT,
    alias: { ...BUNDLE_ALIASES[name] },
    entryPoints: [entryPath(name)],
    outfile: join(outdir, BUNDLE_FILE),
  };
}

/** Where `scripts/build.ts` writes a function's bundle: `dist/<name>/index.mjs`. */
export function distDir(name: DeployedFunction): string {
  return join(PROJECT_ROOT, 'dist', name);
}

/** A path relative to the root, for messages. */
export function fromRoot(path: string): string {
  return relative(PROJECT_ROOT, path);
}
