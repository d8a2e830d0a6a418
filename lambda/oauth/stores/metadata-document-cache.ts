/**
 * Fetched client ID metadata documents, kept in the single table. A copy is fresh for as long as
 * its cache headers allow (between a minute and a day, see `cacheSeconds`), so a login does not
 * fetch a document twice and a busy client does not hammer its host. It is then kept as the last
 * good copy for {@link STALE_IF_ERROR_SECONDS} after it was fetched, for use when a refetch fails
 * (stale-if-error, as RFC 5861 has it for HTTP caches): documents behind bot protection answer
 * fetches from cloud addresses with a challenge page now and then. Only documents that passed
 * validation are cached; the key is a hash of the URL, which may be long.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sha256 } from '../../shared/crypto.js';
import type { ClientMetadata } from '../clients/client-metadata.js';

/** How long after a successful fetch the copy may stand in for a document that cannot be fetched. */
export const STALE_IF_ERROR_SECONDS = 7 * 86_400;

export interface CachedDocument {
  metadata: ClientMetadata;
  /** Epoch seconds. */
  fetchedAt: number;
  /** Until when (epoch seconds) the copy is used without fetching the document again. */
  freshUntil: number;
}

export interface MetadataDocumentCache {
  /** The last good copy, fresh or not, while it is less than {@link STALE_IF_ERROR_SECONDS} old. */
  get(url: string, nowMs: number): Promise<CachedDocument | undefined>;
  put(url: string, document: CachedDocument): Promise<void>;
}

const key = (url: string) => ({ pk: `cimd#${sha256(url)}` });

export class DynamoMetadataDocumentCache implements MetadataDocumentCache {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(url: string, nowMs: number): Promise<CachedDocument | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key(url) }));
    // DynamoDB deletes expired items lazily; the URL is compared too, not only its hash.
    if (!Item || Item.url !== url || typeof Item.expiresAt !== 'number' || Item.expiresAt <= nowMs / 1000)
      return undefined;
    // Items written before stale-if-error carry only `expiresAt`, their end of freshness.
    const freshUntil = typeof Item.freshUntil === 'number' ? Item.freshUntil : Item.expiresAt;
    return { metadata: Item.metadata, fetchedAt: Item.fetchedAt, freshUntil };
  }

  async put(url: string, document: CachedDocument): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...key(url),
          type: 'cimd',
          url,
          ...document,
          // The table's TTL: the item goes when it can no longer stand in for a failed fetch.
          expiresAt: document.fetchedAt + STALE_IF_ERROR_SECONDS,
        },
      }),
    );
  }
}
