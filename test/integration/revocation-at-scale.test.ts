/**
 * Revocation holds when the store is full: the local server with the embedded engine, tens of
 * thousands of revocation markers written straight into the table (as a flood of revocations
 * would leave them, without sending the requests), and then each way of revoking, through the
 * real endpoints: an access token (RFC 7009), a deleted client, a refresh token reused after its
 * grace window, a replayed authorization code. Each still takes effect at `/mcp`, and the next
 * revocation's write costs what the first did.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LocalServer } from '../../lib/local/server.js';
import type { OAuthDeps } from '../../lambda/oauth/deps.js';
import { revokeUser } from '../../lambda/oauth/stores/revocations.js';
import { DynamoRevocationList } from '../../lambda/shared/revocation-writer.js';
import { markerExpiresAt } from '../../lambda/shared/revocations.js';
import {
  basicAuth,
  machineToken,
  registerClient,
  registerMachineClient,
  startTestServer,
  toolCallInit,
} from '../support/local-server.js';
import { login, UserAgent } from '../support/user-agent.js';

/** Markers already stored: past the 34,000 entries that switched the earlier list off. */
const FILL = 40_000;
const REDIRECT_URI = 'http://127.0.0.1:41234/callback';

let server: LocalServer;
let issuer: string;
let db: DynamoDBDocumentClient;
const consumed: number[] = [];
let writer: DynamoRevocationList;

beforeAll(async () => {
  server = await startTestServer({
    env: { REVOCATION_REFRESH_SECONDS: '1', REFRESH_TOKEN_REUSE_GRACE_SECONDS: '1' },
  });
  issuer = server.issuer;
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: server.table.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  writer = new DynamoRevocationList(db, server.table.name, Date.now, (units) => consumed.push(units));
}, 30_000);
afterAll(async () => {
  db?.destroy();
  await server?.close();
});

/** Writes `count` markers of distinct subjects, as many revocations would, 64 at a time. */
async function fill(count: number): Promise<void> {
  const fillWriter = new DynamoRevocationList(db, server.table.name);
  const now = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < count) {
        const i = next++;
        const subject = i % 2 ? { grant: `flood-family-${i}` } : { client: `flood-client-${i}` };
        await fillWriter.revoke(subject, now, markerExpiresAt(now, 3600));
      }
    }),
  );
}

async function callTool(token: string): Promise<number> {
  const response = await fetch(`${issuer}/mcp`, toolCallInit(token, { a: 1, b: 2 }));
  await response.text();
  return response.status;
}

/** Polls until `/mcp` refuses the token, for at most 10 s; answers the last status. */
async function untilRefused(token: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    const status = await callTool(token);
    if (status !== 200 || Date.now() - started > 10_000) return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One user login of a public client: the `/token` parameters that redeem its code. */
async function loginRedemption(clientId: string, username: string): Promise<Record<string, string>> {
  const verifier = randomBytes(32).toString('base64url');
  const url = `${issuer}/authorize?${new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'scale',
    resource: `${issuer}/mcp`,
  })}`;
  const redirect = await login(
    new UserAgent(),
    url,
    { issuer, upstreamIssuer: server.upstreamIssuer },
    username,
  );
  return {
    grant_type: 'authorization_code',
    code: redirect.searchParams.get('code')!,
    code_verifier: verifier,
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    resource: `${issuer}/mcp`,
  };
}

async function token(params: Record<string, string>): Promise<{ status: number; body: any }> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: await response.json() };
}

