/**
 * Where the rotation publishes the public key set for verifiers that must not read the private
 * one (the mcp function): an item of the table, which the mcp function reads with the revocation
 * markers in one request; and, while stacks upgraded from the earlier layout may still run an mcp
 * function that reads it there, an SSM Parameter Store parameter, Standard tier (free, 4 KB;
 * three RSA-2048 public keys take about 1.4 KB).
 */
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { serializePublicKeySet, type PublicKeySet } from '../shared/public-key-set.js';
import { MCP_READ_INDEX, PUBLIC_KEYS_ITEM_KEY, PUBLIC_KEYS_SORT_VALUE } from '../shared/revocations.js';
import { TABLE_SCHEMA } from '../shared/table.js';
import { carryOverLegacyRevocations } from './legacy-revocations.js';

export interface PublicKeyPublisher {
  /** Replaces the published set. Publishing the same set again changes nothing a reader sees. */
  publish(set: PublicKeySet): Promise<void>;
}

export class ParameterStorePublisher implements PublicKeyPublisher {
  constructor(
    private readonly client: SSMClient,
    private readonly parameterName: string,
  ) {}

  async publish(set: PublicKeySet): Promise<void> {
    await this.client.send(
      new PutParameterCommand({
        Name: this.parameterName,
        Value: serializePublicKeySet(set),
        Type: 'String',
        // Standard stays free: a value over 4 KB fails here instead of silently becoming an
        // Advanced parameter, which is billed.
        Tier: 'Standard',
        Overwrite: true,
      }),
    );
  }
}

/**
 * Publishes the set into the table, beside the revocation markers, as the item the mcp function
 * reads with them in one `Query` (`MCP_READ_INDEX`). Before the first such write on a stack that
 * had the earlier revocation list, its live entries are carried over as markers
 * (`carryOverLegacyRevocations`), because the mcp function stops reading that list once the keys
 * are in the table.
 */
export class TablePublisher implements PublicKeyPublisher {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async publish(set: PublicKeySet): Promise<void> {
    const key = { [TABLE_SCHEMA.partitionKey]: PUBLIC_KEYS_ITEM_KEY };
    const existing = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    if (!existing.Item) await carryOverLegacyRevocations(this.db, this.tableName, this.clock());
    const jwks = serializePublicKeySet(set);
    // The same set again changes nothing.
    if (existing.Item?.jwks === jwks) return;
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...key,
          jwks,
          [MCP_READ_INDEX.partitionKey]: MCP_READ_INDEX.partition,
          [MCP_READ_INDEX.sortKey]: PUBLIC_KEYS_SORT_VALUE,
        },
      }),
    );
  }
}

/** Publishes to each of `publishers` in turn (the table, and the SSM parameter during the upgrade). */
export class Publishers implements PublicKeyPublisher {
  constructor(private readonly publishers: readonly PublicKeyPublisher[]) {}

  async publish(set: PublicKeySet): Promise<void> {
    for (const publisher of this.publishers) await publisher.publish(set);
  }
}
