/**
 * `/mcp`'s copy of the revocation list (`lambda/shared/revocations.ts`): tokens of a deleted
 * client, of a revoked grant family, or revoked one by one are refused once this copy is
 * refreshed. The copy lives as long as the execution environment and is re-read at most once per
 * `refreshSeconds` (60 s), by the one request that finds it stale, so a warm request checks it in
 * memory. When a read fails, the last copy answers until it is `maxAgeSeconds` old (5 minutes);
 * after that `/mcp` answers 503 rather than trust a list that old, so a revocation takes effect
 * within `maxAgeSeconds` whatever happens, and normally within `refreshSeconds`.
 */
import { ReadBackoff } from '../shared/read-backoff.js';
import {
  REVOCATION_AFTER_EXPIRY_SECONDS,
  revocationEntryName,
  revocationItemKeys,
  type RevokedSubject,
} from '../shared/revocations.js';

/** Reads the list's items; answers each entry's name and end (epoch seconds). */
export interface RevocationSource {
  load(itemKeys: string[]): Promise<Map<string, number>>;
}

/** Thrown when the list could not be read for longer than its bound: a 503, not a verdict on the token. */
export class RevocationListUnavailableError extends Error {
  readonly code = 'ERR_REVOCATION_LIST_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RevocationListUnavailableError';
  }
}

export interface RevocationListOptions {
  source: RevocationSource;
  /** The longest lifetime of this server's access tokens: how far ahead entries can end. */
  maxTokenLifetimeSeconds: number;
  /** How often the copy is re-read. */
  refreshSeconds?: number;
  /** The oldest copy that may answer; also the bound on how late a revocation takes effect. */
  maxAgeSeconds?: number;
  backoff?: ReadBackoff;
  onReadFailure?: (error: unknown) => void;
  now?: () => number;
}

/** What identifies a token of this server to the list. */
export interface TokenIdentity {
  clientId: string;
  /** The grant family (`sid` claim) of a user token. */
  grantId?: string;
  /** The token's `jti`. */
  tokenId?: string;
}

export const DEFAULT_REVOCATION_REFRESH_SECONDS = 60;
export const DEFAULT_REVOCATION_MAX_AGE_SECONDS = 300;

export class RevocationList {
  private entries: Map<string, number> | undefined;
  private loadedAt = 0;
  /** The read under way; `paid` once a request waits for it (see {@link prime}). */
  private loading: { done: Promise<void>; paid: boolean } | undefined;
  private lastError: unknown;
  private readonly refreshMs: number;
  private readonly maxAgeMs: number;
  private readonly backoff: ReadBackoff;
  private readonly now: () => number;

  constructor(private readonly options: RevocationListOptions) {
    this.maxAgeMs = (options.maxAgeSeconds ?? DEFAULT_REVOCATION_MAX_AGE_SECONDS) * 1000;
    this.refreshMs = Math.min(
      (options.refreshSeconds ?? DEFAULT_REVOCATION_REFRESH_SECONDS) * 1000,
      this.maxAgeMs,
    );
    this.now = options.now ?? Date.now;
    this.backoff = options.backoff ?? new ReadBackoff({ now: this.now });
  }

  /** How many entries the current copy holds (the soak reports it). */
  get size(): number {
    return this.entries?.size ?? 0;
  }

  /**
   * Whether the token was revoked, as of the last read of the list; throws
   * {@link RevocationListUnavailableError} when there is no copy recent enough to say.
   */
  async isRevoked(token: TokenIdentity): Promise<boolean> {
    const entries = await this.current();
    const now = this.now() / 1000;
    const subjects: RevokedSubject[] = [{ client: token.clientId }];
    if (token.grantId) subjects.push({ grant: token.grantId });
    if (token.tokenId) subjects.push({ token: token.tokenId });
    return subjects.some((subject) => (entries.get(revocationEntryName(subject)) ?? 0) > now);
  }

  /**
   * Reads the list now, so that the first request need not (called at start). No request pays
   * for this read unless one comes to wait for it, so when it fails on its own the back-off does
   * not start: the first request reads again rather than being refused for a failure it never saw.
   */
  async prime(): Promise<void> {
    if (!this.loading) this.startLoad(false);
    await this.loading?.done;
  }

  private usable(): Map<string, number> | undefined {
    return this.entries && this.now() - this.loadedAt < this.maxAgeMs ? this.entries : undefined;
  }

  private async current(): Promise<Map<string, number>> {
    if (this.entries && this.now() - this.loadedAt < this.refreshMs) return this.entries;
    let started = false;
    if (!this.loading && !this.backoff.waiting()) {
      started = true;
      this.startLoad(true);
    }
    // The request that starts a read waits for it, so a revocation counts from that moment;
    // others answer from a usable copy at once, and wait only when there is none.
    const loading = this.loading;
    if (loading && (started || !this.usable())) {
      loading.paid = true;
      await loading.done;
    }
    const entries = this.usable();
    if (entries) return entries;
    throw new RevocationListUnavailableError('the revocation list could not be read', {
      cause: this.lastError,
    });
  }

  private startLoad(paid: boolean): void {
    const read = { paid } as NonNullable<typeof this.loading>;
    read.done = this.load(read).finally(() => (this.loading = undefined));
    this.loading = read;
  }

  private async load(read: { paid: boolean }): Promise<void> {
    const startedAt = this.now();
    const longest = this.options.maxTokenLifetimeSeconds + REVOCATION_AFTER_EXPIRY_SECONDS;
    try {
      const read = await this.options.source.load(revocationItemKeys(startedAt / 1000, longest));
      const live = new Map([...read].filter(([, until]) => until > startedAt / 1000));
      this.entries = live;
      this.loadedAt = startedAt;
      this.backoff.succeeded();
    } catch (error) {
      this.lastError = error;
      if (read.paid) this.backoff.failed(error);
      this.options.onReadFailure?.(error);
    }
  }
}
