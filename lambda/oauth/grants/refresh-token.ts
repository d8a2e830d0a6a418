/**
 * The refresh token grant (RFC 6749 §6, OAuth 2.1 §4.3) with rotation in a grant family
 * (OAuth 2.0 Security BCP §4.14.2). Each refresh token is rotated out on use; the rotated-out
 * token keeps working for a short grace window, because clients such as Claude Code refresh from
 * parallel sessions at once. Its use after the window is a replay: the whole family is revoked.
 * `scope` and `resource` may narrow the new access token, never widen it; the new refresh token
 * keeps the grant's scope (RFC 6749 §6). When the grant's upstream re-check is due, the upstream
 * provider is asked first (`login/upstream-recheck.ts`), before anything is spent.
 */
import { audit } from '../../shared/audit.js';
import { sha256 } from '../../shared/crypto.js';
import { isIssuedToken } from '../login/authorization-response.js';
import { InvalidGrantError, InvalidRequestError, InvalidTargetError } from '../errors.js';
import { narrowScope, resolveAudience } from './token-request.js';
import type { GrantHandler } from './grant.js';
import { issueUserTokens } from './user-tokens.js';
import { isUserRevoked, revokeGrantFamily } from '../stores/revocations.js';
import { recheckUpstream } from '../login/upstream-recheck.js';

const DAY = 86_400;
const HOUR = 3600;

export const refreshTokenGrant: GrantHandler = async (context) => {
  const { client, params, deps, now } = context;
  const token = params.get('refresh_token');
  if (!token) throw new InvalidRequestError('"refresh_token" is required');
  const invalid = () => new InvalidGrantError('the refresh token is invalid, expired or revoked');
  if (!isIssuedToken(token)) throw invalid();

  const tokenHash = sha256(token);
  const stored = await deps.grants.getRefreshToken(tokenHash, now);
  if (!stored || stored.clientId !== client.clientId) throw invalid();
  const found = await deps.grants.getFamily(stored.familyId, now);
  if (!found || found.revoked) throw invalid();
  // Every grant of a user revoked at once (revokeUser) ends here too. Read alongside the re-check,
  // the rotation and the new token's store (below): a token spent or stored for a revoked user
  // hands nothing out.
  const revoked = isUserRevoked(deps, found.identity.sub, found.createdAt);
  revoked.catch(() => undefined); // awaited with the rotation, unless the request is refused first
  // The upstream provider's say (when a check is due): the user may be gone, or hold less now.
  const family = await recheckUpstream(deps, found, now);

  // Narrowing is checked before rotation, so a refused request does not spend the token.
  // Within the grant, and within what the client is registered for now (RFC 7592 may narrow it).
  const registered = client.metadata.scope.split(' ');
  const allowed = family.scope.split(' ').filter((s) => registered.includes(s));
  if (allowed.length === 0) throw invalid();
  const scope = narrowScope(params.get('scope'), allowed.join(' '));
  if (resolveAudience(params.getAll('resource'), deps.config) !== family.audience) {
    throw new InvalidTargetError('"resource" must name the resource of the original grant');
  }

  // The token is rotated out while the new one is stored: one round trip. A new token stored for
  // a refused request is never handed out.
  const about = { clientId: client.clientId, sub: family.identity.sub, grantId: family.familyId };
  const nowSeconds = Math.floor(now / 1000);
  // The family's last refresh, for the admin command: to the hour, so most refreshes write
  // nothing; written alongside too (on a refused refresh it only dates a grant that is dead).
  const recorded =
    (family.lastRefreshAt ?? 0) <= nowSeconds - HOUR
      ? deps.grants.recordRefresh(family.familyId, nowSeconds)
      : undefined;
  const rotated = (async () => {
    const [isRevoked, rotation] = await Promise.all([
      revoked,
      deps.grants.markRotated(tokenHash, now),
      recorded,
    ]);
    if (isRevoked) {
      audit(deps.logger, 'refused', { reason: 'user_revoked', ...about });
      throw invalid();
    }
    if (
      !rotation.first &&
      Math.floor(now / 1000) - rotation.rotatedAt > deps.config.refreshTokenReuseGraceSeconds
    ) {
      await revokeGrantFamily(deps, family.familyId);
      audit(deps.logger, 'refused', { reason: 'refresh_token_reuse', ...about });
      audit(deps.logger, 'revoke', { target: 'grant', by: 'reuse', ...about });
      deps.logger.warn('refresh token reused after rotation; grant revoked', {
        clientId: client.clientId,
        familyId: family.familyId,
      });
      throw invalid();
    }
  })();
  rotated.catch(() => undefined); // awaited by issueUserTokens

  // A client in use stays registered; extending at most once a day keeps refreshes to one write.
  const idleExpiry = Math.ceil((nowSeconds + deps.config.clientIdleTtlSeconds) / DAY) * DAY;
  if (client.expiresAt !== undefined && client.expiresAt < idleExpiry - DAY) {
    await deps.clients.extend(client.clientId, idleExpiry);
  }
  return issueUserTokens(
    context,
    {
      familyId: family.familyId,
      familyExpiresAt: family.expiresAt,
      identity: family.identity,
      scope,
      audience: family.audience,
    },
    undefined,
    rotated,
  );
};
