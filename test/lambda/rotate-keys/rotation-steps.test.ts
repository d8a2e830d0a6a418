import { jest } from '@jest/globals';
import {
  DescribeSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SecretsManagerRotationEvent, SecretsManagerRotationEventStep } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT } from 'jose';
import { RotationError } from '../../../lambda/rotate-keys/errors.js';
import { ParameterStorePublisher } from '../../../lambda/rotate-keys/public-key-publisher.js';
import { rotateSecret, type RotationDeps } from '../../../lambda/rotate-keys/rotation-steps.js';
import {
  generateSigningKey,
  parseSigningKeySet,
  publishedKeys,
  serializeSigningKeySet,
  toPublicJwk,
  toPublicKeySet,
  type SigningKeySet,
  type StoredSigningKey,
} from '../../../lambda/shared/key-set.js';
import { createLogger } from '../../../lambda/shared/logger.js';
import {
  EMPTY_PUBLIC_KEY_SET,
  parsePublicKeySet,
  serializePublicKeySet,
} from '../../../lambda/shared/public-key-set.js';
import { PUBLIC_KEYS_ITEM_KEY } from '../../../lambda/shared/revocations.js';
import { FakeParameter, PARAMETER_NAME } from './fake-parameter.js';
import { FakeSecret, SECRET_ARN } from './fake-secret.js';

const secretsManager = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);
const STEPS: SecretsManagerRotationEventStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

let logLines: string[];
let deps: RotationDeps;
let parameter: FakeParameter;

function event(step: SecretsManagerRotationEventStep, token: string): SecretsManagerRotationEvent {
  return { Step: step, SecretId: SECRET_ARN, ClientRequestToken: token };
}

async function rotateFully(secret: FakeSecret, token: string): Promise<SigningKeySet> {
  secret.startRotation(token);
  for (const step of STEPS) await rotateSecret(event(step, token), deps);
  return parseSigningKeySet(secret.valueAt('AWSCURRENT')!);
}

async function signWith(key: StoredSigningKey): Promise<string> {
  return new SignJWT({ scope: 'mcp:tools' })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(await importJWK(key, key.alg));
}

function jwksOf(set: SigningKeySet) {
  return createLocalJWKSet({ keys: publishedKeys(set).map(toPublicJwk) });
}

let keyA: StoredSigningKey;
let keyB: StoredSigningKey;
let keyC: StoredSigningKey;

beforeAll(async () => {
  [keyA, keyB, keyC] = await Promise.all([generateSigningKey(), generateSigningKey(), generateSigningKey()]);
});

beforeEach(() => {
  secretsManager.reset();
  ssm.reset();
  parameter = new FakeParameter(EMPTY_PUBLIC_KEY_SET);
  parameter.wire(ssm);
  logLines = [];
  deps = {
    client: new SecretsManagerClient({ region: 'eu-west-1' }),
    publisher: new ParameterStorePublisher(new SSMClient({ region: 'eu-west-1' }), PARAMETER_NAME),
    logger: createLogger('rotate-keys', { write: (line) => logLines.push(line) }),
  };
});

/** The kids the public parameter publishes now. */
function publishedKids(): string[] {
  return parsePublicKeySet(parameter.value).keys.map((k) => k.kid);
}

