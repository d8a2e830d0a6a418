/**
 * `/mcp`'s copy of the revocation markers (`lambda/shared/revocations.ts`): a token of this server
 * is refused when it was issued at or before the marker of its client, of its grant family, of
 * its user (a user's token), or of itself (entries carried over from the earlier list). The copy
 * lives as long as the execution environment and is re-read at most once per `refreshSeconds`
 * (60 s), by the one request that finds it stale, so a warm request checks it in memory. When a
 * read fails, the last copy answers until it is `maxAgeSeconds` old (5 minutes); after that
 * `/mcp` answers 503 rather than trust a copy that old, so a revocation takes effect within
 * `maxAgeSeconds` whatever happens, and normally within `refreshSeconds`.
 */
import { ReadBackoff } from '../../shared/read-backoff.js';
import { revocationKey, type RevokedSubject } from '../../shared/revocations.js';
import type { Marker } from '../aws/mcp-table-reader.js';

/** Reads the markers: by item key, none expired at the time of the read. */
export interface RevocationSource {
  load(): Promise<ReadonlyMap<string, Marker>>;
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
  /** How often the copy is re-read. */
  refreshSeconds?: number;
  /** The oldest copy that may answer; also the bound on how late a revocation takes effect. */
  maxAgeSeconds?: number;
  backoff?: ReadBackoff;
  onReadFailure?: (error: unknown) => void;
  now?: () => number;
}

/** What identifies a token of this server to the markers. */
export interface TokenIdentity {
  clientId: string;
  /** The subject: the user, for a user's token (one with a grant family). */
  sub: string;
  /** The grant family (`sid` claim) of a user token. */
  grantId?: string;
  /** The token's `jti`. */
  tokenId?: string;
  /** When the token was issued (epoch milliseconds; `issuedAtMs` in lambda/shared/revocations.ts). */
  issuedAtMs?: number;
}

export const DEFAULT_REVOCATION_REFRESH_SECONDS = 60;
export const DEFAULT_REVOCATION_MAX_AGE_SECONDS = 300;

export class RevocationList {
  private entries: ReadonlyMap<string, Marker> | undefined;
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

  /** How many markers the current copy holds (the soak reports it). */
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
    if (token.grantId) subjects.push({ grant: token.grantId }, { user: token.sub });
    if (token.tokenId) subjects.push({ token: token.tokenId });
    // A token without an issue time counts as issued before every marker.
    const issuedAt = token.issuedAtMs ?? 0;
    return subjects.some((subject) => {
      const marker = entries.get(revocationKey(subject));
      return marker !== undefined && marker.expiresAt > now && issuedAt <= marker.notBefore;
    });
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

  private usable(): ReadonlyMap<string, Marker> | undefined {
    return this.entries && this.now() - this.loadedAt < this.maxAgeMs ? this.entries : undefined;
  }

  private async current(): Promise<ReadonlyMap<string, Marker>> {
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
    try {
      this.entries = await this.options.source.load();
      this.loadedAt = startedAt;
      this.backoff.succeeded();
    } catch (error) {
      this.lastError = error;
      if (read.paid) this.backoff.failed(error);
      this.options.onReadFailure?.(error);
    }
  }
}
