/**
 * What the local server's table holds, to check that a request wrote nothing it should not: a
 * snapshot is every item by key, as JSON; `tableChanges` lists the keys added, changed and
 * removed between two snapshots; `itemsByKind` counts items by kind. Scans go straight to the embedded engine, not through a handler.
 */
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { LocalServer } from '../../lib/local/server.js';
import { TABLE_SCHEMA } from '../../lambda/shared/table.js';

export type TableSnapshot = Map<string, string>;

export interface TableChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

export interface TableReader {
  snapshot(): Promise<TableSnapshot>;
  /** How many items of each kind (`keyKind` of their key) the table holds. */
  itemsByKind(): Promise<Record<string, number>>;
  close(): void;
}

export function tableReader(server: Pick<LocalServer, 'table'>): TableReader {
  const client = new DynamoDBClient({
    endpoint: server.table.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    async snapshot() {
      const items: TableSnapshot = new Map();
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({ TableName: server.table.name, ConsistentRead: true, ExclusiveStartKey: start }),
        );
        for (const item of page.Items ?? []) {
          items.set(item[TABLE_SCHEMA.partitionKey]!.S!, JSON.stringify(item));
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
    async itemsByKind() {
      const kinds: Record<string, number> = {};
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({
            TableName: server.table.name,
            ProjectionExpression: 'pk',
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          const kind = keyKind(item[TABLE_SCHEMA.partitionKey]!.S!);
          kinds[kind] = (kinds[kind] ?? 0) + 1;
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return kinds;
    },
    close: () => client.destroy(),
  };
}

export function tableChanges(before: TableSnapshot, after: TableSnapshot): TableChanges {
  const added: string[] = [];
  const changed: string[] = [];
  for (const [key, value] of after) {
    if (!before.has(key)) added.push(key);
    else if (before.get(key) !== value) changed.push(key);
  }
  const removed = [...before.keys()].filter((key) => !after.has(key));
  return { added, changed, removed };
}

/** No change at all; the label says which case broke the rule. */
export const NO_CHANGES: TableChanges = { added: [], changed: [], removed: [] };

/** The kind of an item key: `client#abc` → `client`. */
export const keyKind = (key: string) => key.split('#')[0]!;
