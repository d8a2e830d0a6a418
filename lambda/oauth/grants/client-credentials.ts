/** The client credentials grant (RFC 6749 §4.4): a confidential client gets a token for itself. */
import { issueAccessToken } from './access-token.js';
import { narrowScope, resolveAudience } from './token-request.js';
import type { GrantHandler } from './grant.js';

export const clientCredentialsGrant: GrantHandler = async ({ client, params, deps, now }) => {
  const audience = resolveAudience(params.getAll('resource'), deps.config);
  const scope = narrowScope(params.get('scope'), client.metadata.scope);
  const issued = await issueAccessToken(
    deps.keys,
    deps.config.issuer,
    deps.config.accessTokenTtlSeconds,
    { sub: client.clientId, clientId: client.clientId, audience, scope },
    now,
  );
  return { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope };
};
