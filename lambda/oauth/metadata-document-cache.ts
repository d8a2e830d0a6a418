/**
 * Fetched client ID metadata documents, kept in the single table for as long as their cache
 * headers allow (between a minute and a day, see `cacheSeconds`), so a login does not fetch a
 * document twice and a busy client does not hammer its host. Only documents that passed
 * validation are cached; the key is a hash of the URL, which may be long.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sha256 } from '../shared/crypto.js';
import type { ClientMetadata } from './client-metadata.js';

export interface CachedDocument {
  metadata: ClientMetadata;
  /** Epoch seconds. */
  fetchedAt: number;
  expiresAt: number;
}

export interface MetadataDocumentCache {
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
    return { metadata: Item.metadata, fetchedAt: Item.fetchedAt, expiresAt: Item.expiresAt };
  }

  async put(url: string, document: CachedDocument): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { ...key(url), type: 'cimd', url, ...document } }),
    );
  }
}
