/**
 * The public keys of a `private_key_jwt` client (RFC 7523 §2.2, RFC 7591 §2 `jwks`/`jwks_uri`):
 * inline in its metadata, or fetched from its `jwks_uri` under the same guards as a client ID
 * metadata document (`metadata-document-fetch.ts`: public addresses only, pinned connection, no
 * redirects, size cap, deadline) and kept in memory for as long as the response's cache headers
 * allow (a minute to a day).
 */
import { RSA_EC_SIGNATURE_ALGORITHMS } from '../../shared/jws-algorithms.js';
import type { JSONWebKeySet } from 'jose';
import type { ClientMetadata } from './client-metadata.js';
import { quote } from '../excerpt.js';
import { STALE_IF_ERROR_SECONDS } from '../stores/metadata-document-cache.js';
import {
  fetchMetadataDocument,
  MetadataDocumentError,
  parseDocumentUrl,
  type FetchOptions,
} from './metadata-document-fetch.js';

/** Asymmetric algorithms only: a shared-key (`HS*`) assertion would need a secret, and `none` proves nothing. */
export const CLIENT_ASSERTION_ALGORITHMS = [...RSA_EC_SIGNATURE_ALGORITHMS, 'EdDSA'] as const;

export type PublicJwks = JSONWebKeySet;

export const MAX_CLIENT_KEYS = 10;
/** A key set of ten RSA-4096 keys fits; anything larger is not a client's key set. */
export const MAX_JWKS_BYTES = 16 * 1024;
const KEY_TYPES = ['RSA', 'EC', 'OKP'];
/** The public members each key type needs (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2); `crv` is checked by `jose`. */
const REQUIRED_MEMBERS: Record<string, string[]> = { RSA: ['n', 'e'], EC: ['x', 'y'], OKP: ['x'] };
const BASE64URL = /^[A-Za-z0-9_-]{1,2048}$/;
/** Members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** A refetch for a `kid` the cached set lacks happens at most this often per URL (key rotation). */
const KID_MISS_REFETCH_MS = 60_000;
const MAX_CACHED_SETS = 1000;

/** What is wrong with a JWK Set that should hold a client's public signing keys, or undefined. */
export function publicJwksProblem(jwks: unknown): string | undefined {
  if (typeof jwks !== 'object' || jwks === null || Array.isArray(jwks)) return 'must be a JSON object';
  const { keys } = jwks as { keys?: unknown };
  if (!Array.isArray(keys) || keys.length === 0) return 'must have a non-empty "keys" array';
  if (keys.length > MAX_CLIENT_KEYS) return `has more than ${MAX_CLIENT_KEYS} keys`;
  for (const [i, key] of keys.entries()) {
    const at = `key ${i}`;
    if (typeof key !== 'object' || key === null || Array.isArray(key)) return `${at} is not a JSON object`;
    const k = key as Record<string, unknown>;
    if (typeof k.kty !== 'string' || !KEY_TYPES.includes(k.kty))
      return `${at} has "kty" ${quote(String(k.kty))}; only RSA, EC and OKP public keys are accepted`;
    const missing = REQUIRED_MEMBERS[k.kty]!.find((m) => typeof k[m] !== 'string' || !BASE64URL.test(k[m]));
    if (missing) return `${at} lacks a valid "${missing}"`;
    const secret = PRIVATE_MEMBERS.find((m) => m in k);
    if (secret) return `${at} holds private key material ("${secret}"); publish public keys only`;
    if (k.use !== undefined && k.use !== 'sig') return `${at} has "use" ${quote(String(k.use))}, not "sig"`;
    if (k.alg !== undefined && !(CLIENT_ASSERTION_ALGORITHMS as readonly unknown[]).includes(k.alg))
      return `${at} has the unsupported "alg" ${quote(String(k.alg))}`;
    if (k.kid !== undefined && (typeof k.kid !== 'string' || k.kid.length > 200))
      return `${at} has a "kid" that is not a string of at most 200 characters`;
  }
  if (JSON.stringify(jwks).length > MAX_JWKS_BYTES) return `is larger than ${MAX_JWKS_BYTES} bytes`;
  return undefined;
}

