import {
  generateSigningKey,
  toPublicJwk,
  toPublicKeySet,
  type StoredSigningKey,
} from '../../../lambda/shared/key-set.js';
import {
  EMPTY_PUBLIC_KEY_SET,
  InvalidPublicKeySetError,
  parsePublicKeySet,
  serializePublicKeySet,
} from '../../../lambda/shared/public-key-set.js';

let keyA: StoredSigningKey;
let keyB: StoredSigningKey;
let keyC: StoredSigningKey;

beforeAll(async () => {
  [keyA, keyB, keyC] = await Promise.all([generateSigningKey(), generateSigningKey(), generateSigningKey()]);
});

describe('toPublicKeySet', () => {
  it('holds the public JWKs of current, next and previous, in that order, and nothing private', () => {
    // Act
    const set = toPublicKeySet({ previous: keyC, current: keyA, next: keyB });

    // Assess
    expect(set.keys.map((k) => k.kid)).toEqual([keyA.kid, keyB.kid, keyC.kid]);
    for (const key of set.keys)
      expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
  });

  it('fits a Standard SSM parameter (4 KB) three times over with three RSA-2048 keys', () => {
    // Act
    const bytes = Buffer.byteLength(
      serializePublicKeySet(toPublicKeySet({ previous: keyC, current: keyA, next: keyB })),
    );

    // Assess
    expect(bytes).toBeLessThan(4096 / 2.5);
  });
});

describe('parsePublicKeySet', () => {
  it('reads back what serializePublicKeySet wrote', () => {
    // Prepare
    const set = toPublicKeySet({ current: keyA, next: keyB });

    // Act
    const parsed = parsePublicKeySet(serializePublicKeySet(set));

    // Assess
    expect(parsed).toEqual(set);
  });

  it('reads the placeholder as an empty set', () => {
    // Assess
    expect(parsePublicKeySet(EMPTY_PUBLIC_KEY_SET)).toEqual({ keys: [] });
  });

  it('keeps only the members a verifier needs', () => {
    // Prepare
    const text = JSON.stringify({ keys: [{ ...toPublicJwk(keyA), x5c: ['…'], createdAt: 'now' }] });

    // Act
    const parsed = parsePublicKeySet(text);

    // Assess
    expect(parsed.keys).toEqual([toPublicJwk(keyA)]);
  });

  it.each([
    ['not json', 'public key set is not valid JSON'],
    ['[]', 'public key set must be a JSON object with a "keys" array'],
    ['{"current":{}}', 'public key set must be a JSON object with a "keys" array'],
    ['{"keys":[null]}', 'keys[0] must be a JWK object'],
    ['{"keys":[{"kty":"RSA","alg":"RS256","n":"x","e":"AQAB"}]}', 'keys[0] is missing required "kid"'],
    ['{"keys":[{"kty":"EC","alg":"RS256","kid":"k","n":"x","e":"AQAB"}]}', 'keys[0] must have "kty" "RSA"'],
    [
      '{"keys":[{"kty":"RSA","alg":"HS256","kid":"k","n":"x","e":"AQAB"}]}',
      'keys[0] must have "alg" "RS256"',
    ],
    [
      '{"keys":[{"kty":"RSA","alg":"RS256","use":"enc","kid":"k","n":"x","e":"AQAB"}]}',
      'keys[0] must have "use" "sig"',
    ],
  ])('refuses %s', (text, message) => {
    // Act
    const parse = () => parsePublicKeySet(text);

    // Assess
    expect(parse).toThrow(InvalidPublicKeySetError);
    expect(parse).toThrow(message);
  });

  it.each(['d', 'p', 'q', 'dp', 'dq', 'qi'])(
    'refuses a key that carries the private member "%s"',
    (member) => {
      // Prepare
      const text = JSON.stringify({ keys: [toPublicJwk(keyA), { ...toPublicJwk(keyB), [member]: keyB.d }] });

      // Act
      const parse = () => parsePublicKeySet(text);

      // Assess
      expect(parse).toThrow(`keys[1] holds private key material ("${member}")`);
    },
  );

  it('refuses two keys with the same kid', () => {
    // Prepare
    const text = JSON.stringify({ keys: [toPublicJwk(keyA), toPublicJwk(keyA)] });

    // Act
    const parse = () => parsePublicKeySet(text);

    // Assess
    expect(parse).toThrow(`keys[1] repeats "kid" "${keyA.kid}"`);
  });
});
