/**
 * The revocation list's and the key cache's sources, both served by one `McpTableReader`, so
 * that a cold start reads the markers and the public keys with one request.
 *
 * A stack upgraded from the earlier layout has no keys in the table until its next rotation
 * (`scripts/deploy.sh` starts one): until then the keys come from the SSM parameter as before, and
 * the earlier list's items are read beside the markers, so nothing revoked before the upgrade
 * works again after it. Once the keys are in the table, neither extra read happens.
 */
import type { PublicKeySet } from '../../shared/public-key-set.js';
import { legacyRevocationItemKeys, REVOCATION_AFTER_EXPIRY_SECONDS } from '../../shared/revocations.js';
import { SigningKeysUnavailableError, type PublicKeySource } from '../../shared/signing-keys.js';
import type { LegacyRevocationReader } from './legacy-revocation-reader.js';
import type { Marker, McpTableReader } from './mcp-table-reader.js';
import type { RevocationSource } from '../auth/revocation-list.js';

export interface TableRevocationSourceOptions {
  reader: McpTableReader;
  /** The earlier list, read only while the table holds no keys. */
  legacy?: LegacyRevocationReader;
  /** The longest lifetime of this server's access tokens: how far ahead earlier entries can end. */
  maxTokenLifetimeSeconds: number;
  now?: () => number;
}

export class TableRevocationSource implements RevocationSource {
  constructor(private readonly options: TableRevocationSourceOptions) {}

  async load(): Promise<ReadonlyMap<string, Marker>> {
    const snapshot = await this.options.reader.read();
    const { legacy } = this.options;
    if (snapshot.publicKeys || !legacy) return snapshot.markers;
    const now = (this.options.now ?? Date.now)() / 1000;
    const entries = await legacy.load(
      legacyRevocationItemKeys(now, this.options.maxTokenLifetimeSeconds + REVOCATION_AFTER_EXPIRY_SECONDS),
    );
    // An earlier entry refused every token of its subject until its end: as a marker, every
    // token issued before that end (none of a deleted client or a revoked family was issued after).
    const merged = new Map(snapshot.markers);
    for (const [name, until] of entries) {
      if (until <= now) continue;
      const key = `revoked#${name}`;
      const known = merged.get(key);
      if (!known || known.notBefore < until * 1000)
        merged.set(key, { notBefore: until * 1000, expiresAt: until });
    }
    return merged;
  }
}

/** The public keys from the table; from `fallback` (the SSM parameter) while the table has none. */
export class TablePublicKeySource implements PublicKeySource {
  constructor(
    private readonly reader: McpTableReader,
    private readonly fallback?: PublicKeySource,
  ) {}

  async load(): Promise<PublicKeySet> {
    let keys: PublicKeySet | undefined;
    try {
      keys = (await this.reader.read()).publicKeys;
    } catch (error) {
      throw new SigningKeysUnavailableError('could not read the public signing keys from the table', {
        cause: error,
      });
    }
    if (keys) return keys;
    if (this.fallback) return this.fallback.load();
    throw new SigningKeysUnavailableError('the table holds no public signing keys yet');
  }
}
