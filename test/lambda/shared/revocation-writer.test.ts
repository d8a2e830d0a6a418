import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRevocationList } from '../../../lambda/shared/revocation-writer.js';
import {
  MARKER_STEP_MS,
  MCP_READ_INDEX,
  markerExpiresAt,
  revocationKey,
  type RevokedSubject,
} from '../../../lambda/shared/revocations.js';
import { startLocalDynamo, type LocalDynamo } from '../../../lib/local/dynamodb.js';

const TABLE = 'writer-table';
const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);
const TOKEN_SECONDS = 3600;

let dynamo: LocalDynamo;
let clock: number;
let writes: number[];

beforeAll(async () => {
  dynamo = await startLocalDynamo({ tableName: TABLE });
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(() => {
  clock = T0;
  writes = [];
});

/** A writer whose every successful write is recorded (its consumed capacity). */
const writer = () =>
  new DynamoRevocationList(
    dynamo.documentClient,
    TABLE,
    () => clock,
    (units) => writes.push(units),
  );

const revoke = (subject: RevokedSubject, notBefore: number) =>
  writer().revoke(subject, notBefore, markerExpiresAt(notBefore, TOKEN_SECONDS));

async function stored(subject: RevokedSubject) {
  const { Item } = await dynamo.documentClient.send(
    new GetCommand({ TableName: TABLE, Key: { pk: revocationKey(subject) }, ConsistentRead: true }),
  );
  return Item as { notBefore: number; expiresAt: number; changedAt: number } | undefined;
}

describe('DynamoRevocationList.revoke', () => {
  it('sets a marker not set before to the time given, with its expiry and change time', async () => {
    // Act
    await revoke({ client: 'first' }, T0 - 1_000);

    // Assess
    expect(await stored({ client: 'first' })).toMatchObject({
      notBefore: T0 - 1_000,
      expiresAt: markerExpiresAt(T0 - 1_000, TOKEN_SECONDS),
      [MCP_READ_INDEX.sortKey]: T0,
      [MCP_READ_INDEX.partitionKey]: MCP_READ_INDEX.partition,
    });
    expect(writes).toHaveLength(1);
  });

  it('leaves a marker that is already as late as asked, without writing', async () => {
    // Prepare
    await revoke({ grant: 'same' }, T0);
    clock += 10_000;

    // Act
    await revoke({ grant: 'same' }, T0);
    await revoke({ grant: 'same' }, T0 - 60_000);

    // Assess
    expect(writes).toHaveLength(1);
    expect(await stored({ grant: 'same' })).toMatchObject({ notBefore: T0, [MCP_READ_INDEX.sortKey]: T0 });
  });

  it('moves a marker set more than a step before to the time given', async () => {
    // Prepare
    await revoke({ grant: 'far' }, T0);
    clock += 60_000;

    // Act
    await revoke({ grant: 'far' }, T0 + 60_000);

    // Assess
    expect(await stored({ grant: 'far' })).toMatchObject({
      notBefore: T0 + 60_000,
      expiresAt: markerExpiresAt(T0 + 60_000, TOKEN_SECONDS),
      [MCP_READ_INDEX.sortKey]: T0 + 60_000,
    });
  });

  it('moves a marker set within the step before a whole step on, once, covering what follows in the step', async () => {
    // Prepare
    await revoke({ client: 'looping' }, T0);

    // Act: a token issued 100 ms after the revoked one, then every 100 ms until past the step.
    const asked: number[] = [];
    for (let at = T0 + 100; at <= T0 + MARKER_STEP_MS + 100; at += 100) {
      clock = at;
      asked.push(at);
      await revoke({ client: 'looping' }, at);
    }

    // Assess: one write to T0 + step, one more to T0 + 2 steps once a token past the first step
    // was revoked; each revoked token is covered.
    expect(writes).toHaveLength(3);
    const marker = await stored({ client: 'looping' });
    expect(marker!.notBefore).toBe(T0 + 2 * MARKER_STEP_MS);
    expect(marker!.expiresAt).toBe(markerExpiresAt(T0 + 2 * MARKER_STEP_MS, TOKEN_SECONDS));
    expect(Math.max(...asked)).toBeLessThanOrEqual(marker!.notBefore);
  });

  it('covers every one of many concurrent revocations of one subject, with a bounded number of writes', async () => {
    // Prepare
    const times = Array.from({ length: 40 }, (_, i) => T0 + i * 250);

    // Act
    await Promise.all(times.map((at) => revoke({ user: 'crowd' }, at)));

    // Assess: 10 s of revocations move the marker at most once per step, plus the first write.
    const marker = await stored({ user: 'crowd' });
    expect(marker!.notBefore).toBeGreaterThanOrEqual(Math.max(...times));
    expect(writes.length).toBeLessThanOrEqual(1 + Math.ceil((Math.max(...times) - T0) / MARKER_STEP_MS) + 1);
  });

  it('treats subjects separately', async () => {
    // Act
    await revoke({ user: 'a' }, T0);
    await revoke({ user: 'b' }, T0 + 1_000);

    // Assess
    expect((await stored({ user: 'a' }))!.notBefore).toBe(T0);
    expect((await stored({ user: 'b' }))!.notBefore).toBe(T0 + 1_000);
  });
});
