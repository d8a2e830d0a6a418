/**
 * The public keys of one trusted issuer, as a key resolver for `jose`'s `jwtVerify`. OpenID
 * discovery (`<issuer>/.well-known/openid-configuration` → `jwks_uri`, OpenID Connect Discovery
 * §4) is one small fetch on first use; the JWKS is `jose`'s `createRemoteJWKSet`, which caches
 * it for `maxAgeMs` and fetches it again for an unknown `kid` at most once per
 * `minRefreshIntervalMs`.
 *
 * While the issuer is down, both go through one `ReadBackoff`: at most one request per retry
 * interval pays a fetch (and its timeout); the others are answered at once, from the last good
 * JWKS while it is at most `maxStaleMs` past its age, else with `TrustedIssuerUnavailableError`
 * (a 503, not a bad token).
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
} from 'jose';
import { ReadBackoff } from '../../shared/read-backoff.js';
import { InvalidTokenError } from './jwt.js';
import { TrustedIssuerUnavailableError } from './trusted-issuers.js';

export interface RemoteJwksOptions {
  fetch?: typeof fetch;
  /** How long a fetched JWKS is used before it is fetched again (jose's `cacheMaxAge`). */
  maxAgeMs?: number;
  /** Least time after a JWKS fetch before an unknown `kid` fetches again (jose's `cooldownDuration`). */
  minRefreshIntervalMs?: number;
  /** How long past `maxAgeMs` the last good JWKS still verifies while the issuer cannot be reached. */
  maxStaleMs?: number;
  /** Per-request timeout for discovery and JWKS fetches. */
  timeoutMs?: number;
  /** Wait after a failed fetch before the next one (doubling while failures repeat). */
  retryIntervalMs?: number;
  /** The JWKS URL, for an issuer without an OpenID discovery document; then discovery is skipped. */
  jwksUri?: string;
  now?: () => number;
}

type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;
type RemoteSet = ReturnType<typeof createRemoteJWKSet>;

const MAX_DOCUMENT_BYTES = 64 * 1024;

function unavailable(issuer: string, error: unknown): TrustedIssuerUnavailableError {
  return error instanceof TrustedIssuerUnavailableError
    ? error
    : new TrustedIssuerUnavailableError(`the keys of ${issuer} could not be fetched`, { cause: error });
}

/**
 * Errors of a key lookup in a JWKS that was read: no key fits the token's `kid` and `alg`, more
 * than one does, or the one that does cannot be imported (WebCrypto's `DOMException`). The token
 * cannot be verified with this issuer's keys; the issuer itself answered.
 */
function isKeyMismatch(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported ||
    error instanceof DOMException
  );
}

/** Whether `text` is a JWK Set as jose takes one: an object whose `keys` are objects (RFC 7517 §5). */
function isJwkSet(text: string): boolean {
  try {
    const value = JSON.parse(text) as { keys?: unknown };
    return (
      typeof value === 'object' &&
      value !== null &&
      Array.isArray(value.keys) &&
      value.keys.every((key) => typeof key === 'object' && key !== null && !Array.isArray(key))
    );
  } catch {
    return false;
  }
}

export class RemoteJwks {
  private remote: RemoteSet | undefined;
  private discovering: Promise<RemoteSet> | undefined;
  /** When a JWK Set was last fetched, and the resolver over jose's copy of it for an outage. */
  private fetchedAt = -Infinity;
  private stale: KeyResolver | undefined;
  private readonly fetch: typeof fetch;
  private readonly maxAgeMs: number;
  private readonly minRefreshIntervalMs: number;
  private readonly maxStaleMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly backoff: ReadBackoff;
  private readonly jwksUri: string | undefined;

