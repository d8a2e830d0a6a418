/**
 * Compact JWS decoding and signature checking on `node:crypto`, for access tokens (RFC 7515,
 * RFC 9068). Deliberately small: the algorithm comes from an allow-list and must fit the key's
 * type, so `alg: none` and HMAC-with-a-public-key confusion cannot pass.
 */
import { constants, verify, type KeyObject } from 'node:crypto';

/** Thrown when a token is malformed, forged, expired or not meant for this resource. */
export class InvalidTokenError extends Error {
  readonly code = 'ERR_INVALID_TOKEN';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** Asymmetric algorithms this server accepts (RFC 7518 §3.1). HMAC and `none` are never accepted. */
export const ACCEPTED_ALGORITHMS = ['RS256', 'PS256', 'ES256'] as const;
export type AcceptedAlgorithm = (typeof ACCEPTED_ALGORITHMS)[number];

const SEGMENT = /^[A-Za-z0-9_-]+$/;

function decodeJsonSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError(`the JWT ${what} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidTokenError(`the JWT ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Splits and decodes a compact JWS without trusting anything in it yet. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) {
    throw new InvalidTokenError('the token is not a compact JWS');
  }
  const [h, p, s] = parts as [string, string, string];
  return {
    header: decodeJsonSegment(h, 'header'),
    payload: decodeJsonSegment(p, 'payload'),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

/**
 * Header parameters registered by RFC 7515 §4.1 and RFC 7518 §4.1: `crit` may never name them.
 */
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
 * Refuses a JWS that carries `crit` (RFC 7515 §4.1.11): it names extensions a recipient must
 * understand and process, or else reject the JWS. This verifier implements none (not even
 * RFC 7797's `b64`, which would change what the signature covers), so any `crit` is refused;
 * the message says which rule of §4.1.11 failed, or that the extension is not understood.
 */
export function checkCriticalHeader(header: Record<string, unknown>): void {
  if (!Object.hasOwn(header, 'crit')) return;
  const crit = header.crit;
  if (
    !Array.isArray(crit) ||
    crit.length === 0 ||
    !crit.every((name) => typeof name === 'string' && name !== '')
  ) {
    throw new InvalidTokenError('"crit" header must be a non-empty array of non-empty strings');
  }
  // The messages name no parameter: they reach the WWW-Authenticate header, and these are the
  // token's own strings.
  for (const name of crit as string[]) {
    if (REGISTERED_HEADER_PARAMETERS.has(name))
      throw new InvalidTokenError('"crit" header names a registered header parameter');
    if (!Object.hasOwn(header, name))
      throw new InvalidTokenError('"crit" header names a parameter the header does not carry');
  }
  throw new InvalidTokenError('"crit" header names an extension this server does not understand');
}

/** Whether `alg` is one this server verifies. */
export function isAcceptedAlgorithm(alg: unknown, allowed: readonly string[]): alg is AcceptedAlgorithm {
  return (
    typeof alg === 'string' &&
    allowed.includes(alg) &&
    (ACCEPTED_ALGORITHMS as readonly string[]).includes(alg)
  );
}

/** Verifies a JWS signature with a public key whose type must match the algorithm. */
export function verifySignature(alg: AcceptedAlgorithm, key: KeyObject, jwt: DecodedJwt): boolean {
  const data = Buffer.from(jwt.signingInput, 'ascii');
  switch (alg) {
    case 'RS256':
      return key.asymmetricKeyType === 'rsa' && verify('sha256', data, key, jwt.signature);
    case 'PS256':
      return (
        (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') &&
        verify(
          'sha256',
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
          jwt.signature,
        )
      );
    case 'ES256':
      return (
        key.asymmetricKeyType === 'ec' &&
        key.asymmetricKeyDetails?.namedCurve === 'prime256v1' &&
        jwt.signature.length === 64 &&
        verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, jwt.signature)
      );
  }
}
