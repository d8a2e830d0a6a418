/**
 * The single DynamoDB table's key schema, shared by the CDK stack and the local server so that
 * both create the same table.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  /** Epoch seconds; DynamoDB deletes expired items, and readers also ignore them until then. */
  ttlAttribute: 'expiresAt',
} as const;
