/**
 * The one place the endpoints get "the client" from. A `client_id` that is an https URL names a
 * client ID metadata document (draft-ietf-oauth-client-id-metadata-document): it is fetched
 * under the SSRF guards of `metadata-document-fetch.ts`, validated with the same schema as a
 * registration, cached, and returned in the shape of a registered client. Any other `client_id`
 * is looked up among registered clients.
 */
import type { ClientMetadata } from './client-metadata.js';
import { JWT_BEARER, validateClientMetadata } from './client-metadata.js';
import { isBlockedClient, type BlockedClients } from '../../shared/blocked-clients.js';
import { displayText } from '../login/display-text.js';
import type { ClientStore, StoredClient } from '../stores/client-store.js';
import { OAuthError } from '../errors.js';
import type { Logger } from '../../shared/logger.js';
import type { BusinessMetrics } from '../../shared/metrics.js';
import type { DocumentOverrides } from './document-overrides.js';
import type { CachedDocument, MetadataDocumentCache } from '../stores/metadata-document-cache.js';
import {
  fetchMetadataDocument,
  isMetadataDocumentUrl,
  MetadataDocumentError,
  parseDocumentUrl,
  type FetchOptions,
} from './metadata-document-fetch.js';
import { quote } from '../excerpt.js';

/** What the endpoints need to find a client. */
export interface ClientLookup {
  /**
   * The client, or undefined when there is none. Throws `MetadataDocumentError` when the
   * `client_id` names a metadata document that cannot be used.
   */
  get(clientId: string): Promise<StoredClient | undefined>;
}

export interface MetadataDocumentOptions {
  cache: MetadataDocumentCache;
  scopesSupported: readonly string[];
  /** Documents the operator has blocked (`blockedClientMetadataDocuments`): refused before any fetch. */
  blocked?: BlockedClients;
  /** Documents the operator supplies (`clientMetadataDocuments`): used for their URL, never fetched. */
  overrides?: DocumentOverrides;
  fetch?: FetchOptions;
  /** Counts fetch failures by host (`MetadataDocumentFetchFailures`). */
  metrics?: BusinessMetrics;
  /** Says when a document is answered from its last good copy because a refetch failed. */
  logger?: Logger;
  now?: () => number;
}

/**
 * Failures of the fetch itself, counted by host: the host answered something else than a
 * document (a 403 challenge page, an error, a redirect), or nothing in time. Except for an
 * address that is no longer allowed, the last good copy stands in for the document then.
 */
const FETCH_FAILURES = new Set([
  'ERR_CIMD_FETCH',
  'ERR_CIMD_TIMEOUT',
  'ERR_CIMD_TOO_LARGE',
  'ERR_CIMD_NOT_JSON',
]);
const COUNTED_FAILURES = new Set([...FETCH_FAILURES, 'ERR_CIMD_ADDRESS']);

/**
 * Hosts whose documents real clients use (doc/clients.md). The metric's `host` dimension names
 * these, hosts of documents the operator supplies, and hosts that served a good document before;
 * any other is counted as `other`, so that requests naming made-up hosts cannot create metrics.
 */
export const KNOWN_DOCUMENT_HOSTS = ['claude.ai', 'claude.com', 'chatgpt.com', 'vscode.dev', 'opencode.ai'];

/** The methods a document may declare: it carries no secret, so keys or nothing. */
const DOCUMENT_AUTH_METHODS = ['none', 'private_key_jwt'];

/**
 * The document's metadata, held to what a document may say: its `client_id` is its own URL, and
 * it carries no secret, so it authenticates with `none` or with its keys (`private_key_jwt` with
 * `jwks` or `jwks_uri`); anyone can publish a document, so it never gets `client_credentials`;
 * the rest is a registration's schema. Locally (`allowHttpLoopback`), its `jwks_uri` may be a
 * loopback `http` URL as its `client_id` may.
 */
