import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { carryOverLegacyRevocations } from '../../../lambda/rotate-keys/legacy-revocations.js';
import { TablePublisher } from '../../../lambda/rotate-keys/public-key-publisher.js';
import type { PublicKeySet } from '../../../lambda/shared/public-key-set.js';
import {
  LEGACY_REVOCATION,
  MCP_READ_INDEX,
  PUBLIC_KEYS_ITEM_KEY,
  REVOCATION_KEY_PREFIX,
  revocationKey,
  PUBLIC_KEYS_SORT_VALUE,
} from '../../../lambda/shared/revocations.js';
import { startLocalDynamo, type LocalDynamo } from '../../../lib/local/dynamodb.js';

const TABLE = 'rotation-table';
const T0 = Date.UTC(2026, 10, 22, 12, 30, 0);
const NOW = T0 / 1000;

let dynamo: LocalDynamo;

beforeEach(async () => {
  dynamo = await startLocalDynamo({ tableName: TABLE });
});
afterEach(async () => {
  await dynamo.close();
});

/**
 * Writes entries of the earlier layout as the oauth function used to: each in the hourly bucket
 * of its end (`revoked#<bucket>#<shard>`), as an attribute holding that end (epoch seconds).
 */
async function putLegacyEntries(entries: Record<string, number>, shard = 0): Promise<void> {
  const items = new Map<string, Record<string, number>>();
  for (const [name, until] of Object.entries(entries)) {
    const key = `${REVOCATION_KEY_PREFIX}${Math.floor(until / LEGACY_REVOCATION.bucketSeconds)}#${shard}`;
    items.set(key, { ...items.get(key), [name]: until });
  }
  for (const [pk, attributes] of items) {
    const { Item } = await dynamo.documentClient.send(new GetCommand({ TableName: TABLE, Key: { pk } }));
    await dynamo.documentClient.send(
      new PutCommand({ TableName: TABLE, Item: { ...Item, pk, ...attributes } }),
    );
  }
}

/** Every marker in the table (`revoked#<kind>#<id>`), by key: not-before and expiry. */
async function markers(): Promise<Map<string, { notBefore: number; expiresAt: number }>> {
  const { Items = [] } = await dynamo.documentClient.send(new ScanCommand({ TableName: TABLE }));
  return new Map(
    Items.filter((item) => /^revoked#(client|grant|user|token)#/.test(String(item.pk))).map((item) => [
      String(item.pk),
      { notBefore: item.notBefore as number, expiresAt: item.expiresAt as number },
    ]),
  );
}

async function publicKeysItem() {
  const { Item } = await dynamo.documentClient.send(
    new GetCommand({ TableName: TABLE, Key: { pk: PUBLIC_KEYS_ITEM_KEY } }),
  );
  return Item;
}

function keySet(...kids: string[]): PublicKeySet {
  return {
    keys: kids.map((kid) => ({ kty: 'RSA', kid, alg: 'RS256', use: 'sig', n: `n-of-${kid}`, e: 'AQAB' })),
  };
}

describe('carryOverLegacyRevocations', () => {
  it('turns each live entry of the earlier list into a marker at its end, kept until then', async () => {
    // Prepare: entries in this hour's bucket, in another shard, and a day ahead
    await putLegacyEntries({ 'client#c': NOW + 60, 'grant#g': NOW + 7_200 });
    await putLegacyEntries({ 'token#t': NOW + 86_000 }, 3);

    // Act
    const written = await carryOverLegacyRevocations(dynamo.documentClient, TABLE, T0);

    // Assess
    expect(written).toBe(3);
    expect(await markers()).toEqual(
      new Map([
        [revocationKey({ client: 'c' }), { notBefore: (NOW + 60) * 1000, expiresAt: NOW + 60 }],
        [revocationKey({ grant: 'g' }), { notBefore: (NOW + 7_200) * 1000, expiresAt: NOW + 7_200 }],
        [revocationKey({ token: 't' }), { notBefore: (NOW + 86_000) * 1000, expiresAt: NOW + 86_000 }],
      ]),
    );
  });

  it('skips entries that have ended, and takes the later end of an entry held in two items', async () => {
    // Prepare: the hour's bucket holds entries that ended a second ago and this very second
    await putLegacyEntries({ 'client#ended': NOW - 1, 'client#ends-now': NOW, 'grant#twice': NOW + 100 });
    await putLegacyEntries({ 'grant#twice': NOW + 5_000 }, 2);

    // Act
    const written = await carryOverLegacyRevocations(dynamo.documentClient, TABLE, T0);

    // Assess
    expect(written).toBe(1);
    expect(await markers()).toEqual(
      new Map([
        [revocationKey({ grant: 'twice' }), { notBefore: (NOW + 5_000) * 1000, expiresAt: NOW + 5_000 }],
      ]),
    );
  });

  it('writes markers the mcp function reads: in the index partition, changed now', async () => {
    // Prepare
    await putLegacyEntries({ 'client#c': NOW + 60 });

    // Act
    await carryOverLegacyRevocations(dynamo.documentClient, TABLE, T0);

    // Assess
    const { Item } = await dynamo.documentClient.send(
      new GetCommand({ TableName: TABLE, Key: { pk: revocationKey({ client: 'c' }) } }),
    );
    expect(Item).toMatchObject({
      [MCP_READ_INDEX.partitionKey]: MCP_READ_INDEX.partition,
      [MCP_READ_INDEX.sortKey]: T0,
    });
  });
});

describe('TablePublisher', () => {
  it('carries the earlier list over on its first publish only', async () => {
    // Prepare
    let clock = T0;
    const publisher = new TablePublisher(dynamo.documentClient, TABLE, () => clock);
    await putLegacyEntries({ 'client#before': NOW + 600 });

    // Act: an entry that appears after the keys are in the table is not carried over
    await publisher.publish(keySet('k1'));
    await putLegacyEntries({ 'client#after': NOW + 700 });
    clock += 60_000;
    await publisher.publish(keySet('k2', 'k1'));

    // Assess
    expect([...(await markers()).keys()]).toEqual([revocationKey({ client: 'before' })]);
    expect((await publicKeysItem())?.jwks).toBe(JSON.stringify(keySet('k2', 'k1')));
  });

  it('sorts the keys item after every marker, and leaves it as it is when the same set is published again', async () => {
    // Prepare
    let clock = T0;
    const publisher = new TablePublisher(dynamo.documentClient, TABLE, () => clock);
    await publisher.publish(keySet('k1'));
    const first = await publicKeysItem();

    // Act
    clock += 60_000;
    await publisher.publish(keySet('k1'));
    const again = await publicKeysItem();
    clock += 60_000;
    await publisher.publish(keySet('k2', 'k1'));
    const rotated = await publicKeysItem();

    // Assess: every read of the index returns it; only a different set rewrites it
    expect(first?.[MCP_READ_INDEX.sortKey]).toBe(PUBLIC_KEYS_SORT_VALUE);
    expect(PUBLIC_KEYS_SORT_VALUE).toBeGreaterThan(Date.UTC(2200, 0, 1));
    expect(again).toEqual(first);
    expect(rotated?.jwks).toBe(JSON.stringify(keySet('k2', 'k1')));
    expect(rotated?.[MCP_READ_INDEX.sortKey]).toBe(PUBLIC_KEYS_SORT_VALUE);
  });
});
