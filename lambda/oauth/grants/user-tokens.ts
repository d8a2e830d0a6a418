/**
 * The token response of the user grants (authorization code, refresh token): an access token
 * for the user and a new refresh token in the grant family. A refresh token is issued every
 * time, whether or not `offline_access` was asked for: clients that never ask would otherwise
 * lose the connection when the access token expires.
 */
import { randomToken, sha256 } from '../../shared/crypto.js';
import { issueAccessToken } from './access-token.js';
import type { UserIdentity } from '../stores/grant-store.js';
import type { GrantContext, TokenResponse } from './grant.js';

export interface UserGrant {
  familyId: string;
  familyExpiresAt: number;
  identity: UserIdentity;
  /** The access token's scope (the grant's, or narrower on refresh). */
  scope: string;
  audience: string;
}

/**
 * `commit` runs after the signing key is loaded and the refresh token stored, and before the
 * access token is signed (which can no longer fail on a dependency): the authorization code
 * grant spends its code there. If it throws, the stored refresh token is unusable, because its
 * value was never handed out. `alongside` runs while the refresh token is stored (the refresh
 * token grant's rotation); if it throws, the same holds.
 */
export async function issueUserTokens(
  { client, deps, now }: GrantContext,
  grant: UserGrant,
  commit?: () => Promise<void>,
  alongside?: Promise<void>,
): Promise<TokenResponse> {
  const nowSeconds = Math.floor(now / 1000);
  const refreshToken = randomToken();
  // The key's first load (one per process) and the store overlap: neither waits on the other.
  await Promise.all([
    deps.keys.signingKey(),
    deps.grants.saveRefreshToken(sha256(refreshToken), {
      familyId: grant.familyId,
      clientId: client.clientId,
      expiresAt: Math.min(nowSeconds + deps.config.refreshTokenIdleTtlSeconds, grant.familyExpiresAt),
    }),
    alongside,
  ]);
  await commit?.();
  const { identity } = grant;
  const issued = await issueAccessToken(
    deps.keys,
    deps.config.issuer,
    deps.config.accessTokenTtlSeconds,
    {
      sub: identity.sub,
      clientId: client.clientId,
      audience: grant.audience,
      scope: grant.scope,
      extra: {
        // The grant family, which revocation names (`lambda/oauth/stores/revocations.ts`): the login
        // session, as OpenID Connect's `sid` names one.
        sid: grant.familyId,
        ...(identity.name !== undefined && { name: identity.name }),
        ...(identity.email !== undefined && { email: identity.email }),
      },
    },
    now,
  );
  return {
    access_token: issued.token,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    scope: grant.scope,
    refresh_token: refreshToken,
  };
}
