/**
 * Verifies bearer access tokens for the MCP resource: JWT access tokens (RFC 9068) signed by
 * this server's keys, and optionally tokens of configured trusted issuers. The JWS and the
 * registered claims are `jose`'s `jwtVerify`: algorithm allow-list, signature, `crit`
 * (RFC 7515 §4.1.11: jose implements no extension a JWT may use, so any `crit` is refused),
 * `typ` (RFC 9068 §2.1, for this server's tokens), `iss`, `aud` (RFC 8707), `exp` and `nbf`
 * within the clock skew. Any failure is an `InvalidTokenError` whose message names the failed
 * check and never contains the token (`jwt.ts`).
 *
 * Lifetimes, checked here on top: a token may not claim to live longer than its issuer issues
 * tokens for (`exp - iat` at most the configured lifetime plus the clock skew), nor to have been
 * issued in the future. For this server's tokens the bound is the oauth function's access token
 * lifetime and `iat` is required (RFC 9068 §2.2); a trusted issuer's lifetimes are its own, so its
 * bound is configured per issuer (a day by default), and a token of its without `iat` may not
 * expire further away than that bound.
 */
import {
  decodeJwt,
  jwtVerify,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose';
import type { KeyObject } from 'node:crypto';
import { ISSUED_AT_MS_CLAIM, issuedAtMs } from '../../shared/revocations.js';
import type { VerificationKeys } from '../../shared/signing-keys.js';
import type { Caller, CallerKind } from './caller.js';
import { RemoteJwks, type RemoteJwksOptions } from './issuer-keys.js';
import { InvalidTokenError, invalidTokenFrom } from './jwt.js';
import {
  DEFAULT_TRUSTED_ISSUER_CALLER_KIND,
  DEFAULT_TRUSTED_ISSUER_MAX_LIFETIME_SECONDS,
  grantedScopes,
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

/** What the oauth function signs with. */
const OWN_ALGORITHMS = ['RS256'];

function stringClaim(payload: JWTPayload, name: string): string {
  const value = payload[name];
  if (typeof value !== 'string' || value === '')
    throw new InvalidTokenError(`missing required "${name}" claim`);
  return value;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function scopesOf(payload: JWTPayload): string[] {
  const scope = payload.scope;
  if (scope === undefined) return [];
  if (typeof scope !== 'string') throw new InvalidTokenError('"scope" claim must be a string');
  return scope.split(' ').filter(Boolean);
}

function audiencesOf(payload: JWTPayload): string[] | undefined {
  const aud = payload.aud;
  if (aud === undefined) return undefined;
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) return aud;
  throw new InvalidTokenError('"aud" claim must be a string or an array of strings');
}

interface LifetimePolicy {
  maxLifetimeSeconds: number;
}

/**
 * Bounds the lifetime a token claims; returns `exp`. jose has checked that `exp` is present and
 * not past, and that `iat`, when present, is a number (and present where it is required).
 */
function checkLifetime(payload: JWTPayload, now: number, skew: number, policy: LifetimePolicy): number {
  const exp = payload.exp!;
  const iat = payload.iat;
  const longest = policy.maxLifetimeSeconds + skew;
  if (iat === undefined) {
    if (exp - now > longest)
      throw new InvalidTokenError('"exp" claim is further away than the longest accepted token lifetime');
    return exp;
  }
  if (iat > now + skew)
    throw new InvalidTokenError('"iat" claim timestamp check failed (issued in the future)');
  if (exp - iat > longest)
    throw new InvalidTokenError('"exp" - "iat" exceeds the longest accepted token lifetime');
  return exp;
}

/**
 * Who one of this server's tokens names. Only a user's login has a grant family, which the
 * token carries as `sid` (lambda/oauth/grants/user-tokens.ts); a client credentials token has
 * none and names its client as `sub` (grants/client-credentials.ts). A token without `sid` whose
 * `sub` is not its `client_id` fits neither, so it is refused rather than guessed at.
 */
function ownCallerKind(payload: JWTPayload, sub: string, clientId: string): CallerKind {
  if (payload.sid !== undefined) {
    if (!optionalString(payload.sid)) throw new InvalidTokenError('"sid" claim must be a non-empty string');
    return 'user';
  }
  if (sub !== clientId) throw new InvalidTokenError('a token without "sid" must name its client as "sub"');
  return 'machine';
}

/** The verified caller, with the user's name and email when the token carries them. */
function callerFrom(payload: JWTPayload, caller: Caller): Caller {
  const name = optionalString(payload.name);
  const email = optionalString(payload.email);
  if (name) caller.name = name;
  if (email) caller.email = email;
  return caller;
}

/**
 * Whether each part of a compact JWS is in the one base64url form its bytes have. Decoders
 * ignore the unused low bits of a last character, so several spellings of a signature decode to
 * the same bytes; only the canonical one is accepted, so that a token is exactly one string.
 */
function isCanonicalCompactJws(token: string): boolean {
  const parts = token.split('.');
  return (
    parts.length === 3 &&
    parts.every(
      (part) =>
        /^[A-Za-z0-9_-]*$/.test(part) && Buffer.from(part, 'base64url').toString('base64url') === part,
    )
  );
}

/** The issuer a token claims, read before anything is verified, to choose its keys and rules. */
function claimedIssuer(token: string): unknown {
  if (!isCanonicalCompactJws(token)) throw new InvalidTokenError('the token is not a compact JWS');
  try {
    return decodeJwt(token).iss;
  } catch (error) {
    throw new InvalidTokenError('the token is not a compact JWS', { cause: error });
  }
}

interface External {
  config: TrustedIssuer;
  jwks: RemoteJwks;
  lifetime: LifetimePolicy;
}

/** Creates the verifier once per process; it holds the verified-token cache and external key caches. */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const now = options.now ?? Date.now;
  const skew = options.clockSkewSeconds ?? 60;
  const cacheSize = options.cacheSize ?? 1000;
  const own: LifetimePolicy = { maxLifetimeSeconds: options.maxTokenLifetimeSeconds };
  // Re-verifying the same token on every call is pure CPU: clients reuse a token for its whole
  // life. A hit still re-checks expiry; the map is bounded and forgets the oldest entry first.
  const cache = new Map<string, Caller>();
  const trusted = new Map<string, External>(
    (options.trustedIssuers ?? []).map((t) => [
      t.issuer,
      {
        config: t,
        jwks: new RemoteJwks(t.issuer, options.remoteJwks),
        lifetime: {
          maxLifetimeSeconds: t.maxTokenLifetimeSeconds ?? DEFAULT_TRUSTED_ISSUER_MAX_LIFETIME_SECONDS,
        },
      },
    ]),
  );

  /** This server's public key for the token's `kid`; jose checks that it fits the algorithm. */
  async function ownKey(header: JWSHeaderParameters): Promise<KeyObject> {
    if (typeof header.kid !== 'string') throw new InvalidTokenError('missing "kid" header');
    const key = await options.keys.verificationKey(header.kid);
    if (!key) throw new InvalidTokenError('signature verification failed');
    return key;
  }

  /** `jwtVerify` with the clock and skew, its errors as `InvalidTokenError`. */
  async function verifyJwt(
    token: string,
    key: (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<KeyObject | CryptoKey>,
    verifyOptions: JWTVerifyOptions,
  ): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, key, {
        ...verifyOptions,
        clockTolerance: skew,
        currentDate: new Date(now()),
      });
      return payload;
    } catch (error) {
      throw invalidTokenFrom(error, token);
    }
  }

  async function verifyOwn(token: string): Promise<Caller> {
    const payload = await verifyJwt(token, ownKey, {
      algorithms: OWN_ALGORITHMS,
      // RFC 9068 §2.1; jose also accepts `application/at+jwt`, in any case.
      typ: 'at+jwt',
      issuer: options.issuer,
      audience: options.resource,
      requiredClaims: ['exp', 'iat'],
    });
    const expiresAt = checkLifetime(payload, now() / 1000, skew, own);
    const sub = stringClaim(payload, 'sub');
    const clientId = stringClaim(payload, 'client_id');
    const kind = ownCallerKind(payload, sub, clientId);
    return callerFrom(payload, {
      issuer: options.issuer,
      kind,
      sub,
      clientId,
      scopes: scopesOf(payload),
      expiresAt,
      // What revocation compares (lambda/mcp/auth/revocation-list.ts): when it was issued, the token,
      // and a user's login.
      issuedAtMs: issuedAtMs(payload.iat!, payload[ISSUED_AT_MS_CLAIM]),
      ...(optionalString(payload.jti) && { tokenId: optionalString(payload.jti) }),
      ...(optionalString(payload.sid) && { grantId: optionalString(payload.sid) }),
    });
  }

  async function verifyExternal(
    token: string,
    { config: issuer, jwks, lifetime }: External,
  ): Promise<Caller> {
    let payload: JWTPayload;
    try {
      payload = await verifyJwt(token, jwks.resolve, {
        algorithms: issuer.algorithms ?? ['RS256'],
        issuer: issuer.issuer,
        requiredClaims: ['exp'],
      });
    } catch (error) {
      // jose refuses a key of the issuer's that is too weak for the algorithm (an RSA modulus
      // under 2048 bits) with a TypeError; fetch failures arrive as TrustedIssuerUnavailableError.
      if (error instanceof TypeError)
        throw new InvalidTokenError('the issuer key for this token cannot verify it', { cause: error });
      throw error;
    }
    const expiresAt = checkLifetime(payload, now() / 1000, skew, lifetime);
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
      kind: issuer.callerKind ?? DEFAULT_TRUSTED_ISSUER_CALLER_KIND,
      sub: stringClaim(payload, 'sub'),
      clientId,
      scopes: grantedScopes(issuer, scopes),
      expiresAt,
    });
  }

  return async (token) => {
    const cached = cache.get(token);
    if (cached) {
      if (now() / 1000 < cached.expiresAt + skew) return cached;
      cache.delete(token);
    }
    const iss = claimedIssuer(token);
    let caller: Caller;
    if (iss === options.issuer) {
      caller = await verifyOwn(token);
    } else {
      const external = typeof iss === 'string' ? trusted.get(iss) : undefined;
      if (!external) throw new InvalidTokenError('"iss" claim check failed');
      caller = await verifyExternal(token, external);
    }
    if (cacheSize > 0) {
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
      cache.set(token, Object.freeze(caller));
    }
    return caller;
  };
}
