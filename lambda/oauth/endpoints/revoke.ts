/**
 * Token revocation (RFC 7009). A refresh token revokes its whole grant family, an access token
 * itself, each only when the authenticated client owns it. `/mcp` verifies access tokens without
 * a database call per request and refuses revoked ones once its copy of the revocation list is
 * refreshed (`lambda/oauth/stores/revocations.ts`). Unknown, expired and foreign tokens are answered 200
 * all the same (RFC 7009 §2.2).
 */
import { audit } from '../../shared/audit.js';
import { type HttpRequest, PlainResponse } from '../../shared/http-message.js';
import { sha256 } from '../../shared/crypto.js';
import { mediaType, readText } from '../../shared/http.js';
import { isIssuedToken } from '../login/authorization-response.js';
import { authenticateClient } from '../clients/client-auth.js';
import { parseForm } from '../clients/credentials.js';
import type { OAuthDeps } from '../deps.js';
import { InvalidRequestError, NO_STORE } from '../errors.js';
import { revokeAccessToken, revokeGrantFamily } from '../stores/revocations.js';

const MAX_REVOCATION_REQUEST_BYTES = 16 * 1024;

export async function revoke(request: HttpRequest, deps: OAuthDeps): Promise<PlainResponse> {
  if (mediaType(request) !== 'application/x-www-form-urlencoded') {
    throw new InvalidRequestError('the body must be application/x-www-form-urlencoded');
  }
  const params = parseForm(await readText(request, MAX_REVOCATION_REQUEST_BYTES));
  const client = await authenticateClient(request, params, deps.clientResolver, deps.clientAssertions);
  const token = params.get('token');
  if (!token) throw new InvalidRequestError('"token" is required');

  // Refresh tokens have the shape of issued tokens; JWTs (access tokens) never do.
  if (isIssuedToken(token)) {
    const now = deps.now?.() ?? Date.now();
    const stored = await deps.grants.getRefreshToken(sha256(token), now);
    if (stored && stored.clientId === client.clientId) {
      await revokeGrantFamily(deps, stored.familyId);
      deps.logger.info('grant revoked', { clientId: client.clientId, familyId: stored.familyId });
      audit(deps.logger, 'revoke', {
        target: 'grant',
        by: 'client',
        clientId: client.clientId,
        grantId: stored.familyId,
      });
    }
  } else if (await revokeAccessToken(deps, client.clientId, token)) {
    deps.logger.info('access token revoked', { clientId: client.clientId });
    audit(deps.logger, 'revoke', { target: 'token', by: 'client', clientId: client.clientId });
  }
  return new PlainResponse(null, { status: 200, headers: NO_STORE });
}