  constructor(
    readonly issuer: string,
    options: RemoteJwksOptions = {},
  ) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.maxAgeMs = options.maxAgeMs ?? 60 * 60_000;
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? 60_000;
    this.maxStaleMs = options.maxStaleMs ?? 60 * 60_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.now = options.now ?? Date.now;
    this.jwksUri = options.jwksUri;
    this.backoff = new ReadBackoff({
      now: this.now,
      ...(options.retryIntervalMs !== undefined && { initialMs: options.retryIntervalMs }),
    });
  }

  /** The key for the token's header, for `jwtVerify`. */
  readonly resolve: KeyResolver = async (header, token) => {
    const remote = await this.remoteSet();
    try {
      return await remote(header, token);
    } catch (error) {
      if (isKeyMismatch(error))
        throw new InvalidTokenError('signature verification failed', { cause: error });
      const failure = unavailable(this.issuer, error);
      const stale = this.staleSet(remote);
      if (!stale) throw failure;
      try {
        return await stale(header, token);
      } catch (staleError) {
        // A kid the last good set does not have may be one published since: unknown, not invalid.
        throw isKeyMismatch(staleError) ? failure : staleError;
      }
    }
  };

  /** A resolver over the last good JWKS while it is not too stale. */
  private staleSet(remote: RemoteSet): KeyResolver | undefined {
    if (this.now() - this.fetchedAt >= this.maxAgeMs + this.maxStaleMs) return undefined;
    const jwks = remote.jwks();
    if (!jwks) return undefined;
    this.stale ??= createLocalJWKSet(jwks);
    return this.stale;
  }

  /**
   * jose's fetch of the JWKS, through the backoff. jose shares one fetch between concurrent
   * callers, so each fetch is counted once; one that does not bring a JWK Set is a failure.
   */
  private readonly gatedFetch = async (url: string, init: RequestInit): Promise<Response> => {
    const waiting = this.backoff.waiting();
    if (waiting) throw unavailable(this.issuer, waiting.error);
    try {
      const response = await this.fetch(url, init);
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      const text = await response.text();
      if (text.length > MAX_DOCUMENT_BYTES || !isJwkSet(text)) throw new Error('the answer is not a JWK Set');
      this.backoff.succeeded();
      this.fetchedAt = this.now();
      this.stale = undefined;
      return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
    } catch (error) {
      this.backoff.failed(error);
      throw new TrustedIssuerUnavailableError(`could not fetch ${url}`, { cause: error });
    }
  };

  /** The remote JWKS once discovery found it; one discovery at a time, through the backoff. */
  private remoteSet(): Promise<RemoteSet> {
    if (this.remote) return Promise.resolve(this.remote);
    if (!this.discovering) {
      const waiting = this.backoff.waiting();
      if (waiting) return Promise.reject(unavailable(this.issuer, waiting.error));
      this.discovering = this.discover()
        .then((jwksUri) => {
          this.backoff.succeeded();
          this.remote = createRemoteJWKSet(jwksUri, {
            timeoutDuration: this.timeoutMs,
            cooldownDuration: this.minRefreshIntervalMs,
            cacheMaxAge: this.maxAgeMs,
            [customFetch]: this.gatedFetch,
          });
          return this.remote;
        })
        .catch((error: unknown) => {
          this.backoff.failed(error);
          throw unavailable(this.issuer, error);
        })
        .finally(() => {
          this.discovering = undefined;
        });
    }
    return this.discovering;
  }

  private async discover(): Promise<URL> {
    if (this.jwksUri !== undefined) return new URL(this.jwksUri);
    const url = `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const discovery = await this.getJson(url);
    if (discovery.issuer !== this.issuer) {
      throw new TrustedIssuerUnavailableError(
        `discovery document of ${this.issuer} names issuer "${String(discovery.issuer)}"`,
      );
    }
    // http only for an issuer that is itself http on a loopback host (the local stand-ins).
    const scheme = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])[:/]/.test(this.issuer)
      ? /^https?:\/\//
      : /^https:\/\//;
    if (typeof discovery.jwks_uri !== 'string' || !scheme.test(discovery.jwks_uri)) {
      throw new TrustedIssuerUnavailableError(`discovery document of ${this.issuer} has no https "jwks_uri"`);
    }
    return new URL(discovery.jwks_uri);
  }

  private async getJson(url: string): Promise<Record<string, unknown>> {
    let text: string;
    try {
      const response = await this.fetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      text = await response.text();
    } catch (error) {
      throw new TrustedIssuerUnavailableError(`could not fetch ${url}`, { cause: error });
    }
    if (text.length > MAX_DOCUMENT_BYTES) throw new TrustedIssuerUnavailableError(`${url} is too large`);
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // fall through
    }
    throw new TrustedIssuerUnavailableError(`${url} is not a JSON object`);
  }
}
