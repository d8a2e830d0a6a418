/**
 * The single DynamoDB table's key schema, shared by the CDK stack and the local server so that
 * both create the same table. Its one secondary index, `mcp-reads`, is described with the items
 * it holds (`MCP_READ_INDEX` in `lambda/shared/revocations.ts`).
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  /** Epoch seconds; DynamoDB deletes expired items, and readers also ignore them until then. */
  ttlAttribute: 'expiresAt',
} as const;