describe('before any step', () => {
  it('refuses to run when rotation is disabled on the secret', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);
    secret.startRotation('token-1');
    secret.rotationEnabled = false;

    // Act
    const result = rotateSecret(event('createSecret', 'token-1'), deps);

    // Assess
    await expect(result).rejects.toMatchObject({ code: 'ERR_ROTATION_DISABLED' });
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('refuses a token that names no version of the secret', async () => {
    // Prepare
    new FakeSecret('{}').wire(secretsManager);

    // Act
    const result = rotateSecret(event('createSecret', 'unknown-token'), deps);

    // Assess
    await expect(result).rejects.toThrow(RotationError);
    await expect(result).rejects.toMatchObject({ code: 'ERR_VERSION_NOT_STAGED' });
  });

  it('refuses a version that is neither AWSPENDING nor AWSCURRENT', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.versions.set('old-version', { value: '{}', stages: new Set(['AWSPREVIOUS']) });
    secret.wire(secretsManager);

    // Act
    const result = rotateSecret(event('testSecret', 'old-version'), deps);

    // Assess
    await expect(result).rejects.toMatchObject({
      code: 'ERR_VERSION_NOT_STAGED',
      message: `version old-version is not AWSPENDING for ${SECRET_ARN}`,
    });
  });

  it('refuses an unknown step without calling Secrets Manager', async () => {
    // Prepare
    new FakeSecret('{}').wire(secretsManager);

    // Act
    const result = rotateSecret({ ...event('createSecret', 't'), Step: 'dropSecret' as never }, deps);

    // Assess
    await expect(result).rejects.toMatchObject({ code: 'ERR_UNKNOWN_STEP' });
    expect(secretsManager.commandCalls(DescribeSecretCommand)).toHaveLength(0);
  });

  it.each(STEPS)('does nothing in %s when the version is already AWSCURRENT', async (step) => {
    // Prepare
    const secret = new FakeSecret(serializeSigningKeySet({ current: keyA, next: keyB }));
    secret.wire(secretsManager);

    // Act
    await rotateSecret(event(step, 'initial-version'), deps);

    // Assess
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });
});

describe('createSecret', () => {
  it('creates a current and a next key on the first rotation from the empty placeholder', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);
    secret.startRotation('token-1');

    // Act
    await rotateSecret(event('createSecret', 'token-1'), deps);

    // Assess
    const [put] = secretsManager.commandCalls(PutSecretValueCommand);
    expect(put?.args[0].input).toMatchObject({
      SecretId: SECRET_ARN,
      ClientRequestToken: 'token-1',
      VersionStages: ['AWSPENDING'],
    });
    const pending = parseSigningKeySet(put!.args[0].input.SecretString!);
    expect(pending.current?.kid).toEqual(expect.any(String));
    expect(pending.next?.kid).toEqual(expect.any(String));
    expect(pending.next?.kid).not.toBe(pending.current?.kid);
    expect(pending.previous).toBeUndefined();
    expect(secret.valueAt('AWSCURRENT')).toBe('{}');
  });

  it('moves next to current and current to previous, and adds a new next key', async () => {
    // Prepare
    const secret = new FakeSecret(serializeSigningKeySet({ previous: keyC, current: keyA, next: keyB }));
    secret.wire(secretsManager);
    secret.startRotation('token-2');

    // Act
    await rotateSecret(event('createSecret', 'token-2'), deps);

    // Assess
    const pending = parseSigningKeySet(secret.valueAt('AWSPENDING')!);
    expect(pending.previous?.kid).toBe(keyA.kid);
    expect(pending.current?.kid).toBe(keyB.kid);
    expect([keyA.kid, keyB.kid, keyC.kid]).not.toContain(pending.next?.kid);
  });

  it('keeps the keys of the first attempt when createSecret is retried', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);
    secret.startRotation('token-1');
    await rotateSecret(event('createSecret', 'token-1'), deps);
    const firstAttempt = secret.valueAt('AWSPENDING');

    // Act
    await rotateSecret(event('createSecret', 'token-1'), deps);

    // Assess
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(secret.valueAt('AWSPENDING')).toBe(firstAttempt);
  });

  it('refuses to rotate an AWSCURRENT value that is not a key set, rather than discard it', async () => {
    // Prepare
    const secret = new FakeSecret('not json');
    secret.wire(secretsManager);
    secret.startRotation('token-1');

    // Act
    const result = rotateSecret(event('createSecret', 'token-1'), deps);

    // Assess
    await expect(result).rejects.toMatchObject({ code: 'ERR_INVALID_KEY_SET' });
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('logs key ids but never private key material', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);

    // Act
    await rotateFully(secret, 'token-1');

    // Assess
    const pending = parseSigningKeySet(secret.valueAt('AWSCURRENT')!);
    const logs = logLines.join('\n');
    expect(logs).toContain(pending.current!.kid);
    expect(logs).not.toContain(pending.current!.d);
    expect(logs).not.toContain(pending.next!.d);
  });
});