export function validateMetadataDocument(
  url: string,
  document: unknown,
  scopesSupported: readonly string[],
  allowHttpLoopback = false,
): ClientMetadata {
  const invalid = (why: string) => new MetadataDocumentError('ERR_CIMD_INVALID', why);
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw invalid('the document is not a JSON object');
  const { client_id: clientId, ...fields } = document as Record<string, unknown>;
  if (clientId !== url) throw invalid('the document\'s "client_id" is not its own URL');
  for (const secret of ['client_secret', 'client_secret_expires_at'])
    if (secret in fields) throw invalid(`the document contains "${secret}"; a document carries no secret`);
  const method = fields.token_endpoint_auth_method ?? 'none';
  if (typeof method !== 'string' || !DOCUMENT_AUTH_METHODS.includes(method))
    throw invalid(
      `the document's "token_endpoint_auth_method" is ${quote(method)}; only "none" and "private_key_jwt" are supported`,
    );
  // Grants with no consent page before their tokens follow registrationPolicy, which a document
  // (anyone can publish one) would get round.
  for (const [grant, name] of [
    ['client_credentials', '"client_credentials"'],
    [JWT_BEARER, 'jwt-bearer'],
  ])
    if (Array.isArray(fields.grant_types) && fields.grant_types.includes(grant))
      throw invalid(`a document client cannot use the ${name} grant: anyone can publish one`);
  const { jwks_uri: jwksUri } = fields;
  if (jwksUri !== undefined) {
    try {
      if (typeof jwksUri !== 'string') throw new Error();
      parseDocumentUrl(jwksUri, allowHttpLoopback);
    } catch {
      throw invalid('the document\'s "jwks_uri" is not an https URL with a path in canonical form');
    }
  }
  // A document is written for many servers: scopes this one does not know are left out rather
  // than refused (the user still consents to the scopes actually requested), and a document
  // naming none of ours gets them all, as a registration without `scope` would.
  if (typeof fields.scope === 'string') {
    const known = fields.scope.split(' ').filter((s) => scopesSupported.includes(s));
    if (known.length) fields.scope = [...new Set(known)].join(' ');
    else delete fields.scope;
  }
  // The name loses its hidden characters (`display-text.ts`) rather than failing the document: a
  // registration's author reads the refusal and fixes it, but a document is published for many
  // servers, and a common emoji's variation selector or joiner is one of them; refusing would
  // lock every user of the app out of this server until its publisher noticed.
  if (typeof fields.client_name === 'string') fields.client_name = displayText(fields.client_name);
  try {
    return validateClientMetadata({ ...fields, token_endpoint_auth_method: method }, scopesSupported, {
      allowHttpLoopback,
    });
  } catch (error) {
    if (error instanceof OAuthError)
      throw invalid(`the document is not valid client metadata: ${error.message}`);
    throw error;
  }
}

const FAILURE_RETRY_MS = 60_000;
const MAX_REMEMBERED_FAILURES = 1000;

export class ClientResolver implements ClientLookup {
  constructor(
    private readonly clients: ClientStore,
    /** Without these, metadata documents are off and URL client ids are unknown clients. */
    private readonly documents?: MetadataDocumentOptions,
  ) {}

  /** Recent failures by URL, oldest first; bounded so that many bad URLs cannot grow it. */
  private readonly failures = new Map<string, { error: MetadataDocumentError; until: number }>();

  private rememberFailure(url: string, error: MetadataDocumentError, nowMs: number): void {
    this.failures.delete(url);
    this.failures.set(url, { error, until: nowMs + FAILURE_RETRY_MS });
    if (this.failures.size > MAX_REMEMBERED_FAILURES) {
      this.failures.delete(this.failures.keys().next().value!);
    }
  }

  /** How many failed document URLs are remembered now (at most {@link MAX_REMEMBERED_FAILURES}). */
  get failureCacheSize(): number {
    return this.failures.size;
  }

  /** Local mode only (`CIMD_ALLOW_HTTP_LOOPBACK=1`): loopback `http` documents and `jwks_uri`s are allowed. */
  get allowsHttpLoopback(): boolean {
    return this.documents?.fetch?.allowHttpLoopback ?? false;
  }

  get documentsEnabled(): boolean {
    return this.documents !== undefined;
  }

