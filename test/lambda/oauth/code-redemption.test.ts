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
import { ClientResolver } from '../../../lambda/oauth/client-resolver.js';
import { DynamoClientStore } from '../../../lambda/oauth/client-store.js';
import { DynamoGrantStore, type GrantStore } from '../../../lambda/oauth/grant-store.js';
import { DynamoRevocationList } from '../../../lambda/oauth/revocations.js';
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

it('leaves a code redeemable when storing its refresh token fails, and the retry gets working tokens', async () => {
  // Prepare: a public client, and a code issued to it for a user.
  const config = loadConfig({ ISSUER: 'https://as.example' });
  const clients = new DynamoClientStore(dynamo.documentClient, TABLE);
  const store = new DynamoGrantStore(dynamo.documentClient, TABLE);
  let failNextRefreshWrite = true;
  const grants = new Proxy(store, {
    get(target, name: keyof GrantStore) {
      if (name === 'saveRefreshToken' && failNextRefreshWrite) {
        failNextRefreshWrite = false;
        return () =>
          Promise.reject(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
      }
      const member = target[name];
      return typeof member === 'function' ? member.bind(target) : member;
    },
  });
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
  const identity = { sub: 'ada' };
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
    revocations: new DynamoRevocationList(dynamo.documentClient, TABLE),
    keys: new CachedSigningKeys({ load: async () => rotateSigningKeySet({}) }),
    logger: createLogger('oauth', { level: 'silent' }),
  });
  const post = (fields: Record<string, string>) =>
    app(
      new Request('https://as.example/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: clientId, ...fields }),
      }),
    );
  const redeem = () =>
    post({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: request.redirectUri,
    });

  // Act
  const failed = await redeem();
  const retried = await redeem();
  const tokens = (await retried.json()) as { refresh_token: string };
  const refreshed = await post({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });

  // Assess
  expect(failed.status).toBe(503);
  expect(((await failed.json()) as { error: string }).error).toBe('temporarily_unavailable');
  expect(retried.status).toBe(200);
  expect(refreshed.status).toBe(200);
});

describe('revocations whose marker cannot be written', () => {
  /** A client, a code for a user, and an app whose marker writes fail while `failing` is set. */
  async function setup() {
    const config = loadConfig({ ISSUER: 'https://as.example', REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' });
    const clients = new DynamoClientStore(dynamo.documentClient, TABLE);
    const store = new DynamoGrantStore(dynamo.documentClient, TABLE);
    const markers = new DynamoRevocationList(dynamo.documentClient, TABLE);
    const state = { failing: false };
    const revocations = {
      revoke: (...args: Parameters<typeof markers.revoke>) =>
        state.failing
          ? Promise.reject(
              new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }),
            )
          : markers.revoke(...args),
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
      grants: store,
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
    return { state, post, redeem, revoked };
  }

  it('answers a replayed code 503 and revokes nothing while the marker fails, and revokes the grant on the retry', async () => {
    // Prepare
    const { state, redeem, revoked } = await setup();
    expect((await redeem()).status).toBe(200);
    state.failing = true;

    // Act
    const refused = await redeem();
    const whileFailing = await revoked();
    state.failing = false;
    const retried = await redeem();

    // Assess
    expect(refused).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
    expect(whileFailing).toEqual({ family: false, marker: false });
    expect(retried).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await revoked()).toEqual({ family: true, marker: true });
  });

  it('answers a refresh token reused after its grace window 503 and revokes nothing while the marker fails, and revokes the grant on the retry', async () => {
    // Prepare: a rotation, then the rotated-out token again after the (zero) grace window
    const { state, post, redeem, revoked } = await setup();
    const first = (await redeem()).body;
    expect((await post({ grant_type: 'refresh_token', refresh_token: first.refresh_token! })).status).toBe(
      200,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    state.failing = true;

    // Act
    const refused = await post({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });
    const whileFailing = await revoked();
    state.failing = false;
    const retried = await post({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });

    // Assess
    expect(refused).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
    expect(whileFailing).toEqual({ family: false, marker: false });
    expect(retried).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await revoked()).toEqual({ family: true, marker: true });
  });
});