describe('setSecret', () => {
  it('changes nothing, because the keys live only in the secret', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);
    secret.startRotation('token-1');
    await rotateSecret(event('createSecret', 'token-1'), deps);
    secretsManager.resetHistory();

    // Act
    await rotateSecret(event('setSecret', 'token-1'), deps);

    // Assess
    expect(secretsManager.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeSecretCommand']);
  });

  it('publishes nothing before finishSecret: the pending keys are not tested yet', async () => {
    // Prepare
    const secret = new FakeSecret(serializeSigningKeySet({ current: keyA, next: keyB }));
    secret.wire(secretsManager);
    secret.startRotation('token-1');

    // Act
    for (const step of STEPS.slice(0, 3)) await rotateSecret(event(step, 'token-1'), deps);

    // Assess
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(parameter.value).toBe(EMPTY_PUBLIC_KEY_SET);
  });
});

describe('testSecret', () => {
  async function testPending(active: SigningKeySet, pending: SigningKeySet): Promise<void> {
    const secret = new FakeSecret(serializeSigningKeySet(active));
    secret.wire(secretsManager);
    secret.startRotation('token-1');
    secret.versions.get('token-1')!.value = serializeSigningKeySet(pending);
    await rotateSecret(event('testSecret', 'token-1'), deps);
  }

  it('accepts a pending set that signs and verifies and still publishes the signing key', async () => {
    // Prepare
    const active = { current: keyA, next: keyB };
    const pending = { previous: keyA, current: keyB, next: keyC };

    // Act
    const result = testPending(active, pending);

    // Assess
    await expect(result).resolves.toBeUndefined();
  });

  it('refuses a pending set that no longer publishes the key live tokens are signed with', async () => {
    // Prepare
    const active = { current: keyA, next: keyB };
    const pending = { current: keyB, next: keyC };

    // Act
    const result = testPending(active, pending);

    // Assess
    await expect(result).rejects.toMatchObject({
      code: 'ERR_PENDING_KEY_SET_INVALID',
      message: `pending key set no longer publishes the signing key "${keyA.kid}"; its tokens would fail`,
    });
  });

  it('refuses a pending set whose signing key was never published as next', async () => {
    // Prepare
    const active = { current: keyA, next: keyB };
    const pending = { previous: keyA, current: keyC, next: keyB };

    // Act
    const result = testPending(active, pending);

    // Assess
    await expect(result).rejects.toMatchObject({
      code: 'ERR_PENDING_KEY_SET_INVALID',
      message: `pending "current" key "${keyC.kid}" is not the published "next" key "${keyB.kid}"`,
    });
  });

  it('refuses a pending set without a current key', async () => {
    // Prepare
    const pending = { next: keyC };

    // Act
    const result = testPending({}, pending);

    // Assess
    await expect(result).rejects.toMatchObject({ message: 'pending key set has no "current" key' });
  });

  it('refuses a pending set whose current private key does not match its published public key', async () => {
    // Prepare: keep B's kid and public modulus, but carry A's private exponent.
    const broken = { ...keyB, d: keyA.d, p: keyA.p, q: keyA.q, dp: keyA.dp, dq: keyA.dq, qi: keyA.qi };
    const pending = { previous: keyA, current: broken, next: keyC };

    // Act
    const result = testPending({ current: keyA, next: keyB }, pending);

    // Assess
    await expect(result).rejects.toMatchObject({ code: 'ERR_PENDING_KEY_SET_INVALID' });
  });
});

