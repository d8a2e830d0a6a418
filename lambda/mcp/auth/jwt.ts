/**
 * What a refused access token becomes: an `InvalidTokenError` (RFC 6750 §3.1 `invalid_token`)
 * whose message names the check that failed. Verification itself is `jose`'s `jwtVerify`
 * (`access-token-verifier.ts`); this file turns jose's errors into these messages.
 *
 * The messages reach the `WWW-Authenticate` header and the logs, so they are fixed strings: they
 * quote claim and header names, never a value taken from the token.
 */
import { decodeProtectedHeader, errors } from 'jose';

/** Thrown when a token is malformed, forged, expired or not meant for this resource. */
export class InvalidTokenError extends Error {
  readonly code = 'ERR_INVALID_TOKEN';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidTokenError';
  }
}

/** Header parameters registered by RFC 7515 §4.1 and RFC 7518 §4.1: `crit` may never name them. */
const REGISTERED_HEADER_PARAMETERS = new Set([
  'alg',
  'jku',
  'jwk',
  'kid',
  'x5u',
  'x5c',
  'x5t',
  'x5t#S256',
  'typ',
  'cty',
  'crit',
  'enc',
  'zip',
  'epk',
  'apu',
  'apv',
  'iv',
  'tag',
  'p2s',
  'p2c',
]);

/**
 * Which rule of RFC 7515 §4.1.11 a `crit` header breaks. jose has already refused the token (it
 * implements no extension a JWT may use: RFC 7797's `b64` is refused for JWTs); this only words
 * the refusal, without naming the token's own parameter names.
 */
function critMessage(crit: unknown, header: Record<string, unknown>): string {
  if (!Array.isArray(crit) || crit.length === 0 || !crit.every((n) => typeof n === 'string' && n !== '')) {
    return '"crit" header must be a non-empty array of non-empty strings';
  }
  const names = crit as string[];
  if (names.some((n) => REGISTERED_HEADER_PARAMETERS.has(n)))
    return '"crit" header names a registered header parameter';
  if (names.some((n) => !Object.hasOwn(header, n)))
    return '"crit" header names a parameter the header does not carry';
  return '"crit" header names an extension this server does not understand';
}

/** A token jose found malformed (JWS structure, header, `crit`, payload JSON). */
function malformed(token: string, cause: unknown): InvalidTokenError {
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch {
    return new InvalidTokenError('the token is not a compact JWS', { cause });
  }
  if (Object.hasOwn(header, 'crit'))
    return new InvalidTokenError(critMessage(header.crit, header), { cause });
  if (typeof header.alg !== 'string') return new InvalidTokenError('unsupported "alg" header', { cause });
  return new InvalidTokenError('the token is not a well-formed JWT', { cause });
}

/** The message for a failed claim check; jose's own where it quotes only the claim's name. */
function claimMessage(error: errors.JWTClaimValidationFailed): string {
  if (error.reason !== 'check_failed') return error.message;
  switch (error.claim) {
    case 'iss':
      return '"iss" claim check failed';
    case 'aud':
      return '"aud" claim check failed';
    case 'typ':
      return '"typ" header must be "at+jwt"';
    default:
      return error.message;
  }
}

/**
 * `error` from `jwtVerify` as an `InvalidTokenError` when it is jose's verdict on the token;
 * anything else (keys that cannot be read, an issuer that cannot be reached) is returned as is.
 */
export function invalidTokenFrom(error: unknown, token: string): unknown {
  if (!(error instanceof errors.JOSEError)) return error;
  if (error instanceof errors.JWTExpired) return new InvalidTokenError(error.message, { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed)
    return new InvalidTokenError(claimMessage(error), { cause: error });
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new InvalidTokenError('unsupported "alg" header', { cause: error });
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new InvalidTokenError('signature verification failed', { cause: error });
  return malformed(token, error);
}
