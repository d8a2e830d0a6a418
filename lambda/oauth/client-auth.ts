/**
 * Client authentication at the token endpoint (RFC 6749 §2.3): HTTP Basic or credentials in the
 * body, each client held to the method it registered; public clients send only `client_id`.
 * A client ID metadata document client is public: its document says `none`.
 */
import { type HttpRequest } from '../shared/http-message.js';
import { matchesHash } from '../shared/crypto.js';
import type { ClientLookup } from './client-resolver.js';
import type { StoredClient } from './client-store.js';
import type { AuthMethod } from './client-metadata.js';
import { basicCredentials } from './credentials.js';
import { InvalidClientError, InvalidRequestError } from './errors.js';
import { MetadataDocumentError } from './metadata-document-fetch.js';

export async function authenticateClient(
  request: HttpRequest,
  params: URLSearchParams,
  clients: ClientLookup,
): Promise<StoredClient> {
  const basic = basicCredentials(request);
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');

  let method: AuthMethod;
  let clientId: string;
  let secret: string | undefined;
  if (basic) {
    if (bodySecret !== null) throw new InvalidRequestError('use only one client authentication method');
    if (bodyId !== null && bodyId !== basic.clientId) {
      throw new InvalidRequestError('"client_id" does not match the Basic credentials');
    }
    [method, clientId, secret] = ['client_secret_basic', basic.clientId, basic.clientSecret];
  } else if (bodySecret !== null) {
    if (!bodyId) throw new InvalidRequestError('"client_secret" was sent without "client_id"');
    [method, clientId, secret] = ['client_secret_post', bodyId, bodySecret];
  } else if (bodyId) {
    [method, clientId] = ['none', bodyId];
  } else {
    throw new InvalidClientError('client authentication is required');
  }

  const usedBasic = method === 'client_secret_basic';
  const client = await findClient(clients, clientId, usedBasic);
  if (!client) throw new InvalidClientError('unknown client', usedBasic);
  const registered = client.metadata.token_endpoint_auth_method;
  if (registered !== method) {
    throw new InvalidClientError(`the client is registered to authenticate with "${registered}"`, usedBasic);
  }
  if (method !== 'none' && !matchesHash(secret!, client.secretHash)) {
    throw new InvalidClientError('client authentication failed', usedBasic);
  }
  return client;
}

/** A client whose metadata document cannot be used fails authentication, saying why. */
async function findClient(
  clients: ClientLookup,
  clientId: string,
  usedBasic: boolean,
): Promise<StoredClient | undefined> {
  try {
    return await clients.get(clientId);
  } catch (error) {
    if (!(error instanceof MetadataDocumentError)) throw error;
    throw new InvalidClientError(`the client's metadata document was refused: ${error.message}`, usedBasic);
  }
}
