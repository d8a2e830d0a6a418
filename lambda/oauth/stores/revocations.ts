/**
 * Writes the revocation markers (`lambda/shared/revocations.ts`) that `/mcp` reads, and the ways
 * the authorization server revokes: a grant family (refresh token revoked, reused after its grace
 * window, or its authorization code replayed), a deleted client, one access token (RFC 7009), and
 * every grant of one user. Each writes the marker first, and only then changes the grant or the
 * client: if the marker cannot be written the request fails (503) with nothing changed, and a
 * retry does it all; never a client that is gone while its tokens still work.
 *
 * A marker set "now" is set a few seconds ahead (`MARKER_LEAD_MS`): between the marker and the
 * change of the grant or client that follows it, a token could still be issued, and the lead
 * covers it.
 */
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import {
  ISSUED_AT_MS_CLAIM,
  issuedAtMs,
  MARKER_LEAD_MS,
  markerExpiresAt,
  type RevokedSubject,
} from '../../shared/revocations.js';
import type { OAuthDeps } from '../deps.js';
import { INTEGER_SETTINGS } from '../../shared/function-settings.js';

export { DynamoRevocationList, type RevocationList } from '../../shared/revocation-writer.js';

/**
 * What revoking a subject as a whole needs: the oauth function's deps, or the admin command's
 * (`scripts/admin/`), which has no function configuration and gives the longest access token
 * lifetime any configuration allows.
 */
export type RevocationDeps = Pick<OAuthDeps, 'revocations' | 'grants' | 'now'> & {
  config: Pick<OAuthDeps['config'], 'accessTokenTtlSeconds'> &
    Partial<Pick<OAuthDeps['config'], 'refreshTokenAbsoluteTtlSeconds'>>;
};

/**
 * Sets `subject`'s marker a little ahead of now, kept until every token it covers has expired:
 * `longestSeconds`, the access tokens' lifetime unless the marker must outlive refresh tokens too.
 */
async function revokeNow(
  deps: RevocationDeps,
  subject: RevokedSubject,
  longestSeconds = deps.config.accessTokenTtlSeconds,
): Promise<void> {
  const notBefore = Math.floor(deps.now?.() ?? Date.now()) + MARKER_LEAD_MS;
  await deps.revocations.revoke(subject, notBefore, markerExpiresAt(notBefore, longestSeconds));
}

/** Revokes a grant family: its refresh tokens at once, its access tokens at `/mcp` within the read bound. */
export async function revokeGrantFamily(deps: RevocationDeps, familyId: string): Promise<void> {
  await revokeNow(deps, { grant: familyId });
  await deps.grants.revokeFamily(familyId);
}

/** Records that a client's access tokens stop working; the caller deletes the client after this. */
export async function revokeClientTokens(deps: RevocationDeps, clientId: string): Promise<void> {
  await revokeNow(deps, { client: clientId });
}

/**
 * Revokes everything of one user, across clients, with one write: their access tokens stop at
 * `/mcp` within the read bound, and a refresh of a grant that began at or before the marker is
 * refused (`isUserRevoked`).
 */
export async function revokeUser(deps: RevocationDeps, sub: string): Promise<void> {
  // Kept as long as a refresh token of a grant it covers can live (a year when the caller cannot
  // say, as the admin command): a grant not marked revoked itself stays refused for its whole
  // life. `/mcp` reads it only while it can still refuse an access token (`markerRelevanceMs`),
  // so the longer life costs its read nothing.
  const refreshLifetime =
    deps.config.refreshTokenAbsoluteTtlSeconds ?? INTEGER_SETTINGS.refreshTokenAbsoluteTtlSeconds.max;
  await revokeNow(deps, { user: sub }, Math.max(deps.config.accessTokenTtlSeconds, refreshLifetime));
}

/** Whether a grant of `sub` that began at `grantCreatedAt` (epoch seconds) was revoked with its user. */
export async function isUserRevoked(deps: OAuthDeps, sub: string, grantCreatedAt: number): Promise<boolean> {
  const notBefore = await deps.revocations.notBefore({ user: sub }, deps.now?.() ?? Date.now());
  return notBefore !== undefined && grantCreatedAt * 1000 <= notBefore;
}

/**
 * Revokes one access token of `clientId` (RFC 7009 §2.1): only a token this server signed, that
 * has not expired, and that was issued to that client; anything else is ignored, as the RFC asks
 * for tokens the server does not know. The marker is the token's own issue time, set on its grant
 * family (a user's token) or on its client (a machine token): it and every earlier token of that
 * family or client are refused (RFC 7009 §2.1 lets the server revoke related tokens), and
 * revoking many tokens of one family or client keeps one marker.
 */
export async function revokeAccessToken(deps: OAuthDeps, clientId: string, token: string): Promise<boolean> {
  const keys: JWTVerifyGetKey = async (header) => {
    const key = typeof header.kid === 'string' ? await deps.keys.verificationKey(header.kid) : undefined;
    if (!key) throw new errors.JWKSNoMatchingKey();
    return key;
  };
  let payload: { client_id?: unknown; sid?: unknown; iat?: number; exp?: number; [claim: string]: unknown };
  try {
    ({ payload } = await jwtVerify(token, keys, {
      issuer: deps.config.issuer,
      typ: 'at+jwt',
      algorithms: ['RS256'],
      requiredClaims: ['iat', 'exp'],
      currentDate: new Date(deps.now?.() ?? Date.now()),
    }));
  } catch (error) {
    // Not a valid token of this server; a key read that failed is a fault, not an answer.
    if (error instanceof errors.JOSEError) return false;
    throw error;
  }
  if (payload.client_id !== clientId || payload.iat === undefined || payload.exp === undefined) return false;
  const subject: RevokedSubject =
    typeof payload.sid === 'string' && payload.sid ? { grant: payload.sid } : { client: clientId };
  const notBefore = issuedAtMs(payload.iat, payload[ISSUED_AT_MS_CLAIM]);
  await deps.revocations.revoke(
    subject,
    notBefore,
    markerExpiresAt(notBefore, deps.config.accessTokenTtlSeconds),
  );
  return true;
}
