/**
 * JWT identifiers (`jti`) already used, so that an assertion is accepted once (RFC 7523 §3 item 7):
 * one conditional write per use, kept until the assertion has expired (DynamoDB TTL). The key is
 * a hash of who issued the JWT, what kind of JWT it is, and its `jti`, which are chosen by the
 * sender and may be long.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sha256 } from '../../shared/crypto.js';

export interface UsedJtis {
  /**
   * Records `jti` as used by `issuer` for JWTs of `kind` (such as `client-assertion`) until
   * `expiresAt` (epoch seconds). False when it was already used: the JWT is a replay.
   */
  use(kind: string, issuer: string, jti: string, expiresAt: number): Promise<boolean>;
}

export class DynamoUsedJtis implements UsedJtis {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async use(kind: string, issuer: string, jti: string, expiresAt: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `jti#${sha256(`${kind}\n${issuer}\n${jti}`)}`, type: 'jti', expiresAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
