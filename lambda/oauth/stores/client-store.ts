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
import type { ClientMetadata } from '../clients/client-metadata.js';
import { clientIndexAttributes } from './access-index.js';

export interface StoredClient {
  clientId: string;
  metadata: ClientMetadata;
  /** SHA-256 of the client secret; absent for public clients. */
  secretHash?: string;
  registrationTokenHash: string;
  /** Epoch seconds. */
  issuedAt: number;
  updatedAt: number;
  /**
   * Epoch seconds after which the registration is gone (DynamoDB TTL). Set for interactive
   * clients only: a deadline to complete a first login, then pushed forward while in use.
   */
  expiresAt?: number;
  /** When a user last completed a login with this client (epoch seconds). */
  lastLoginAt?: number;
  /**
   * Set for a client ID metadata document client (never stored here): the host that served the
   * document, the only thing about the client that anyone vouches for.
   */
  documentHost?: string;
}

export interface ClientStore {
  /** Stores a new client; fails if the id exists. */
  create(client: StoredClient): Promise<void>;
  get(clientId: string): Promise<StoredClient | undefined>;
  /** Replaces the metadata of an existing client; returns false if it no longer exists. */
  updateMetadata(clientId: string, metadata: ClientMetadata, updatedAt: number): Promise<boolean>;
  /** Deletes a client; returns false if it did not exist. */
  delete(clientId: string): Promise<boolean>;
  /** Moves an expiring client's expiry to `expiresAt` (epoch seconds); clients without one are left alone. */
  extend(clientId: string, expiresAt: number): Promise<void>;
  /** Records a completed login at `now` (epoch seconds) and, for an expiring client, extends it to `expiresAt`. */
  recordLogin(clientId: string, now: number, expiresAt: number): Promise<void>;
}

/**
 * The shape of the client ids this server issues (`randomToken(16)`: 22 base64url characters),
 * with room to spare. Anything else cannot be a client, so it is answered as an unknown client
 * without a storage call (an oversized key would make DynamoDB fail the request).
 */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export class ClientExistsError extends Error {
  readonly code = 'ERR_CLIENT_EXISTS';
}

const key = (clientId: string) => ({ pk: `client#${clientId}` });

export class DynamoClientStore implements ClientStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async create(client: StoredClient): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key(client.clientId),
            type: 'client',
            ...client,
            ...clientIndexAttributes(client.clientId, client.issuedAt),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ClientExistsError(client.clientId);
      throw error;
    }
  }

  async get(clientId: string): Promise<StoredClient | undefined> {
    if (!CLIENT_ID_PATTERN.test(clientId)) return undefined;
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key(clientId), ConsistentRead: true }),
    );
    // DynamoDB deletes expired items lazily, so an expired one may still be read.
    if (!Item || (typeof Item.expiresAt === 'number' && Item.expiresAt <= this.now() / 1000))
      return undefined;
    return {
      clientId: Item.clientId,
      metadata: Item.metadata,
      ...(Item.secretHash ? { secretHash: Item.secretHash } : {}),
      registrationTokenHash: Item.registrationTokenHash,
      issuedAt: Item.issuedAt,
      updatedAt: Item.updatedAt,
      ...(typeof Item.expiresAt === 'number' ? { expiresAt: Item.expiresAt } : {}),
      ...(typeof Item.lastLoginAt === 'number' ? { lastLoginAt: Item.lastLoginAt } : {}),
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

  async extend(clientId: string, expiresAt: number): Promise<void> {
    if (!CLIENT_ID_PATTERN.test(clientId)) return;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(clientId),
          UpdateExpression: 'SET expiresAt = :e',
          // An expired client stays gone, even before TTL deletes it.
          ConditionExpression: 'expiresAt > :now AND expiresAt < :e',
          ExpressionAttributeValues: { ':e': expiresAt, ':now': Math.floor(this.now() / 1000) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async recordLogin(clientId: string, now: number, expiresAt: number): Promise<void> {
    // Metadata document clients (URL ids) are not registered here; there is nothing to record.
    if (!CLIENT_ID_PATTERN.test(clientId)) return;
    // An expiring client that is still alive: record the login and push the expiry forward.
    // Otherwise a client that never expires: record the login only. An expired one stays gone.
    const attempts = [
      {
        set: 'SET lastLoginAt = :now, expiresAt = :e',
        condition: 'expiresAt > :now',
        values: { ':e': expiresAt },
      },
      {
        set: 'SET lastLoginAt = :now',
        condition: 'attribute_exists(pk) AND attribute_not_exists(expiresAt)',
        values: {},
      },
    ];
    for (const attempt of attempts) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key(clientId),
            UpdateExpression: attempt.set,
            ConditionExpression: attempt.condition,
            ExpressionAttributeValues: { ':now': now, ...attempt.values },
          }),
        );
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }
}
