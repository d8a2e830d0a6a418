/**
 * Reads the revocation list's items with one SigV4-signed `BatchGetItem`
 * (`lambda/mcp/aws-json-request.ts`). The mcp function's role may read only the list's keys
 * (`dynamodb:LeadingKeys` `revoked#*`), never a client or a grant.
 */
import { ConfigError } from '../shared/config.js';
import { TABLE_SCHEMA } from '../shared/table.js';
import {
  callAwsJson,
  credentialsFromEnvironment,
  regionFromEnvironment,
  type SignedReadOptions,
} from './aws-json-request.js';
import type { RevocationSource } from './revocation-list.js';

export interface DynamoDbRevocationSourceOptions extends SignedReadOptions {
  tableName: string;
}

/** `TABLE_NAME` and `DYNAMODB_ENDPOINT` from the stack, the region and credentials from Lambda. */
export function dynamoDbOptionsFromEnvironment(
  env: Record<string, string | undefined>,
): DynamoDbRevocationSourceOptions {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new ConfigError('TABLE_NAME is required');
  const endpoint = env.DYNAMODB_ENDPOINT;
  if (!endpoint) throw new ConfigError('DYNAMODB_ENDPOINT is required');
  return {
    tableName,
    endpoint,
    region: regionFromEnvironment(env),
    credentials: credentialsFromEnvironment(env),
  };
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

export class DynamoDbRevocationSource implements RevocationSource {
  constructor(private readonly options: DynamoDbRevocationSourceOptions) {}

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
