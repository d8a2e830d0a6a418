import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUNDLE_FILE,
  ESBUILD_OPTIONS,
  NODE_TARGET,
  PROJECT_ROOT,
  type DeployedFunction,
} from '../../lib/bundling.js';
import { NODEJS_BUNDLING, RUNTIME } from '../../lib/constructs/function.js';
import { logicalId, synth, type Resources, type Synthesized } from './synth.js';

const FUNCTIONS: [DeployedFunction, string][] = [
  ['mcp', 'McpFunction'],
  ['oauth', 'OAuthFunction'],
  ['rotate-keys', 'SigningKeysRotateKeysFunction'],
];

let synthesized: Synthesized;
let buildDir: string;

beforeAll(() => {
  synthesized = synth();
  buildDir = mkdtempSync(join(tmpdir(), 'mcp-build-'));
  // Exactly what `npm run build` runs, into a scratch directory.
  execFileSync(join(PROJECT_ROOT, 'node_modules/.bin/tsx'), ['scripts/build.ts', '--outdir', buildDir], {
    cwd: PROJECT_ROOT,
    stdio: 'pipe',
  });
}, 120_000);

afterAll(() => {
  rmSync(buildDir, { recursive: true, force: true });
});

function deployedBundle(prefix: string): string {
  const { template, assembly } = synthesized;
  const fn = (template.findResources('AWS::Lambda::Function') as Resources)[
    logicalId(template, 'AWS::Lambda::Function', prefix)
  ]!;
  const assetHash = String(fn.Properties!.Code.S3Key).replace(/\.zip$/, '');
  return join(assembly.directory, `asset.${assetHash}`, BUNDLE_FILE);
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('the bundles the stack deploys', () => {
  it.each(FUNCTIONS)('deploys the very %s bundle that npm run build produces', (name, prefix) => {
    // Prepare
    const deployed = deployedBundle(prefix);
    const built = join(buildDir, name, BUNDLE_FILE);

    // Act
    const [deployedHash, builtHash] = [sha256(deployed), sha256(built)];

    // Assess
    expect(deployedHash).toBe(builtHash);
    expect(readFileSync(built).length).toBeGreaterThan(1000);
  });

  it.each(FUNCTIONS)('ships the %s source map, with the same mappings as the build', (name, prefix) => {
    // Prepare
    const deployedMap = JSON.parse(readFileSync(`${deployedBundle(prefix)}.map`, 'utf8'));
    const builtMap = JSON.parse(readFileSync(join(buildDir, name, `${BUNDLE_FILE}.map`), 'utf8'));

    // Assess: paths in `sources` are relative to each output folder, the mappings are not.
    expect(deployedMap.mappings).toBe(builtMap.mappings);
    expect(deployedMap.sourcesContent).toBeUndefined();
  });

  it('is an ES module for the runtime the stack deploys, with nothing left external', () => {
    // Assess
    expect(RUNTIME.name).toBe(`nodejs${NODE_TARGET.replace('node', '')}.x`);
    expect(NODEJS_BUNDLING).toMatchObject({
      format: 'esm',
      target: NODE_TARGET,
      minify: true,
      externalModules: [],
    });
    expect(ESBUILD_OPTIONS).toMatchObject({ format: 'esm', platform: 'node', bundle: true, external: [] });
    expect(existsSync(join(buildDir, 'mcp', BUNDLE_FILE))).toBe(true);
  });
});
