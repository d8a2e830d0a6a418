/**
 * Verifies bearer access tokens for the MCP resource: JWT access tokens (RFC 9068) signed by
 * this server's keys, and optionally tokens of configured trusted issuers. Signature, algorithm,
 * `crit` (RFC 7515 §4.1.11), `typ`, `iss`, `aud` (RFC 8707), `exp`, `nbf` and `iat` are all
 * checked; any failure is an `InvalidTokenError` whose message names the failed check and never
 * contains the token.
 *
 * Lifetimes: a token may not claim to live longer than its issuer issues tokens for (`exp - iat`
 * at most the configured lifetime plus the clock skew), nor to have been issued in the future.
 * For this server's tokens the bound is the oauth function's access token lifetime and `iat` is
 * required (RFC 9068 §2.2); a trusted issuer's lifetimes are its own, so its bound is configured
 * per issuer (a day by default), and a token of its without `iat` may not expire further away
 * than that bound.
 */
import type { VerificationKeys } from '../shared/signing-keys.js';
import type { Caller } from './caller.js';
import {
  checkCriticalHeader,
  decodeJwt,
  InvalidTokenError,
  isAcceptedAlgorithm,
  verifySignature,
  type DecodedJwt,
} from './jwt.js';
import {
  DEFAULT_TRUSTED_ISSUER_MAX_LIFETIME_SECONDS,
  RemoteJwks,
  type RemoteJwksOptions,
  type TrustedIssuer,
} from './trusted-issuers.js';

export interface AccessTokenVerifierOptions {
  issuer: string;
  /** This resource's identifier, which must appear in `aud`. */
  resource: string;
  /** Public keys only: the resource server verifies and never signs. */
  keys: VerificationKeys;
  trustedIssuers?: TrustedIssuer[];
  remoteJwks?: RemoteJwksOptions;
  /** The longest lifetime (`exp - iat`) this server's own tokens are issued with. */
  maxTokenLifetimeSeconds: number;
  /** Tolerated clock difference for `exp`, `nbf`, `iat` and lifetimes. */
  clockSkewSeconds?: number;
  /** How many verified tokens to remember; 0 disables the cache. */
  cacheSize?: number;
  now?: () => number;
}

export type AccessTokenVerifier = (token: string) => Promise<Caller>;

const OWN_ALGORITHMS = ['RS256'];

function stringClaim(payload: Record<string, unknown>, name: string): string {
  const value = payload[name];
  if (typeof value !== 'string' || value === '')
    throw new InvalidTokenError(`missing required "${name}" claim`);
  return value;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function scopesOf(payload: Record<string, unknown>): string[] {
  const scope = payload.scope;
  if (scope === undefined) return [];
  if (typeof scope !== 'string') throw new InvalidTokenError('"scope" claim must be a string');
  return scope.split(' ').filter(Boolean);
}

function audiencesOf(payload: Record<string, unknown>): string[] | undefined {
  const aud = payload.aud;
  if (aud === undefined) return undefined;
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) return aud as string[];
  throw new InvalidTokenError('"aud" claim must be a string or an array of strings');
}

/** RFC 9068 §2.1: `typ` is `at+jwt`; the `application/` prefix may be present (RFC 7515 §4.1.9). */
function isAccessTokenType(typ: unknown): boolean {
  return typeof typ === 'string' && /^(application\/)?at\+jwt$/i.test(typ);
}

interface LifetimePolicy {
  maxLifetimeSeconds: number;
  requireIssuedAt: boolean;
}

/** Checks `exp`, `nbf` and `iat` against the clock and the issuer's lifetime; returns `exp`. */
function checkTimes(
  payload: Record<string, unknown>,
  now: number,
  skew: number,
  policy: LifetimePolicy,
): number {
  const exp = payload.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp))
    throw new InvalidTokenError('missing required "exp" claim');
  if (now >= exp + skew) throw new InvalidTokenError('"exp" claim timestamp check failed');
  const nbf = payload.nbf;
  if (nbf !== undefined && (typeof nbf !== 'number' || now < nbf - skew)) {
    throw new InvalidTokenError('"nbf" claim timestamp check failed');
  }
  const iat = payload.iat;
  const longest = policy.maxLifetimeSeconds + skew;
  if (iat === undefined) {
    if (policy.requireIssuedAt) throw new InvalidTokenError('missing required "iat" claim');
    if (exp - now > longest)
      throw new InvalidTokenError('"exp" claim is further away than the longest accepted token lifetime');
    return exp;
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat))
    throw new InvalidTokenError('"iat" claim must be a number');
  if (iat > now + skew)
    throw new InvalidTokenError('"iat" claim timestamp check failed (issued in the future)');
  if (exp - iat > longest)
    throw new InvalidTokenError('"exp" - "iat" exceeds the longest accepted token lifetime');
  return exp;
}

/** The verified caller, with the user's name and email when the token carries them. */
function callerFrom(payload: Record<string, unknown>, caller: Caller): Caller {
  const name = optionalString(payload.name);
  const email = optionalString(payload.email);
  if (name) caller.name = name;
  if (email) caller.email = email;
  return caller;
}

