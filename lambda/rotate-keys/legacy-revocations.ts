/**
 * Carries the earlier revocation list (`LEGACY_REVOCATION` in `lambda/shared/revocations.ts`)
 * over to markers, once, when the rotation first publishes the keys to the table: from then on
 * the mcp function reads only the markers, and an entry left behind would let a token revoked
 * before the upgrade work again. An entry that refused every token of its subject until a time
 * becomes a marker at that time (no token of a deleted client or a revoked family was issued
 * after it), kept until then.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { legacyRevocationItemKeys, type RevokedSubject } from '../shared/revocations.js';
import { DynamoRevocationList } from '../shared/revocation-writer.js';
import { TABLE_SCHEMA } from '../shared/table.js';

/** The longest the earlier list's entries could run: a day's access token, and the margin. */
const LONGEST_ENTRY_SECONDS = 86_400 + 120;
/** The most keys one `BatchGetItem` may name. */
const BATCH_MAX_KEYS = 100;

function subjectOf(name: string): RevokedSubject | undefined {
  const [kind, ...rest] = name.split('#');
  const id = rest.join('#');
  if (!id) return undefined;
  if (kind === 'client') return { client: id };
  if (kind === 'grant') return { grant: id };
  if (kind === 'token') return { token: id };
  return undefined;
}

/** Reads every live entry of the earlier list and writes each as a marker; returns how many. */
export async function carryOverLegacyRevocations(
  db: DynamoDBDocumentClient,
  tableName: string,
  nowMs: number,
): Promise<number> {
  const now = nowMs / 1000;
  const keys = legacyRevocationItemKeys(now, LONGEST_ENTRY_SECONDS);
  const entries = new Map<string, number>();
  for (let start = 0; start < keys.length; start += BATCH_MAX_KEYS) {
    let pending: Record<string, unknown>[] = keys
      .slice(start, start + BATCH_MAX_KEYS)
      .map((key) => ({ [TABLE_SCHEMA.partitionKey]: key }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 3) throw new Error('BatchGetItem left keys of the earlier revocation list unprocessed');
      const output = await db.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending } } }));
      for (const item of output.Responses?.[tableName] ?? []) {
        for (const [name, until] of Object.entries(item)) {
          if (name === TABLE_SCHEMA.partitionKey || name === TABLE_SCHEMA.ttlAttribute) continue;
          if (typeof until === 'number' && until > now)
            entries.set(name, Math.max(until, entries.get(name) ?? 0));
        }
      }
      pending = (output.UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
  }
  const markers = new DynamoRevocationList(db, tableName, () => nowMs);
  let written = 0;
  for (const [name, until] of entries) {
    const subject = subjectOf(name);
    if (!subject) continue;
    await markers.revoke(subject, until * 1000, until);
    written++;
  }
  return written;
}
