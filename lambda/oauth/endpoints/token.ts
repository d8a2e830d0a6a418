/**
 * The token endpoint (RFC 6749 §3.2): authenticates the client, checks that it registered the
 * grant type, and hands the request to that grant's handler.
 */
import { decodeJwt } from 'jose';
import { audit } from '../../shared/audit.js';
import { type HttpRequest, PlainResponse } from '../../shared/http-message.js';
import { json, mediaType, readText } from '../../shared/http.js';
import { authenticateClient } from '../clients/client-auth.js';
import { JWT_BEARER, type GrantType } from '../clients/client-metadata.js';
import { parseForm } from '../clients/credentials.js';
import type { OAuthDeps } from '../deps.js';
import {
  InvalidRequestError,
  NO_STORE,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
} from '../errors.js';
import { authorizationCodeGrant } from '../grants/authorization-code.js';
import { clientCredentialsGrant } from '../grants/client-credentials.js';
import type { GrantHandler } from '../grants/grant.js';
import { prefetchingGrants } from '../grants/prefetch.js';
import { jwtBearerGrant } from '../grants/jwt-bearer.js';
import { refreshTokenGrant } from '../grants/refresh-token.js';
import { quote } from '../excerpt.js';

/** The grants this server implements; the metadata document lists exactly these. */
export const GRANTS: Record<GrantType, GrantHandler> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  [JWT_BEARER]: jwtBearerGrant,
};

const MAX_TOKEN_REQUEST_BYTES = 16 * 1024;

/**
 * Whether a client may use a grant. Every code exchange returns a refresh token, so a client
 * registered for `authorization_code` may also refresh, even if it did not list `refresh_token`:
 * otherwise it would lose the connection when its first access token expires.
 */
function isRegisteredFor(registered: readonly GrantType[], grant: GrantType): boolean {
  return (
    registered.includes(grant) || (grant === 'refresh_token' && registered.includes('authorization_code'))
  );
}

export async function token(request: HttpRequest, deps: OAuthDeps): Promise<PlainResponse> {
  if (mediaType(request) !== 'application/x-www-form-urlencoded') {
    throw new InvalidRequestError('the body must be application/x-www-form-urlencoded');
  }
  const params = parseForm(await readText(request, MAX_TOKEN_REQUEST_BYTES));
  const grantType = params.get('grant_type');
  if (!grantType) throw new InvalidRequestError('"grant_type" is required');

  const now = deps.now?.() ?? Date.now();
  const grants = prefetchingGrants(deps.grants, grantType, params, now);
  const client = await authenticateClient(request, params, deps.clientResolver, deps.clientAssertions);
  const grant = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType as GrantType] : undefined;
  if (!grant) throw new UnsupportedGrantTypeError(`the grant type ${quote(grantType)} is not supported`);
  if (!isRegisteredFor(client.metadata.grant_types, grantType as GrantType)) {
    throw new UnauthorizedClientError(`the client is not registered for the ${quote(grantType)} grant`);
  }

  const response = await grant({ client, params, deps: { ...deps, grants }, now });
  deps.logger.info('token issued', { clientId: client.clientId, grantType, scope: response.scope });
  auditIssued(deps, grantType, client.clientId, response.access_token);
  deps.metrics?.count('TokensIssued', grantType);
  return json(200, response, NO_STORE);
}

/**
 * The audit line of an issued token, read back from the access token just signed: its `jti`,
 * audience, subject and grant family. A refresh is its own event (`refresh`).
 */
function auditIssued(deps: OAuthDeps, grantType: string, clientId: string, accessToken: string): void {
  const claims = decodeJwt(accessToken);
  const user = typeof claims.sid === 'string';
  audit(deps.logger, grantType === 'refresh_token' ? 'refresh' : 'token', {
    grantType,
    clientId,
    ...(user && { sub: claims.sub, grantId: claims.sid as string }),
    ...(typeof claims.scope === 'string' && { scope: claims.scope }),
    ...(typeof claims.aud === 'string' && { audience: claims.aud }),
    ...(claims.jti !== undefined && { tokenId: claims.jti }),
  });
}
