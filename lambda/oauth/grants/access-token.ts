/**
 * Issues access tokens as signed JWTs in the RFC 9068 profile (`typ: at+jwt`), so that resource
 * servers verify them with the published keys and no database call.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { ISSUED_AT_MS_CLAIM } from '../../shared/revocations.js';
import type { SigningKeys } from '../../shared/signing-keys.js';

export interface AccessTokenClaims {
  /** The subject: the client itself for machine grants, the user for interactive ones. */
  sub: string;
  clientId: string;
  /** The resource the token is for (RFC 8707), which becomes `aud`. */
  audience: string;
  scope: string;
  /** Further claims for user tokens (for example `name`, `email`). */
  extra?: Record<string, string>;
}

export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
  jti: string;
}

export async function issueAccessToken(
  keys: SigningKeys,
  issuer: string,
  ttlSeconds: number,
  claims: AccessTokenClaims,
  now: number = Date.now(),
): Promise<IssuedAccessToken> {
  const { kid, alg, key } = await keys.signingKey();
  const iat = Math.floor(now / 1000);
  const jti = randomUUID();
  // `iat` counts seconds; revocation markers (lambda/shared/revocations.ts) tell apart tokens of
  // the same second, so the token also says the millisecond it was issued.
  const token = await new SignJWT({
    ...claims.extra,
    client_id: claims.clientId,
    scope: claims.scope,
    [ISSUED_AT_MS_CLAIM]: Math.floor(now),
  })
    .setProtectedHeader({ alg, typ: 'at+jwt', kid })
    .setIssuer(issuer)
    .setSubject(claims.sub)
    .setAudience(claims.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(jti)
    .sign(key);
  return { token, expiresIn: ttlSeconds, jti };
}
