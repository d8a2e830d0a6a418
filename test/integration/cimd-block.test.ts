/**
 * An operator stops a client ID metadata document client, which has no record to delete, with
 * `BLOCKED_CLIENT_METADATA_DOCUMENTS`: the local server logs a user in through a document client,
 * then starts again on the same data and port with the document (or its host) blocked. Its access
 * token is refused at `/mcp`, its refresh token at `/token`, a new login at `/authorize`; a
 * registered client is untouched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oauth from 'oauth4webapi';
import { startLocalServer, type LocalServer } from '../../lib/local/server.js';
import { DocumentServer } from '../support/document-server.js';
import { machineToken, registerMachineClient, toolCallInit } from '../support/local-server.js';
import { answerConsent, startLogin, UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://127.0.0.1:41234/callback';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as AddressInfo;
  await new Promise((done) => probe.close(done));
  return port;
}

const documents = new DocumentServer();
let dataDir: string;
let port: number;

beforeAll(async () => {
  await documents.start();
  dataDir = await mkdtemp(join(tmpdir(), 'cimd-block-'));
  port = await freePort();
});
afterAll(async () => {
  await documents.close();
  await rm(dataDir, { recursive: true, force: true });
});

function start(env: Record<string, string> = {}): Promise<LocalServer> {
  return startLocalServer({
    port,
    dataDir,
    logLevel: 'silent',
    mcpServer: 'built-in',
    env: { CIMD_ALLOW_HTTP_LOOPBACK: '1', ...env },
  });
}

function tokenRequest(issuer: string, params: Record<string, string>): Promise<Response> {
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
}

/** A user's login through the document client `clientId`: its tokens. */
async function login(server: LocalServer, clientId: string) {
  const verifier = oauth.generateRandomCodeVerifier();
  const url = `${server.issuer}/authorize?${new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'block',
    resource: `${server.issuer}/mcp`,
  })}`;
  const agent = new UserAgent();
  const step = await startLogin(agent, url, server, { username: 'blocked-app-user' });
  const answer = await answerConsent(agent, server, step.consent!.fields, 'approve');
  const code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
  const response = await tokenRequest(server.issuer, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
    resource: `${server.issuer}/mcp`,
  });
  return (await response.json()) as { access_token: string; refresh_token: string };
}

async function callTool(issuer: string, token: string): Promise<{ status: number; challenge: string }> {
  const response = await fetch(`${issuer}/mcp`, toolCallInit(token, { a: 1, b: 2 }));
  await response.text();
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '' };
}

it.each([
  ['its document URL', (url: string) => url],
  ['its host', (url: string) => new URL(url).hostname],
])(
  'stops a document client blocked by %s: /mcp, refresh and new logins; registered clients go on',
  async (_, entry) => {
    // Prepare: a login through the document client, and a registered machine client, before the block
    const path = `/app-${Math.random().toString(36).slice(2)}.json`;
    const clientId = `${documents.origin()}${path}`;
    documents.json(path, {
      client_id: clientId,
      client_name: 'Misbehaving app',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    let server = await start();
    const tokens = await login(server, clientId);
    const machine = await registerMachineClient(server.issuer);
    expect((await callTool(server.issuer, tokens.access_token)).status).toBe(200);
    await server.close();

    // Act: the same data and port, with the client blocked
    server = await start({ BLOCKED_CLIENT_METADATA_DOCUMENTS: entry(clientId) });
    try {
      const atMcp = await callTool(server.issuer, tokens.access_token);
      const refreshed = await tokenRequest(server.issuer, {
        grant_type: 'refresh_token',
        client_id: clientId,
        refresh_token: tokens.refresh_token,
      });
      const authorize = await fetch(
        `${server.issuer}/authorize?${new URLSearchParams({
          client_id: clientId,
          redirect_uri: REDIRECT,
          response_type: 'code',
          code_challenge: 'x'.repeat(43),
          code_challenge_method: 'S256',
        })}`,
        { redirect: 'manual' },
      );
      const machineCall = await callTool(server.issuer, await machineToken(server.issuer, machine));

      // Assess
      expect(atMcp.status).toBe(401);
      expect(atMcp.challenge).toContain('blocked');
      expect(refreshed.status).toBe(401);
      expect(await refreshed.json()).toMatchObject({ error: 'invalid_client' });
      expect(authorize.status).toBe(400);
      expect(authorize.headers.get('location')).toBeNull();
      expect(await authorize.text()).toContain('blocked');
      expect(machineCall.status).toBe(200);
    } finally {
      await server.close();
    }
  },
);
