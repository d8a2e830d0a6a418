/**
 * Requests must come through CloudFront, when the stack puts it in front (`cloudFrontWaf`):
 * CloudFront adds the origin secret to every request it forwards, as `X-Origin-Verify`, and a
 * request without the right value, such as one sent straight to the `execute-api` URL around the
 * WAF, is answered 403 with an empty body before any endpoint runs.
 *
 * The accepted values are the secret's `current` and, during a rotation, `previous`
 * (`{"current": "...", "previous": "..."}` in Secrets Manager). The function reads the secret when
 * its execution environment starts and again at most every 5 minutes, so a rotation reaches every
 * environment within 5 minutes, before CloudFront is told the new value (doc/operations.md).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpRequest, HttpResponse } from './http-message.js';
import { PlainResponse } from './http-message.js';
import type { Logger } from './logger.js';
import { ReadBackoff } from './read-backoff.js';

/** The header CloudFront adds to origin requests (lowercase, as the adapter stores headers). */
export const ORIGIN_SECRET_HEADER = 'x-origin-verify';

/** The JSON keys of the secret: CloudFront sends `current`; the functions accept both. */
export const ORIGIN_SECRET_KEYS = { current: 'current', previous: 'previous' } as const;

/** How long a read of the secret is used before the next request reads it again. */
export const ORIGIN_SECRET_MAX_AGE_MS = 5 * 60_000;
/** While reads fail, the last values read are used for at most this long past their age. */
export const ORIGIN_SECRET_STALE_MS = 60 * 60_000;

/** Where the secret string comes from: Secrets Manager in each function, a literal in tests. */
export interface OriginSecretSource {
  /** The secret's AWSCURRENT string. */
  load(): Promise<string>;
}

/** Thrown when the secret cannot be read or holds no usable value; answered 503. */
export class OriginSecretUnavailableError extends Error {
  readonly code = 'ERR_ORIGIN_SECRET_UNAVAILABLE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OriginSecretUnavailableError';
  }
}

/** The values a request may present: `current`, then `previous` when the secret has one. */
export function parseOriginSecret(secretString: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new OriginSecretUnavailableError('the origin secret is not JSON');
  }
  const record = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const values = [record[ORIGIN_SECRET_KEYS.current], record[ORIGIN_SECRET_KEYS.previous]].filter(
    (v): v is string => typeof v === 'string' && v.length >= 16,
  );
  if (typeof record[ORIGIN_SECRET_KEYS.current] !== 'string' || values.length === 0) {
    throw new OriginSecretUnavailableError(
      'the origin secret has no "current" value of at least 16 characters',
    );
  }
  return values;
}

/**
 * Whether `presented` equals one of `accepted`, in time that depends on neither: both sides are
 * hashed to fixed-length digests and every accepted value is compared.
 */
export function matchesOriginSecret(presented: string, accepted: readonly string[]): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  const given = digest(presented);
  let matched = false;
  for (const value of accepted) matched = timingSafeEqual(given, digest(value)) || matched;
  return matched;
}

/** The accepted values, read from `source` and cached (`ORIGIN_SECRET_MAX_AGE_MS`). */
export class CachedOriginSecret {
  private cached: { values: string[]; readAt: number } | undefined;
  private reading: Promise<string[]> | undefined;
  private readonly backoff: ReadBackoff;
  private readonly now: () => number;

  constructor(
    private readonly source: OriginSecretSource,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.backoff = new ReadBackoff({ now: this.now });
  }

  /** The accepted values; throws `OriginSecretUnavailableError` when none can be had. */
  async values(): Promise<readonly string[]> {
    const age = this.cached ? this.now() - this.cached.readAt : Infinity;
    if (this.cached && age < ORIGIN_SECRET_MAX_AGE_MS) return this.cached.values;
    const stale =
      this.cached && age < ORIGIN_SECRET_MAX_AGE_MS + ORIGIN_SECRET_STALE_MS ? this.cached : undefined;
    const waiting = this.backoff.waiting();
    if (waiting) {
      if (stale) return stale.values;
      throw new OriginSecretUnavailableError('the origin secret could not be read', { cause: waiting.error });
    }
    try {
      return await (this.reading ??= this.read());
    } catch (error) {
      if (stale) return stale.values;
      throw error instanceof OriginSecretUnavailableError
        ? error
        : new OriginSecretUnavailableError('the origin secret could not be read', { cause: error });
    }
  }

  private async read(): Promise<string[]> {
    try {
      const values = parseOriginSecret(await this.source.load());
      this.cached = { values, readAt: this.now() };
      this.backoff.succeeded();
      return values;
    } catch (error) {
      this.backoff.failed(error);
      throw error;
    } finally {
      this.reading = undefined;
    }
  }
}

/** A handler; `invocation` is the Lambda context when there is one, passed through untouched. */
type FetchHandler<I = unknown> = (request: HttpRequest, invocation?: I) => Promise<HttpResponse>;

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * Answers 403 with an empty body (nothing to tell a caller who went around CloudFront) unless the
 * request carries an accepted origin secret; otherwise runs `handler`. When the secret cannot be
 * read at all, answers 503 with `Retry-After`, as for any dependency fault.
 */
export function requireOriginSecret<I>(
  handler: FetchHandler<I>,
  secret: CachedOriginSecret,
  logger?: Logger,
): FetchHandler<I> {
  return async (request, invocation) => {
    const presented = request.headers.get(ORIGIN_SECRET_HEADER);
    if (presented === null || presented === '')
      return new PlainResponse(null, { status: 403, headers: NO_STORE });
    let accepted: readonly string[];
    try {
      accepted = await secret.values();
    } catch (error) {
      logger?.warn('origin secret unavailable', { error });
      return new PlainResponse(null, { status: 503, headers: { ...NO_STORE, 'retry-after': '5' } });
    }
    if (!matchesOriginSecret(presented, accepted)) {
      return new PlainResponse(null, { status: 403, headers: NO_STORE });
    }
    return handler(request, invocation);
  };
}

/**
 * `handler` behind the origin secret check when the function has a `source` (the stack set
 * `ORIGIN_SECRET_ARN`), else `handler` itself. The first read starts at once, while the execution
 * environment initializes, beside the signing keys.
 */
export function withOriginSecret<I>(
  handler: FetchHandler<I>,
  source: OriginSecretSource | undefined,
  logger?: Logger,
): FetchHandler<I> {
  if (!source) return handler;
  const secret = new CachedOriginSecret(source);
  secret
    .values()
    .catch((error: unknown) => logger?.warn('origin secret not read at start; will retry', { error }));
  return requireOriginSecret(handler, secret, logger);
}
