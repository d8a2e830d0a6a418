/**
 * The public half of the signing key set, as a JWK Set (RFC 7517 §5): exactly what
 * `/.well-known/jwks.json` serves. The rotation function publishes it to a store of its own (an
 * SSM parameter in AWS) so that the mcp function, which only verifies tokens, never holds or may
 * read a private key.
 */
import { SIGNING_ALGORITHM, type PublicSigningKey } from './key-set.js';

export interface PublicKeySet {
  /** `current` first, then `next`, then `previous` (see `publishedKeys`). */
  keys: PublicSigningKey[];
}

/** The value of the public key store before the first rotation: a valid, empty set. */
export const EMPTY_PUBLIC_KEY_SET = '{"keys":[]}';

/** RSA private key members (RFC 7518 §6.3.2); none may appear in a public key set. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'] as const;

/** Thrown when a stored public key set cannot be read; says which key and member is wrong. */
export class InvalidPublicKeySetError extends Error {
  readonly code = 'ERR_INVALID_PUBLIC_KEY_SET';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPublicKeySetError';
  }
}

function fail(message: string): never {
  throw new InvalidPublicKeySetError(message);
}

/**
 * Parses and validates a stored public key set. Refuses any key carrying private members: a
 * verifier must never be handed signing material, whatever wrote the store.
 */
export function parsePublicKeySet(text: string): PublicKeySet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('public key set is not valid JSON');
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (typeof value !== 'object' || Array.isArray(value) || !Array.isArray(keys)) {
    fail('public key set must be a JSON object with a "keys" array');
  }
  const kids = new Set<string>();
  return {
    keys: keys.map((key: unknown, index) => {
      if (typeof key !== 'object' || key === null || Array.isArray(key))
        fail(`keys[${index}] must be a JWK object`);
      const k = key as Record<string, unknown>;
      for (const member of ['kid', 'n', 'e'] as const) {
        if (typeof k[member] !== 'string' || k[member] === '')
          fail(`keys[${index}] is missing required "${member}"`);
      }
      if (k.kty !== 'RSA') fail(`keys[${index}] must have "kty" "RSA"`);
      if (k.alg !== SIGNING_ALGORITHM) fail(`keys[${index}] must have "alg" "${SIGNING_ALGORITHM}"`);
      if (k.use !== undefined && k.use !== 'sig') fail(`keys[${index}] must have "use" "sig"`);
      const secret = PRIVATE_MEMBERS.find((member) => member in k);
      if (secret) fail(`keys[${index}] holds private key material ("${secret}")`);
      if (kids.has(k.kid as string)) fail(`keys[${index}] repeats "kid" "${String(k.kid)}"`);
      kids.add(k.kid as string);
      return {
        kty: 'RSA',
        kid: k.kid as string,
        alg: SIGNING_ALGORITHM,
        use: 'sig',
        n: k.n as string,
        e: k.e as string,
      };
    }),
  };
}

export function serializePublicKeySet(set: PublicKeySet): string {
  return JSON.stringify(set);
}
