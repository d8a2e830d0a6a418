/**
 * Backoff after a failed read of a slow-changing source (a key set, an issuer's JWKS). While the
 * source is down or hanging, a cache asks `waiting()` before reading: at most one caller per
 * interval pays a read and its timeout, the others are answered at once (from a stale copy, or
 * with the failure). The interval doubles with each failure in a row and resets on a success.
 */
export interface ReadBackoffOptions {
  /** Wait after the first failed read. */
  initialMs?: number;
  /** The longest the wait grows to. */
  maxMs?: number;
  now?: () => number;
}

export class ReadBackoff {
  private failure: { error: unknown; retryAt: number; intervalMs: number } | undefined;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(options: ReadBackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1_000;
    this.maxMs = options.maxMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** The last read's failure while its wait lasts (do not read now), else undefined. */
  waiting(): { error: unknown } | undefined {
    const failure = this.failure;
    return failure && this.now() < failure.retryAt ? { error: failure.error } : undefined;
  }

  succeeded(): void {
    this.failure = undefined;
  }

  failed(error: unknown): void {
    const intervalMs = this.failure ? Math.min(this.failure.intervalMs * 2, this.maxMs) : this.initialMs;
    this.failure = { error, retryAt: this.now() + intervalMs, intervalMs };
  }
}
