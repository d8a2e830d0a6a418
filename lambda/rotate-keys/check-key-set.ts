/**
 * The checks `testSecret` runs on a pending key set before it may become AWSCURRENT. A key set
 * that fails here would make the service unable to sign, or make live tokens fail to verify.
 */
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT } from 'jose';
import { publishedKeys, toPublicJwk, type SigningKeySet } from '../shared/key-set.js';
import { RotationError } from './errors.js';

function fail(message: string): never {
  throw new RotationError('ERR_PENDING_KEY_SET_INVALID', message);
}

/**
 * Checks that `pending` can sign and verify a token, and that it rolls over from `active` (the
 * AWSCURRENT set) without breaking anyone: the key that signs now stays published, and the key
 * that signs next is the one that has already been published as `next`.
 */
export async function checkPendingKeySet(pending: SigningKeySet, active: SigningKeySet): Promise<void> {
  const { current, next } = pending;
  if (!current) fail('pending key set has no "current" key');
  if (!next) fail('pending key set has no "next" key');
  const kids = publishedKeys(pending).map((k) => k.kid);
  if (new Set(kids).size !== kids.length) fail(`pending key set repeats a "kid": ${kids.join(', ')}`);

  const published = new Set(kids);
  if (active.current && !published.has(active.current.kid)) {
    fail(
      `pending key set no longer publishes the signing key "${active.current.kid}"; its tokens would fail`,
    );
  }
  if (active.next && current.kid !== active.next.kid) {
    fail(`pending "current" key "${current.kid}" is not the published "next" key "${active.next.kid}"`);
  }

  // Sign with the private key exactly as the token endpoint does, verify against the public set.
  const privateKey = await importJWK(current, current.alg);
  const jwt = await new SignJWT({ check: 'rotation' })
    .setProtectedHeader({ alg: current.alg, kid: current.kid, typ: 'at+jwt' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);
  const jwks = createLocalJWKSet({ keys: publishedKeys(pending).map(toPublicJwk) });
  try {
    await jwtVerify(jwt, jwks, { algorithms: [current.alg], typ: 'at+jwt' });
  } catch (error) {
    throw new RotationError(
      'ERR_PENDING_KEY_SET_INVALID',
      `a token signed by "${current.kid}" does not verify against the pending key set`,
      { cause: error },
    );
  }
}
