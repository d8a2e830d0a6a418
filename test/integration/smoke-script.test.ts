/** Runs the README's curl walkthrough (scripts/test-api.sh) against the real local server. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
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
  expect(stdout).toMatch(/^10 passed, 0 failed$/m);
});

it('fails when the server is not what it claims to be', async () => {
  // The issuer check must catch a base URL that differs from the configured issuer.
  const wrongBase = server.issuer.replace('localhost', '127.0.0.1');
  await expect(run('bash', ['scripts/test-api.sh', wrongBase], { timeout: 60_000 })).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('issuer is'),
  });
});
