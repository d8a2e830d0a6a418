import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import {
  generateSigningKey,
  serializeSigningKeySet,
  toPublicKeySet,
  type StoredSigningKey,
} from '../../../lambda/shared/key-set.js';
import {
  EMPTY_PUBLIC_KEY_SET,
  parsePublicKeySet,
  type PublicKeySet,
} from '../../../lambda/shared/public-key-set.js';
import { SecretsManagerKeySource } from '../../../lambda/shared/secrets-manager-key-source.js';
import {
  CachedPublicKeys,
  CachedSigningKeys,
  SigningKeysUnavailableError,
} from '../../../lambda/shared/signing-keys.js';

const secretsManager = mockClient(SecretsManagerClient);
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SigningKeys-AbCdEf';

let keyA: StoredSigningKey;
let keyB: StoredSigningKey;
let keyC: StoredSigningKey;
let clock: number;

beforeAll(async () => {
  [keyA, keyB, keyC] = await Promise.all([generateSigningKey(), generateSigningKey(), generateSigningKey()]);
});

beforeEach(() => {
  secretsManager.reset();
  clock = 1_000_000;
});

function secretHolds(value: string | undefined) {
  secretsManager.on(GetSecretValueCommand).resolves({ ARN: SECRET_ARN, SecretString: value });
}

function cachedKeys(options: { maxAgeMs?: number; minRefreshIntervalMs?: number } = {}) {
  const source = new SecretsManagerKeySource(new SecretsManagerClient({ region: 'eu-west-1' }), SECRET_ARN);
  return new CachedSigningKeys(source, {
    maxAgeMs: 300_000,
    minRefreshIntervalMs: 30_000,
    ...options,
    now: () => clock,
  });
}

function reads(): number {
  return secretsManager.commandCalls(GetSecretValueCommand).length;
}

describe('SecretsManagerKeySource', () => {
  it('reads the AWSCURRENT version of the configured secret', async () => {
    // Prepare
    secretHolds(serializeSigningKeySet({ current: keyA, next: keyB }));
    const source = new SecretsManagerKeySource(new SecretsManagerClient({ region: 'eu-west-1' }), SECRET_ARN);

    // Act
    const set = await source.load();

    // Assess
    expect(secretsManager.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: SECRET_ARN,
    });
    expect(set.current?.kid).toBe(keyA.kid);
  });

  it('reports a secret that cannot be read as unavailable, keeping the cause', async () => {
    // Prepare
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    secretsManager.on(GetSecretValueCommand).rejects(denied);
    const source = new SecretsManagerKeySource(new SecretsManagerClient({ region: 'eu-west-1' }), SECRET_ARN);

    // Act
    const result = source.load();

    // Assess
    await expect(result).rejects.toBeInstanceOf(SigningKeysUnavailableError);
    await expect(result).rejects.toMatchObject({ cause: denied });
  });
});

