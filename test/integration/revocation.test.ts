/**
 * Revocation takes effect at `/mcp` (issue: a deleted client's tokens used to work for their
 * whole lifetime): the real local server, the embedded DynamoDB engine, the revocation list
 * re-read every second (`REVOCATION_REFRESH_SECONDS=1`), tokens from the real `/token`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { LocalServer } from '../../lib/local/server.js';
import {
  basicAuth,
  machineToken,
  registerClient,
  registerMachineClient,
  startTestServer,
  toolCallInit,
} from '../support/local-server.js';
import { login, UserAgent } from '../support/user-agent.js';

let server: LocalServer;
let issuer: string;

beforeAll(async () => {
  server = await startTestServer({ env: { REVOCATION_REFRESH_SECONDS: '1' } });
  issuer = server.issuer;
});
afterAll(async () => {
  await server.close();
});

/** `tools/call add` with a token; answers the status and the `WWW-Authenticate` error description. */
async function callTool(token: string): Promise<{ status: number; description?: string }> {
  const response = await fetch(`${issuer}/mcp`, toolCallInit(token, { a: 1, b: 2 }));
  await response.text();
  const challenge = response.headers.get('www-authenticate') ?? '';
  const description = /error_description="([^"]*)"/.exec(challenge)?.[1];
  return { status: response.status, ...(description !== undefined && { description }) };
}

/** Polls until the token is refused or `ms` pass; answers the last result and how long it took. */
async function untilRefused(
  token: string,
  ms = 5000,
): Promise<{ status: number; description?: string; afterMs: number }> {
  const started = Date.now();
  for (;;) {
    const result = await callTool(token);
    if (result.status !== 200 || Date.now() - started > ms)
      return { ...result, afterMs: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function revoke(client: { clientId: string; clientSecret: string }, token: string) {
  const response = await fetch(`${issuer}/revoke`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(client.clientId, client.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  });
  return response.status;
}

describe('revocation at /mcp', () => {
  it("a deleted client's access tokens stop working within the refresh interval; other clients' keep working", async () => {
    // Prepare
    const doomed = await registerClient(issuer, {
      client_name: 'doomed agent',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'mcp:tools',
    });
    const token = await machineToken(issuer, {
      clientId: doomed.client_id,
      clientSecret: doomed.client_secret!,
    });
    const bystander = await registerMachineClient(issuer);
    const bystanderToken = await machineToken(issuer, bystander);
    expect((await callTool(token)).status).toBe(200);

    // Act
    const deleted = await fetch(doomed.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${doomed.registration_access_token}` },
    });
    const result = await untilRefused(token);

    // Assess
    expect(deleted.status).toBe(204);
    expect(result).toMatchObject({ status: 401, description: 'the token has been revoked' });
    expect(result.afterMs).toBeLessThan(3000);
    expect((await callTool(bystanderToken)).status).toBe(200);
  });

  it('an access token revoked by its client (RFC 7009) stops working; the client’s next token works', async () => {
    // Prepare
    const client = await registerMachineClient(issuer);
    const token = await machineToken(issuer, client);
    expect((await callTool(token)).status).toBe(200);

    // Act
    const status = await revoke(client, token);
    const result = await untilRefused(token);

    // Assess
    expect(status).toBe(200);
    expect(result).toMatchObject({ status: 401, description: 'the token has been revoked' });
    expect((await callTool(await machineToken(issuer, client))).status).toBe(200);
  });

  it('another client cannot revoke a token it does not own', async () => {
    // Prepare
    const owner = await registerMachineClient(issuer);
    const stranger = await registerMachineClient(issuer);
    const token = await machineToken(issuer, owner);

    // Act
    const status = await revoke(stranger, token);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    // Assess: 200 as for any unknown token (RFC 7009 §2.2), and the token still works.
    expect(status).toBe(200);
    expect((await callTool(token)).status).toBe(200);
  });

  it("revoking a user's refresh token stops the access tokens of that login, not those of another login", async () => {
    // Prepare: two logins of the same public client.
    const client = await registerClient(issuer, {
      client_name: 'desktop app',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    });
    const agent = new UserAgent();
    const logins = [];
    for (const state of ['one', 'two']) {
      const verifier = randomBytes(32).toString('base64url');
      const url = `${issuer}/authorize?${new URLSearchParams({
        client_id: client.client_id,
        redirect_uri: 'http://127.0.0.1:41234/callback',
        response_type: 'code',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        state,
        resource: `${issuer}/mcp`,
      })}`;
      const redirect = await login(
        agent,
        url,
        { issuer, upstreamIssuer: server.upstreamIssuer },
        'revocation-user',
      );
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: redirect.searchParams.get('code')!,
          code_verifier: verifier,
          client_id: client.client_id,
          redirect_uri: 'http://127.0.0.1:41234/callback',
          resource: `${issuer}/mcp`,
        }),
      });
      logins.push((await response.json()) as { access_token: string; refresh_token: string });
    }
    const [first, second] = logins as [(typeof logins)[0], (typeof logins)[0]];
    expect((await callTool(first.access_token)).status).toBe(200);

    // Act
    const revoked = await fetch(`${issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: first.refresh_token, client_id: client.client_id }),
    });
    const result = await untilRefused(first.access_token);

    // Assess
    expect(revoked.status).toBe(200);
    expect(result).toMatchObject({ status: 401, description: 'the token has been revoked' });
    expect((await callTool(second.access_token)).status).toBe(200);
  });
});
