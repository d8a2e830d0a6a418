/**
 * Reads the earlier revocation list's items (hourly buckets of entries that ended at a time;
 * `LEGACY_REVOCATION` in `lambda/shared/revocations.ts`) with SigV4-signed `BatchGetItem`s, only
 * while a stack upgraded from that layout has not yet published its keys to the table: the
 * rotation that first does so carries those entries over as markers
 * (`lambda/rotate-keys/legacy-revocations.ts`), and from then on nothing reads these items. The
 * mcp function's role may read only the list's keys (`dynamodb:LeadingKeys` `revoked#*`).
 */
import { TABLE_SCHEMA } from '../../shared/table.js';
import { callAwsJson, type SignedReadOptions } from './aws-json-request.js';

export interface LegacyRevocationReaderOptions extends SignedReadOptions {
  tableName: string;
}

type AttributeValue = { S?: string; N?: string };
type Item = Record<string, AttributeValue>;
interface BatchGetOutput {
  Responses?: Record<string, Item[]>;
  UnprocessedKeys?: Record<string, { Keys?: Item[] }>;
}

/** `BatchGetItem` may leave keys unprocessed under load; they are asked again this many times. */
const MAX_ATTEMPTS = 3;

/**
 * The most keys one `BatchGetItem` request may name; DynamoDB refuses more with a
 * `ValidationException`. The longest token lifetime (a day, plus the time an entry outlives its
 * token) spans 26 hourly buckets of 4 items in the last two minutes of every hour: 104 keys.
 */
export const BATCH_GET_ITEM_MAX_KEYS = 100;

export class LegacyRevocationReader {
  constructor(private readonly options: LegacyRevocationReaderOptions) {}

  /** Every entry of the items `itemKeys` name, read in requests of at most 100 keys, in parallel. */
  async load(itemKeys: string[]): Promise<Map<string, number>> {
    const entries = new Map<string, number>();
    const requests: Promise<void>[] = [];
    for (let start = 0; start < itemKeys.length; start += BATCH_GET_ITEM_MAX_KEYS) {
      requests.push(this.loadBatch(itemKeys.slice(start, start + BATCH_GET_ITEM_MAX_KEYS), entries));
    }
    await Promise.all(requests);
    return entries;
  }

  /** One batch of keys into `entries`, asking again for keys DynamoDB leaves unprocessed. */
  private async loadBatch(itemKeys: string[], entries: Map<string, number>): Promise<void> {
    const { tableName } = this.options;
    let keys: Item[] = itemKeys.map((key) => ({ [TABLE_SCHEMA.partitionKey]: { S: key } }));
    for (let attempt = 1; keys.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS) throw new Error('BatchGetItem left keys unprocessed');
      const output = await this.batchGet({ RequestItems: { [tableName]: { Keys: keys } } });
      for (const item of output.Responses?.[tableName] ?? []) {
        for (const [name, value] of Object.entries(item)) {
          if (name === TABLE_SCHEMA.partitionKey || name === TABLE_SCHEMA.ttlAttribute) continue;
          const until = Number(value.N);
          // An entry in two items (revoked twice, in two buckets) ends at the later of the two.
          if (Number.isFinite(until)) entries.set(name, Math.max(until, entries.get(name) ?? until));
        }
      }
      keys = output.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }

  private async batchGet(input: unknown): Promise<BatchGetOutput> {
    return (await callAwsJson(this.options, {
      service: 'dynamodb',
      target: 'DynamoDB_20120810.BatchGetItem',
      jsonVersion: '1.0',
      input,
    })) as BatchGetOutput;
  }
}