describe('finishSecret', () => {
  it('moves AWSCURRENT to the pending version and away from the old one', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);
    secret.startRotation('token-1');
    await rotateSecret(event('createSecret', 'token-1'), deps);

    // Act
    await rotateSecret(event('finishSecret', 'token-1'), deps);

    // Assess
    expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand)[0]?.args[0].input).toEqual({
      SecretId: SECRET_ARN,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: 'token-1',
      RemoveFromVersionId: 'initial-version',
    });
    expect([...secret.versions.get('initial-version')!.stages]).toEqual(['AWSPREVIOUS']);
  });

  it('does not move AWSCURRENT again when finishSecret is retried', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);
    secret.startRotation('token-1');
    await rotateSecret(event('createSecret', 'token-1'), deps);
    await rotateSecret(event('finishSecret', 'token-1'), deps);

    // Act
    await rotateSecret(event('finishSecret', 'token-1'), deps);

    // Assess
    expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
    expect(secret.versions.get('token-1')!.stages.has('AWSCURRENT')).toBe(true);
  });

  it('publishes the public keys of the pending set, then moves AWSCURRENT', async () => {
    // Prepare
    const secret = new FakeSecret(serializeSigningKeySet({ current: keyA, next: keyB }));
    secret.wire(secretsManager);
    secret.startRotation('token-1');
    await rotateSecret(event('createSecret', 'token-1'), deps);
    const pending = parseSigningKeySet(secret.valueAt('AWSPENDING')!);
    let signingKeyAtPublish: string | undefined;
    parameter.onPut = () => {
      signingKeyAtPublish = parseSigningKeySet(secret.valueAt('AWSCURRENT')!).current?.kid;
    };

    // Act
    await rotateSecret(event('finishSecret', 'token-1'), deps);

    // Assess
    expect(ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input)).toEqual([
      {
        Name: PARAMETER_NAME,
        Value: serializePublicKeySet(toPublicKeySet(pending)),
        Type: 'String',
        Tier: 'Standard',
        Overwrite: true,
      },
    ]);
    // Published while the old key still signed, and the new set still publishes that key.
    expect(signingKeyAtPublish).toBe(keyA.kid);
    expect(publishedKids()).toEqual([keyB.kid, pending.next!.kid, keyA.kid]);
    expect(parseSigningKeySet(secret.valueAt('AWSCURRENT')!).current?.kid).toBe(keyB.kid);
  });

  it('publishes public keys only, never private key material', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);

    // Act
    const active = await rotateFully(secret, 'token-1');

    // Assess
    for (const key of publishedKeys(active)) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const)
        expect(parameter.value).not.toContain(key[member]!);
    }
    expect(parsePublicKeySet(parameter.value)).toEqual(toPublicKeySet(active));
  });

  it('publishes the same set again and then moves AWSCURRENT when retried after the move failed', async () => {
    // Prepare
    const secret = new FakeSecret(serializeSigningKeySet({ current: keyA, next: keyB }));
    secret.wire(secretsManager);
    secret.startRotation('token-1');
    await rotateSecret(event('createSecret', 'token-1'), deps);
    secret.stageUpdateFailures.push(
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
    );
    await expect(rotateSecret(event('finishSecret', 'token-1'), deps)).rejects.toThrow('Rate exceeded');
    const afterFailure = parameter.value;

    // Act
    await rotateSecret(event('finishSecret', 'token-1'), deps);

    // Assess
    const puts = ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input.Value);
    expect(puts).toEqual([afterFailure, afterFailure]);
    expect(parameter.value).toBe(
      serializePublicKeySet(toPublicKeySet(parseSigningKeySet(secret.valueAt('AWSCURRENT')!))),
    );
    expect(secret.versions.get('token-1')!.stages.has('AWSCURRENT')).toBe(true);
  });

  it('publishes nothing more when retried after it completed', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);
    const active = await rotateFully(secret, 'token-1');

    // Act
    await rotateSecret(event('finishSecret', 'token-1'), deps);

    // Assess
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(1);
    expect(parsePublicKeySet(parameter.value)).toEqual(toPublicKeySet(active));
  });

  it('leaves AWSCURRENT where it is when the public keys cannot be published', async () => {
    // Prepare
    const secret = new FakeSecret(serializeSigningKeySet({ current: keyA, next: keyB }));
    secret.wire(secretsManager);
    secret.startRotation('token-1');
    await rotateSecret(event('createSecret', 'token-1'), deps);
    ssm
      .on(PutParameterCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    // Act
    const result = rotateSecret(event('finishSecret', 'token-1'), deps);

    // Assess
    await expect(result).rejects.toThrow('denied');
    expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(parseSigningKeySet(secret.valueAt('AWSCURRENT')!).current?.kid).toBe(keyA.kid);
  });
});

