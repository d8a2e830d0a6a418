/**
 * `npm run admin` against a running local server (its data folder, as `npm start` leaves it) with
 * users who logged in through headless Chromium at the local OpenID provider: listing two users'
 * grants, revoking one user everywhere (their refresh fails, their access tokens are refused at
 * `/mcp` within the revocation bound, the other user keeps working), revoking one grant, revoking
 * a client; and the command itself run as `npm run admin` runs it.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { LocalServer } from '../../lib/local/server.js';
import { PROJECT_ROOT } from '../../lib/bundling.js';
import { runAdmin } from '../../scripts/admin/run.js';
import { launchChromium, loginInBrowser, runBrowserTests } from '../support/browser.js';
import {
  registerClient,
  startTestServer,
  toolCallInit,
  type RegisteredClient,
} from '../support/local-server.js';

const describeWithBrowser = runBrowserTests ? describe : describe.skip;
const REDIRECT_URI = 'http://127.0.0.1:41234/callback';

interface Tokens {
  access: string;
  refresh: string;
}

describeWithBrowser('npm run admin against the local server, after real browser logins', () => {
  let server: LocalServer;
  let browser: Browser;
  let dataDir: string;
  let desktop: RegisteredClient;
  let web: RegisteredClient;
  const tokens: Record<string, Tokens> = {};

  async function admin(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = { stdout: '', stderr: '' };
    const code = await runAdmin(argv, {
      stdout: (text) => (out.stdout += text),
      stderr: (text) => (out.stderr += text),
      env: { DATA_DIR: dataDir },
    });
    return { code, ...out };
  }

  async function logIn(username: string, client: RegisteredClient): Promise<Tokens> {
    const verifier = randomBytes(32).toString('base64url');
    const url = `${server.issuer}/authorize?${new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: randomBytes(8).toString('hex'),
      resource: `${server.issuer}/mcp`,
    })}`;
    const { redirect, context } = await loginInBrowser(browser, url, server, { username });
    await context.close();
    const code = redirect.searchParams.get('code');
    if (!code) throw new Error(`no code: ${redirect.href}`);
    const response = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: client.client_id,
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
        resource: `${server.issuer}/mcp`,
      }),
    });
    const body = (await response.json()) as { access_token: string; refresh_token: string };
    return { access: body.access_token, refresh: body.refresh_token };
  }

  async function refresh(
    client: RegisteredClient,
    token: string,
  ): Promise<{ status: number; tokens?: Tokens }> {
    const response = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: client.client_id,
        refresh_token: token,
      }),
    });
    const body = (await response.json()) as { access_token: string; refresh_token: string };
    return {
      status: response.status,
      ...(response.status === 200 && { tokens: { access: body.access_token, refresh: body.refresh_token } }),
    };
  }

  const callTool = async (token: string) => {
    const response = await fetch(`${server.issuer}/mcp`, toolCallInit(token));
    await response.text();
    return response.status;
  };

  /** Polls `/mcp` until the token is refused, for at most the bound (refresh interval 1 s, plus margin). */
  async function untilRefused(token: string): Promise<number> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const status = await callTool(token);
      if (status !== 200 || Date.now() > deadline) return status;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const grantIds = (stdout: string, sub?: string) =>
    (JSON.parse(stdout).grants as Array<{ grantId: string; sub: string }>)
      .filter((g) => sub === undefined || g.sub === sub)
      .map((g) => g.grantId);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'admin-local-'));
    server = await startTestServer({ inMemory: false, dataDir, env: { REVOCATION_REFRESH_SECONDS: '1' } });
    browser = await launchChromium();
    const app = (name: string) => ({
      client_name: name,
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    });
    desktop = await registerClient(server.issuer, app('Admin test desktop'));
    web = await registerClient(server.issuer, app('Admin test second app'));
    tokens.aliceDesktop = await logIn('alice@example.com', desktop);
    tokens.aliceWeb = await logIn('alice@example.com', web);
    tokens.bob = await logIn('bob@example.com', desktop);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("lists two users' grants and the users, by client", async () => {
    // Act
    const grants = await admin('grants', '--json');
    const users = await admin('users', '--json');
    const bobs = await admin('grants', '--user', 'bob@example.com', '--json');
    const clients = await admin('clients', '--json');

    // Assess
    expect(grants.code).toBe(0);
    // Logins of one second are listed in any order.
    expect(JSON.parse(grants.stdout).grants).toHaveLength(3);
    expect(JSON.parse(grants.stdout).grants).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          sub: 'alice@example.com',
          email: 'alice@example.com',
          clientId: desktop.client_id,
          clientName: 'Admin test desktop',
        }),
        expect.objectContaining({
          sub: 'alice@example.com',
          clientId: web.client_id,
          clientName: 'Admin test second app',
        }),
        expect.objectContaining({
          sub: 'bob@example.com',
          clientId: desktop.client_id,
          scope: expect.any(String),
        }),
      ]),
    );
    expect(JSON.parse(users.stdout).users).toEqual([
      expect.objectContaining({
        sub: 'alice@example.com',
        grants: 2,
        clients: [desktop.client_id, web.client_id].sort(),
      }),
      expect.objectContaining({ sub: 'bob@example.com', grants: 1, clients: [desktop.client_id] }),
    ]);
    expect(grantIds(bobs.stdout)).toHaveLength(1);
    expect(JSON.parse(clients.stdout).clients).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          clientId: desktop.client_id,
          kind: 'interactive',
          liveGrants: 2,
          redirectHosts: ['127.0.0.1'],
        }),
        expect.objectContaining({ clientId: web.client_id, liveGrants: 1 }),
      ]),
    );
    for (const run of [grants, users, bobs, clients]) {
      for (const token of Object.values(tokens)) {
        expect(run.stdout).not.toContain(token.refresh);
        expect(run.stdout).not.toContain(token.access.split('.')[2]);
      }
    }
  });

  it("revokes one user everywhere: their refresh fails and their access tokens stop at /mcp; the other user's keep working", async () => {
    // Prepare
    expect(await callTool(tokens.aliceDesktop!.access)).toBe(200);
    expect(await callTool(tokens.aliceWeb!.access)).toBe(200);

    // Act
    const run = await admin('revoke', '--user', 'alice@example.com');

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Revoked user alice@example.com: 2 live grants:\n/);
    expect(JSON.parse(run.stderr)).toMatchObject({
      audit: 'revoke',
      target: 'user',
      by: 'admin',
      caller: expect.stringMatching(/^local:/),
    });
    expect((await refresh(desktop, tokens.aliceDesktop!.refresh)).status).toBe(400);
    expect((await refresh(web, tokens.aliceWeb!.refresh)).status).toBe(400);
    expect(await untilRefused(tokens.aliceDesktop!.access)).toBe(401);
    expect(await untilRefused(tokens.aliceWeb!.access)).toBe(401);
    const bob = await refresh(desktop, tokens.bob!.refresh);
    expect(bob.status).toBe(200);
    tokens.bob = bob.tokens!;
    expect(await callTool(tokens.bob.access)).toBe(200);
    expect(grantIds((await admin('grants', '--json')).stdout, 'alice@example.com')).toEqual([]);
  });

  it('revokes one grant: its refresh fails and its access token stops at /mcp', async () => {
    // Prepare
    const [bobGrant] = grantIds((await admin('grants', '--user', 'bob@example.com', '--json')).stdout);

    // Act
    const run = await admin('revoke', '--grant', bobGrant!, '--json');

    // Assess
    expect(JSON.parse(run.stdout).revoked).toMatchObject({
      target: 'grant',
      id: bobGrant,
      grants: [{ sub: 'bob@example.com' }],
    });
    expect((await refresh(desktop, tokens.bob!.refresh)).status).toBe(400);
    expect(await untilRefused(tokens.bob!.access)).toBe(401);
  });

  it('revokes a client: it is deleted, and its users can neither refresh nor call /mcp', async () => {
    // Prepare
    const carol = await logIn('carol@example.com', web);
    expect(await callTool(carol.access)).toBe(200);

    // Act
    const run = await admin('revoke', '--client', web.client_id, '--json');

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).revoked.grants).toEqual([
      expect.objectContaining({ sub: 'carol@example.com' }),
    ]);
    const read = await fetch(web.registration_client_uri, {
      headers: { authorization: `Bearer ${web.registration_access_token}` },
    });
    expect(read.status).toBe(401);
    expect((await refresh(web, carol.refresh)).status).not.toBe(200);
    expect(await untilRefused(carol.access)).toBe(401);
    expect(
      JSON.parse((await admin('clients', '--json')).stdout).clients.map(
        (c: { clientId: string }) => c.clientId,
      ),
    ).toEqual([desktop.client_id]);
  }, 60_000);

  it('runs as npm run admin does: the listing on stdout, exit code 0; bad arguments exit 2 with one line', async () => {
    // Act
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const { NODE_OPTIONS: _jest, ...env } = process.env;
        execFile(
          process.execPath,
          ['--import', 'tsx', join(PROJECT_ROOT, 'scripts/admin/admin.ts'), ...args],
          { env: { ...env, DATA_DIR: dataDir }, cwd: PROJECT_ROOT },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        );
      });
    const listed = await run(['users', '--json']);
    const bad = await run(['revoke', '--user']);

    // Assess
    expect(listed).toEqual({ code: 0, stdout: expect.any(String), stderr: '' });
    expect(JSON.parse(listed.stdout)).toEqual({ users: [] });
    expect(bad).toEqual({
      code: 2,
      stdout: '',
      stderr: "admin: Option '--user <value>' argument missing (npm run admin -- --help)\n",
    });
  }, 60_000);
});
