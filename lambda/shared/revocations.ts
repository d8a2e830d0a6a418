/**
 * The revocation list: what the oauth function has revoked whose access tokens may still be
 * alive, kept in the table so that `/mcp`, which verifies tokens without a database call per
 * request, can refuse them within a bounded time (`doc/threat-model.md`, "Revocation").
 *
 * An entry names a deleted client (`client#<client_id>`), a revoked grant family
 * (`grant#<family id>`, the `sid` claim of user tokens) or one access token (`token#<jti>`), and
 * holds the epoch second after which no token it covers can be alive. Entries are attributes of
 * a few items, bucketed by that second: an item lives until its bucket ends (the table's TTL
 * removes it), so nothing ever prunes a list, and a reader fetches only the buckets that can hold
 * a live entry: a handful of keys in one `BatchGetItem` (up to 104 for a day's tokens, read as
 * two requests: `BATCH_GET_ITEM_MAX_KEYS`). Each bucket is split over
 * {@link REVOCATION_SHARDS} items so that a burst of revocations stays far below DynamoDB's
 * 400 KB item limit (about 6,000 entries per item).
 */

/** Width of a bucket, in seconds. */
export const REVOCATION_BUCKET_SECONDS = 3600;
/** Items per bucket. */
export const REVOCATION_SHARDS = 4;
/**
 * How long after a token's expiry its entry stays: `/mcp` tolerates 60 s of clock difference on
 * `exp`, and the rest covers clock differences between the two functions.
 */
export const REVOCATION_AFTER_EXPIRY_SECONDS = 120;
/** The key prefix of the list's items; the mcp function's role may read these keys and no other. */
export const REVOCATION_KEY_PREFIX = 'revoked#';

export type RevokedSubject = { client: string } | { grant: string } | { token: string };

/** The attribute name of an entry. */
export function revocationEntryName(subject: RevokedSubject): string {
  if ('client' in subject) return `client#${subject.client}`;
  if ('grant' in subject) return `grant#${subject.grant}`;
  return `token#${subject.token}`;
}

/** A small stable hash (FNV-1a), to spread a bucket's entries over its shards. */
function shardOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % REVOCATION_SHARDS;
}

/** The item an entry that ends at `until` (epoch seconds) is written to, and when that item expires. */
export function revocationItemFor(name: string, until: number): { pk: string; expiresAt: number } {
  const bucket = Math.floor(until / REVOCATION_BUCKET_SECONDS);
  return {
    pk: `${REVOCATION_KEY_PREFIX}${bucket}#${shardOf(name)}`,
    expiresAt: (bucket + 1) * REVOCATION_BUCKET_SECONDS,
  };
}

/**
 * The keys of every item that can hold an entry alive at `now` (epoch seconds), when no entry
 * ends later than `longestSeconds` after it was written.
 */
export function revocationItemKeys(now: number, longestSeconds: number): string[] {
  const first = Math.floor(now / REVOCATION_BUCKET_SECONDS);
  const last = Math.floor((now + longestSeconds) / REVOCATION_BUCKET_SECONDS);
  const keys: string[] = [];
  for (let bucket = first; bucket <= last; bucket++) {
    for (let shard = 0; shard < REVOCATION_SHARDS; shard++)
      keys.push(`${REVOCATION_KEY_PREFIX}${bucket}#${shard}`);
  }
  return keys;
}