describe('CachedSigningKeys over Secrets Manager', () => {
  it('reads the secret once and serves later calls from memory within the maximum age', async () => {
    // Prepare
    secretHolds(serializeSigningKeySet({ current: keyA, next: keyB }));
    const keys = cachedKeys();
    await keys.signingKey();

    // Act
    clock += 299_999;
    await keys.signingKey();
    await keys.publicJwks();
    await keys.verificationKey(keyB.kid);

    // Assess
    expect(reads()).toBe(1);
  });

  it('reads the secret again once the maximum age has passed, picking up a rotation', async () => {
    // Prepare
    secretHolds(serializeSigningKeySet({ current: keyA, next: keyB }));
    const keys = cachedKeys();
    await keys.signingKey();
    secretHolds(serializeSigningKeySet({ previous: keyA, current: keyB, next: keyC }));

    // Act
    clock += 300_000;
    const signing = await keys.signingKey();

    // Assess
    expect(reads()).toBe(2);
    expect(signing.kid).toBe(keyB.kid);
  });

  it('shares one read between concurrent first callers', async () => {
    // Prepare
    secretHolds(serializeSigningKeySet({ current: keyA, next: keyB }));
    const keys = cachedKeys();

    // Act
    await Promise.all([keys.signingKey(), keys.publicJwks(), keys.verificationKey(keyA.kid)]);

    // Assess
    expect(reads()).toBe(1);
  });

  it('reloads once for an unknown kid and finds a key published since', async () => {
    // Prepare
    secretHolds(serializeSigningKeySet({ current: keyA, next: keyB }));
    const keys = cachedKeys();
    await keys.publicJwks();
    secretHolds(serializeSigningKeySet({ previous: keyA, current: keyB, next: keyC }));

    // Act
    const found = await keys.verificationKey(keyC.kid);

    // Assess
    expect(found?.asymmetricKeyType).toBe('rsa');
    expect(reads()).toBe(2);
  });

  it('does not read the secret again for unknown kids within the refresh interval', async () => {
    // Prepare
    secretHolds(serializeSigningKeySet({ current: keyA, next: keyB }));
    const keys = cachedKeys();
    await keys.verificationKey('forged-1');

    // Act
    clock += 29_999;
    const results = await Promise.all([keys.verificationKey('forged-2'), keys.verificationKey('forged-3')]);

    // Assess
    expect(results).toEqual([undefined, undefined]);
    expect(reads()).toBe(2);
  });

  it('allows another unknown-kid reload once the refresh interval has passed', async () => {
    // Prepare
    secretHolds(serializeSigningKeySet({ current: keyA, next: keyB }));
    const keys = cachedKeys();
    await keys.verificationKey('forged-1');

    // Act
    clock += 30_000;
    await keys.verificationKey('forged-2');

    // Assess
    expect(reads()).toBe(3);
  });

  it('throws SigningKeysUnavailableError while the secret still holds the empty placeholder', async () => {
    // Prepare
    secretHolds('{}');
    const keys = cachedKeys();

    // Act
    const result = keys.signingKey();

    // Assess
    await expect(result).rejects.toBeInstanceOf(SigningKeysUnavailableError);
    await expect(result).rejects.toMatchObject({ code: 'ERR_SIGNING_KEYS_UNAVAILABLE' });
  });

  it('throws SigningKeysUnavailableError when the secret has no value', async () => {
    // Prepare
    secretHolds(undefined);
    const keys = cachedKeys();

    // Act
    const result = keys.publicJwks();

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'SigningKeysUnavailableError',
      message: 'the signing key secret has no value yet',
    });
  });

  it('serves keys as soon as the first rotation has run, without waiting for the maximum age', async () => {
    // Prepare
    secretHolds('{}');
    const keys = cachedKeys();
    await expect(keys.signingKey()).rejects.toBeInstanceOf(SigningKeysUnavailableError);
    secretHolds(serializeSigningKeySet({ current: keyA, next: keyB }));

    // Act: once the retry interval after the failed read (1 s) has passed
    clock += 1_000;
    const signing = await keys.signingKey();

    // Assess
    expect(signing.kid).toBe(keyA.kid);
  });

  it('keeps serving the last good key set when the secret cannot be read', async () => {
    // Prepare
    secretHolds(serializeSigningKeySet({ current: keyA, next: keyB }));
    const keys = cachedKeys();
    await keys.signingKey();
    secretsManager.on(GetSecretValueCommand).rejects(new Error('throttled'));

    // Act
    clock += 600_000;
    const signing = await keys.signingKey();
    const jwks = await keys.publicJwks();

    // Assess
    expect(signing.kid).toBe(keyA.kid);
    expect(jwks.keys.map((k) => k.kid)).toEqual([keyA.kid, keyB.kid]);
    expect(reads()).toBeGreaterThanOrEqual(2);
  });

  it('signs with the current key a token that verifies against the published keys, which hold no private parts', async () => {
    // Prepare
    secretHolds(serializeSigningKeySet({ previous: keyC, current: keyA, next: keyB }));
    const keys = cachedKeys();

    // Act
    const { kid, alg, key } = await keys.signingKey();
    const token = await new SignJWT({}).setProtectedHeader({ alg, kid, typ: 'at+jwt' }).sign(key);
    const jwks = await keys.publicJwks();

    // Assess
    expect(jwks.keys.map((k) => k.kid)).toEqual([keyA.kid, keyB.kid, keyC.kid]);
    for (const jwk of jwks.keys)
      expect(Object.keys(jwk).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    await expect(jwtVerify(token, createLocalJWKSet(jwks))).resolves.toBeDefined();
  });
});

describe('CachedPublicKeys over the published public key set', () => {
  let published: string;
  let publicReads: number;

  function publicKeys() {
    publicReads = 0;
    return new CachedPublicKeys(
      {
        load: async (): Promise<PublicKeySet> => {
          publicReads += 1;
          return parsePublicKeySet(published);
        },
      },
      { maxAgeMs: 300_000, minRefreshIntervalMs: 30_000, now: () => clock },
    );
  }

  it('verifies a token the signer signed, with nothing but the public keys', async () => {
    // Prepare
    const signer = cachedKeys();
    secretHolds(serializeSigningKeySet({ previous: keyC, current: keyA, next: keyB }));
    published = JSON.stringify(toPublicKeySet({ previous: keyC, current: keyA, next: keyB }));
    const { kid, alg, key } = await signer.signingKey();
    const token = await new SignJWT({}).setProtectedHeader({ alg, kid, typ: 'at+jwt' }).sign(key);
    const keys = publicKeys();

    // Act
    const verificationKey = await keys.verificationKey(kid);

    // Assess
    expect(verificationKey?.type).toBe('public');
    await expect(jwtVerify(token, verificationKey!)).resolves.toBeDefined();
    expect(await keys.publicJwks()).toEqual(await signer.publicJwks());
    expect('signingKey' in keys).toBe(false);
  });

  it('reloads once for an unknown kid and finds a key published since', async () => {
    // Prepare
    published = JSON.stringify(toPublicKeySet({ current: keyA, next: keyB }));
    const keys = publicKeys();
    await keys.publicJwks();
    published = JSON.stringify(toPublicKeySet({ previous: keyA, current: keyB, next: keyC }));

    // Act
    const found = await keys.verificationKey(keyC.kid);

    // Assess
    expect(found?.asymmetricKeyType).toBe('rsa');
    expect(publicReads).toBe(2);
  });

  it('throws SigningKeysUnavailableError while the parameter holds the empty placeholder', async () => {
    // Prepare
    published = EMPTY_PUBLIC_KEY_SET;
    const keys = publicKeys();

    // Act
    const result = keys.verificationKey(keyA.kid);

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'SigningKeysUnavailableError',
      message: 'the signing key set is empty',
    });
  });

  it('keeps verifying with the last good set when the parameter is reset to the placeholder', async () => {
    // Prepare
    published = JSON.stringify(toPublicKeySet({ current: keyA, next: keyB }));
    const keys = publicKeys();
    await keys.publicJwks();
    published = EMPTY_PUBLIC_KEY_SET;

    // Act
    clock += 600_000;
    const key = await keys.verificationKey(keyA.kid);

    // Assess
    expect(key).toBeDefined();
    expect(publicReads).toBe(2);
  });
});
