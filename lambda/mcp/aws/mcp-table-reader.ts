/**
 * Everything the mcp function reads from the table, with one SigV4-signed `Query` of the sparse
 * index `MCP_READ_INDEX` (`lambda/shared/revocations.ts`): the revocation markers and the public
 * key set the rotation publishes (whose item sorts last, so every read returns it). The first
 * read takes the markers written recently enough to matter; each later one only the items that
 * changed since the previous read began (less a margin for the index's propagation and the
 * functions' clocks), so a warm environment's read stays small however many markers exist. The mcp function's role may query this index only. It reads the
 * partition `mcp`; the admin command's partitions (`lambda/oauth/stores/access-index.ts`) hold
 * only keys, hashes of `sub` and expiry times, and never a code, token or secret.
 *
 * Reads that overlap share one request, so the key cache and the revocation list, primed together
 * at start, cost one `Query`.
 */
import { ConfigError } from '../../shared/config.js';
import { parsePublicKeySet, type PublicKeySet } from '../../shared/public-key-set.js';
import { MCP_READ_INDEX, PUBLIC_KEYS_ITEM_KEY, REVOCATION_KEY_PREFIX } from '../../shared/revocations.js';
import { TABLE_SCHEMA } from '../../shared/table.js';
import {
  callAwsJson,
  credentialsFromEnvironment,
  regionFromEnvironment,
  type SignedReadOptions,
} from './aws-json-request.js';

export interface McpTableReaderOptions extends SignedReadOptions {
  tableName: string;
  /**
   * How long after its write a marker can matter (`markerRelevanceMs`): the first read skips
   * markers older than that. Without it, the first read takes the whole partition.
   */
  markerRelevanceMs?: number;
  /** Epoch milliseconds (tests set it); the signer keeps its own `now`. */
  clock?: () => number;
}

/** `TABLE_NAME` and `DYNAMODB_ENDPOINT` from the stack, the region and credentials from Lambda. */
export function dynamoDbOptionsFromEnvironment(
  env: Record<string, string | undefined>,
): McpTableReaderOptions {
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

/** A revocation marker: tokens of its subject issued at or before `notBefore` are refused. */
export interface Marker {
  /** Epoch milliseconds. */
  notBefore: number;
  /** When the marker no longer matters (epoch seconds). */
  expiresAt: number;
}

export interface McpTableSnapshot {
  /** Markers by item key (`revoked#<kind>#<id>`), none expired at the time of the read. */
  markers: ReadonlyMap<string, Marker>;
  /** The published public key set; absent until the rotation has written it to the table. */
  publicKeys?: PublicKeySet;
}

/**
 * How far back a later read looks before the previous read began: an item written by the oauth
 * function reaches the index within a second or so, and the two functions' clocks differ by less.
 */
export const CHANGE_MARGIN_MS = 30_000;

type AttributeValue = { S?: string; N?: string };
type Item = Record<string, AttributeValue>;
interface QueryOutput {
  Items?: Item[];
  LastEvaluatedKey?: Item;
}

export class McpTableReader {
  private readonly markers = new Map<string, Marker>();
  private publicKeys: PublicKeySet | undefined;
  private publicKeysJson: string | undefined;
  /** When the last complete read began (epoch ms); undefined until one completed. */
  private readSince: number | undefined;
  private inFlight: Promise<McpTableSnapshot> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: McpTableReaderOptions) {
    this.now = options.clock ?? Date.now;
  }

  /** Reads what changed (everything, the first time); concurrent callers share the request. */
  read(): Promise<McpTableSnapshot> {
    this.inFlight ??= this.readOnce().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async readOnce(): Promise<McpTableSnapshot> {
    const startedAt = this.now();
    const relevance = this.options.markerRelevanceMs;
    const since =
      this.readSince !== undefined
        ? this.readSince - CHANGE_MARGIN_MS
        : relevance !== undefined
          ? startedAt - relevance
          : undefined;
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const output = await this.query(since, start);
      items.push(...(output.Items ?? []));
      start = output.LastEvaluatedKey;
    } while (start);
    // Applied only once every page is in: a read that fails halfway changes nothing.
    for (const item of items) this.apply(item);
    const nowSeconds = startedAt / 1000;
    for (const [key, marker] of this.markers) if (marker.expiresAt <= nowSeconds) this.markers.delete(key);
    this.readSince = startedAt;
    return { markers: this.markers, ...(this.publicKeys && { publicKeys: this.publicKeys }) };
  }

  private apply(item: Item): void {
    const key = item[TABLE_SCHEMA.partitionKey]?.S;
    if (key === PUBLIC_KEYS_ITEM_KEY) {
      const jwks = item.jwks?.S;
      if (jwks && jwks !== this.publicKeysJson) {
        this.publicKeys = parsePublicKeySet(jwks);
        this.publicKeysJson = jwks;
      }
      return;
    }
    if (!key?.startsWith(REVOCATION_KEY_PREFIX)) return;
    const notBefore = Number(item.notBefore?.N);
    const expiresAt = Number(item[TABLE_SCHEMA.ttlAttribute]?.N);
    if (!Number.isFinite(notBefore) || !Number.isFinite(expiresAt)) return;
    const known = this.markers.get(key);
    // A marker only moves later; an older copy seen again (the margin) changes nothing.
    if (!known || known.notBefore < notBefore) this.markers.set(key, { notBefore, expiresAt });
  }

  private async query(since: number | undefined, start: Item | undefined): Promise<QueryOutput> {
    const { partitionKey, sortKey, partition, name } = MCP_READ_INDEX;
    const input = {
      TableName: this.options.tableName,
      IndexName: name,
      KeyConditionExpression: since === undefined ? '#p = :p' : '#p = :p AND #c > :since',
      ExpressionAttributeNames: { '#p': partitionKey, ...(since !== undefined && { '#c': sortKey }) },
      ExpressionAttributeValues: {
        ':p': { S: partition },
        ...(since !== undefined && { ':since': { N: String(since) } }),
      },
      ...(start && { ExclusiveStartKey: start }),
    };
    return (await callAwsJson(this.options, {
      service: 'dynamodb',
      target: 'DynamoDB_20120810.Query',
      jsonVersion: '1.0',
      input,
    })) as QueryOutput;
  }
}
