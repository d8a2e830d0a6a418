import { sha256 } from '../../../../lambda/shared/crypto.js';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DynamoGrantStore,
  type AuthorizationCode,
  type GrantFamily,
  type PendingAuthorization,
  type RefreshToken,
  type UserIdentity,
} from '../../../../lambda/oauth/stores/grant-store.js';

const dbMock = mockClient(DynamoDBDocumentClient);
const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const store = new DynamoGrantStore(db, 'table');

/** The clock, in milliseconds with a fraction of a second, so flooring to seconds is exercised. */
const NOW_MS = 1_700_000_000_900;
const NOW = 1_700_000_000;

const identity: UserIdentity = { sub: 'user-1', name: 'Ada', email: 'ada@example.com' };

const request = {
  clientId: 'client-1',
  redirectUri: 'http://127.0.0.1:33418/callback',
  redirectUriSent: true,
  codeChallenge: 'challenge',
  scope: 'mcp:tools',
  audience: 'https://as.example/mcp',
  state: 'client-state',
  forceConsent: false,
};

const pending: PendingAuthorization = {
  request,
  upstream: { codeVerifier: 'verifier', nonce: 'nonce' },
  browserHash: 'browser-hash',
  expiresAt: NOW + 600,
};

const family: GrantFamily = {
  familyId: 'fam-1',
  clientId: 'client-1',
  identity,
  scope: 'mcp:tools',
  audience: 'https://as.example/mcp',
  createdAt: NOW,
  expiresAt: NOW + 90 * 86_400,
};

const code: AuthorizationCode = {
  request,
  identity,
  familyId: 'fam-1',
  familyExpiresAt: NOW + 90 * 86_400,
  expiresAt: NOW + 600,
};

const refreshToken: RefreshToken = { familyId: 'fam-1', clientId: 'client-1', expiresAt: NOW + 86_400 };

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'x', $metadata: {} });
const throttled = () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });

const putInput = () => dbMock.commandCalls(PutCommand)[0]!.args[0].input;
const getInput = () => dbMock.commandCalls(GetCommand)[0]!.args[0].input;
const updateInput = () => dbMock.commandCalls(UpdateCommand)[0]!.args[0].input;
const deleteInput = () => dbMock.commandCalls(DeleteCommand)[0]!.args[0].input;

beforeEach(() => dbMock.reset());

