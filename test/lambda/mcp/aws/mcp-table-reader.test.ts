import { PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sendWithNodeHttp, type Send } from '../../../../lambda/mcp/aws/aws-json-request.js';
import { LegacyRevocationReader } from '../../../../lambda/mcp/aws/legacy-revocation-reader.js';
import { CHANGE_MARGIN_MS, McpTableReader } from '../../../../lambda/mcp/aws/mcp-table-reader.js';
import { TablePublicKeySource, TableRevocationSource } from '../../../../lambda/mcp/aws/table-sources.js';
import { TablePublisher } from '../../../../lambda/rotate-keys/public-key-publisher.js';
import type { PublicKeySet } from '../../../../lambda/shared/public-key-set.js';
import { DynamoRevocationList } from '../../../../lambda/shared/revocation-writer.js';
import {
  MCP_READ_INDEX,
  markerExpiresAt,
  markerRelevanceMs,
  PUBLIC_KEYS_ITEM_KEY,
  revocationKey,
  type RevokedSubject,
} from '../../../../lambda/shared/revocations.js';
import { startLocalDynamo, type LocalDynamo } from '../../../../lib/local/dynamodb.js';

const TABLE = 'mcp-table';
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const HOUR = 3600;

let dynamo: LocalDynamo;
let clock: number;
/** Epoch seconds `s` seconds from the test clock. */
const inSeconds = (s: number) => Math.floor(clock / 1000) + s;

beforeEach(async () => {
  // A table of its own per test: the reader takes the whole index partition.
  dynamo = await startLocalDynamo({ tableName: TABLE });
  clock = T0;
});
afterEach(async () => {
  await dynamo.close();
});

type Item = Record<string, { S?: string; N?: string }>;
interface QueryInput {
  KeyConditionExpression: string;
  ExpressionAttributeValues: Record<string, { S?: string; N?: string }>;
  ExclusiveStartKey?: Item;
  Limit?: number;
}

/**
 * A sender over the real engine that records each Query and the keys of the items answered.
 * `pageSize` makes the engine page its answers as DynamoDB does at 1 MB (it adds `Limit` to the
 * request; the engine does not check signatures). `fail(n)` answers the n-th request of a read
 * with a service error instead.
 */
function recorder(options: { pageSize?: number } = {}) {
  const requests: { input: QueryInput; keys: string[] }[] = [];
  let failAt: number | undefined;
  const send: Send = async (request, timeoutMs) => {
    const input = JSON.parse(request.body) as QueryInput;
    const body = options.pageSize ? JSON.stringify({ ...input, Limit: options.pageSize }) : request.body;
    if (failAt !== undefined && requests.length + 1 === failAt) {
      requests.push({ input, keys: [] });
      return {
        status: 500,
        body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError' }),
      };
    }
    const answer = await sendWithNodeHttp({ ...request, body }, timeoutMs);
    const { Items = [] } = JSON.parse(answer.body) as { Items?: Item[] };
    requests.push({ input, keys: Items.map((item) => item.pk!.S!) });
    return answer;
  };
  return { send, requests, failAtRequest: (n: number | undefined) => (failAt = n) };
}

function reader(send?: Send) {
  return new McpTableReader({
    tableName: TABLE,
    endpoint: dynamo.endpoint,
    region: 'local',
    credentials: () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
    clock: () => clock,
    ...(send && { send }),
  });
}

const writer = (db: DynamoDBDocumentClient = dynamo.documentClient) =>
  new DynamoRevocationList(db, TABLE, () => clock);
const publisher = () => new TablePublisher(dynamo.documentClient, TABLE, () => clock);

function keySet(...kids: string[]): PublicKeySet {
  return {
    keys: kids.map((kid) => ({ kty: 'RSA', kid, alg: 'RS256', use: 'sig', n: `n-of-${kid}`, e: 'AQAB' })),
  };
}

/** Writes `count` markers on clients `bulk-0`… in parallel, small batches at a time. */
async function revokeMany(count: number, expiresAt: number): Promise<void> {
  const markers = writer();
  for (let start = 0; start < count; start += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - start) }, (_, i) =>
        markers.revoke({ client: `bulk-${start + i}` }, clock, expiresAt),
      ),
    );
  }
}

