/**
 * The embedded DynamoDB engine of the local server: dynalite speaks the real DynamoDB HTTP API
 * in-process, so the store runs the same AWS SDK calls as in Lambda. Data lives in a LevelDB
 * folder, or in memory for throwaway runs.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTableCommand,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { MCP_READ_INDEX } from '../../lambda/shared/revocations.js';
import { TABLE_SCHEMA } from '../../lambda/shared/table.js';

/** The `mcp-reads` index, as the stack creates it (`lib/constructs/storage.ts`). */
const MCP_READ_GSI: GlobalSecondaryIndex = {
  IndexName: MCP_READ_INDEX.name,
  KeySchema: [
    { AttributeName: MCP_READ_INDEX.partitionKey, KeyType: 'HASH' },
    { AttributeName: MCP_READ_INDEX.sortKey, KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...MCP_READ_INDEX.projected] },
};
const MCP_READ_ATTRIBUTES = [
  { AttributeName: MCP_READ_INDEX.partitionKey, AttributeType: 'S' as const },
  { AttributeName: MCP_READ_INDEX.sortKey, AttributeType: 'N' as const },
];

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  documentClient: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/**
 * Opens and closes the LevelDB folder with dynalite's own copy of `level`: a corrupt folder
 * (a garbage `CURRENT`, say) then fails here with a catchable error, where dynalite would
 * throw from inside its request handler and end the process.
 */
export async function checkLevelDb(path: string): Promise<void> {
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = fromDynalite('level') as {
    Level: new (path: string) => { open(): Promise<void>; close(): Promise<void> };
  };
  const db = new Level(path);
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: Error }).cause;
    throw new Error(cause?.message ?? (error as Error).message, { cause: error });
  }
  await db.close();
}

export async function startLocalDynamo(options: { path?: string; tableName: string }): Promise<LocalDynamo> {
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(client, options.tableName);
  return {
    endpoint,
    client,
    documentClient: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Creates the table as the stack does, or adds the `mcp-reads` index to one from before it. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  let indexes: string[] | undefined;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    indexes = (Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName!);
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  if (indexes === undefined) {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: 'S' },
          ...MCP_READ_ATTRIBUTES,
        ],
        KeySchema: [{ AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [MCP_READ_GSI],
      }),
    );
  } else if (!indexes.includes(MCP_READ_INDEX.name)) {
    // A data folder from before the index: added as a deployed table gets it (one more index).
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: MCP_READ_ATTRIBUTES,
        GlobalSecondaryIndexUpdates: [{ Create: MCP_READ_GSI }],
      }),
    );
  } else {
    return;
  }
  // dynalite answers CreateTable while the table is still CREATING, and refuses reads of it
  // (ResourceNotFoundException) until a timer marks it ACTIVE: wait for that, as DynamoDB users do.
  for (let attempt = 0; ; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (Table?.TableStatus === 'ACTIVE' && indexActive) return;
    if (attempt === 200) throw new Error(`table ${tableName} is still ${Table?.TableStatus}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