describe('DynamoGrantStore pending authorizations', () => {
  it('stores a pending authorization under its handle hash, only if the key is new', async () => {
    // Prepare
    dbMock.on(PutCommand).resolves({});

    // Act
    await store.savePending('handle-hash', pending);

    // Assess
    expect(putInput()).toEqual({
      TableName: 'table',
      Item: { pk: 'authz#handle-hash', type: 'pending', ...pending },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('passes a handle collision on instead of overwriting', async () => {
    // Prepare
    dbMock.on(PutCommand).rejects(conditionFailed());

    // Act
    const saving = store.savePending('handle-hash', pending);

    // Assess
    await expect(saving).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('reads a pending authorization with a consistent read', async () => {
    // Prepare
    dbMock.on(GetCommand).resolves({ Item: { pk: 'authz#handle-hash', type: 'pending', ...pending } });

    // Act
    const found = await store.getPending('handle-hash', NOW_MS);

    // Assess
    expect(found).toMatchObject(pending);
    expect(getInput()).toEqual({
      TableName: 'table',
      Key: { pk: 'authz#handle-hash' },
      ConsistentRead: true,
    });
  });

  it('returns undefined for an unknown pending authorization', async () => {
    // Prepare
    dbMock.on(GetCommand).resolves({});

    // Act
    const found = await store.getPending('handle-hash', NOW_MS);

    // Assess
    expect(found).toBeUndefined();
  });

  it('treats a pending authorization as gone from the second it expires', async () => {
    // Prepare
    dbMock
      .on(GetCommand)
      .resolvesOnce({ Item: { pk: 'authz#h', ...pending, expiresAt: NOW } })
      .resolvesOnce({ Item: { pk: 'authz#h', ...pending, expiresAt: NOW + 1 } });

    // Act
    const expired = await store.getPending('h', NOW_MS);
    const live = await store.getPending('h', NOW_MS);

    // Assess
    expect(expired).toBeUndefined();
    expect(live).toMatchObject({ expiresAt: NOW + 1 });
  });

  it('records the identity once, only on a live pending authorization without one', async () => {
    // Prepare
    dbMock.on(UpdateCommand).resolves({});

    // Act
    const recorded = await store.setPendingIdentity(
      'handle-hash',
      { identity, scope: 'mcp:tools', upstreamToken: 'v1.k1.sealed' },
      'csrf-hash',
      NOW_MS,
    );

    // Assess: with the scope the policy left and the encrypted upstream token.
    expect(recorded).toBe(true);
    expect(updateInput()).toEqual({
      TableName: 'table',
      Key: { pk: 'authz#handle-hash' },
      UpdateExpression:
        'SET #identity = :identity, #csrf = :csrf, #request.#scope = :scope, #upstream = :upstream',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#identity) AND #exp > :now',
      ExpressionAttributeNames: {
        '#identity': 'identity',
        '#csrf': 'csrfHash',
        '#exp': 'expiresAt',
        '#request': 'request',
        '#scope': 'scope',
        '#upstream': 'upstreamToken',
      },
      ExpressionAttributeValues: {
        ':identity': identity,
        ':csrf': 'csrf-hash',
        ':now': NOW,
        ':scope': 'mcp:tools',
        ':upstream': 'v1.k1.sealed',
      },
    });
  });

  it('returns false when the pending authorization is gone, expired or already has an identity', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const recorded = await store.setPendingIdentity(
      'handle-hash',
      { identity, scope: 'mcp:tools' },
      'csrf-hash',
      NOW_MS,
    );

    // Assess
    expect(recorded).toBe(false);
  });

  it('passes other errors on when recording the identity', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(throttled());

    // Act
    const recording = store.setPendingIdentity(
      'handle-hash',
      { identity, scope: 'mcp:tools' },
      'csrf-hash',
      NOW_MS,
    );

    // Assess
    await expect(recording).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('takes a live pending authorization with one conditional delete that returns it', async () => {
    // Prepare
    const stored = { pk: 'authz#handle-hash', type: 'pending', ...pending, identity };
    dbMock.on(DeleteCommand).resolves({ Attributes: stored });

    // Act
    const taken = await store.takePending('handle-hash', NOW_MS);

    // Assess
    expect(taken).toEqual(stored);
    expect(deleteInput()).toEqual({
      TableName: 'table',
      Key: { pk: 'authz#handle-hash' },
      ConditionExpression: 'attribute_exists(pk) AND #exp > :now',
      ExpressionAttributeNames: { '#exp': 'expiresAt' },
      ExpressionAttributeValues: { ':now': NOW },
      ReturnValues: 'ALL_OLD',
    });
  });

  it('returns undefined to the caller that loses the take or finds it expired', async () => {
    // Prepare
    dbMock.on(DeleteCommand).rejects(conditionFailed());

    // Act
    const taken = await store.takePending('handle-hash', NOW_MS);

    // Assess
    expect(taken).toBeUndefined();
  });

  it('passes other errors on when taking a pending authorization', async () => {
    // Prepare
    dbMock.on(DeleteCommand).rejects(throttled());

    // Act
    const taking = store.takePending('handle-hash', NOW_MS);

    // Assess
    await expect(taking).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('passes storage errors on when reading', async () => {
    // Prepare
    dbMock.on(GetCommand).rejects(throttled());

    // Act
    const reading = store.getPending('handle-hash', NOW_MS);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });
});

describe('DynamoGrantStore grant families', () => {
  it('creates a family under its id, only if the key is new', async () => {
    // Prepare
    dbMock.on(PutCommand).resolves({});

    // Act
    await store.createFamily(family);

    // Assess
    expect(putInput()).toEqual({
      TableName: 'table',
      Item: {
        pk: 'family#fam-1',
        type: 'family',
        ...family,
        // In its user's partition of the access index, the user by a hash of `sub`.
        mcpRead: `grants#${sha256('user-1')}`,
        changedAt: expect.any(Number),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(Math.floor((putInput().Item!.changedAt as number) / 1000)).toBe(family.createdAt);
  });

  it("records the user's login on their item, keyed by a hash of `sub`, alongside the family", async () => {
    // Prepare
    dbMock.on(PutCommand).resolves({});
    dbMock.on(UpdateCommand).resolves({});

    // Act
    await store.createFamily(family);

    // Assess
    expect(updateInput()).toMatchObject({
      TableName: 'table',
      Key: { pk: `user#${sha256('user-1')}` },
      ExpressionAttributeValues: expect.objectContaining({
        ':sub': 'user-1',
        ':email': 'ada@example.com',
        ':login': family.createdAt,
        ':part': 'users',
        ':exp': family.expiresAt,
      }),
    });
  });

  it("creates the family even when the user's item cannot be written, and says so", async () => {
    // Prepare: a throttled user item; a store told of it.
    dbMock.on(PutCommand).resolves({});
    dbMock
      .on(UpdateCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    const failures: unknown[] = [];
    const told = new DynamoGrantStore(db, 'table', (error) => failures.push(error));

    // Act
    const created = await told.createFamilyOnce(family);
    await told.createFamily({ ...family, familyId: 'fam-2' });

    // Assess: the grant stands (a spent ID-JAG or code is not lost to a listing's write).
    expect(created).toBe(true);
    expect(failures).toHaveLength(2);
    expect(failures[0]).toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it("keeps the user's longer expiry when a shorter-lived family comes later", async () => {
    // Prepare: the first write refuses (a longer expiry is recorded); the second records who and when.
    dbMock.on(PutCommand).resolves({});
    dbMock
      .on(UpdateCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'longer', $metadata: {} }))
      .resolves({});

    // Act
    await store.createFamily(family);

    // Assess
    const [first, second] = dbMock.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(first!.ConditionExpression).toContain('#exp <= :exp');
    expect(second!.UpdateExpression).not.toContain('#exp');
    expect(second!.ExpressionAttributeValues).toMatchObject({ ':login': family.createdAt });
  });

  it('records a refresh on a family that exists', async () => {
    // Prepare
    dbMock.on(UpdateCommand).resolves({});

    // Act
    await store.recordRefresh('fam-1', NOW);

    // Assess
    expect(updateInput()).toEqual({
      TableName: 'table',
      Key: { pk: 'family#fam-1' },
      UpdateExpression: 'SET #at = :at',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#at': 'lastRefreshAt' },
      ExpressionAttributeValues: { ':at': NOW },
    });
  });

  it('reads a family with a consistent read, revoked or not', async () => {
    // Prepare
    dbMock.on(GetCommand).resolves({ Item: { pk: 'family#fam-1', ...family, revoked: true } });

    // Act
    const found = await store.getFamily('fam-1', NOW_MS);

    // Assess
    expect(found).toMatchObject({ ...family, revoked: true });
    expect(getInput()).toEqual({ TableName: 'table', Key: { pk: 'family#fam-1' }, ConsistentRead: true });
  });

  it('treats an expired family as absent', async () => {
    // Prepare
    dbMock.on(GetCommand).resolves({ Item: { pk: 'family#fam-1', ...family, expiresAt: NOW - 1 } });

    // Act
    const found = await store.getFamily('fam-1', NOW_MS);

    // Assess
    expect(found).toBeUndefined();
  });

  it('revokes a family that exists', async () => {
    // Prepare
    dbMock.on(UpdateCommand).resolves({});

    // Act
    await store.revokeFamily('fam-1');

    // Assess
    expect(updateInput()).toEqual({
      TableName: 'table',
      Key: { pk: 'family#fam-1' },
      // Out of the access index too.
      UpdateExpression: 'SET #revoked = :true REMOVE #part, #changed',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#revoked': 'revoked', '#part': 'mcpRead', '#changed': 'changedAt' },
      ExpressionAttributeValues: { ':true': true },
    });
  });

  it('does nothing when the family to revoke is already gone', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const revoking = store.revokeFamily('fam-1');

    // Assess
    await expect(revoking).resolves.toBeUndefined();
  });

  it('passes other errors on when revoking', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(throttled());

    // Act
    const revoking = store.revokeFamily('fam-1');

    // Assess
    await expect(revoking).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('claims the upstream re-check with one conditional write: unrevoked, last check as seen, no live claim', async () => {
    // Prepare
    dbMock.on(UpdateCommand).resolves({});

    // Act
    const claimed = await store.claimUpstreamCheck('fam-1', NOW - 900, NOW, NOW - 30);

    // Assess
    expect(claimed).toBe(true);
    expect(updateInput()).toEqual({
      TableName: 'table',
      Key: { pk: 'family#fam-1' },
      UpdateExpression: 'SET #started = :now',
      ConditionExpression:
        'attribute_exists(pk) AND attribute_not_exists(#revoked) AND #checked = :seen AND ' +
        '(attribute_not_exists(#started) OR #started < :stale)',
      ExpressionAttributeNames: {
        '#started': 'upstreamCheckStartedAt',
        '#checked': 'upstreamCheckedAt',
        '#revoked': 'revoked',
      },
      ExpressionAttributeValues: { ':now': NOW, ':stale': NOW - 30, ':seen': NOW - 900 },
    });
  });

  it('answers false to the second claimant of a re-check', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const claimed = await store.claimUpstreamCheck('fam-1', NOW - 900, NOW, NOW - 30);

    // Assess
    expect(claimed).toBe(false);
  });

  it('records a re-check: time, identity, scope and the new encrypted token, and ends the claim', async () => {
    // Prepare
    dbMock.on(UpdateCommand).resolves({});

    // Act
    await store.recordUpstreamCheck('fam-1', {
      checkedAt: NOW,
      identity: { sub: 'ada', name: 'Ada' },
      scope: 'mcp:tools',
      upstreamToken: 'v1.k2.sealed',
    });

    // Assess
    expect(updateInput()).toMatchObject({
      Key: { pk: 'family#fam-1' },
      UpdateExpression:
        'SET #checked = :checked, #identity = :identity, #scope = :scope, #upstream = :upstream REMOVE #started',
      ExpressionAttributeValues: {
        ':checked': NOW,
        ':identity': { sub: 'ada', name: 'Ada' },
        ':scope': 'mcp:tools',
        ':upstream': 'v1.k2.sealed',
      },
    });
  });
});

describe('DynamoGrantStore authorization codes', () => {
  it('stores a new code as unused, only if the key is new', async () => {
    // Prepare
    dbMock.on(PutCommand).resolves({});

    // Act
    await store.saveCode('code-hash', { ...code, used: true });

    // Assess
    expect(putInput()).toEqual({
      TableName: 'table',
      Item: { pk: 'code#code-hash', type: 'code', ...code, used: false },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('reads a code with a consistent read, used or not, until it expires', async () => {
    // Prepare
    dbMock
      .on(GetCommand)
      .resolvesOnce({ Item: { pk: 'code#code-hash', ...code, used: true } })
      .resolvesOnce({ Item: { pk: 'code#code-hash', ...code, used: true, expiresAt: NOW } });

    // Act
    const used = await store.getCode('code-hash', NOW_MS);
    const expired = await store.getCode('code-hash', NOW_MS);

    // Assess
    expect(used).toMatchObject({ ...code, used: true });
    expect(expired).toBeUndefined();
    expect(getInput()).toEqual({ TableName: 'table', Key: { pk: 'code#code-hash' }, ConsistentRead: true });
  });

  it('redeems an unused live code with one conditional update that returns it', async () => {
    // Prepare
    const stored = { pk: 'code#code-hash', type: 'code', ...code, used: false };
    dbMock.on(UpdateCommand).resolves({ Attributes: stored });

    // Act
    const redemption = await store.redeemCode('code-hash', NOW_MS);

    // Assess
    expect(redemption).toEqual({ outcome: 'redeemed', code: stored });
    expect(updateInput()).toEqual({
      TableName: 'table',
      Key: { pk: 'code#code-hash' },
      UpdateExpression: 'SET #used = :true',
      ConditionExpression: 'attribute_exists(pk) AND #used = :false AND #exp > :now',
      ExpressionAttributeNames: { '#used': 'used', '#exp': 'expiresAt' },
      ExpressionAttributeValues: { ':true': true, ':false': false, ':now': NOW },
      ReturnValues: 'ALL_OLD',
    });
    expect(dbMock.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('reports a replay when the code was already used', async () => {
    // Prepare
    const stored = { pk: 'code#code-hash', type: 'code', ...code, used: true };
    dbMock.on(UpdateCommand).rejects(conditionFailed());
    dbMock.on(GetCommand).resolves({ Item: stored });

    // Act
    const redemption = await store.redeemCode('code-hash', NOW_MS);

    // Assess
    expect(redemption).toEqual({ outcome: 'replayed', code: stored });
    expect(getInput()).toEqual({ TableName: 'table', Key: { pk: 'code#code-hash' }, ConsistentRead: true });
  });

  it('reports an unknown code when there is none', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(conditionFailed());
    dbMock.on(GetCommand).resolves({});

    // Act
    const redemption = await store.redeemCode('code-hash', NOW_MS);

    // Assess
    expect(redemption).toEqual({ outcome: 'unknown' });
  });

  it('reports an expired code as unknown, not as a replay, even if it was used', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(conditionFailed());
    dbMock.on(GetCommand).resolves({ Item: { pk: 'code#code-hash', ...code, used: true, expiresAt: NOW } });

    // Act
    const redemption = await store.redeemCode('code-hash', NOW_MS);

    // Assess
    expect(redemption).toEqual({ outcome: 'unknown' });
  });

  it('passes other errors on when redeeming, without reading the code', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(throttled());

    // Act
    const redeeming = store.redeemCode('code-hash', NOW_MS);

    // Assess
    await expect(redeeming).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(dbMock.commandCalls(GetCommand)).toHaveLength(0);
  });
});

describe('DynamoGrantStore refresh tokens', () => {
  it('stores a refresh token under its hash, only if the key is new', async () => {
    // Prepare
    dbMock.on(PutCommand).resolves({});

    // Act
    await store.saveRefreshToken('token-hash', refreshToken);

    // Assess
    expect(putInput()).toEqual({
      TableName: 'table',
      Item: { pk: 'refresh#token-hash', type: 'refresh', ...refreshToken },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('reads a refresh token with a consistent read and ignores it once expired', async () => {
    // Prepare
    dbMock
      .on(GetCommand)
      .resolvesOnce({ Item: { pk: 'refresh#token-hash', ...refreshToken, rotatedAt: NOW - 5 } })
      .resolvesOnce({ Item: { pk: 'refresh#token-hash', ...refreshToken, expiresAt: NOW } });

    // Act
    const rotated = await store.getRefreshToken('token-hash', NOW_MS);
    const expired = await store.getRefreshToken('token-hash', NOW_MS);

    // Assess
    expect(rotated).toMatchObject({ ...refreshToken, rotatedAt: NOW - 5 });
    expect(expired).toBeUndefined();
    expect(getInput()).toEqual({
      TableName: 'table',
      Key: { pk: 'refresh#token-hash' },
      ConsistentRead: true,
    });
  });

  it('marks a token rotated now when it is the first to do so', async () => {
    // Prepare
    dbMock.on(UpdateCommand).resolves({});

    // Act
    const rotation = await store.markRotated('token-hash', NOW_MS);

    // Assess
    expect(rotation).toEqual({ first: true, rotatedAt: NOW });
    expect(updateInput()).toEqual({
      TableName: 'table',
      Key: { pk: 'refresh#token-hash' },
      UpdateExpression: 'SET #rotated = :at',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#rotated)',
      ExpressionAttributeNames: { '#rotated': 'rotatedAt' },
      ExpressionAttributeValues: { ':at': NOW },
    });
    expect(dbMock.commandCalls(GetCommand)).toHaveLength(0);
  });

  it("reports the winner's rotation time after losing the race", async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(conditionFailed());
    dbMock
      .on(GetCommand)
      .resolves({ Item: { pk: 'refresh#token-hash', ...refreshToken, rotatedAt: NOW - 5 } });

    // Act
    const rotation = await store.markRotated('token-hash', NOW_MS);

    // Assess
    expect(rotation).toEqual({ first: false, rotatedAt: NOW - 5 });
    expect(getInput()).toEqual({
      TableName: 'table',
      Key: { pk: 'refresh#token-hash' },
      ConsistentRead: true,
    });
  });

  it('reports a token that vanished before rotation as rotated at epoch 0, outside any grace window', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(conditionFailed());
    dbMock.on(GetCommand).resolves({});

    // Act
    const rotation = await store.markRotated('token-hash', NOW_MS);

    // Assess
    expect(rotation).toEqual({ first: false, rotatedAt: 0 });
  });

  it('passes other errors on when rotating, without reading the token', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(throttled());

    // Act
    const rotating = store.markRotated('token-hash', NOW_MS);

    // Assess
    await expect(rotating).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(dbMock.commandCalls(GetCommand)).toHaveLength(0);
  });
});

describe('DynamoGrantStore consents', () => {
  it('stores a consent per client and subject, replacing an earlier one', async () => {
    // Prepare
    dbMock.on(PutCommand).resolves({});

    // Act
    await store.saveConsent('client-1', 'subject-hash', ['mcp:tools'], NOW + 86_400);

    // Assess
    expect(putInput()).toEqual({
      TableName: 'table',
      Item: {
        pk: 'consent#client-1#subject-hash',
        type: 'consent',
        scopes: ['mcp:tools'],
        expiresAt: NOW + 86_400,
      },
    });
  });

  it('returns the approved scopes with a consistent read', async () => {
    // Prepare
    dbMock.on(GetCommand).resolves({
      Item: {
        pk: 'consent#client-1#subject-hash',
        scopes: ['mcp:tools', 'mcp:resources'],
        expiresAt: NOW + 1,
      },
    });

    // Act
    const scopes = await store.getConsent('client-1', 'subject-hash', NOW_MS);

    // Assess
    expect(scopes).toEqual(['mcp:tools', 'mcp:resources']);
    expect(getInput()).toEqual({
      TableName: 'table',
      Key: { pk: 'consent#client-1#subject-hash' },
      ConsistentRead: true,
    });
  });

  it('treats an expired consent as absent', async () => {
    // Prepare
    dbMock.on(GetCommand).resolves({
      Item: { pk: 'consent#client-1#subject-hash', scopes: ['mcp:tools'], expiresAt: NOW },
    });

    // Act
    const scopes = await store.getConsent('client-1', 'subject-hash', NOW_MS);

    // Assess
    expect(scopes).toBeUndefined();
  });

  it('returns undefined when there is no consent or it has no scope list', async () => {
    // Prepare
    dbMock
      .on(GetCommand)
      .resolvesOnce({})
      .resolvesOnce({
        Item: { pk: 'consent#client-1#subject-hash', scopes: 'mcp:tools', expiresAt: NOW + 1 },
      });

    // Act
    const none = await store.getConsent('client-1', 'subject-hash', NOW_MS);
    const malformed = await store.getConsent('client-1', 'subject-hash', NOW_MS);

    // Assess
    expect(none).toBeUndefined();
    expect(malformed).toBeUndefined();
  });
});
