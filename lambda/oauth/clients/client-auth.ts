/**
 * Client authentication at the token and revocation endpoints (RFC 6749 §2.3): HTTP Basic,
 * credentials in the body, or a JWT client assertion (`private_key_jwt`, RFC 7523 §2.2, checked
 * by `clients/client-assertion.ts`), each client held to the method it registered; public
 * clients send only `client_id`. A client ID metadata document client uses the method its
 * document declares: `none` or `private_key_jwt`.
 */
import { type HttpRequest } from '../../shared/http-message.js';
import { matchesHash } from '../../shared/crypto.js';
import type { ClientLookup } from './client-resolver.js';
import type { StoredClient } from '../stores/client-store.js';
import type { AuthMethod } from './client-metadata.js';
import { basicCredentials } from './credentials.js';
import { InvalidClientError, InvalidRequestError } from '../errors.js';
import { MetadataDocumentError } from './metadata-document-fetch.js';
import {
  assertionClientId,
  CLIENT_ASSERTION_TYPE,
  type ClientAssertionVerifier,
} from './client-assertion.js';
import { quote } from '../excerpt.js';

export async function authenticateClient(
  request: HttpRequest,
  params: URLSearchParams,
  clients: ClientLookup,
  /** Without it, client assertions are refused. */
  assertions?: ClientAssertionVerifier,
): Promise<StoredClient> {
  const basic = basicCredentials(request);
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  if (params.has('client_assertion') || params.has('client_assertion_type')) {
    if (basic || bodySecret !== null)
      throw new InvalidRequestError('use only one client authentication method');
    return authenticateWithAssertion(params, clients, assertions);
  }

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

/** RFC 7521 §4.2: the client is the assertion's issuer; `client_id`, if sent, must be that client. */
async function authenticateWithAssertion(
  params: URLSearchParams,
  clients: ClientLookup,
  assertions: ClientAssertionVerifier | undefined,
): Promise<StoredClient> {
  const type = params.get('client_assertion_type');
  const assertion = params.get('client_assertion');
  if (type === null)
    throw new InvalidRequestError('"client_assertion" was sent without "client_assertion_type"');
  if (!assertion)
    throw new InvalidRequestError('"client_assertion_type" was sent without "client_assertion"');
  if (type !== CLIENT_ASSERTION_TYPE)
    throw new InvalidClientError(`the client assertion type ${quote(type)} is not supported`);
  if (!assertions) throw new InvalidClientError('this server does not accept client assertions');
  const clientId = params.get('client_id') ?? assertionClientId(assertion);
  const client = await findClient(clients, clientId, false);
  if (!client) throw new InvalidClientError('unknown client');
  const registered = client.metadata.token_endpoint_auth_method;
  if (registered !== 'private_key_jwt')
    throw new InvalidClientError(`the client is registered to authenticate with "${registered}"`);
  await assertions.verify(assertion, client);
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
