/**
 * External OpenID issuers whose access tokens this resource also accepts (off unless
 * configured), for agents that already hold, for example, Cognito client-credentials tokens.
 * Keys come from OIDC discovery (`<issuer>/.well-known/openid-configuration` → `jwks_uri`),
 * fetched on first use and cached; an unknown `kid` refreshes at most once per interval.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ConfigError } from '../shared/config.js';
import { ReadBackoff } from '../shared/read-backoff.js';

export interface TrustedIssuer {
  /** The `iss` value, exactly as the issuer writes it (Cognito: `https://cognito-idp.<region>.amazonaws.com/<pool id>`). */
  issuer: string;
  /** Accepted `aud` values when the token has one; defaults to this resource (`<issuer>/mcp`). */
  audiences?: string[];
  /**
   * For access tokens without `aud` (Cognito's carry `token_use: "access"` and `client_id`
   * instead): the clients whose tokens are accepted. Without it, tokens without `aud` are refused.
   */
  clientIds?: string[];
  /** Scopes every token from this issuer must carry. */
  requiredScopes?: string[];
  /** Signature algorithms accepted from this issuer; defaults to RS256. */
  algorithms?: string[];
  /**
   * The longest lifetime (`exp - iat`) of this issuer's access tokens; a token claiming more is
   * refused. Defaults to a day, the most Cognito, Entra ID and Okta issue; raise it for an
   * issuer configured for longer (Auth0 allows 30 days).
   */
  maxTokenLifetimeSeconds?: number;
}

/** {@link TrustedIssuer.maxTokenLifetimeSeconds} when it is not set: one day. */
export const DEFAULT_TRUSTED_ISSUER_MAX_LIFETIME_SECONDS = 86_400;
/** The most {@link TrustedIssuer.maxTokenLifetimeSeconds} may be: 30 days. */
const MAX_TRUSTED_ISSUER_LIFETIME_SECONDS = 30 * 86_400;

/** Thrown when an issuer's discovery document or JWKS cannot be fetched: a 503, not a bad token. */
export class TrustedIssuerUnavailableError extends Error {
  readonly code = 'ERR_TRUSTED_ISSUER_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrustedIssuerUnavailableError';
  }
}

function unavailable(issuer: string, error: unknown): TrustedIssuerUnavailableError {
  return error instanceof TrustedIssuerUnavailableError
    ? error
    : new TrustedIssuerUnavailableError(`the keys of ${issuer} could not be fetched`, { cause: error });
}

function stringList(value: unknown, field: string, index: number): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw new ConfigError(`TRUSTED_ISSUERS[${index}].${field} must be an array of non-empty strings`);
  }
  return value as string[];
}

/** Parses the `TRUSTED_ISSUERS` setting: a JSON array of {@link TrustedIssuer}. Empty → none. */
export function parseTrustedIssuers(raw: string | undefined): TrustedIssuer[] {
  if (!raw || raw.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError('TRUSTED_ISSUERS must be a JSON array');
  }
  if (!Array.isArray(value)) throw new ConfigError('TRUSTED_ISSUERS must be a JSON array');
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null)
      throw new ConfigError(`TRUSTED_ISSUERS[${i}] must be an object`);
    const e = entry as Record<string, unknown>;
    if (typeof e.issuer !== 'string' || !/^https:\/\/[^\s]+$/.test(e.issuer)) {
      throw new ConfigError(`TRUSTED_ISSUERS[${i}].issuer must be an https URL`);
    }
    const issuer: TrustedIssuer = { issuer: e.issuer };
    const audiences = stringList(e.audiences, 'audiences', i);
    const clientIds = stringList(e.clientIds, 'clientIds', i);
    const requiredScopes = stringList(e.requiredScopes, 'requiredScopes', i);
    const algorithms = stringList(e.algorithms, 'algorithms', i);
    if (audiences) issuer.audiences = audiences;
    if (clientIds) issuer.clientIds = clientIds;
    if (requiredScopes) issuer.requiredScopes = requiredScopes;
    if (algorithms) issuer.algorithms = algorithms;
    const lifetime = e.maxTokenLifetimeSeconds;
    if (lifetime !== undefined) {
      if (
        typeof lifetime !== 'number' ||
        !Number.isInteger(lifetime) ||
        lifetime < 60 ||
        lifetime > MAX_TRUSTED_ISSUER_LIFETIME_SECONDS
      ) {
        throw new ConfigError(
          `TRUSTED_ISSUERS[${i}].maxTokenLifetimeSeconds must be an integer from 60 to ${MAX_TRUSTED_ISSUER_LIFETIME_SECONDS}`,
        );
      }
      issuer.maxTokenLifetimeSeconds = lifetime;
    }
    return issuer;
  });
}

