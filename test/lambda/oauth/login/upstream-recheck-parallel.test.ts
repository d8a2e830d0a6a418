/**
 * Two refreshes of one grant family at once, when its upstream re-check is due (parallel sessions
 * of one client refresh together), against the real grant store on the embedded engine: one asks
 * the provider, the other waits for that answer. Past the outage grace, with the provider
 * healthy, neither gets a 503.
 */
import { ensureTable, startLocalDynamo, type LocalDynamo } from '../../../../lib/local/dynamodb.js';
import type { OAuthDeps } from '../../../../lambda/oauth/deps.js';
import { recheckUpstream } from '../../../../lambda/oauth/login/upstream-recheck.js';
import { newKeyMaterial, UpstreamTokenCipher } from '../../../../lambda/oauth/login/upstream-token-cipher.js';
import { DynamoGrantStore, type GrantFamily } from '../../../../lambda/oauth/stores/grant-store.js';
import { loadConfig } from '../../../../lambda/shared/config.js';
import { createLogger } from '../../../../lambda/shared/logger.js';

const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
const NOW = NOW_MS / 1000;
const config = loadConfig({ ISSUER: 'https://as.example' });
let dynamo: LocalDynamo;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIDTEST';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test-secret';
  process.env.AWS_REGION ??= 'eu-west-1';
  dynamo = await startLocalDynamo({ tableName: 'recheck-parallel' });
  await ensureTable(dynamo.client, 'recheck-parallel');
});
afterAll(async () => dynamo.close());

it('asks the provider once for two parallel refreshes past the outage grace, and answers both with its result', async () => {
  // Prepare: a family idle overnight (last checked two hours ago, past the one-hour grace).
  const grants = new DynamoGrantStore(dynamo.documentClient, 'recheck-parallel');
  const material = newKeyMaterial();
  const cipher = new UpstreamTokenCipher(async () => material);
  const family: GrantFamily = {
    familyId: 'family-parallel',
    clientId: 'client-1',
    identity: { sub: 'ada', name: 'Ada' },
    scope: 'mcp:tools',
    audience: config.mcpResource,
    createdAt: NOW - 86_400,
    expiresAt: NOW + 86_400,
    upstreamCheckedAt: NOW - 2 * 3600,
    upstreamToken: await cipher.encrypt('upstream-rt-1', 'ada'),
  };
  await grants.createFamily(family);
  const asked: string[] = [];
  const deps = {
    config,
    grants,
    upstreamTokens: cipher,
    identityProvider: {
      refresh: async (token: string) => {
        asked.push(token);
        await new Promise((resolve) => setTimeout(resolve, 300));
        return {
          identity: { sub: 'ada', name: 'Ada Lovelace' },
          claims: { sub: 'ada' },
          refreshToken: 'upstream-rt-2',
        };
      },
    },
    revocations: { revoke: async () => undefined },
    logger: createLogger('oauth', { level: 'silent' }),
    now: () => NOW_MS,
  } as unknown as OAuthDeps;
  // Each request read the family before either claimed the check.
  const read = (await grants.getFamily(family.familyId, NOW_MS))!;

  // Act
  const results = await Promise.all([
    recheckUpstream(deps, read, NOW_MS),
    recheckUpstream(deps, read, NOW_MS),
  ]);

  // Assess
  expect(asked).toEqual(['upstream-rt-1']);
  for (const result of results) {
    expect(result).toMatchObject({ identity: { name: 'Ada Lovelace' }, upstreamCheckedAt: NOW });
  }
});
