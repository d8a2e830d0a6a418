/**
 * Client configuration endpoint (RFC 7592): read, update and delete a registration, authorized
 * by that client's registration access token only.
 */
import { audit } from '../../shared/audit.js';
import { type HttpRequest, PlainResponse } from '../../shared/http-message.js';
import { matchesHash } from '../../shared/crypto.js';
import { json } from '../../shared/http.js';
import { clientInformation } from '../clients/client-information.js';
import { validateClientMetadata } from '../clients/client-metadata.js';
import type { StoredClient } from '../stores/client-store.js';
import { bearerToken } from '../clients/credentials.js';
import type { OAuthDeps } from '../deps.js';
import { InvalidClientMetadataError, InvalidTokenError, MissingTokenError, NO_STORE } from '../errors.js';
import {
  isMachineClient,
  MAX_REGISTRATION_BYTES,
  readJsonObject,
  requireJson,
  usesSecret,
} from './register.js';
import { revokeClientTokens } from '../stores/revocations.js';

const REALM = 'clients';

/**
 * The client the request may manage. An unknown client and a wrong token look the same
 * (RFC 7592 §2.1), so the endpoint does not reveal which client ids exist.
 */
async function authorizedClient(
  request: HttpRequest,
  clientId: string,
  deps: OAuthDeps,
): Promise<StoredClient> {
  const token = bearerToken(request);
  if (token === undefined) throw new MissingTokenError('a registration access token is required', REALM);
  const client = token === null ? undefined : await deps.clients.get(clientId);
  if (!client || !matchesHash(token!, client.registrationTokenHash)) {
    throw new InvalidTokenError('the registration access token is not valid for this client', REALM);
  }
  return client;
}

/** Fields the server owns; clients echoing them back from a GET are tolerated (RFC 7592 §2.2). */
const SERVER_FIELDS = [
  'registration_access_token',
  'registration_client_uri',
  'client_id_issued_at',
  'client_secret_expires_at',
];

export async function readClient(
  request: HttpRequest,
  clientId: string,
  deps: OAuthDeps,
): Promise<PlainResponse> {
  const client = await authorizedClient(request, clientId, deps);
  return json(200, clientInformation(client, deps.config), NO_STORE);
}

export async function updateClient(
  request: HttpRequest,
  clientId: string,
  deps: OAuthDeps,
): Promise<PlainResponse> {
  requireJson(request);
  const client = await authorizedClient(request, clientId, deps);
  const body = await readJsonObject(request, MAX_REGISTRATION_BYTES);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidClientMetadataError('the body must be a JSON object');
  }
  const fields = { ...(body as Record<string, unknown>) };
  if (fields.client_id !== clientId) {
    throw new InvalidClientMetadataError('"client_id" must be present and equal the client being updated');
  }
  if (fields.client_secret !== undefined) {
    if (typeof fields.client_secret !== 'string' || !matchesHash(fields.client_secret, client.secretHash)) {
      throw new InvalidClientMetadataError('"client_secret" does not match the issued secret');
    }
  }
  for (const name of ['client_id', 'client_secret', ...SERVER_FIELDS]) delete fields[name];

  const metadata = validateClientMetadata(fields, deps.config.scopesSupported, {
    allowHttpLoopback: deps.clientResolver.allowsHttpLoopback,
  });
  // The credential kind is fixed at registration: a secret issued then, keys, or nothing.
  const credential = (m: typeof metadata) =>
    m.token_endpoint_auth_method === 'none' ? 'none' : usesSecret(m) ? 'secret' : 'keys';
  if (credential(client.metadata) !== credential(metadata)) {
    throw new InvalidClientMetadataError(
      '"token_endpoint_auth_method" cannot change between public, secret and key authentication; register a new client',
    );
  }
  const usesLogin = (m: typeof metadata) => m.grant_types.includes('authorization_code');
  if (
    isMachineClient(client.metadata) !== isMachineClient(metadata) ||
    usesLogin(client.metadata) !== usesLogin(metadata)
  ) {
    throw new InvalidClientMetadataError(
      '"grant_types" cannot add or remove "client_credentials", the jwt-bearer grant or "authorization_code", which follow their own registration policies; register a new client',
    );
  }
  const now = Math.floor((deps.now?.() ?? Date.now()) / 1000);
  if (!(await deps.clients.updateMetadata(clientId, metadata, now))) {
    throw new InvalidTokenError('the registration access token is not valid for this client', REALM);
  }
  deps.logger.info('client updated', { clientId });
  audit(deps.logger, 'client', { action: 'updated', clientId });
  return json(200, clientInformation({ ...client, metadata, updatedAt: now }, deps.config), NO_STORE);
}

export async function deleteClient(
  request: HttpRequest,
  clientId: string,
  deps: OAuthDeps,
): Promise<PlainResponse> {
  await authorizedClient(request, clientId, deps);
  // The list entry first: a client that is gone must not leave working tokens behind.
  await revokeClientTokens(deps, clientId);
  await deps.clients.delete(clientId);
  deps.logger.info('client deleted', { clientId });
  audit(deps.logger, 'revoke', { target: 'client', by: 'client', clientId });
  audit(deps.logger, 'client', { action: 'deleted', clientId });
  return new PlainResponse(null, { status: 204, headers: NO_STORE });
}
