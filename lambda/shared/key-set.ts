/**
 * The signing key set as it is stored (a Secrets Manager secret in AWS, a file locally): three
 * private RSA JWKs in named slots. Rotation moves keys next → current → previous, so a key is
 * published in the JWKS one rotation before it signs, and stays published one rotation after.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { PublicKeySet } from './public-key-set.js';

export const SIGNING_ALGORITHM = 'RS256';

/** A private RSA JWK with its key id. */
export interface StoredSigningKey extends JWK {
  kty: 'RSA';
  kid: string;
  alg: typeof SIGNING_ALGORITHM;
  use: 'sig';
  n: string;
  e: string;
  d: string;
  /** When the key was generated (ISO 8601). */
  createdAt: string;
}

export interface SigningKeySet {
  /** Signs new tokens. */
  current?: StoredSigningKey;
  /** Published, signs after the next rotation. */
  next?: StoredSigningKey;
  /** Published until the tokens it signed have expired. */
  previous?: StoredSigningKey;
}

export const SLOTS = ['current', 'next', 'previous'] as const;

/** Generates a 2048-bit RSA signing key whose `kid` is its RFC 7638 thumbprint. */
export async function generateSigningKey(now: Date = new Date()): Promise<StoredSigningKey> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = (privateKey as KeyObject).export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint({ kty: 'RSA', n: jwk.n!, e: jwk.e! });
  return {
    ...(jwk as Omit<StoredSigningKey, 'kid' | 'alg' | 'use' | 'createdAt'>),
    kty: 'RSA',
    kid,
    alg: SIGNING_ALGORITHM,
    use: 'sig',
    createdAt: now.toISOString(),
  };
}

/**
 * The key set after one rotation. From an empty set (first deployment) it creates both a
 * current and a next key, so the service can sign at once.
 */
export async function rotateSigningKeySet(
  set: SigningKeySet,
  now: Date = new Date(),
): Promise<SigningKeySet> {
  if (!set.current) {
    return { current: await generateSigningKey(now), next: await generateSigningKey(now) };
  }
  const rotated: SigningKeySet = {
    previous: set.current,
    current: set.next ?? (await generateSigningKey(now)),
    next: await generateSigningKey(now),
  };
  return rotated;
}

/** Thrown when a stored key set cannot be read; says which slot and field is wrong. */
export class InvalidKeySetError extends Error {
  readonly code = 'ERR_INVALID_KEY_SET';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidKeySetError';
  }
}

/** Parses and validates a stored key set. An empty object (`{}`) is a valid, empty set. */
export function parseSigningKeySet(text: string): SigningKeySet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidKeySetError('signing key set is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidKeySetError('signing key set must be a JSON object');
  }
  const set: SigningKeySet = {};
  for (const slot of SLOTS) {
    const key = (value as Record<string, unknown>)[slot];
    if (key === undefined || key === null) continue;
    if (typeof key !== 'object') throw new InvalidKeySetError(`"${slot}" must be a JWK object`);
    const k = key as Record<string, unknown>;
    for (const field of ['kid', 'n', 'e', 'd'] as const) {
      if (typeof k[field] !== 'string' || k[field] === '') {
        throw new InvalidKeySetError(`"${slot}" is missing required "${field}"`);
      }
    }
    if (k.kty !== 'RSA') throw new InvalidKeySetError(`"${slot}" must have "kty" "RSA"`);
    if (k.alg !== SIGNING_ALGORITHM)
      throw new InvalidKeySetError(`"${slot}" must have "alg" "${SIGNING_ALGORITHM}"`);
    set[slot] = key as StoredSigningKey;
  }
  return set;
}

export function serializeSigningKeySet(set: SigningKeySet): string {
  return JSON.stringify(set);
}

/** A public RSA JWK: only the members a verifier needs. */
export interface PublicSigningKey extends JWK {
  kty: 'RSA';
  kid: string;
  alg: typeof SIGNING_ALGORITHM;
  use: 'sig';
  n: string;
  e: string;
}

/** The public JWK of a stored key: only the fields a verifier needs. */
export function toPublicJwk(key: StoredSigningKey): PublicSigningKey {
  return { kty: key.kty, kid: key.kid, alg: key.alg, use: key.use, n: key.n, e: key.e };
}

/** Every key of the set that verifiers should know, current first. */
export function publishedKeys(set: SigningKeySet): StoredSigningKey[] {
  return SLOTS.map((slot) => set[slot]).filter((k): k is StoredSigningKey => k !== undefined);
}

/**
 * The public key set verifiers need: the public JWKs of `current`, `next` and `previous`, exactly
 * what `/.well-known/jwks.json` serves and what the rotation publishes for the mcp function.
 */
export function toPublicKeySet(set: SigningKeySet): PublicKeySet {
  return { keys: publishedKeys(set).map(toPublicJwk) };
}