describe('a complete rotation', () => {
  it('turns the empty placeholder into a key set that can sign, through the Lambda handler', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);
    secret.startRotation('token-1');
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);

    // The table holds no keys yet, nor entries of the earlier revocation list.
    const table = mockClient(DynamoDBDocumentClient);
    table.on(GetCommand).resolves({});
    table.on(BatchGetCommand).resolves({});
    table.on(PutCommand).resolves({});
    process.env.PUBLIC_KEYS_PARAMETER_NAME = PARAMETER_NAME;
    process.env.TABLE_NAME = 'table';
    const { handler } = await import('../../../lambda/rotate-keys/index.js');

    // Act
    for (const step of STEPS) await handler(event(step, 'token-1'), {} as Context);
    stdout.mockRestore();

    // Assess
    const active = parseSigningKeySet(secret.valueAt('AWSCURRENT')!);
    const token = await signWith(active.current!);
    await expect(jwtVerify(token, jwksOf(active))).resolves.toBeDefined();
    // The first rotation, from the placeholder, also published the keys the mcp function reads.
    await expect(
      jwtVerify(token, createLocalJWKSet(parsePublicKeySet(parameter.value))),
    ).resolves.toBeDefined();
    // The same set, in the table item the mcp function reads with the revocation markers.
    const [put] = table.commandCalls(PutCommand);
    expect(put?.args[0].input.Item).toMatchObject({ pk: PUBLIC_KEYS_ITEM_KEY, jwks: parameter.value });
    table.restore();
  });

  it('never lets the signing key be missing from the published set, at any step of a rotation', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);
    await rotateFully(secret, 'token-1');
    const signingKey = () => parseSigningKeySet(secret.valueAt('AWSCURRENT')!).current!.kid;
    const seen: boolean[] = [];
    parameter.onPut = () => seen.push(publishedKids().includes(signingKey()));
    secret.startRotation('token-2');

    // Act
    for (const step of STEPS) {
      await rotateSecret(event(step, 'token-2'), deps);
      seen.push(publishedKids().includes(signingKey()));
    }

    // Assess
    expect(seen).toEqual([true, true, true, true, true]);
  });

  it('still verifies a token signed by the old current key against the JWKS published after rotation', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);
    const before = await rotateFully(secret, 'token-1');
    const tokenFromOldKey = await signWith(before.current!);

    // Act
    const after = await rotateFully(secret, 'token-2');

    // Assess
    expect(after.previous?.kid).toBe(before.current?.kid);
    const { protectedHeader } = await jwtVerify(tokenFromOldKey, jwksOf(after));
    expect(protectedHeader.kid).toBe(before.current?.kid);
  });

  it('signs after rotation only with a key that verifiers already saw published before it', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);
    const before = await rotateFully(secret, 'token-1');

    // Act
    const after = await rotateFully(secret, 'token-2');
    const tokenFromNewKey = await signWith(after.current!);

    // Assess: a verifier still holding the JWKS cached before the rotation accepts it.
    await expect(jwtVerify(tokenFromNewKey, jwksOf(before))).resolves.toBeDefined();
  });

  it('drops a key from the JWKS only after it spent one rotation as previous', async () => {
    // Prepare
    const secret = new FakeSecret('{}');
    secret.wire(secretsManager);
    const first = await rotateFully(secret, 'token-1');
    const tokenFromFirstKey = await signWith(first.current!);
    await rotateFully(secret, 'token-2');

    // Act
    const third = await rotateFully(secret, 'token-3');

    // Assess
    expect(publishedKeys(third).map((k) => k.kid)).not.toContain(first.current!.kid);
    await expect(jwtVerify(tokenFromFirstKey, jwksOf(third))).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
  });
});
