/**
 * Signing keys as the functions use them: read from a source, cached in memory with a bounded
 * age so that rotation is picked up without a redeploy, and turned into key objects once per key.
 *
 * Two views of the same rotation: the oauth function signs, so it reads the private key set
 * (Secrets Manager in AWS, a file locally) through `CachedSigningKeys`; the mcp function only
 * verifies, so it reads the public key set the rotation publishes (an SSM parameter in AWS)
 * through `CachedPublicKeys`, and no private key ever reaches it.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { toPublicKeySet, type SigningKeySet } from './key-set.js';
import type { PublicKeySet } from './public-key-set.js';
import { ReadBackoff } from './read-backoff.js';

/** Where the private key set comes from (the signer's view). */
export interface SigningKeySource {
  load(): Promise<SigningKeySet>;
}

/** Where the public key set comes from (a verifier's view): it can hold no private key. */
export interface PublicKeySource {
  load(): Promise<PublicKeySet>;
}

/** Thrown when no signing key exists yet (first deployment, before rotation ran) or none can be read. */
export class SigningKeysUnavailableError extends Error {
  readonly code = 'ERR_SIGNING_KEYS_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SigningKeysUnavailableError';
  }
}

export interface ActiveSigningKey {
  kid: string;
  alg: string;
  key: KeyObject;
}

/** What a verifier needs: the published public keys, and nothing that can sign. */
export interface VerificationKeys {
  /** The public keys to publish (RFC 7517 JWK Set). */
  publicJwks(): Promise<PublicKeySet>;
  /**
   * The public key for `kid`, or undefined. An unknown `kid` reloads the set, at most once per
   * `minRefreshIntervalMs`, so forged `kid` values cannot cause a call per request.
   */
  verificationKey(kid: string): Promise<KeyObject | undefined>;
}

/** What the authorization server needs: the verifier's view plus the key that signs. */
export interface SigningKeys extends VerificationKeys {
  /** The key new tokens are signed with. Throws `SigningKeysUnavailableError` when there is none. */
  signingKey(): Promise<ActiveSigningKey>;
}

export interface CachedSigningKeysOptions {
  /** How long a loaded key set is used before it is read again. */
  maxAgeMs?: number;
  /** Least time between two reloads caused by an unknown `kid`. */
  minRefreshIntervalMs?: number;
  /**
   * How long past `maxAgeMs` the last good set is still served while the source cannot be read.
   * Rotation keeps a key published for days, so an hour of a stale set signs and verifies only
   * with keys that are still valid.
   */
  maxStaleMs?: number;
  /** Wait after a failed read before the next read; doubles on each failure in a row. */
  retryIntervalMs?: number;
  /** The longest that wait grows to. */
  maxRetryIntervalMs?: number;
  now?: () => number;
}

interface Loaded<Set> {
  set: Set;
  loadedAt: number;
  publicKeys: Map<string, KeyObject>;
  jwks: PublicKeySet;
}

/**
 * The cache both views share: bounded age, one read for concurrent callers, stale over an outage,
 * and backoff after a failed read. While the source is down or hanging, at most one caller per
 * retry interval pays a read (and its timeout); the others are answered at once, with the last
 * good set while it is not too stale, or with `SigningKeysUnavailableError` carrying the cause of
 * the failed read (so the apps can tell a dependency fault, and answer 503).
 */
interface KeyRead<Set> {
  promise: Promise<Loaded<Set>>;
  paid: boolean;
}

abstract class CachedKeySet<Set> implements VerificationKeys {
  private loaded: Loaded<Set> | undefined;
  /** The read under way; `paid` once a request waits for it (see {@link prime}). */
  private inFlight: KeyRead<Set> | undefined;
  private lastRefreshForKid = -Infinity;
  private readonly maxAgeMs: number;
  private readonly minRefreshIntervalMs: number;
  private readonly maxStaleMs: number;
  private readonly backoff: ReadBackoff;
  private readonly now: () => number;

  constructor(
    private readonly source: { load(): Promise<Set> },
    options: CachedSigningKeysOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? 30_000;
    this.maxStaleMs = options.maxStaleMs ?? 60 * 60_000;
    this.now = options.now ?? Date.now;
    this.backoff = new ReadBackoff({
      now: this.now,
      ...(options.retryIntervalMs !== undefined && { initialMs: options.retryIntervalMs }),
      ...(options.maxRetryIntervalMs !== undefined && { maxMs: options.maxRetryIntervalMs }),
    });
  }

  /** The public keys of a loaded set, `current` first. */
  protected abstract publicKeysOf(set: Set): PublicKeySet;

  /** How many public keys are held now: those of the loaded set, at most three. */
  get size(): number {
    return this.loaded?.publicKeys.size ?? 0;
  }

  /**
   * Loads the set now, so that the first request need not (called at start). No request pays for
   * this read unless one comes to wait for it, so when it fails on its own the back-off does not
   * start: the first request reads again rather than being refused for a failure it never saw.
   */
  async prime(): Promise<void> {
    await this.reload(false);
  }