export interface RemoteJwksOptions {
  fetch?: typeof fetch;
  /** How long fetched keys are used before they are fetched again. */
  maxAgeMs?: number;
  /** Least time between two refreshes caused by an unknown `kid`. */
  minRefreshIntervalMs?: number;
  /** Per-request timeout for discovery and JWKS fetches. */
  timeoutMs?: number;
  /** Wait after a failed fetch before the next one (doubling while failures repeat). */
  retryIntervalMs?: number;
  now?: () => number;
}

const MAX_DOCUMENT_BYTES = 64 * 1024;

/** The public keys of one external issuer, found by OIDC discovery and cached. */
export class RemoteJwks {
  private keys: Map<string, KeyObject> | undefined;
  private loadedAt = -Infinity;
  private lastKidRefresh = -Infinity;
  private inFlight: Promise<Map<string, KeyObject>> | undefined;
  private readonly fetch: typeof fetch;
  private readonly maxAgeMs: number;
  private readonly minRefreshIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly backoff: ReadBackoff;

  constructor(
    readonly issuer: string,
    options: RemoteJwksOptions = {},
  ) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.maxAgeMs = options.maxAgeMs ?? 60 * 60_000;
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.now = options.now ?? Date.now;
    this.backoff = new ReadBackoff({
      now: this.now,
      ...(options.retryIntervalMs !== undefined && { initialMs: options.retryIntervalMs }),
    });
  }

  /** The key for `kid`, or undefined when the issuer does not publish it. */
  async key(kid: string): Promise<KeyObject | undefined> {
    const keys = await this.currentKeys();
    const known = keys.get(kid);
    if (known || this.now() - this.lastKidRefresh < this.minRefreshIntervalMs) return known;
    const waiting = this.backoff.waiting();
    if (waiting) throw unavailable(this.issuer, waiting.error);
    this.lastKidRefresh = this.now();
    return (await this.reload()).get(kid);
  }

  /**
   * The keys within their age, else fetched again. After a failed fetch, one caller per interval
   * fetches; the others are answered at once, with the last good keys when there are some.
   */
  private async currentKeys(): Promise<Map<string, KeyObject>> {
    const keys = this.keys;
    if (keys && this.now() - this.loadedAt < this.maxAgeMs) return keys;
    if (keys && this.inFlight) return keys;
    const waiting = this.inFlight ? undefined : this.backoff.waiting();
    if (waiting) {
      if (keys) return keys;
      throw unavailable(this.issuer, waiting.error);
    }
    try {
      return await this.reload();
    } catch (error) {
      // Keep using the last good keys when the issuer is briefly unreachable.
      if (keys) return keys;
      throw error;
    }
  }

  private reload(): Promise<Map<string, KeyObject>> {
    this.inFlight ??= this.load()
      .then((keys) => {
        this.keys = keys;
        this.loadedAt = this.now();
        this.backoff.succeeded();
        return keys;
      })
      .catch((error: unknown) => {
        this.backoff.failed(error);
        throw error;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async load(): Promise<Map<string, KeyObject>> {
    const discoveryUrl = `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const discovery = await this.getJson(discoveryUrl);
    if (discovery.issuer !== this.issuer) {
      throw new TrustedIssuerUnavailableError(
        `discovery document of ${this.issuer} names issuer "${String(discovery.issuer)}"`,
      );
    }
    if (typeof discovery.jwks_uri !== 'string' || !discovery.jwks_uri.startsWith('https://')) {
      throw new TrustedIssuerUnavailableError(`discovery document of ${this.issuer} has no https "jwks_uri"`);
    }
    const jwks = await this.getJson(discovery.jwks_uri);
    if (!Array.isArray(jwks.keys))
      throw new TrustedIssuerUnavailableError(`JWKS of ${this.issuer} has no "keys" array`);
    const keys = new Map<string, KeyObject>();
    for (const jwk of jwks.keys as Array<Record<string, unknown>>) {
      if (typeof jwk?.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
      try {
        keys.set(jwk.kid, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
      } catch {
        // A key this runtime cannot import is skipped, not fatal: the others still verify.
      }
    }
    return keys;
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
