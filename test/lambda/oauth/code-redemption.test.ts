/**
 * A code is spent only once the tokens it buys are certain: a dependency fault before that leaves
 * it redeemable, so the client's retry succeeds instead of looking like a replay that revokes
 * the grant. Runs the oauth app on the embedded DynamoDB engine with a grant store that fails
 * the first refresh-token write.
 */
import { createHash } from 'node:crypto';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { startLocalDynamo, type LocalDynamo } from '../../../lib/local/dynamodb.js';
import { createOAuthApp } from '../../../lambda/oauth/app.js';
import { ClientResolver } from '../../../lambda/oauth/clients/client-resolver.js';
import { DynamoClientStore } from '../../../lambda/oauth/stores/client-store.js';
import { DynamoGrantStore, type GrantStore } from '../../../lambda/oauth/stores/grant-store.js';
import { DynamoRevocationList } from '../../../lambda/oauth/stores/revocations.js';
import { loadConfig } from '../../../lambda/shared/config.js';
import { randomToken, sha256 } from '../../../lambda/shared/crypto.js';
import { rotateSigningKeySet } from '../../../lambda/shared/key-set.js';
import { createLogger } from '../../../lambda/shared/logger.js';
import { CachedSigningKeys } from '../../../lambda/shared/signing-keys.js';

const TABLE = 'code-redemption';
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ tableName: TABLE });
});
afterAll(() => dynamo.close());

/**
 * A public client, a code issued to it for a user, and the oauth app over the embedded engine.
 * While `faults.refreshWrite` is set, the next refresh-token write fails (once); while
 * `faults.marker` is set, every revocation marker write fails.
 */
async function setup() {
  const config = loadConfig({ ISSUER: 'https://as.example', REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' });
  const clients = new DynamoClientStore(dynamo.documentClient, TABLE);
  const store = new DynamoGrantStore(dynamo.documentClient, TABLE);
  const markers = new DynamoRevocationList(dynamo.documentClient, TABLE);
  const faults = { refreshWrite: false, marker: false };
  const throttled = () =>
    Promise.reject(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
  const grants = new Proxy(store, {
    get(target, name: keyof GrantStore) {
      if (name === 'saveRefreshToken' && faults.refreshWrite) {
        faults.refreshWrite = false;
        return throttled;
      }
      const member = target[name];
      return typeof member === 'function' ? member.bind(target) : member;
    },
  });
  const revocations = {
    revoke: (...args: Parameters<typeof markers.revoke>) =>
      faults.marker ? throttled() : markers.revoke(...args),
    notBefore: (...args: Parameters<typeof markers.notBefore>) => markers.notBefore(...args),
  };
  const now = Math.floor(Date.now() / 1000);
  const clientId = randomToken(16);
  await clients.create({
    clientId,
    metadata: {
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'mcp:tools',
    },
    registrationTokenHash: sha256(randomToken()),
    issuedAt: now,
    updatedAt: now,
  });
  const verifier = randomToken();
  const code = randomToken();
  const familyId = randomToken(16);
  const identity = { sub: `user-${familyId}` };
  const request = {
    clientId,
    redirectUri: 'http://127.0.0.1:5000/callback',
    redirectUriSent: true,
    codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
    scope: 'mcp:tools',
    audience: config.mcpResource,
    forceConsent: false,
  };
  await store.createFamily({
    familyId,
    clientId,
    identity,
    scope: 'mcp:tools',
    audience: config.mcpResource,
    createdAt: now,
    expiresAt: now + 3600,
  });
  await store.saveCode(sha256(code), {
    request,
    identity,
    familyId,
    familyExpiresAt: now + 3600,
    expiresAt: now + 600,
  });
  const app = createOAuthApp({
    config,
    clients,
    clientResolver: new ClientResolver(clients),
    grants,
    revocations,
    keys: new CachedSigningKeys({ load: async () => rotateSigningKeySet({}) }),
    logger: createLogger('oauth', { level: 'silent' }),
  });
  const post = async (fields: Record<string, string>) => {
    const response = await app(
      new Request('https://as.example/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: clientId, ...fields }),
      }),
    );
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  };
  const redeem = () =>
    post({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: request.redirectUri,
    });
  const revoked = async () => ({
    family: (await store.getFamily(familyId, Date.now()))?.revoked === true,
    marker: (await markers.notBefore({ grant: familyId }, Date.now())) !== undefined,
  });
  return { faults, post, redeem, revoked, store, familyId };
}

it('leaves a code redeemable when storing its refresh token fails, and the retry gets working tokens', async () => {
  // Prepare
  const { faults, post, redeem } = await setup();
  faults.refreshWrite = true;

  // Act
  const failed = await redeem();
  const retried = await redeem();
  const refreshed = await post({ grant_type: 'refresh_token', refresh_token: retried.body.refresh_token! });

  // Assess
  expect(failed.status).toBe(503);
  expect(failed.body.error).toBe('temporarily_unavailable');
  expect(retried.status).toBe(200);
  expect(refreshed.status).toBe(200);
});

it('gives no tokens for a grant revoked between the consent and the redemption, and keeps the code unspent', async () => {
  // Prepare: an operator revokes the grant (npm run admin -- revoke --grant) right after consent.
  const { redeem, store, familyId } = await setup();
  await store.revokeFamily(familyId);

  // Act
  const refused = await redeem();
  const again = await redeem();

  // Assess: refused both times as a revoked grant, never as a replay.
  expect(refused).toEqual({
    status: 400,
    body: { error: 'invalid_grant', error_description: 'the code is invalid or expired' },
  });
  expect(again.status).toBe(400);
});

describe('revocations whose marker cannot be written', () => {
  it('answers a replayed code 503 and revokes nothing while the marker fails, and revokes the grant on the retry', async () => {
    // Prepare
    const { faults, redeem, revoked } = await setup();
    expect((await redeem()).status).toBe(200);
    faults.marker = true;

    // Act
    const refused = await redeem();
    const whileFailing = await revoked();
    faults.marker = false;
    const retried = await redeem();

    // Assess
    expect(refused).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
    expect(whileFailing).toEqual({ family: false, marker: false });
    expect(retried).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await revoked()).toEqual({ family: true, marker: true });
  });

  it('answers a refresh token reused after its grace window 503 and revokes nothing while the marker fails, and revokes the grant on the retry', async () => {
    // Prepare: a rotation, then the rotated-out token again after the (zero) grace window
    const { faults, post, redeem, revoked } = await setup();
    const first = (await redeem()).body;
    expect((await post({ grant_type: 'refresh_token', refresh_token: first.refresh_token! })).status).toBe(
      200,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    faults.marker = true;

    // Act
    const refused = await post({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });
    const whileFailing = await revoked();
    faults.marker = false;
    const retried = await post({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });

    // Assess
    expect(refused).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
    expect(whileFailing).toEqual({ family: false, marker: false });
    expect(retried).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await revoked()).toEqual({ family: true, marker: true });
  });
});
