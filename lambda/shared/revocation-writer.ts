/**
 * Writes and reads single revocation markers (`lambda/shared/revocations.ts`) with the AWS SDK:
 * the oauth function's revocations (`lambda/oauth/revocations.ts`) and the rotation's one-time
 * carry-over of the earlier list (`lambda/rotate-keys/legacy-revocations.ts`).
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MCP_READ_INDEX, revocationKey, type RevokedSubject } from './revocations.js';
import { TABLE_SCHEMA } from './table.js';

export interface RevocationList {
  /**
   * Refuses every token of `subject` issued at or before `notBefore` (epoch milliseconds), until
   * `expiresAt` (epoch seconds); a marker already set later stays as it is.
   */
  revoke(subject: RevokedSubject, notBefore: number, expiresAt: number): Promise<void>;
  /** The subject's marker (epoch milliseconds), if one is set and not expired. */
  notBefore(subject: RevokedSubject, now: number): Promise<number | undefined>;
}

export class DynamoRevocationList implements RevocationList {
  /**
   * `onConsumedCapacity`, when given, receives the write capacity units each revocation consumed
   * (DynamoDB's `ConsumedCapacity`, the table's and the index's); the capacity tests read it.
   */
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => number = Date.now,
    private readonly onConsumedCapacity?: (units: number) => void,
  ) {}

  async revoke(subject: RevokedSubject, notBefore: number, expiresAt: number): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          ...(this.onConsumedCapacity && { ReturnConsumedCapacity: 'TOTAL' }),
          Key: { [TABLE_SCHEMA.partitionKey]: revocationKey(subject) },
          // One item of a few hundred bytes per subject: the same write costs the same whatever
          // else is stored. The marker only moves later.
          UpdateExpression: 'SET #nb = :nb, #ttl = :ttl, #part = :part, #changed = :changed',
          ConditionExpression: 'attribute_not_exists(#nb) OR #nb < :nb',
          ExpressionAttributeNames: {
            '#nb': 'notBefore',
            '#ttl': TABLE_SCHEMA.ttlAttribute,
            '#part': MCP_READ_INDEX.partitionKey,
            '#changed': MCP_READ_INDEX.sortKey,
          },
          ExpressionAttributeValues: {
            ':nb': notBefore,
            ':ttl': expiresAt,
            ':part': MCP_READ_INDEX.partition,
            ':changed': this.clock(),
          },
        }),
      )
      .then((output) => this.onConsumedCapacity?.(output.ConsumedCapacity?.CapacityUnits ?? Number.NaN))
      .catch((error: unknown) => {
        // Already set as late or later: nothing to do.
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      });
  }

  async notBefore(subject: RevokedSubject, now: number): Promise<number | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [TABLE_SCHEMA.partitionKey]: revocationKey(subject) },
        ConsistentRead: true,
      }),
    );
    if (!Item || typeof Item.notBefore !== 'number') return undefined;
    if (typeof Item[TABLE_SCHEMA.ttlAttribute] === 'number' && Item[TABLE_SCHEMA.ttlAttribute] <= now / 1000)
      return undefined;
    return Item.notBefore;
  }
}
