/**
 * Dynamic client registration (RFC 7591), served at `/register` and `/dcr`. Clients that
 * authenticate with a secret get a 256-bit one; `private_key_jwt` clients get none (their keys
 * are their credentials); every client gets a registration access token for RFC 7592 management.
 */
import { audit } from '../../shared/audit.js';
import { type HttpRequest, PlainResponse } from '../../shared/http-message.js';
import { randomToken, sha256 } from '../../shared/crypto.js';
import { json, mediaType, readText } from '../../shared/http.js';
import { clientInformation } from '../clients/client-information.js';
import {
  JWT_BEARER,
  validateClientMetadata,
  type ClientMetadata,
  type GrantType,
} from '../clients/client-metadata.js';
import { ClientExistsError, type StoredClient } from '../stores/client-store.js';
import { bearerToken } from '../clients/credentials.js';
import type { OAuthDeps } from '../deps.js';
import {
  AccessDeniedError,
  InvalidClientMetadataError,
  InvalidTokenError,
  MissingTokenError,
  NO_STORE,
  UnsupportedMediaTypeError,
} from '../errors.js';

/** Client metadata is small; a generous cap still stops abuse long before the general body cap. */
export const MAX_REGISTRATION_BYTES = 16 * 1024;

/**
 * The body parsed as JSON; an oversized body becomes a 413 in the app's error handling.
 *
 * Only `application/json` (with any parameters, such as `charset`) is read. A browser sends
 * `text/plain`, `application/x-www-form-urlencoded` and `multipart/form-data` cross-site without a
 * CORS preflight, so accepting them would let any web page register or update clients from a
 * visitor's browser; `application/json` needs a preflight. Checked before the body is read.
 */
export async function readJsonObject(request: HttpRequest, limit: number): Promise<unknown> {
  requireJson(request);
  const text = await readText(request, limit);
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidClientMetadataError('the body is not valid JSON');
  }
}

/** Refuses a request whose body is not declared as `application/json` (RFC 7591 §3.1). */
export function requireJson(request: HttpRequest): void {
  if (mediaType(request) !== 'application/json') {
    throw new UnsupportedMediaTypeError('the request body must be sent as "Content-Type: application/json"');
  }
}

/**
 * The grants that get a token with no login or consent page at this server: `client_credentials`
 * (the client for itself) and the jwt-bearer grant (a user, as the company's identity provider
 * vouches in an ID-JAG). Clients registered for one follow `registrationPolicy`.
 */
const UNATTENDED_GRANTS: readonly GrantType[] = ['client_credentials', JWT_BEARER];

/**
 * Whether a client is a machine client: registered for a grant that gets tool access with no
 * consent page ({@link UNATTENDED_GRANTS}). Those follow `registrationPolicy`; clients that only
 * log users in follow `interactiveRegistrationPolicy`, since a user must still log in and consent.
 */
export function isMachineClient(metadata: ClientMetadata): boolean {
  return metadata.grant_types.some((g) => UNATTENDED_GRANTS.includes(g));
}

/** Whether the client authenticates with a secret this server issues (`client_secret_basic`, `_post`). */
export function usesSecret(metadata: ClientMetadata): boolean {
  return metadata.token_endpoint_auth_method.startsWith('client_secret_');
}

async function checkRegistrationPolicy(
  request: HttpRequest,
  metadata: ClientMetadata,
  deps: OAuthDeps,
): Promise<void> {
  // A client with both kinds of grant must pass both policies.
  const policies = [
    ...(isMachineClient(metadata) ? [deps.config.registrationPolicy] : []),
    ...(metadata.grant_types.some((g) => !UNATTENDED_GRANTS.includes(g))
      ? [deps.config.interactiveRegistrationPolicy]
      : []),
  ];
  const policy = policies.includes('closed') ? 'closed' : policies.includes('token') ? 'token' : 'open';
  if (policy === 'open') return;
  if (policy === 'closed')
    throw new AccessDeniedError('dynamic client registration is disabled on this server');
  const token = bearerToken(request);
  if (token === undefined) throw new MissingTokenError('an initial access token is required', 'register');
  if (token === null || !deps.initialAccessTokens || !(await deps.initialAccessTokens.verify(token))) {
    throw new InvalidTokenError('the initial access token is not valid', 'register');
  }
}

export async function registerClient(request: HttpRequest, deps: OAuthDeps): Promise<PlainResponse> {
  requireJson(request);
  const body = await readJsonObject(request, MAX_REGISTRATION_BYTES);
  const metadata = validateClientMetadata(body, deps.config.scopesSupported, {
    allowHttpLoopback: deps.clientResolver.allowsHttpLoopback,
  });
  await checkRegistrationPolicy(request, metadata, deps);
  const clientSecret = usesSecret(metadata) ? randomToken() : undefined;
  const registrationAccessToken = randomToken();
  const now = Math.floor((deps.now?.() ?? Date.now()) / 1000);

  let client: StoredClient | undefined;
  for (let attempt = 0; !client; attempt++) {
    const candidate: StoredClient = {
      clientId: randomToken(16),
      metadata,
      ...(clientSecret ? { secretHash: sha256(clientSecret) } : {}),
      registrationTokenHash: sha256(registrationAccessToken),
      issuedAt: now,
      updatedAt: now,
      // Open registration invites spam: an interactive client must complete a login in time.
      ...(isMachineClient(metadata) ? {} : { expiresAt: now + deps.config.clientLoginDeadlineSeconds }),
    };
    try {
      await deps.clients.create(candidate);
      client = candidate;
    } catch (error) {
      // A 128-bit id collision is practically impossible; retry once rather than fail.
      if (!(error instanceof ClientExistsError) || attempt > 0) throw error;
    }
  }
  deps.metrics?.count('ClientsRegistered');
  audit(deps.logger, 'client', { action: 'registered', clientId: client.clientId });
  deps.logger.info('client registered', {
    clientId: client.clientId,
    authMethod: metadata.token_endpoint_auth_method,
    grantTypes: metadata.grant_types,
  });
  return json(
    201,
    clientInformation(client, deps.config, {
      ...(clientSecret ? { clientSecret } : {}),
      registrationAccessToken,
    }),
    NO_STORE,
  );
}