describe('McpTableReader', () => {
  it('reads what the oauth function writes and the keys the rotation publishes, for both sources, with one Query', async () => {
    // Prepare
    const markers = writer();
    const subjects: RevokedSubject[] = [{ client: 'c' }, { grant: 'g' }, { user: 'u' }, { token: 't' }];
    for (const [i, subject] of subjects.entries()) await markers.revoke(subject, T0 + i, inSeconds(HOUR));
    await publisher().publish(keySet('k1', 'k2'));
    const { send, requests } = recorder();
    const table = reader(send);

    // Act: primed together at start, as the mcp function does
    const [revocations, keys] = await Promise.all([
      new TableRevocationSource({ reader: table, maxTokenLifetimeSeconds: HOUR }).load(),
      new TablePublicKeySource(table).load(),
    ]);

    // Assess
    expect(requests).toHaveLength(1);
    expect(revocations).toEqual(
      new Map(
        subjects.map((subject, i) => [
          revocationKey(subject),
          { notBefore: T0 + i, expiresAt: inSeconds(HOUR) },
        ]),
      ),
    );
    expect(keys).toEqual(keySet('k1', 'k2'));
  });

  it('asks a later read only for what changed since the previous read began, and sees a new marker and a rotated key set', async () => {
    // Prepare: written a minute before the first read
    clock = T0 - 60_000;
    await writer().revoke({ client: 'old' }, clock, inSeconds(HOUR));
    await publisher().publish(keySet('k1'));
    clock = T0;
    const { send, requests } = recorder();
    const table = reader(send);
    await table.read();
    clock = T0 + 60_000;
    await writer().revoke({ grant: 'new' }, clock, inSeconds(HOUR));
    await publisher().publish(keySet('k2', 'k1'));

    // Act
    const snapshot = await table.read();

    // Assess: the request names the change time, and only the two changed items come back
    expect(requests[0]!.input.KeyConditionExpression).toBe('#p = :p');
    expect(requests[1]!.input.KeyConditionExpression).toBe('#p = :p AND #c > :since');
    expect(requests[1]!.input.ExpressionAttributeValues[':since']).toEqual({
      N: String(T0 - CHANGE_MARGIN_MS),
    });
    expect(requests[1]!.keys.sort()).toEqual([PUBLIC_KEYS_ITEM_KEY, revocationKey({ grant: 'new' })].sort());
    expect([...snapshot.markers.keys()].sort()).toEqual(
      [revocationKey({ client: 'old' }), revocationKey({ grant: 'new' })].sort(),
    );
    expect(snapshot.publicKeys).toEqual(keySet('k2', 'k1'));
  });

  it('keeps a marker where it is when the same subject is revoked with an earlier not-before, and moves it later', async () => {
    // Prepare
    const markers = writer();
    const subject = { grant: 'g' };
    await markers.revoke(subject, T0 + 5_000, inSeconds(HOUR));
    const table = reader();

    // Act
    await markers.revoke(subject, T0 + 1_000, inSeconds(HOUR) - 4);
    const afterEarlier = (await table.read()).markers.get(revocationKey(subject));
    clock = T0 + 60_000;
    await markers.revoke(subject, T0 + 20_000, inSeconds(HOUR));
    const afterLater = (await table.read()).markers.get(revocationKey(subject));

    // Assess
    expect(afterEarlier).toEqual({ notBefore: T0 + 5_000, expiresAt: Math.floor(T0 / 1000) + HOUR });
    expect(afterLater).toEqual({ notBefore: T0 + 20_000, expiresAt: inSeconds(HOUR) });
  });

  it('drops markers that have expired, at a read and once they expire between reads', async () => {
    // Prepare: the engine keeps expired items, as DynamoDB does until its TTL sweep
    const markers = writer();
    await markers.revoke({ client: 'expired' }, T0, inSeconds(-1));
    await markers.revoke({ client: 'ends-soon' }, T0, inSeconds(30));
    await markers.revoke({ client: 'lives' }, T0, inSeconds(HOUR));
    const table = reader();

    // Act
    const first = [...(await table.read()).markers.keys()].sort();
    clock += 30_000;
    const second = [...(await table.read()).markers.keys()];

    // Assess
    expect(first).toEqual([revocationKey({ client: 'ends-soon' }), revocationKey({ client: 'lives' })]);
    expect(second).toEqual([revocationKey({ client: 'lives' })]);
  });

  it('reads every page of an answer the engine pages', async () => {
    // Prepare
    await revokeMany(120, inSeconds(HOUR));
    const { send, requests } = recorder({ pageSize: 25 });

    // Act
    const snapshot = await reader(send).read();

    // Assess: five full pages and the empty one that ends the answer, each from where the last stopped
    expect(snapshot.markers.size).toBe(120);
    expect(requests.length).toBeGreaterThanOrEqual(5);
    expect(requests[0]!.input.ExclusiveStartKey).toBeUndefined();
    expect(requests.slice(1).every((r) => r.input.ExclusiveStartKey !== undefined)).toBe(true);
  });

  it('changes nothing when a read fails on its second page, and the next read asks again from the last complete one', async () => {
    // Prepare
    clock = T0 - 60_000;
    await writer().revoke({ client: 'before' }, clock, inSeconds(HOUR));
    clock = T0;
    const { send, requests, failAtRequest } = recorder({ pageSize: 1 });
    const table = reader(send);
    const snapshot = await table.read();
    clock = T0 + 60_000;
    await writer().revoke({ grant: 'first-page' }, clock, inSeconds(HOUR));
    clock += 1;
    await writer().revoke({ grant: 'second-page' }, clock, inSeconds(HOUR));
    const before = requests.length;
    failAtRequest(before + 2);

    // Act
    await expect(table.read()).rejects.toMatchObject({ name: 'InternalServerError' });
    const afterFailure = [...snapshot.markers.keys()];
    failAtRequest(undefined);
    const retry = before + 2;
    const after = [...(await table.read()).markers.keys()].sort();

    // Assess: the first page's marker was read but not applied
    expect(requests[before]!.keys).toEqual([revocationKey({ grant: 'first-page' })]);
    expect(afterFailure).toEqual([revocationKey({ client: 'before' })]);
    expect(requests[retry]!.input.ExpressionAttributeValues[':since']).toEqual({
      N: String(T0 - CHANGE_MARGIN_MS),
    });
    expect(after).toEqual(
      [
        revocationKey({ client: 'before' }),
        revocationKey({ grant: 'first-page' }),
        revocationKey({ grant: 'second-page' }),
      ].sort(),
    );
  });

  it('never sees items of other kinds: a client or a grant carries no index attributes', async () => {
    // Prepare
    await dynamo.documentClient.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: 'client#x', secretHash: 'h', expiresAt: inSeconds(HOUR) },
      }),
    );
    await dynamo.documentClient.send(
      new PutCommand({ TableName: TABLE, Item: { pk: 'grant#y', sub: 'u', expiresAt: inSeconds(HOUR) } }),
    );
    await writer().revoke({ client: 'x' }, T0, inSeconds(HOUR));
    const { send, requests } = recorder();

    // Act
    const snapshot = await reader(send).read();

    // Assess
    expect(requests.flatMap((r) => r.keys)).toEqual([revocationKey({ client: 'x' })]);
    expect([...snapshot.markers.keys()]).toEqual([revocationKey({ client: 'x' })]);
    expect(snapshot.publicKeys).toBeUndefined();
  });
});