describe('revocation with the store full of markers', () => {
  let publicClient: string;
  const refresh = (refreshToken: string) =>
    token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: publicClient });

  beforeAll(async () => {
    // Prepare: the first write's cost on an empty store, then the flood's markers.
    await writer.revoke({ client: 'first-write' }, Date.now(), markerExpiresAt(Date.now(), 3600));
    await fill(FILL);
    publicClient = (
      await registerClient(issuer, {
        client_name: 'desktop app',
        redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        application_type: 'native',
      })
    ).client_id;
  }, 120_000);

  it('writes the next revocation for what the first one cost, and revoking one subject again adds no item', async () => {
    // Act
    await writer.revoke({ client: 'after-the-flood' }, Date.now(), markerExpiresAt(Date.now(), 3600));
    await writer.revoke({ client: 'after-the-flood' }, Date.now() + 1, markerExpiresAt(Date.now(), 3600));

    // Assess: one unit for the item and one for the index, whatever is stored
    expect(consumed).toHaveLength(3);
    expect(consumed[0]).toBeGreaterThan(0);
    expect(consumed[1]).toBe(consumed[0]);
    expect(consumed[2]).toBe(consumed[0]);
  });

  it('still refuses an access token its client revoked (RFC 7009)', async () => {
    // Prepare
    const client = await registerMachineClient(issuer);
    const access = await machineToken(issuer, client);
    expect(await callTool(access)).toBe(200);

    // Act
    const revoked = await fetch(`${issuer}/revoke`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(client.clientId, client.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: access }),
    });

    // Assess
    expect(revoked.status).toBe(200);
    expect(await untilRefused(access)).toBe(401);
    expect(await callTool(await machineToken(issuer, client))).toBe(200);
  }, 30_000);

  it("still refuses a deleted client's tokens", async () => {
    // Prepare
    const doomed = await registerClient(issuer, {
      client_name: 'doomed agent',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'mcp:tools',
    });
    const access = await machineToken(issuer, {
      clientId: doomed.client_id,
      clientSecret: doomed.client_secret!,
    });

    // Act
    const deleted = await fetch(doomed.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${doomed.registration_access_token}` },
    });

    // Assess
    expect(deleted.status).toBe(204);
    expect(await untilRefused(access)).toBe(401);
  }, 30_000);

  it('still revokes a login whose refresh token is reused after the grace window', async () => {
    // Prepare
    const issued = await token(await loginRedemption(publicClient, 'scale-reuse'));
    const refreshed = await refresh(issued.body.refresh_token);
    await new Promise((resolve) => setTimeout(resolve, 2_100));

    // Act: the rotated-out token again, after the 1 s grace
    const reused = await refresh(issued.body.refresh_token);

    // Assess
    expect(refreshed.status).toBe(200);
    expect(reused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await untilRefused(refreshed.body.access_token)).toBe(401);
    const again = await refresh(refreshed.body.refresh_token);
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  }, 30_000);

  it("revokes every grant of one user with one write: their tokens at /mcp and their refreshes, not another user's", async () => {
    // Prepare: two logins of one user (two clients would do the same), one of another user
    const redeem = async (username: string) =>
      (await token(await loginRedemption(publicClient, username))).body;
    const [first, second, bystander] = [
      await redeem('scale-offboarded'),
      await redeem('scale-offboarded'),
      await redeem('scale-bystander'),
    ];
    const sub = JSON.parse(Buffer.from(first.access_token.split('.')[1], 'base64url').toString()).sub;
    const writes = consumed.length;

    // Act: what the operators' offboarding and the upstream re-check call
    await revokeUser(
      {
        now: () => Date.now(),
        config: { accessTokenTtlSeconds: 3600 },
        revocations: writer,
      } as unknown as OAuthDeps,
      sub,
    );

    // Assess
    expect(consumed.length - writes).toBe(1);
    expect(await untilRefused(first.access_token)).toBe(401);
    expect(await untilRefused(second.access_token)).toBe(401);
    for (const login of [first, second]) {
      const refreshed = await refresh(login.refresh_token);
      expect(refreshed).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    }
    expect(await callTool(bystander.access_token)).toBe(200);
    const bystanderRefresh = await refresh(bystander.refresh_token);
    expect(bystanderRefresh.status).toBe(200);
  }, 30_000);

  it('still revokes a login whose authorization code is replayed', async () => {
    // Prepare
    const params = await loginRedemption(publicClient, 'scale-replay');
    const issued = await token(params);
    expect(await callTool(issued.body.access_token)).toBe(200);

    // Act
    const replayed = await token(params);

    // Assess
    expect(replayed).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await untilRefused(issued.body.access_token)).toBe(401);
  }, 30_000);
});
