/**
 * Authorization server metadata (RFC 8414), also served as `/.well-known/openid-configuration`
 * because some verifiers (AWS AgentCore) accept only that discovery URL, and the JWK Set.
 */
import { PlainResponse } from '../../shared/http-message.js';
import type { Config } from '../../shared/config.js';
import { json } from '../../shared/http.js';
import { SIGNING_ALGORITHM } from '../../shared/key-set.js';
import type { SigningKeys } from '../../shared/signing-keys.js';
import { AUTH_METHODS, JWT_BEARER } from '../clients/client-metadata.js';
import { CLIENT_ASSERTION_ALGORITHMS } from '../clients/client-keys.js';
import { GRANTS } from './token.js';

/** Both documents change only on deployment or rotation, which publishes keys a rotation ahead. */
const CACHEABLE = { 'cache-control': 'public, max-age=300' };

/**
 * `loginEnabled`: an upstream identity provider is configured, so users can log in.
 * `enterpriseGrant`: enterprise identity providers are configured (`ENTERPRISE_IDPS`), so the
 * jwt-bearer grant redeems their ID-JAGs.
 */
export function authorizationServerMetadata(
  config: Config,
  loginEnabled: boolean,
  enterpriseGrant = false,
): Record<string, unknown> {
  return {
    issuer: config.issuer,
    authorization_endpoint: `${config.issuer}/authorize`,
    token_endpoint: `${config.issuer}/token`,
    jwks_uri: `${config.issuer}/.well-known/jwks.json`,
    ...(config.registrationPolicy !== 'closed' || config.interactiveRegistrationPolicy !== 'closed'
      ? { registration_endpoint: `${config.issuer}/register` }
      : {}),
    revocation_endpoint: `${config.issuer}/revoke`,
    scopes_supported: config.scopesSupported,
    response_types_supported: loginEnabled ? ['code'] : [],
    response_modes_supported: ['query'],
    grant_types_supported: Object.keys(GRANTS).filter((grant) =>
      grant === JWT_BEARER ? enterpriseGrant : loginEnabled || grant === 'client_credentials',
    ),
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: [...AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
    revocation_endpoint_auth_methods_supported: [...AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    // Required by OpenID Connect Discovery for `/.well-known/openid-configuration`; this server
    // signs with RS256 (it issues no ID tokens itself, but verifiers read this document).
    id_token_signing_alg_values_supported: [SIGNING_ALGORITHM],
    resource_indicators_supported: true,
    // Metadata document clients log users in; without login there is nothing for them to do.
    ...(loginEnabled ? { client_id_metadata_document_supported: true } : {}),
  };
}

export function metadataResponse(
  config: Config,
  loginEnabled: boolean,
  enterpriseGrant = false,
): PlainResponse {
  return json(200, authorizationServerMetadata(config, loginEnabled, enterpriseGrant), CACHEABLE);
}

export async function jwksResponse(keys: SigningKeys): Promise<PlainResponse> {
  return json(200, await keys.publicJwks(), CACHEABLE);
}