/** Thrown when a client's keys cannot be had; the message says why and may be shown to the client. */
export class ClientKeysError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClientKeysError';
  }
}

export interface ClientKeysOptions {
  /** The guards of metadata document fetches (tests inject a resolver, a CA, the loopback allowance). */
  fetch?: FetchOptions;
  now?: () => number;
}

interface CachedSet {
  jwks: PublicJwks;
  fetchedAtMs: number;
  freshUntilMs: number;
}

export class ClientKeys {
  /** Fetched sets by URL, oldest first; bounded so that many URLs cannot grow it. */
  private readonly sets = new Map<string, CachedSet>();

  constructor(private readonly options: ClientKeysOptions = {}) {}

  get size(): number {
    return this.sets.size;
  }

  /**
   * The client's key set. `missingKid` asks again for a fetched set that lacked the assertion's
   * `kid` (the client rotated its keys): refetched if the copy is older than a minute.
   */
  async keySet(metadata: ClientMetadata, missingKid = false): Promise<PublicJwks> {
    if (metadata.jwks) return metadata.jwks;
    if (!metadata.jwks_uri) throw new ClientKeysError('the client has neither "jwks" nor "jwks_uri"');
    const nowMs = this.options.now?.() ?? Date.now();
    const cached = this.sets.get(metadata.jwks_uri);
    if (
      cached &&
      cached.freshUntilMs > nowMs &&
      !(missingKid && nowMs - cached.fetchedAtMs >= KID_MISS_REFETCH_MS)
    )
      return cached.jwks;
    return this.fetch(metadata.jwks_uri);
  }

  /** Whether a set is from a URL and may be refetched for a missing `kid` now. */
  canRefetch(metadata: ClientMetadata): boolean {
    if (!metadata.jwks_uri) return false;
    const cached = this.sets.get(metadata.jwks_uri);
    const nowMs = this.options.now?.() ?? Date.now();
    return !cached || nowMs - cached.fetchedAtMs >= KID_MISS_REFETCH_MS;
  }

  private async fetch(jwksUri: string): Promise<PublicJwks> {
    const fetchOptions = this.options.fetch ?? {};
    let fetched;
    try {
      const url = parseDocumentUrl(jwksUri, fetchOptions.allowHttpLoopback);
      fetched = await fetchMetadataDocument(url, { ...fetchOptions, maxBytes: MAX_JWKS_BYTES });
    } catch (error) {
      if (!(error instanceof MetadataDocumentError)) throw error;
      // Stale-if-error, as for metadata documents: while the client's key host cannot be reached,
      // the last set this environment fetched (at most a week old) still verifies its assertions.
      const stale = this.sets.get(jwksUri);
      const nowMs = this.options.now?.() ?? Date.now();
      if (
        stale &&
        (error.code === 'ERR_CIMD_FETCH' || error.code === 'ERR_CIMD_TIMEOUT') &&
        nowMs - stale.fetchedAtMs < STALE_IF_ERROR_SECONDS * 1000
      )
        return stale.jwks;
      const why =
        error.code === 'ERR_CIMD_URL' ? 'it is not a URL this server fetches keys from' : error.message;
      throw new ClientKeysError(`the client's "jwks_uri" could not be used: ${why}`, { cause: error });
    }
    const problem = publicJwksProblem(fetched.document);
    if (problem) throw new ClientKeysError(`the key set at the client's "jwks_uri" ${problem}`);
    const nowMs = this.options.now?.() ?? Date.now();
    const jwks = fetched.document as PublicJwks;
    this.sets.delete(jwksUri);
    this.sets.set(jwksUri, { jwks, fetchedAtMs: nowMs, freshUntilMs: nowMs + fetched.maxAgeSeconds * 1000 });
    if (this.sets.size > MAX_CACHED_SETS) this.sets.delete(this.sets.keys().next().value!);
    return jwks;
  }
}
