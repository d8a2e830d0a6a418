import {
  BATCH_GET_ITEM_MAX_KEYS,
  DynamoDbRevocationSource,
} from '../../../lambda/mcp/dynamodb-revocation-source.js';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { sendWithNodeHttp, type Send } from '../../../lambda/mcp/aws-json-request.js';
import { DynamoRevocationList } from '../../../lambda/oauth/revocations.js';
import {
  REVOCATION_AFTER_EXPIRY_SECONDS,
  REVOCATION_BUCKET_SECONDS,
  revocationItemKeys,
} from '../../../lambda/shared/revocations.js';
import { startLocalDynamo, type LocalDynamo } from '../../../lib/local/dynamodb.js';

const TABLE = 'revocations';
const NOW = Math.floor(Date.UTC(2026, 10, 22, 12, 30, 0) / 1000);
const LONGEST = 3600 + 120;
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ tableName: TABLE });
});
afterAll(async () => {
  await dynamo.close();
});

function source(send?: Send) {
  return new DynamoDbRevocationSource({
    tableName: TABLE,
    endpoint: dynamo.endpoint,
    region: 'local',
    credentials: () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
    ...(send && { send }),
  });
}

describe('the revocation list in the table', () => {
  it('what the oauth function writes, the mcp function reads, across buckets and shards', async () => {
    // Prepare
    const writer = new DynamoRevocationList(dynamo.documentClient, TABLE);
    const written = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const until = NOW + 60 + i * 97; // spread over this bucket and the next two
      const subject = [{ client: `client-${i}` }, { grant: `family-${i}` }, { token: `jti-${i}` }][i % 3]!;
      await writer.revoke(subject, until);
      written.set(`${Object.keys(subject)[0]}#${Object.values(subject)[0]}`, until);
    }

    // Act
    const read = await source().load(revocationItemKeys(NOW, LONGEST));

    // Assess
    expect(read).toEqual(written);
  });

  it('keeps the later end when a subject is revoked twice', async () => {
    // Prepare
    const writer = new DynamoRevocationList(dynamo.documentClient, TABLE);
    await writer.revoke({ client: 'twice' }, NOW + 500);

    // Act
    await writer.revoke({ client: 'twice' }, NOW + 400);
    await writer.revoke({ client: 'twice' }, NOW + 600);

    // Assess
    const read = await source().load(revocationItemKeys(NOW, LONGEST));
    expect(read.get('client#twice')).toBe(NOW + 600);
  });

  it('writes items the table expires when their bucket ends', async () => {
    // Prepare
    const writer = new DynamoRevocationList(dynamo.documentClient, TABLE);
    const until = NOW + 10;

    // Act
    await writer.revoke({ grant: 'ttl-check' }, until);

    // Assess
    const bucketEnd = (Math.floor(until / REVOCATION_BUCKET_SECONDS) + 1) * REVOCATION_BUCKET_SECONDS;
    const { Items } = await dynamo.documentClient.send(new ScanCommand({ TableName: TABLE }));
    const item = Items!.find((i) => 'grant#ttl-check' in i)!;
    expect(item.expiresAt).toBe(bucketEnd);
    expect(String(item.pk)).toMatch(/^revoked#\d+#[0-3]$/);
  });

  it('reads more keys than one BatchGetItem takes in requests DynamoDB accepts: the longest lifetime, late in an hour', async () => {
    // Prepare: a day's tokens, a minute before the hour ends; entries in the first and last bucket
    const longest = 86_400 + REVOCATION_AFTER_EXPIRY_SECONDS;
    const now = (Math.floor(NOW / REVOCATION_BUCKET_SECONDS) + 1) * REVOCATION_BUCKET_SECONDS - 60;
    const keys = revocationItemKeys(now, longest);
    const writer = new DynamoRevocationList(dynamo.documentClient, TABLE);
    await writer.revoke({ client: 'first-bucket' }, now + 30);
    await writer.revoke({ token: 'last-bucket' }, now + longest - 1);
    const sizes: number[] = [];
    const send: Send = (request, timeoutMs) => {
      const { RequestItems } = JSON.parse(request.body) as {
        RequestItems: Record<string, { Keys: unknown[] }>;
      };
      sizes.push(RequestItems[TABLE]!.Keys.length);
      return sendWithNodeHttp(request, timeoutMs);
    };

    // Act
    const read = await source(send).load(keys);

    // Assess: the real engine refuses a request of more than 100 keys, as DynamoDB does
    expect(keys.length).toBeGreaterThan(BATCH_GET_ITEM_MAX_KEYS);
    expect(sizes.sort((a, b) => b - a)).toEqual([
      BATCH_GET_ITEM_MAX_KEYS,
      keys.length - BATCH_GET_ITEM_MAX_KEYS,
    ]);
    expect(read.get('client#first-bucket')).toBe(now + 30);
    expect(read.get('token#last-bucket')).toBe(now + longest - 1);
  });

  it('reads the list at any second of an hour, for any token lifetime the settings allow', async () => {
    // Prepare: every minute of an hour and each second of its last two; lifetimes up to a day
    const hour = Math.floor(NOW / REVOCATION_BUCKET_SECONDS) * REVOCATION_BUCKET_SECONDS;
    const offsets = [
      ...Array.from({ length: 60 }, (_, minute) => minute * 60),
      ...Array.from({ length: 120 }, (_, second) => REVOCATION_BUCKET_SECONDS - 120 + second),
    ];
    const lifetimes = [60, 3_600, 43_200, 86_280, 86_400];
    const failures: string[] = [];

    // Act
    for (const lifetime of lifetimes) {
      for (const offset of offsets) {
        const keys = revocationItemKeys(hour + offset, lifetime + REVOCATION_AFTER_EXPIRY_SECONDS);
        await source()
          .load(keys)
          .catch((error: Error) => failures.push(`${lifetime} s at +${offset} s: ${error.message}`));
      }
    }

    // Assess
    expect(failures).toEqual([]);
  });

  it('asks again for keys DynamoDB left unprocessed', async () => {
    // Prepare: the first answer leaves every key unprocessed, as DynamoDB may under load.
    let calls = 0;
    const real = source();
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
    await new DynamoRevocationList(dynamo.documentClient, TABLE).revoke({ client: 'late' }, NOW + 30);

    // Act
    const read = await source(send).load(revocationItemKeys(NOW, LONGEST));

    // Assess
    expect(calls).toBe(2);
    expect(read.get('client#late')).toBe(NOW + 30);
    expect(read).toEqual(await real.load(revocationItemKeys(NOW, LONGEST)));
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
    const read = source(send).load(['revoked#1#0']);

    // Assess
    await expect(read).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400 },
    });
  });
});
