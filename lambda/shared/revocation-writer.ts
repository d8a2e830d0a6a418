/**
 * Writes and reads single revocation markers (`lambda/shared/revocations.ts`) with the AWS SDK:
 * the oauth function's revocations (`lambda/oauth/stores/revocations.ts`) and the rotation's one-time
 * carry-over of the earlier list (`lambda/rotate-keys/legacy-revocations.ts`).
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MARKER_STEP_MS, MCP_READ_INDEX, revocationKey, type RevokedSubject } from './revocations.js';
import { TABLE_SCHEMA } from './table.js';

export interface RevocationList {
  /**
   * Refuses every token of `subject` issued at or before `notBefore` (epoch milliseconds), until
   * `expiresAt` (epoch seconds); a marker already set later stays as it is, and one set less than
   * `MARKER_STEP_MS` before moves a whole step on (so it may refuse that subject's tokens of the
   * step after `notBefore` too).
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
    // A marker that is not set, or set more than a step before, moves to `notBefore`.
    if (await this.setMarker(subject, notBefore, expiresAt, { below: notBefore - MARKER_STEP_MS })) return;
    // Set within the step before (or later). When it does not yet cover `notBefore`, it moves one
    // step on from where it is, which covers `notBefore` and whatever follows within that step:
    // the index entry every mcp environment reads changes at most once a step, whatever is sent.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const current = await this.storedNotBefore(subject);
      if (current === undefined) {
        // Gone in between (its TTL): set it as for a first revocation.
        if (await this.setMarker(subject, notBefore, expiresAt, { below: notBefore - MARKER_STEP_MS }))
          return;
        continue;
      }
      if (current >= notBefore) return;
      const moved = current + MARKER_STEP_MS;
      // `expiresAt` was worked out from `notBefore` in whole seconds (`markerExpiresAt`): the same from `moved`.
      const movedExpiresAt = expiresAt + Math.ceil(moved / 1000) - Math.ceil(notBefore / 1000);
      // Only from the value read: a concurrent writer that moved it first moved it at least as far.
      if (await this.setMarker(subject, moved, movedExpiresAt, { equal: current })) return;
    }
    throw new Error(`the revocation marker ${revocationKey(subject)} kept changing`);
  }

  /** One conditional write of the marker; false when the condition did not hold. */
  private async setMarker(
    subject: RevokedSubject,
    notBefore: number,
    expiresAt: number,
    condition: { below: number } | { equal: number },
  ): Promise<boolean> {
    try {
      const output = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          ...(this.onConsumedCapacity && { ReturnConsumedCapacity: 'TOTAL' }),
          Key: { [TABLE_SCHEMA.partitionKey]: revocationKey(subject) },
          // One item of a few hundred bytes per subject: the same write costs the same whatever
          // else is stored.
          UpdateExpression: 'SET #nb = :nb, #ttl = :ttl, #part = :part, #changed = :changed',
          ConditionExpression:
            'below' in condition ? 'attribute_not_exists(#nb) OR #nb < :condition' : '#nb = :condition',
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
            ':condition': 'below' in condition ? condition.below : condition.equal,
          },
        }),
      );
      this.onConsumedCapacity?.(output.ConsumedCapacity?.CapacityUnits ?? Number.NaN);
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** The marker as stored, expired or not (a strongly consistent read). */
  private async storedNotBefore(subject: RevokedSubject): Promise<number | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [TABLE_SCHEMA.partitionKey]: revocationKey(subject) },
        ConsistentRead: true,
      }),
    );
    return typeof Item?.notBefore === 'number' ? Item.notBefore : undefined;
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