/** Creates the verifier once per process; it holds the verified-token cache and external key caches. */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const now = options.now ?? Date.now;
  const skew = options.clockSkewSeconds ?? 60;
  const cacheSize = options.cacheSize ?? 1000;
  const own: LifetimePolicy = { maxLifetimeSeconds: options.maxTokenLifetimeSeconds, requireIssuedAt: true };
  // Re-verifying the same token on every call is pure CPU: clients reuse a token for its whole
  // life. A hit still re-checks expiry; the map is bounded and forgets the oldest entry first.
  const cache = new Map<string, Caller>();
  const trusted = new Map(
    (options.trustedIssuers ?? []).map((t) => [
      t.issuer,
      {
        config: t,
        jwks: new RemoteJwks(t.issuer, options.remoteJwks),
        lifetime: {
          maxLifetimeSeconds: t.maxTokenLifetimeSeconds ?? DEFAULT_TRUSTED_ISSUER_MAX_LIFETIME_SECONDS,
          requireIssuedAt: false,
        },
      },
    ]),
  );

  async function verifyOwn(jwt: DecodedJwt): Promise<Caller> {
    const { header, payload } = jwt;
    if (!isAcceptedAlgorithm(header.alg, OWN_ALGORITHMS))
      throw new InvalidTokenError('unsupported "alg" header');
    if (!isAccessTokenType(header.typ)) throw new InvalidTokenError('"typ" header must be "at+jwt"');
    checkCriticalHeader(header);
    if (typeof header.kid !== 'string') throw new InvalidTokenError('missing "kid" header');
    const key = await options.keys.verificationKey(header.kid);
    if (!key || !verifySignature(header.alg, key, jwt))
      throw new InvalidTokenError('signature verification failed');
    const expiresAt = checkTimes(payload, now() / 1000, skew, own);
    if (!audiencesOf(payload)?.includes(options.resource))
      throw new InvalidTokenError('"aud" claim check failed');
    return callerFrom(payload, {
      issuer: options.issuer,
      sub: stringClaim(payload, 'sub'),
      clientId: stringClaim(payload, 'client_id'),
      scopes: scopesOf(payload),
      expiresAt,
    });
  }

  async function verifyExternal(
    jwt: DecodedJwt,
    issuer: TrustedIssuer,
    jwks: RemoteJwks,
    lifetime: LifetimePolicy,
  ): Promise<Caller> {
    const { header, payload } = jwt;
    if (!isAcceptedAlgorithm(header.alg, issuer.algorithms ?? ['RS256']))
      throw new InvalidTokenError('unsupported "alg" header');
    checkCriticalHeader(header);
    if (typeof header.kid !== 'string') throw new InvalidTokenError('missing "kid" header');
    const key = await jwks.key(header.kid);
    if (!key || !verifySignature(header.alg, key, jwt))
      throw new InvalidTokenError('signature verification failed');
    const expiresAt = checkTimes(payload, now() / 1000, skew, lifetime);
    // Identity tokens prove a login to a client; they are never access tokens for this resource.
    if (payload.token_use !== undefined && payload.token_use !== 'access')
      throw new InvalidTokenError('not an access token');
    const scopes = scopesOf(payload);
    const audiences = audiencesOf(payload);
    const clientId = optionalString(payload.client_id) ?? optionalString(payload.azp);
    if (audiences) {
      const accepted = issuer.audiences ?? [options.resource];
      if (!audiences.some((a) => accepted.includes(a)))
        throw new InvalidTokenError('"aud" claim check failed');
    } else if (payload.token_use !== 'access' || !clientId || !issuer.clientIds?.includes(clientId)) {
      throw new InvalidTokenError('token has no "aud" and its "client_id" is not allowed');
    }
    if (!(issuer.requiredScopes ?? []).every((s) => scopes.includes(s))) {
      throw new InvalidTokenError('token lacks the scopes required for this issuer');
    }
    if (!clientId) throw new InvalidTokenError('missing required "client_id" claim');
    return callerFrom(payload, {
      issuer: issuer.issuer,
      sub: stringClaim(payload, 'sub'),
      clientId,
      scopes,
      expiresAt,
    });
  }

  return async (token) => {
    const cached = cache.get(token);
    if (cached) {
      if (now() / 1000 < cached.expiresAt + skew) return cached;
      cache.delete(token);
    }
    const jwt = decodeJwt(token);
    const iss = jwt.payload.iss;
    let caller: Caller;
    if (iss === options.issuer) {
      caller = await verifyOwn(jwt);
    } else {
      const external = typeof iss === 'string' ? trusted.get(iss) : undefined;
      if (!external) throw new InvalidTokenError('"iss" claim check failed');
      caller = await verifyExternal(jwt, external.config, external.jwks, external.lifetime);
    }
    if (cacheSize > 0) {
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
      cache.set(token, Object.freeze(caller));
    }
    return caller;
  };
}
