/** Runs the README's curl walkthrough (scripts/test-api.sh) against the real local server. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { exampleV1Front, exampleV2Front } from '../../lambda/mcp/examples/sdk-server.js';
import { createSdkServerFront } from '../../lambda/mcp/protocol/sdk-server.js';
import { PlainResponse } from '../../lambda/shared/http-message.js';
import type { LocalServer } from '../../lib/local/server.js';
import { startTestServer } from '../support/local-server.js';

const run = promisify(execFile);
let server: LocalServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

it('passes every step of the walkthrough against the local server', async () => {
  const { stdout } = await run('bash', ['scripts/test-api.sh', server.issuer], { timeout: 60_000 });
  expect(stdout).toContain('tools/call add(2, 3) = 5');
  expect(stdout).toContain('registered loopback client');
  expect(stdout).toContain('/authorize with http://127.0.0.1:54321/callback sends the browser to log in');
  expect(stdout).toContain('/token with a loopback redirect_uri reaches the server');
  expect(stdout).toMatch(/^13 passed, 0 failed$/m);
});

it('fails when the server is not what it claims to be', async () => {
  // The issuer check must catch a base URL that differs from the configured issuer.
  const wrongBase = server.issuer.replace('localhost', '127.0.0.1');
  await expect(run('bash', ['scripts/test-api.sh', wrongBase], { timeout: 60_000 })).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('issuer is'),
  });
});

it.each([
  ['v2', exampleV2Front],
  ['v1', exampleV1Front],
])(
  'passes against a local server serving an MCP SDK server of its own (%s example): reads its answers, skips the add it lacks',
  async (_sdk, front) => {
    // Prepare: npm start's server, serving the example SDK server instead of the built-in tools
    const sdkServer = await startTestServer({ mcpServer: front() });
    try {
      // Act
      const { stdout } = await run('bash', ['scripts/test-api.sh', sdkServer.issuer], { timeout: 60_000 });

      // Assess
      expect(stdout).toContain('tools/list: reverse_text, whoami, purge_cache');
      expect(stdout).toContain('tools/call add skipped');
      expect(stdout).toMatch(/^12 passed, 0 failed$/m);
    } finally {
      await sdkServer.close();
    }
  },
);

it('fails when the server answers tools/list with an error', async () => {
  // Prepare: a server that initializes but cannot list its tools
  const broken = createSdkServerFront(async ({ parsedBody }) => {
    const { id, method } = parsedBody as { id: unknown; method: string };
    const reply =
      method === 'initialize'
        ? {
            result: {
              protocolVersion: '2024-11-05',
              capabilities: {},
              serverInfo: { name: 'broken', version: '1' },
            },
          }
        : { error: { code: -32603, message: 'tools unavailable' } };
    return new PlainResponse(JSON.stringify({ jsonrpc: '2.0', id, ...reply }), {
      headers: { 'content-type': 'application/json' },
    });
  });
  const server = await startTestServer({ mcpServer: broken });
  try {
    // Act
    const result = run('bash', ['scripts/test-api.sh', server.issuer], { timeout: 60_000 });

    // Assess
    await expect(result).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('tools/list listed no tools'),
    });
  } finally {
    await server.close();
  }
});