describe('TableRevocationSource', () => {
  it('adds the earlier list as markers at their ends while the table holds no keys, and stops reading it once it does', async () => {
    // Prepare: an entry of the earlier layout, in the hourly bucket of its end
    const until = inSeconds(600);
    await dynamo.documentClient.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: `revoked#${Math.floor(until / 3600)}#1`, 'grant#old': until },
      }),
    );
    await writer().revoke({ client: 'new' }, T0, inSeconds(HOUR));
    let legacyReads = 0;
    const legacy = new LegacyRevocationReader({
      tableName: TABLE,
      endpoint: dynamo.endpoint,
      region: 'local',
      credentials: () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
      send: (request, timeoutMs) => {
        legacyReads++;
        return sendWithNodeHttp(request, timeoutMs);
      },
    });
    const source = new TableRevocationSource({
      reader: reader(),
      legacy,
      maxTokenLifetimeSeconds: HOUR,
      now: () => clock,
    });

    // Act
    const beforeKeys = await source.load();
    const readsBeforeKeys = legacyReads;
    clock += 60_000;
    await publisher().publish(keySet('k1'));
    const afterKeys = await source.load();

    // Assess
    expect(beforeKeys).toEqual(
      new Map([
        [revocationKey({ client: 'new' }), { notBefore: T0, expiresAt: Math.floor(T0 / 1000) + HOUR }],
        [revocationKey({ grant: 'old' }), { notBefore: until * 1000, expiresAt: until }],
      ]),
    );
    expect(readsBeforeKeys).toBeGreaterThan(0);
    expect(legacyReads).toBe(readsBeforeKeys);
    // The rotation's first publish carried the entry over, so it is still refused
    expect(afterKeys).toEqual(beforeKeys);
  });
});

