import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { sendWithNodeHttp, type Send } from '../../../../lambda/mcp/aws/aws-json-request.js';
import {
  BATCH_GET_ITEM_MAX_KEYS,
  LegacyRevocationReader,
} from '../../../../lambda/mcp/aws/legacy-revocation-reader.js';
import {
  LEGACY_REVOCATION,
  legacyRevocationItemKeys,
  REVOCATION_AFTER_EXPIRY_SECONDS,
} from '../../../../lambda/shared/revocations.js';
import { startLocalDynamo, type LocalDynamo } from '../../../../lib/local/dynamodb.js';

const TABLE = 'legacy-revocations';
const NOW = Math.floor(Date.UTC(2026, 10, 22, 12, 30, 0) / 1000);
const LONGEST = 3600 + REVOCATION_AFTER_EXPIRY_SECONDS;
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ tableName: TABLE });
});
afterAll(async () => {
  await dynamo.close();
});

function reader(send?: Send) {
  return new LegacyRevocationReader({
    tableName: TABLE,
    endpoint: dynamo.endpoint,
    region: 'local',
    credentials: () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
    ...(send && { send }),
  });
}

/**
 * Writes one item of the earlier layout, as the oauth function used to: `revoked#<bucket>#<shard>`
 * holding each entry as an attribute `client#…`, `grant#…` or `token#…` with its end (epoch s).
 */
async function putLegacyItem(key: string, entries: Record<string, number>): Promise<void> {
  await dynamo.documentClient.send(new PutCommand({ TableName: TABLE, Item: { pk: key, ...entries } }));
}

/** The key of the earlier item that held an entry ending at `until`, in shard `shard`. */
function legacyKey(until: number, shard = 0): string {
  return `revoked#${Math.floor(until / LEGACY_REVOCATION.bucketSeconds)}#${shard}`;
}

describe('LegacyRevocationReader', () => {
  it('reads every entry of the earlier items, across buckets and shards, and the later end of one in two items', async () => {
    // Prepare
    const keys = legacyRevocationItemKeys(NOW, LONGEST);
    await putLegacyItem(keys[0]!, { 'client#a': NOW + 60, 'grant#b': NOW + 90, expiresAt: NOW + 3600 });
    await putLegacyItem(keys[3]!, { 'token#c': NOW + 120, 'grant#b': NOW + 900 });
    await putLegacyItem(keys.at(-1)!, { 'client#d': NOW + LONGEST - 1 });

    // Act
    const read = await reader().load(keys);

    // Assess: the item key and the item's own expiry are not entries
    expect(read).toEqual(
      new Map([
        ['client#a', NOW + 60],
        ['grant#b', NOW + 900],
        ['token#c', NOW + 120],
        ['client#d', NOW + LONGEST - 1],
      ]),
    );
  });

  it('reads more keys than one BatchGetItem takes in requests DynamoDB accepts: the longest lifetime, late in an hour', async () => {
    // Prepare: a day's tokens, a minute before the hour ends; entries in the first and last bucket
    const longest = 86_400 + REVOCATION_AFTER_EXPIRY_SECONDS;
    const hour = LEGACY_REVOCATION.bucketSeconds;
    const now = (Math.floor(NOW / hour) + 1) * hour - 60;
    const keys = legacyRevocationItemKeys(now, longest);
    await putLegacyItem(legacyKey(now + 30, 1), { 'client#first-bucket': now + 30 });
    await putLegacyItem(legacyKey(now + longest - 1, 2), { 'token#last-bucket': now + longest - 1 });
    const sizes: number[] = [];
    const send: Send = (request, timeoutMs) => {
      const { RequestItems } = JSON.parse(request.body) as {
        RequestItems: Record<string, { Keys: unknown[] }>;
      };
      sizes.push(RequestItems[TABLE]!.Keys.length);
      return sendWithNodeHttp(request, timeoutMs);
    };

    // Act
    const read = await reader(send).load(keys);

    // Assess: the real engine refuses a request of more than 100 keys, as DynamoDB does
    expect(keys.length).toBeGreaterThan(BATCH_GET_ITEM_MAX_KEYS);
    expect(sizes.sort((a, b) => b - a)).toEqual([
      BATCH_GET_ITEM_MAX_KEYS,
      keys.length - BATCH_GET_ITEM_MAX_KEYS,
    ]);
    expect(read.get('client#first-bucket')).toBe(now + 30);
    expect(read.get('token#last-bucket')).toBe(now + longest - 1);
  });

  it('asks again for keys DynamoDB left unprocessed', async () => {
    // Prepare: the first answer leaves every key unprocessed, as DynamoDB may under load.
    const keys = legacyRevocationItemKeys(NOW, LONGEST);
    await putLegacyItem(keys[1]!, { 'client#late': NOW + 30 });
    let calls = 0;
    const send: Send = async (request, timeoutMs) => {
      calls++;
      if (calls === 1) {
        const { RequestItems } = JSON.parse(request.body) as { RequestItems: Record<string, unknown> };
        return {
          status: 200,
          body: JSON.stringify({ Responses: { [TABLE]: [] }, UnprocessedKeys: RequestItems }),
        };
      }
      return sendWithNodeHttp(request, timeoutMs);
    };

    // Act
    const read = await reader(send).load(keys);

    // Assess
    expect(calls).toBe(2);
    expect(read.get('client#late')).toBe(NOW + 30);
    expect(read).toEqual(await reader().load(keys));
  });

  it('gives up when keys stay unprocessed after three requests', async () => {
    // Prepare
    let calls = 0;
    const send: Send = async (request) => {
      calls++;
      const { RequestItems } = JSON.parse(request.body) as { RequestItems: Record<string, unknown> };
      return { status: 200, body: JSON.stringify({ Responses: {}, UnprocessedKeys: RequestItems }) };
    };

    // Act
    const read = reader(send).load(['revoked#1#0']);

    // Assess
    await expect(read).rejects.toThrow('BatchGetItem left keys unprocessed');
    expect(calls).toBe(3);
  });

  it('fails with the service error named as the AWS SDK names it, so it is classified as a fault', async () => {
    // Prepare
    const send: Send = async () => ({
      status: 400,
      body: JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      }),
    });

    // Act
    const read = reader(send).load(['revoked#1#0']);

    // Assess
    await expect(read).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400 },
    });
  });
});
