/**
 * Revocation state: what the oauth function has revoked whose access tokens may still be alive,
 * kept in the table so that `/mcp`, which verifies tokens without a database call per request,
 * can refuse them within a bounded time (`doc/threat-model.md`, "Revocation").
 *
 * A revocation is a **not-before marker** on a subject: a client (deleted, or one of its machine
 * tokens revoked), a grant family (revoked, replayed, or one of its access tokens revoked) or a
 * user (every grant of theirs). A token of this server is refused when it was issued at or before
 * the marker of its client, of its grant family or (for a user's token) of its user, to the
 * millisecond (`ISSUED_AT_MS_CLAIM`). Each subject
 * is one small item of its own (`revoked#<kind>#<id>`), written with one conditional update that
 * only ever moves the marker later: revoking the same subject again costs one write of a few
 * hundred bytes and adds nothing, and the number of items is the number of subjects revoked in
 * the last token lifetime, never the number of requests (doc/architecture.md, "Revocation").
 *
 * The items, and the public key set the rotation publishes (`PUBLIC_KEYS_ITEM_KEY`), carry the
 * two attributes of a sparse global secondary index (`MCP_READ_INDEX`): one partition, sorted by
 * when each item last changed. The mcp function reads everything it needs with one `Query` of
 * that partition at start, then only what changed since its last read; its role may query that
 * index, and of the table only the earlier list's items (`LEGACY_REVOCATION`), which it reads
 * while an upgraded stack's keys are not yet in the table (`lambda/mcp/aws/table-sources.ts`).
 */

/**
 * The private claim of this server's access tokens that says when, to the millisecond, the token
 * was issued (`iat` counts seconds): a client that revokes its token and gets the next one in the
 * same second must not find the new one refused.
 */
export const ISSUED_AT_MS_CLAIM = 'iat_ms';

/**
 * When a token was issued, in epoch milliseconds: its `iat_ms` when it agrees with `iat`, and
 * otherwise (a token issued before the claim existed) the last millisecond of its `iat`, so that a
 * marker set in that second refuses it.
 */
export function issuedAtMs(iat: number, iatMs: unknown): number {
  if (typeof iatMs === 'number' && Number.isInteger(iatMs) && Math.floor(iatMs / 1000) === iat) return iatMs;
  return iat * 1000 + 999;
}

/** The key prefix of the markers. */
export const REVOCATION_KEY_PREFIX = 'revoked#';

/** The item holding the public key set for the mcp function, written by the rotation. */
export const PUBLIC_KEYS_ITEM_KEY = 'published#public-keys';

/**
 * The public key item's `changedAt`: later than any marker's (epoch ms, in the year 2286), so
 * every read of the index returns it, the first (which skips markers too old to matter) and each
 * later one (which asks for what changed since). It costs nothing a read would not: a `Query`
 * is billed at least half a read unit, 4 KB, and the item is about 1.4 KB.
 */
export const PUBLIC_KEYS_SORT_VALUE = 9_999_999_999_999;

/**
 * How far ahead of now a marker is set when a subject is revoked as a whole: between the marker
 * and the change of the grant or client that follows it, a token could still be issued, and the
 * lead covers it.
 */
export const MARKER_LEAD_MS = 5_000;

/**
 * The least a marker moves when it moves later (`DynamoRevocationList.revoke`): a revocation that
 * falls within this of the marker already set moves it this far at once, so the revocations that
 * follow within the step are covered without a write. Each subject's marker, and so its entry in
 * the index every mcp environment reads, changes at most once per step however many revocations
 * of it are sent; the tokens it covers beyond the one revoked are that subject's own, issued
 * within the step after it (RFC 7009 §2.1 lets related tokens be revoked too).
 */
export const MARKER_STEP_MS = 5_000;

/** The sparse index the mcp function reads: markers and the public key set, by change time. */
export const MCP_READ_INDEX = {
  name: 'mcp-reads',
  /** Partition key attribute (string): the same value on every item of the index. */
  partitionKey: 'mcpRead',
  /** Sort key attribute (number): when the item last changed, epoch milliseconds. */
  sortKey: 'changedAt',
  /** The one partition's value. */
  partition: 'mcp',
  /** The attributes the index carries besides the keys (`pk`, the two above). */
  projected: ['notBefore', 'jwks', 'expiresAt'],
} as const;

/**
 * How long after a token's expiry its marker stays: `/mcp` tolerates 60 s of clock difference on
 * `exp`, and the rest covers clock differences between the two functions.
 */
export const REVOCATION_AFTER_EXPIRY_SECONDS = 120;

/**
 * A revoked subject. `token` names one access token by its `jti`; it is never written by the
 * oauth function (a revoked access token marks its grant family or client instead) and exists
 * only for entries carried over from the earlier list (`lambda/rotate-keys/legacy-revocations.ts`).
 */
export type RevokedSubject = { client: string } | { grant: string } | { user: string } | { token: string };

/** The item key of a subject's marker. */
export function revocationKey(subject: RevokedSubject): string {
  if ('client' in subject) return `${REVOCATION_KEY_PREFIX}client#${subject.client}`;
  if ('grant' in subject) return `${REVOCATION_KEY_PREFIX}grant#${subject.grant}`;
  if ('user' in subject) return `${REVOCATION_KEY_PREFIX}user#${subject.user}`;
  return `${REVOCATION_KEY_PREFIX}token#${subject.token}`;
}

/**
 * When a marker set at `notBeforeMs` (epoch milliseconds) can be forgotten, in epoch seconds: every
 * token it covers was issued at or before it and so has expired, with the margin above (the
 * table's TTL deletes the item then; readers ignore it from then on).
 */
export function markerExpiresAt(notBeforeMs: number, longestTokenSeconds: number): number {
  return Math.ceil(notBeforeMs / 1000) + longestTokenSeconds + REVOCATION_AFTER_EXPIRY_SECONDS;
}

/**
 * How long after it was written (`changedAt`) a marker can still refuse a token, in milliseconds:
 * the first read of an mcp environment skips markers written earlier, which are expired (the
 * table's TTL deletes them up to a few days late). A marker set ahead of now ends the lead later,
 * one moved a step on (`MARKER_STEP_MS`) up to a step later still; one set at a token's own issue
 * time, earlier.
 */
export function markerRelevanceMs(longestTokenSeconds: number): number {
  return (
    (longestTokenSeconds + REVOCATION_AFTER_EXPIRY_SECONDS) * 1000 + MARKER_LEAD_MS + MARKER_STEP_MS + 1_000
  );
}

/**
 * The earlier list's layout, read only to carry its entries over once: hourly buckets of four
 * items (`revoked#<bucket>#<shard>`), each entry an attribute `client#…`, `grant#…` or `token#…`
 * holding the epoch second until which it refused tokens.
 */
export const LEGACY_REVOCATION = { bucketSeconds: 3600, shards: 4 } as const;

/** The keys of every item of the earlier list that can hold an entry alive at `now`. */
export function legacyRevocationItemKeys(now: number, longestSeconds: number): string[] {
  const first = Math.floor(now / LEGACY_REVOCATION.bucketSeconds);
  const last = Math.floor((now + longestSeconds) / LEGACY_REVOCATION.bucketSeconds);
  const keys: string[] = [];
  for (let bucket = first; bucket <= last; bucket++) {
    for (let shard = 0; shard < LEGACY_REVOCATION.shards; shard++)
      keys.push(`${REVOCATION_KEY_PREFIX}${bucket}#${shard}`);
  }
  return keys;
}
