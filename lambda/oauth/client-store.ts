/**
 * Registered clients, kept in the single DynamoDB table. Secrets and registration access tokens
 * are stored only as SHA-256 hashes. Every write is a single conditional item write, so the
 * embedded local engine serves the same code.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { ClientMetadata } from './client-metadata.js';

export interface StoredClient {
  clientId: string;
  metadata: ClientMetadata;
  /** SHA-256 of the client secret; absent for public clients. */
  secretHash?: string;
  registrationTokenHash: string;
  /** Epoch seconds. */
  issuedAt: number;
  updatedAt: number;
}

export interface ClientStore {
  /** Stores a new client; fails if the id exists. */
  create(client: StoredClient): Promise<void>;
  get(clientId: string): Promise<StoredClient | undefined>;
  /** Replaces the metadata of an existing client; returns false if it no longer exists. */
  updateMetadata(clientId: string, metadata: ClientMetadata, updatedAt: number): Promise<boolean>;
  /** Deletes a client; returns false if it did not exist. */
  delete(clientId: string): Promise<boolean>;
}

export class ClientExistsError extends Error {
  readonly code = 'ERR_CLIENT_EXISTS';
}

const key = (clientId: string) => ({ pk: `client#${clientId}` });

export class DynamoClientStore implements ClientStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(client: StoredClient): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key(client.clientId), type: 'client', ...client },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ClientExistsError(client.clientId);
      throw error;
    }
  }

  async get(clientId: string): Promise<StoredClient | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key(clientId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      clientId: Item.clientId,
      metadata: Item.metadata,
      ...(Item.secretHash ? { secretHash: Item.secretHash } : {}),
      registrationTokenHash: Item.registrationTokenHash,
      issuedAt: Item.issuedAt,
      updatedAt: Item.updatedAt,
    };
  }

  async updateMetadata(clientId: string, metadata: ClientMetadata, updatedAt: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(clientId),
          UpdateExpression: 'SET metadata = :m, updatedAt = :u',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':m': metadata, ':u': updatedAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async delete(clientId: string): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key(clientId),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
