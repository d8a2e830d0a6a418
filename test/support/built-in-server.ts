/**
 * The tests of `/mcp`'s front (token verification, key and revocation reads, faults, logs,
 * metrics) call the built-in tools (`add`). A team that serves its own MCP SDK server sets it in
 * `lambda/mcp/served-server.ts`; these helpers build and start the function with the built-in
 * tools in its place, everything else as deployed, so those tests hold whichever server is set.
 */
import { join } from 'node:path';
import { build, type BuildOptions, type BuildResult, type Plugin } from 'esbuild';
import { buildOptions, entryPath, PROJECT_ROOT } from '../../lib/bundling.js';

/** The import in `lambda/mcp/index.ts` that names the served server. */
const SERVED_SERVER_IMPORT = './served-server.js';

/**
 * Builds the mcp bundle into `outdir` with the esbuild options of lib/bundling.ts, the entry's
 * import of `served-server.js` resolved to `built-in-served-server.ts`. Fails if the entry no
 * longer has that import, so the substitution can never silently lapse.
 */
export async function buildBuiltInMcpBundle(
  outdir: string,
  options: BuildOptions = {},
): Promise<BuildResult> {
  let substituted = false;
  const plugin: Plugin = {
    name: 'built-in-served-server',
    setup(build) {
      build.onResolve({ filter: /^\.\/served-server\.js$/ }, (args) => {
        if (args.importer !== entryPath('mcp')) return undefined;
        substituted = true;
        return { path: join(PROJECT_ROOT, 'test/support/built-in-served-server.ts') };
      });
    },
  };
  const result = await build({ ...buildOptions('mcp', outdir), ...options, plugins: [plugin] });
  if (!substituted) {
    throw new Error(
      `lambda/mcp/index.ts no longer imports ${SERVED_SERVER_IMPORT}: cannot pin the built-in tools`,
    );
  }
  return result;
}