describe('DynamoRevocationList write capacity', () => {
  /**
   * The writer's own commands, sent with `ReturnConsumedCapacity: 'TOTAL'` added, recording the
   * capacity the engine reports. The engine counts the table's write (by item size), not the index's.
   */
  function measuring() {
    const units: number[] = [];
    const db = {
      send: async (command: UpdateCommand) => {
        const output = await dynamo.documentClient.send(
          new UpdateCommand({ ...command.input, ReturnConsumedCapacity: 'TOTAL' }),
        );
        units.push(output.ConsumedCapacity?.CapacityUnits ?? Number.NaN);
        return output;
      },
    } as unknown as DynamoDBDocumentClient;
    return { db, units };
  }

  it('costs one write unit to revoke a subject, again the second time, and with 2,000 markers already stored', async () => {
    // Prepare
    const { db, units } = measuring();
    const markers = writer(db);

    // Act
    await markers.revoke({ grant: 'g' }, T0, inSeconds(HOUR));
    await markers.revoke({ grant: 'g' }, T0 + 10_000, inSeconds(HOUR));
    await revokeMany(2_000, inSeconds(HOUR));
    await markers.revoke({ grant: 'g' }, T0 + 20_000, inSeconds(HOUR));
    await markers.revoke({ user: 'u' }, T0 + 20_000, inSeconds(HOUR));

    // Assess: every write went through, and none grew with what else is stored
    expect(units).toEqual([1, 1, 1, 1]);
    const snapshot = await reader().read();
    expect(snapshot.markers.size).toBe(2_002);
    expect(snapshot.markers.get(revocationKey({ grant: 'g' }))?.notBefore).toBe(T0 + 20_000);
  });

  it('stores one item per subject holding only the marker, its expiry and the index attributes', async () => {
    // Prepare
    const markers = writer();

    // Act
    await markers.revoke({ user: 'u' }, T0, inSeconds(HOUR));
    clock += 10_000;
    await markers.revoke({ user: 'u' }, T0 + 10_000, inSeconds(HOUR));

    // Assess
    const { Items } = await dynamo.documentClient.send(new ScanCommand({ TableName: TABLE }));
    expect(Items).toEqual([
      {
        pk: revocationKey({ user: 'u' }),
        notBefore: T0 + 10_000,
        expiresAt: inSeconds(HOUR),
        [MCP_READ_INDEX.partitionKey]: MCP_READ_INDEX.partition,
        [MCP_READ_INDEX.sortKey]: T0 + 10_000,
      },
    ]);
  });
});

describe('the first read of an environment', () => {
  it('skips markers written too long ago to matter, and still reads the public keys, however old', async () => {
    // Prepare: a marker written two hours before, one a minute before, keys published a day before
    const longest = HOUR;
    const write = (at: number, subject: RevokedSubject) =>
      new DynamoRevocationList(dynamo.documentClient, TABLE, () => at).revoke(
        subject,
        at,
        markerExpiresAt(at, longest),
      );
    await new TablePublisher(dynamo.documentClient, TABLE, () => clock - 86_400_000).publish({ keys: [] });
    await write(clock - 2 * 3_600_000, { client: 'long-ago' });
    await write(clock - 60_000, { client: 'recent' });
    const { send, requests } = recorder();
    const first = new McpTableReader({
      tableName: TABLE,
      endpoint: dynamo.endpoint,
      region: 'local',
      credentials: () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
      clock: () => clock,
      markerRelevanceMs: markerRelevanceMs(longest),
      send,
    });

    // Act
    const snapshot = await first.read();

    // Assess: one request, which asked only for what can still matter
    expect(requests).toHaveLength(1);
    expect(requests[0]!.input.ExpressionAttributeValues[':since']).toEqual({
      N: String(clock - markerRelevanceMs(longest)),
    });
    expect(requests[0]!.keys.sort()).toEqual(
      [PUBLIC_KEYS_ITEM_KEY, revocationKey({ client: 'recent' })].sort(),
    );
    expect([...snapshot.markers.keys()]).toEqual([revocationKey({ client: 'recent' })]);
    expect(snapshot.publicKeys).toEqual({ keys: [] });
  });
});
