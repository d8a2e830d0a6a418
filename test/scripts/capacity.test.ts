/**
 * The capacity model (scripts/capacity-model.ts) sizes the items the code writes: these tests
 * hold the properties the revocation layout is meant to have, and check the model's sizes against
 * what the embedded engine (dynalite) bills for the same requests.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamo, type LocalDynamo } from '../../lib/local/dynamodb.js';
import { DEFAULT_SETTINGS } from '../../lib/settings.js';
import { CHANGE_MARGIN_MS } from '../../lambda/mcp/aws/mcp-table-reader.js';
import { randomToken } from '../../lambda/shared/crypto.js';
import { MCP_READ_INDEX } from '../../lambda/shared/revocations.js';
import {
  buildLayout,
  DYNAMODB_LIMITS,
  eventualReadUnits,
  indexProjection,
  itemAfterUpdate,
  itemSize,
  numberSize,
  publicKeyItem,
  queryCost,
  revocationUpdates,
  scenarios,
  writeUnits,
  type ScenarioInputs,
} from '../../scripts/capacity-model.js';

const NOW = Date.parse('2026-06-01T12:34:56.789Z');
const TTL = DEFAULT_SETTINGS.accessTokenTtlSeconds;
const subjects = (user: string = randomUUID()) => ({ grant: randomToken(16), client: randomToken(16), user });

const INPUTS: ScenarioInputs = {
  environments: 10_000,
  steadyRevocationsPerSecond: 0.1,
  burstRevocationsPerSecond: 1_000,
  burstSeconds: 60,
  environmentLifetimeSeconds: 3600,
  ttlDeletionLagSeconds: 48 * 3600,
  tablePartitions: 4,
  refreshSeconds: DEFAULT_SETTINGS.revocationRefreshSeconds,
  changeMarginSeconds: CHANGE_MARGIN_MS / 1000,
  signingKeyRotationDays: DEFAULT_SETTINGS.signingKeyRotationDays,
};

describe('numberSize', () => {
  it('counts one byte per two significant digits plus one, as DynamoDB documents', () => {
    // Act, Assess: epoch milliseconds, epoch seconds, and trailing zeros that are not stored.
    expect(numberSize(1_780_317_296_789)).toBe(Math.ceil(13 / 2) + 1);
    expect(numberSize(1_780_320_897)).toBe(Math.ceil(10 / 2) + 1);
    expect(numberSize(1_000_000)).toBe(2);
  });
});

describe('the revocation layout', () => {
  it('costs one write unit on the table and one on the index per new marker, for every kind of subject', async () => {
    // Prepare: the longest `sub` OpenID Connect allows (255 ASCII characters).
    const layout = await buildLayout(NOW, TTL, subjects('u'.repeat(255)));

    // Assess
    for (const item of Object.values(layout.markers)) {
      expect(writeUnits(itemSize(item))).toBe(1);
      expect(writeUnits(itemSize(indexProjection(item)!))).toBe(1);
    }
    expect(layout.markerWrite).toEqual({
      first: { table: 1, index: 1 },
      again: { table: 1, index: 2 },
      conditionFailed: { table: 1, index: 0 },
    });
  });

  it('fits the public key set of three keys in one read unit, in the table and in the index', async () => {
    // Act
    const item = await publicKeyItem(NOW, 3);

    // Assess
    expect(itemSize(item)).toBeLessThanOrEqual(DYNAMODB_LIMITS.readUnitBytes);
    expect(eventualReadUnits(itemSize(indexProjection(item)!))).toBe(0.5);
  });

  it('reads the public key set and 5,000 markers at a cold start in one page', async () => {
    // Prepare
    const layout = await buildLayout(NOW, TTL, subjects());

    // Act
    const read = queryCost(5_000 * layout.markerIndexBytes + layout.publicKeyIndexBytes);

    // Assess
    expect(read.pages).toBe(1);
  });

  it('writes at the revocation rate whatever the number of markers stored, and reads in proportion to the readers', async () => {
    // Prepare
    const layout = await buildLayout(NOW, TTL, subjects());

    // Act
    const [, steady, burst] = scenarios(layout, INPUTS);
    const [, , moreStored] = scenarios(layout, { ...INPUTS, ttlDeletionLagSeconds: 30 * 24 * 3600 });
    const [, doubleSteady] = scenarios(layout, { ...INPUTS, environments: 2 * INPUTS.environments });

    // Assess
    expect(moreStored!.markers).toBeGreaterThan(burst!.markers);
    expect(moreStored!.indexWrites).toBe(burst!.indexWrites);
    expect(burst!.indexWrites).toBeCloseTo(
      (INPUTS.burstRevocationsPerSecond + INPUTS.steadyRevocationsPerSecond) * layout.markerWrite.first.index,
    );
    expect(doubleSteady!.indexReads).toBeCloseTo(2 * steady!.indexReads);
  });
});

describe('against the embedded engine', () => {
  const TABLE = 'capacity-model';
  let dynamo: LocalDynamo;

  beforeAll(async () => {
    dynamo = await startLocalDynamo({ tableName: TABLE });
  });
  afterAll(() => dynamo.close());

  /** Sends a revocation's UpdateItem as the writer builds it, and returns the units billed. */
  async function revokeBilled(input: UpdateCommand['input']): Promise<number | undefined> {
    const output = await dynamo.documentClient.send(
      new UpdateCommand({ ...input, ReturnConsumedCapacity: 'TOTAL' }),
    );
    return output.ConsumedCapacity?.CapacityUnits;
  }

  it('bills a marker write as the model does, before and after hundreds of other markers', async () => {
    // Prepare
    const first = await revocationUpdates(NOW, TTL, subjects(), TABLE);
    const last = await revocationUpdates(NOW, TTL, subjects(), TABLE);
    const expected = writeUnits(itemSize(itemAfterUpdate(first.user)));

    // Act
    const billedFirst = await revokeBilled(first.user);
    for (let i = 0; i < 100; i++) {
      const others = await revocationUpdates(NOW + i, TTL, subjects(), TABLE);
      for (const input of Object.values(others)) await revokeBilled(input);
    }
    const billedLast = await revokeBilled(last.user);

    // Assess: dynalite bills the table's write only, not the index's (DynamoDB bills both).
    expect(billedFirst).toBe(expected);
    expect(billedLast).toBe(expected);
  });

  it('agrees to the byte on where a marker passes one write unit', async () => {
    // Prepare: a user id just long enough for a 1,024-byte item, and one character longer.
    const base = itemSize(itemAfterUpdate((await revocationUpdates(NOW, TTL, subjects('x'))).user));
    const fits = 'f'.repeat(1 + DYNAMODB_LIMITS.writeUnitBytes - base);
    const over = 'o'.repeat(2 + DYNAMODB_LIMITS.writeUnitBytes - base);
    const atLimit = (await revocationUpdates(NOW, TTL, subjects(fits), TABLE)).user;
    const overLimit = (await revocationUpdates(NOW, TTL, subjects(over), TABLE)).user;
    expect(itemSize(itemAfterUpdate(atLimit))).toBe(DYNAMODB_LIMITS.writeUnitBytes);

    // Act, Assess
    expect(await revokeBilled(atLimit)).toBe(1);
    expect(await revokeBilled(overLimit)).toBe(2);
  });

  it("bills the cold start's Query of the index as the model does", async () => {
    // Prepare: the public key item beside the markers written above, and the model's bytes.
    const keys = await publicKeyItem(NOW + 1);
    await dynamo.documentClient.send(new PutCommand({ TableName: TABLE, Item: keys }));
    const { Items = [] } = await dynamo.documentClient.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: MCP_READ_INDEX.name,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': MCP_READ_INDEX.partitionKey },
        ExpressionAttributeValues: { ':p': MCP_READ_INDEX.partition },
      }),
    );
    const bytes = Items.reduce((sum, item) => sum + itemSize(item as Record<string, string | number>), 0);

    // Act: the mcp function's read (mcp-table-reader.ts), billed.
    const output = await dynamo.documentClient.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: MCP_READ_INDEX.name,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': MCP_READ_INDEX.partitionKey },
        ExpressionAttributeValues: { ':p': MCP_READ_INDEX.partition },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );

    // Assess
    expect(Items.length).toBeGreaterThan(300);
    expect(output.ConsumedCapacity?.CapacityUnits).toBe(queryCost(bytes).readUnits);
  });
});
