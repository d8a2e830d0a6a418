/**
 * Signing keys as the functions use them: read from a source (Secrets Manager in AWS, a file
 * locally), cached in memory with a bounded age so that rotation is picked up without a
 * redeploy, and turned into key objects once per key.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { publishedKeys, toPublicJwk, type SigningKeySet, type StoredSigningKey } from './key-set.js';

/** Where the key set comes from. */
export interface SigningKeySource {
  load(): Promise<SigningKeySet>;
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

export interface SigningKeys {
  /** The key new tokens are signed with. Throws `SigningKeysUnavailableError` when there is none. */
  signingKey(): Promise<ActiveSigningKey>;
  /** The public keys to publish (RFC 7517 JWK Set). */
  publicJwks(): Promise<{ keys: JWK[] }>;
  /**
   * The public key for `kid`, or undefined. An unknown `kid` reloads the set, at most once per
   * `minRefreshIntervalMs`, so forged `kid` values cannot cause a call per request.
   */
  verificationKey(kid: string): Promise<KeyObject | undefined>;
}

export interface CachedSigningKeysOptions {
  /** How long a loaded key set is used before it is read again. */
  maxAgeMs?: number;
  /** Least time between two reloads caused by an unknown `kid`. */
  minRefreshIntervalMs?: number;
  now?: () => number;
}

interface Loaded {
  set: SigningKeySet;
  loadedAt: number;
  publicKeys: Map<string, KeyObject>;
  jwks: { keys: JWK[] };
}

export class CachedSigningKeys implements SigningKeys {
  private loaded: Loaded | undefined;
  private inFlight: Promise<Loaded> | undefined;
  private lastRefreshForKid = -Infinity;
  private readonly privateKeys = new Map<string, KeyObject>();
  private readonly maxAgeMs: number;
  private readonly minRefreshIntervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly source: SigningKeySource,
    options: CachedSigningKeysOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  async signingKey(): Promise<ActiveSigningKey> {
    const { set } = await this.get();
    const current = set.current;
    if (!current) throw new SigningKeysUnavailableError('no current signing key in the key set');
    let key = this.privateKeys.get(current.kid);
    if (!key) {
      key = createPrivateKey({ key: current as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
      this.privateKeys.set(current.kid, key);
    }
    return { kid: current.kid, alg: current.alg, key };
  }

  async publicJwks(): Promise<{ keys: JWK[] }> {
    return (await this.get()).jwks;
  }

  async verificationKey(kid: string): Promise<KeyObject | undefined> {
    const loaded = await this.get();
    const known = loaded.publicKeys.get(kid);
    if (known) return known;
    if (this.now() - this.lastRefreshForKid < this.minRefreshIntervalMs) return undefined;
    this.lastRefreshForKid = this.now();
    return (await this.reload()).publicKeys.get(kid);
  }

  private async get(): Promise<Loaded> {
    const loaded = this.loaded;
    if (loaded && this.now() - loaded.loadedAt < this.maxAgeMs) return loaded;
    try {
      return await this.reload();
    } catch (error) {
      // A stale key set beats an outage: keep serving the last good one if the source fails.
      if (loaded) return loaded;
      throw error instanceof SigningKeysUnavailableError
        ? error
        : new SigningKeysUnavailableError('signing keys could not be loaded', { cause: error });
    }
  }

  private reload(): Promise<Loaded> {
    this.inFlight ??= this.source
      .load()
      .then((set) => {
        const keys = publishedKeys(set);
        if (keys.length === 0) throw new SigningKeysUnavailableError('the signing key set is empty');
        const loaded: Loaded = {
          set,
          loadedAt: this.now(),
          publicKeys: new Map(keys.map((k) => [k.kid, publicKeyOf(k, this.loaded)])),
          jwks: { keys: keys.map(toPublicJwk) },
        };
        this.loaded = loaded;
        return loaded;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}

function publicKeyOf(key: StoredSigningKey, previous: Loaded | undefined): KeyObject {
  return (
    previous?.publicKeys.get(key.kid) ??
    createPublicKey({ key: toPublicJwk(key) as import('node:crypto').JsonWebKey, format: 'jwk' })
  );
}