  async publicJwks(): Promise<PublicKeySet> {
    return (await this.get()).jwks;
  }

  async verificationKey(kid: string): Promise<KeyObject | undefined> {
    const loaded = await this.get();
    const known = loaded.publicKeys.get(kid);
    if (known) return known;
    if (this.now() - this.lastRefreshForKid < this.minRefreshIntervalMs) return undefined;
    // The kid may be a key published since: unknown, not invalid, while the source cannot say.
    const waiting = this.backoff.waiting();
    if (waiting) throw unavailable(waiting.error, 'signing keys could not be reloaded');
    this.lastRefreshForKid = this.now();
    try {
      return (await this.reload()).publicKeys.get(kid);
    } catch (error) {
      throw unavailable(error, 'signing keys could not be reloaded');
    }
  }

  /** The key set as loaded, within its maximum age. */
  protected async currentSet(): Promise<Set> {
    return (await this.get()).set;
  }

  private async get(): Promise<Loaded<Set>> {
    const loaded = this.loaded;
    if (loaded && this.now() - loaded.loadedAt < this.maxAgeMs) return loaded;
    const usable =
      loaded && this.now() - loaded.loadedAt < this.maxAgeMs + this.maxStaleMs ? loaded : undefined;
    // A read is under way: wait for it, unless a stale set can answer now.
    if (this.inFlight && usable) return usable;
    const waiting = this.inFlight ? undefined : this.backoff.waiting();
    if (waiting) {
      if (usable) return usable;
      throw unavailable(waiting.error, 'signing keys could not be loaded; retrying shortly');
    }
    try {
      return await this.reload();
    } catch (error) {
      // A stale key set beats an outage: keep serving the last good one if the source fails.
      if (usable) return usable;
      throw unavailable(error, 'signing keys could not be loaded');
    }
  }

  private reload(paid = true): Promise<Loaded<Set>> {
    if (this.inFlight) {
      this.inFlight.paid ||= paid;
      return this.inFlight.promise;
    }
    const read = { paid } as KeyRead<Set>;
    read.promise = this.source
      .load()
      .then((set) => {
        const jwks = this.publicKeysOf(set);
        if (jwks.keys.length === 0) throw new SigningKeysUnavailableError('the signing key set is empty');
        const previous = this.loaded?.publicKeys;
        const loaded: Loaded<Set> = {
          set,
          loadedAt: this.now(),
          publicKeys: new Map(
            jwks.keys.map((k) => [
              k.kid,
              previous?.get(k.kid) ??
                createPublicKey({ key: k as unknown as import('node:crypto').JsonWebKey, format: 'jwk' }),
            ]),
          ),
          jwks,
        };
        this.loaded = loaded;
        this.backoff.succeeded();
        return loaded;
      })
      .catch((error: unknown) => {
        if (read.paid) this.backoff.failed(error);
        throw error;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    this.inFlight = read;
    return read.promise;
  }
}

/** `error` as `SigningKeysUnavailableError`, keeping the read's cause for the apps' classifier. */
function unavailable(error: unknown, message: string): SigningKeysUnavailableError {
  return error instanceof SigningKeysUnavailableError
    ? error
    : new SigningKeysUnavailableError(message, { cause: error });
}

/** The oauth function's keys: signs with `current`, publishes and verifies with all three. */
export class CachedSigningKeys extends CachedKeySet<SigningKeySet> implements SigningKeys {
  private readonly privateKeys = new Map<string, KeyObject>();

  constructor(source: SigningKeySource, options: CachedSigningKeysOptions = {}) {
    super(source, options);
  }

  protected publicKeysOf(set: SigningKeySet): PublicKeySet {
    return toPublicKeySet(set);
  }

  /** How many private keys are held now: the current key's, once it has signed. */
  get privateKeyCount(): number {
    return this.privateKeys.size;
  }

  async signingKey(): Promise<ActiveSigningKey> {
    const current = (await this.currentSet()).current;
    if (!current) throw new SigningKeysUnavailableError('no current signing key in the key set');
    let key = this.privateKeys.get(current.kid);
    if (!key) {
      key = createPrivateKey({ key: current as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
      // Only the current key signs: after a rotation its predecessor is dropped, not kept, so a
      // process that lives through many rotations holds one private key, not one per rotation.
      this.privateKeys.clear();
      this.privateKeys.set(current.kid, key);
    }
    return { kid: current.kid, alg: current.alg, key };
  }
}

/** The mcp function's keys: the published public set only, so it can verify and never sign. */
export class CachedPublicKeys extends CachedKeySet<PublicKeySet> {
  constructor(source: PublicKeySource, options: CachedSigningKeysOptions = {}) {
    super(source, options);
  }

  protected publicKeysOf(set: PublicKeySet): PublicKeySet {
    return set;
  }
}