  async get(clientId: string): Promise<StoredClient | undefined> {
    const allowHttpLoopback = this.documents?.fetch?.allowHttpLoopback ?? false;
    if (!isMetadataDocumentUrl(clientId, allowHttpLoopback)) return this.clients.get(clientId);
    if (!this.documents) return undefined;
    const url = parseDocumentUrl(clientId, allowHttpLoopback);
    // Before the cache: a block takes effect for documents fetched before it, and costs no fetch.
    if (this.documents.blocked && isBlockedClient(url.href, this.documents.blocked)) {
      throw new MetadataDocumentError('ERR_CIMD_BLOCKED', "this server's operator has blocked this client");
    }
    const override = this.documents.overrides?.get(url.href);
    if (override) return documentClient(url, override, this.startedAt);
    const nowMs = this.documents.now?.() ?? Date.now();
    const cached = await this.documents.cache.get(clientId, nowMs);
    if (cached && cached.freshUntil > nowMs / 1000)
      return documentClient(url, cached.metadata, cached.fetchedAt);

    // A document that just failed is not fetched again for a minute: a slow or broken URL costs
    // one fetch (at most the 5 s timeout) per minute per environment, not one per request.
    const failed = this.failures.get(clientId);
    if (failed && failed.until > nowMs) return this.lastGoodCopy(url, cached, failed.error, false);
    let fetched;
    let metadata: ClientMetadata;
    try {
      fetched = await fetchMetadataDocument(url, this.documents.fetch);
      metadata = validateMetadataDocument(
        clientId,
        fetched.document,
        this.documents.scopesSupported,
        allowHttpLoopback,
      );
    } catch (error) {
      if (!(error instanceof MetadataDocumentError)) throw error;
      this.rememberFailure(clientId, error, nowMs);
      if (COUNTED_FAILURES.has(error.code)) {
        this.documents.logger?.warn('client metadata document not fetched', {
          clientId,
          code: error.code,
          reason: error.message,
          lastGoodCopyFetchedAt: cached?.fetchedAt,
        });
        const known =
          cached || KNOWN_DOCUMENT_HOSTS.includes(url.hostname) || this.overrideHosts.has(url.hostname);
        this.documents.metrics?.count('MetadataDocumentFetchFailures', known ? url.hostname : 'other');
      }
      return this.lastGoodCopy(url, cached, error);
    }
    const fetchedAt = Math.floor(nowMs / 1000);
    await this.documents.cache.put(clientId, {
      metadata,
      fetchedAt,
      freshUntil: fetchedAt + fetched.maxAgeSeconds,
    });
    return documentClient(url, metadata, fetchedAt);
  }

  /**
   * Stale-if-error: when the document cannot be fetched, the last good copy (at most
   * `STALE_IF_ERROR_SECONDS` old, which the cache enforces) stands in for it; with none, or when
   * the host now resolves to an address that is not allowed, the failure stands.
   */
  private lastGoodCopy(
    url: URL,
    cached: CachedDocument | undefined,
    error: MetadataDocumentError,
    /** Once per failed fetch, not on every request while the failure is remembered. */
    log = true,
  ): StoredClient {
    if (!cached || !FETCH_FAILURES.has(error.code)) throw error;
    if (log)
      this.documents?.logger?.warn('client metadata document answered from its last good copy', {
        clientId: url.href,
        fetchedAt: cached.fetchedAt,
        reason: error.message,
      });
    return documentClient(url, cached.metadata, cached.fetchedAt);
  }

  private get overrideHosts(): Set<string> {
    this.#overrideHosts ??= new Set(
      [...(this.documents?.overrides?.keys() ?? [])].map((u) => new URL(u).hostname),
    );
    return this.#overrideHosts;
  }
  #overrideHosts: Set<string> | undefined;
  /** What an operator-supplied document says it was "fetched" at: when this process started. */
  private readonly startedAt = Math.floor(Date.now() / 1000);
}

function documentClient(url: URL, metadata: ClientMetadata, fetchedAt: number): StoredClient {
  return {
    clientId: url.href,
    metadata,
    // Nothing to manage: RFC 7592 does not apply to a document the client hosts itself.
    registrationTokenHash: '',
    issuedAt: fetchedAt,
    updatedAt: fetchedAt,
    documentHost: url.host,
  };
}
