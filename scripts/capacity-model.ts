/**
 * A capacity model of the revocation state (`lambda/shared/revocations.ts`) in DynamoDB, built
 * from the items the code writes: the marker is taken from the UpdateItem that
 * `DynamoRevocationList.revoke` sends when the oauth function revokes a subject, and the public key item from the PutItem that
 * `TablePublisher.publish` sends, each captured by a stand-in client instead of sent. So a new
 * attribute, a longer key or a larger key set changes the figures (`npm run capacity`,
 * scripts/capacity.ts; doc/performance.md, "Revocation at scale").
 *
 * Sizes and units follow DynamoDB's documented rules ("Item sizes and formats", "Read and write
 * request units" in the DynamoDB Developer Guide): an item is the sum of its attribute names'
 * and values' sizes; a write request unit is 1 KB of the item (the larger of before and after,
 * for an update); a read request unit is 4 KB, an eventually consistent read half of one; a
 * `Query` is billed on the total size of the items it reads, rounded up to 4 KB, per page of at
 * most 1 MB; a write to a table also writes each index whose projected item it puts or removes.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { serializePublicKeySet } from '../lambda/shared/public-key-set.js';
import { rotateSigningKeySet, toPublicKeySet } from '../lambda/shared/key-set.js';
import { DynamoRevocationList } from '../lambda/shared/revocation-writer.js';
import { markerRelevanceMs, MCP_READ_INDEX, type RevokedSubject } from '../lambda/shared/revocations.js';
import { TABLE_SCHEMA } from '../lambda/shared/table.js';
import { TablePublisher } from '../lambda/rotate-keys/public-key-publisher.js';
import type { OAuthDeps } from '../lambda/oauth/deps.js';
import { revokeClientTokens, revokeGrantFamily, revokeUser } from '../lambda/oauth/stores/revocations.js';

/** DynamoDB's documented limits the model checks against. */
export const DYNAMODB_LIMITS = {
  /** Write units per second one partition serves. */
  partitionWriteUnitsPerSecond: 1_000,
  /** Read units per second one partition serves (an eventually consistent 4 KB read is half of one). */
  partitionReadUnitsPerSecond: 3_000,
  writeUnitBytes: 1024,
  readUnitBytes: 4096,
  /** The most data one `Query` request reads before it returns a page. */
  queryPageBytes: 1024 * 1024,
  maxItemBytes: 400 * 1024,
} as const;

/**
 * On-demand prices in us-east-1 since the reduction of 1 November 2024, from
 * https://aws.amazon.com/dynamodb/pricing/on-demand/ (Standard table class).
 */
export const ON_DEMAND_PRICES = {
  region: 'us-east-1',
  asOf: '2024-11-01',
  source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  usdPerMillionWriteUnits: 0.625,
  usdPerMillionReadUnits: 0.125,
  usdPerGbMonth: 0.25,
} as const;

/** The per-item overhead DynamoDB adds for storage (not for throughput), table and index alike. */
export const STORAGE_OVERHEAD_BYTES = 100;

/** An item as the document client writes it; the revocation state uses strings and numbers only. */
export type Item = Record<string, string | number>;

/**
 * A number's size: one byte per two significant digits, plus one. DynamoDB stores the digits in
 * pairs about the decimal point, so the pairs are counted the same way (`12340` takes three).
 */
export function numberSize(value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`not a DynamoDB number: ${value}`);
  if (value === 0) return 1;
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '').replace(/0+$/, '');
  const exponent = Number(exponentText);
  const lowest = exponent - digits.length + 1;
  const pairs = Math.floor(exponent / 2) - Math.floor(lowest / 2) + 1;
  return 1 + pairs + (value < 0 ? 1 : 0);
}

/** An attribute's size: its name's UTF-8 bytes and its value's (a string's UTF-8 bytes). */
export function attributeSize(name: string, value: string | number): number {
  const valueSize = typeof value === 'number' ? numberSize(value) : Buffer.byteLength(value, 'utf8');
  return Buffer.byteLength(name, 'utf8') + valueSize;
}

export function itemSize(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + attributeSize(name, value), 0);
}

/** Write units of one write of an item of `bytes` (at least one). */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / DYNAMODB_LIMITS.writeUnitBytes));
}

/**
 * Read units of one eventually consistent request reading `bytes` in all (every read of the mcp
 * function: a `Query` of a global secondary index is never strongly consistent). A request that
 * reads nothing is still billed one 4 KB unit.
 */
export function eventualReadUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / DYNAMODB_LIMITS.readUnitBytes)) / 2;
}

/**
 * A `Query` reading `bytes` in all, page after page: each page holds at most 1 MB and is billed
 * on its own, rounded up to 4 KB (items are small next to a page, so pages are counted by bytes).
 */
export function queryCost(bytes: number): { bytes: number; pages: number; readUnits: number } {
  const { queryPageBytes } = DYNAMODB_LIMITS;
  const pages = Math.max(1, Math.ceil(bytes / queryPageBytes));
  const lastBytes = bytes - (pages - 1) * queryPageBytes;
  return {
    bytes,
    pages,
    readUnits: (pages - 1) * eventualReadUnits(queryPageBytes) + eventualReadUnits(lastBytes),
  };
}

/** The part of a table item the `mcp-reads` index holds (absent when the item is not in it). */
export function indexProjection(item: Item): Item | undefined {
  const { partitionKey, sortKey, projected } = MCP_READ_INDEX;
  if (item[partitionKey] === undefined || item[sortKey] === undefined) return undefined;
  const names: string[] = [TABLE_SCHEMA.partitionKey, partitionKey, sortKey, ...projected];
  return Object.fromEntries(Object.entries(item).filter(([name]) => names.includes(name)));
}

/** A client that records the commands it is given and answers as an empty table would. */
function capturingClient(answer: (command: object) => object = () => ({})) {
  const sent: object[] = [];
  const db = {
    send: async (command: object) => {
      sent.push(command);
      return answer(command);
    },
  } as unknown as DynamoDBDocumentClient;
  return { db, sent };
}

/** The item an UpdateItem of `SET #a = :a, ...` leaves, on a key that held nothing before. */
export function itemAfterUpdate(input: UpdateCommand['input']): Item {
  const expression = input.UpdateExpression ?? '';
  const match = /^SET (.+)$/.exec(expression.trim());
  if (!match?.[1]) throw new Error(`not a SET expression: ${expression}`);
  const item: Item = { ...(input.Key as Item) };
  for (const assignment of match[1].split(',')) {
    const [name, value] = assignment.split('=').map((part) => part.trim());
    const attribute = input.ExpressionAttributeNames?.[name ?? ''] ?? name;
    const written = input.ExpressionAttributeValues?.[value ?? ''];
    if (!attribute || (typeof written !== 'string' && typeof written !== 'number'))
      throw new Error(`cannot model the assignment "${assignment}"`);
    item[attribute] = written;
  }
  return item;
}

/** The public key item as `TablePublisher.publish` writes it, for `keyCount` published keys (2 or 3). */
export async function publicKeyItem(changedAt: number, keyCount: 2 | 3 = 3): Promise<Item> {
  let set = await rotateSigningKeySet({});
  if (keyCount === 3) set = await rotateSigningKeySet(set);
  const jwks = serializePublicKeySet(toPublicKeySet(set));
  // An item already there with another set: no carry-over, one PutItem.
  const { db, sent } = capturingClient((command) =>
    command instanceof GetCommand ? { Item: { jwks: `${jwks}-before` } } : {},
  );
  await new TablePublisher(db, 'table', () => changedAt).publish(toPublicKeySet(set));
  const put = sent.find((command) => command instanceof PutCommand);
  if (!put) throw new Error('TablePublisher.publish sent no PutItem');
  return put.input.Item as Item;
}

/** What one revocation write costs, by what the marker's item held before it. */
export interface MarkerWriteCost {
  /** Write units on the table (the item's partition). */
  table: number;
  /** Write units on the `mcp-reads` index (its one partition). */
  index: number;
}

/**
 * The three outcomes of `revoke`: a subject not revoked before (the item and its index entry are
 * put); a subject revoked again, later (the item is updated; its index sort key, `changedAt`,
 * changes, so the index deletes the old entry and puts the new one: two index writes); and a
 * subject already revoked as late or later (the condition fails: a failed conditional write is
 * billed, and writes no index).
 */
export function markerWriteCost(item: Item): Record<'first' | 'again' | 'conditionFailed', MarkerWriteCost> {
  const table = writeUnits(itemSize(item));
  const projected = indexProjection(item);
  const index = projected ? writeUnits(itemSize(projected)) : 0;
  return {
    first: { table, index },
    again: { table, index: 2 * index },
    conditionFailed: { table, index: 0 },
  };
}

export function usd(writeUnitCount: number, readUnitCount: number, storedBytes = 0): number {
  return (
    (writeUnitCount / 1e6) * ON_DEMAND_PRICES.usdPerMillionWriteUnits +
    (readUnitCount / 1e6) * ON_DEMAND_PRICES.usdPerMillionReadUnits +
    (storedBytes / 1e9) * ON_DEMAND_PRICES.usdPerGbMonth
  );
}

/** The revocation state's items as the code writes them, sized. */
export interface Layout {
  /** The largest marker of the kinds modelled (table item, index entry). */
  markerBytes: number;
  markerIndexBytes: number;
  markerWrite: ReturnType<typeof markerWriteCost>;
  /** How long a marker stays in the index after its write, until its `expiresAt` (seconds). */
  markerLifetimeSeconds: number;
  /** How far back a cold start reads markers (`markerRelevanceMs`, in seconds). */
  coldStartWindowSeconds: number;
  publicKeyBytes: number;
  publicKeyIndexBytes: number;
}

/** The figures a scenario is run with (scripts/capacity.ts sets them, from the code and flags). */
export interface ScenarioInputs {
  /** mcp execution environments alive at once, each with its own copy of the markers. */
  environments: number;
  /** Revocations per second outside a burst. */
  steadyRevocationsPerSecond: number;
  burstRevocationsPerSecond: number;
  burstSeconds: number;
  /** How long an mcp environment lives on average: each starts cold, and reads everything, once. */
  environmentLifetimeSeconds: number;
  /** How long after `expiresAt` DynamoDB's TTL deletes a marker; until then every full read reads it. */
  ttlDeletionLagSeconds: number;
  /** Partitions the table's markers spread over (their keys are distinct). */
  tablePartitions: number;
  /** `revocationRefreshSeconds`: how often a warm environment queries what changed. */
  refreshSeconds: number;
  /** `CHANGE_MARGIN_MS` in seconds: how far back before its last read each query looks. */
  changeMarginSeconds: number;
  /** Days between key rotations, each of which rewrites the public key item. */
  signingKeyRotationDays: number;
}

export const SECONDS_PER_MONTH = 30 * 24 * 3600;

export type Resource = 'table partition writes' | 'index partition writes' | 'index partition reads';

export interface ScenarioFigures {
  name: string;
  /** Peak units per second: on the busiest table partition, and on the index's one partition. */
  tableWritesPerPartition: number;
  indexWrites: number;
  indexReads: number;
  /** Markers in the index partition (expired ones included until TTL deletes them). */
  markers: number;
  /** One cold start's read of the whole partition. */
  coldStart: { bytes: number; pages: number; readUnits: number };
  /** What it costs: per month when it lasts, per event otherwise. */
  usd: number;
  usdPer: 'month' | 'burst' | 'hour';
  /** Seconds into the scenario when each resource first passes its limit (absent: never). */
  exceeds: Partial<Record<Resource, number>>;
}

/** Units of one warm environment's incremental query, finding `markersInWindow` changed markers. */
function incrementalReadUnits(layout: Layout, markersInWindow: number): number {
  return queryCost(markersInWindow * layout.markerIndexBytes).readUnits;
}

function coldStart(layout: Layout, markers: number) {
  return queryCost(markers * layout.markerIndexBytes + layout.publicKeyIndexBytes);
}

function limitsPassed(figures: Omit<ScenarioFigures, 'exceeds'>): Partial<Record<Resource, number>> {
  const { partitionWriteUnitsPerSecond: w, partitionReadUnitsPerSecond: r } = DYNAMODB_LIMITS;
  const exceeds: Partial<Record<Resource, number>> = {};
  if (figures.tableWritesPerPartition > w) exceeds['table partition writes'] = 0;
  if (figures.indexWrites > w) exceeds['index partition writes'] = 0;
  if (figures.indexReads > r) exceeds['index partition reads'] = 0;
  return exceeds;
}

/** The key rotation's writes per month: the public key item put, its index entry replaced. */
function rotationWriteUnitsPerMonth(layout: Layout, inputs: ScenarioInputs): number {
  const perRotation = writeUnits(layout.publicKeyBytes) + 2 * writeUnits(layout.publicKeyIndexBytes);
  return (perRotation * SECONDS_PER_MONTH) / (inputs.signingKeyRotationDays * 24 * 3600);
}

function storedBytes(layout: Layout, markers: number): number {
  const perMarker = layout.markerBytes + layout.markerIndexBytes + 2 * STORAGE_OVERHEAD_BYTES;
  return (
    markers * perMarker + layout.publicKeyBytes + layout.publicKeyIndexBytes + 2 * STORAGE_OVERHEAD_BYTES
  );
}

/** Steady state: markers written at `rate`, read by `environments` warm ones and their cold starts. */
function steady(name: string, layout: Layout, inputs: ScenarioInputs, rate: number): ScenarioFigures {
  const environments = inputs.environments;
  const markers = rate * (layout.markerLifetimeSeconds + inputs.ttlDeletionLagSeconds);
  // A cold start skips markers written before its window, expired ones waiting for TTL included.
  const cold = coldStart(layout, rate * layout.coldStartWindowSeconds);
  const queriesPerSecond = environments / inputs.refreshSeconds;
  const window = rate * (inputs.refreshSeconds + inputs.changeMarginSeconds);
  const coldStartsPerSecond = environments / inputs.environmentLifetimeSeconds;
  const indexReads =
    queriesPerSecond * incrementalReadUnits(layout, window) + coldStartsPerSecond * cold.readUnits;
  const { table, index } = layout.markerWrite.first;
  const writesPerMonth =
    rate * (table + index) * SECONDS_PER_MONTH + rotationWriteUnitsPerMonth(layout, inputs);
  const figures = {
    name,
    tableWritesPerPartition: (rate * table) / inputs.tablePartitions,
    indexWrites: rate * index,
    indexReads,
    markers,
    coldStart: cold,
    usd: usd(writesPerMonth, indexReads * SECONDS_PER_MONTH, storedBytes(layout, markers)),
    usdPer: 'month' as const,
  };
  return { ...figures, exceeds: limitsPassed(figures) };
}

/**
 * A burst on top of the steady state: `burstRevocationsPerSecond` new subjects for
 * `burstSeconds`. Every warm environment reads each new marker in its next query (and again in
 * the one after, when it falls in the overlap of `changeMarginSeconds`); the peak is at the
 * burst's end, when a query's window holds the most of it.
 */
function burst(layout: Layout, inputs: ScenarioInputs, base: ScenarioFigures): ScenarioFigures {
  const rate = inputs.burstRevocationsPerSecond;
  const burstMarkers = rate * inputs.burstSeconds;
  const lookBack = inputs.refreshSeconds + inputs.changeMarginSeconds;
  const steadyWindow = inputs.steadyRevocationsPerSecond * lookBack;
  const queriesPerSecond = inputs.environments / inputs.refreshSeconds;
  const coldStartsPerSecond = inputs.environments / inputs.environmentLifetimeSeconds;
  const readsAt = (t: number) =>
    queriesPerSecond * incrementalReadUnits(layout, steadyWindow + rate * Math.min(t, lookBack)) +
    coldStartsPerSecond *
      coldStart(layout, inputs.steadyRevocationsPerSecond * layout.coldStartWindowSeconds + rate * t)
        .readUnits;
  const { table, index } = layout.markerWrite.first;
  const figures = {
    name: `burst: ${rate} revocations/s for ${inputs.burstSeconds} s`,
    tableWritesPerPartition: base.tableWritesPerPartition + (rate * table) / inputs.tablePartitions,
    indexWrites: base.indexWrites + rate * index,
    indexReads: readsAt(inputs.burstSeconds),
    markers: base.markers + burstMarkers,
    coldStart: coldStart(
      layout,
      inputs.steadyRevocationsPerSecond * layout.coldStartWindowSeconds + burstMarkers,
    ),
    usd: usd(burstMarkers * (table + index), burstReadUnits(layout, inputs)),
    usdPer: 'burst' as const,
  };
  const exceeds = limitsPassed(figures);
  if (exceeds['index partition reads'] !== undefined) {
    let t = 0;
    while (readsAt(t) <= DYNAMODB_LIMITS.partitionReadUnitsPerSecond) t += 0.1;
    exceeds['index partition reads'] = Math.round(t * 10) / 10;
  }
  return { ...figures, exceeds };
}

/**
 * The read units a burst adds: each warm environment reads each new marker `(refresh + margin) /
 * refresh` times on average, and every cold start reads them all while they can matter.
 */
export function burstReadUnits(layout: Layout, inputs: ScenarioInputs): number {
  const burstBytes = inputs.burstRevocationsPerSecond * inputs.burstSeconds * layout.markerIndexBytes;
  const rereads = (inputs.refreshSeconds + inputs.changeMarginSeconds) / inputs.refreshSeconds;
  const warm = (inputs.environments * rereads * burstBytes) / DYNAMODB_LIMITS.readUnitBytes / 2;
  const stay = layout.coldStartWindowSeconds;
  const cold =
    (inputs.environments / inputs.environmentLifetimeSeconds) * stay * queryCost(burstBytes).readUnits;
  return warm + cold;
}

/**
 * After the burst: environments that start cold (one per `environmentLifetimeSeconds` each) read
 * the burst's markers with the rest, for as long as they can matter (the first read's window).
 */
function afterBurst(layout: Layout, inputs: ScenarioInputs, base: ScenarioFigures, peak: ScenarioFigures) {
  const cold = peak.coldStart;
  const coldStartsPerSecond = inputs.environments / inputs.environmentLifetimeSeconds;
  const incremental = base.indexReads - coldStartsPerSecond * base.coldStart.readUnits;
  const indexReads = incremental + coldStartsPerSecond * cold.readUnits;
  const figures = {
    name: "after the burst: cold starts read the burst's markers",
    tableWritesPerPartition: base.tableWritesPerPartition,
    indexWrites: base.indexWrites,
    indexReads,
    markers: peak.markers,
    coldStart: cold,
    usd: usd(0, indexReads * 3600),
    usdPer: 'hour' as const,
  };
  return { ...figures, exceeds: limitsPassed(figures) };
}

export function scenarios(layout: Layout, inputs: ScenarioInputs): ScenarioFigures[] {
  const idle = steady('idle: no mcp environment, no revocation', layout, { ...inputs, environments: 0 }, 0);
  const base = steady(
    `steady: ${inputs.environments} environments, ${inputs.steadyRevocationsPerSecond} revocations/s`,
    layout,
    inputs,
    inputs.steadyRevocationsPerSecond,
  );
  const peak = burst(layout, inputs, base);
  return [idle, base, peak, afterBurst(layout, inputs, base, peak)];
}

/** The subjects modelled, with identifiers as long as the code makes them. */
export interface ModelledSubjects {
  /** A grant family id (`randomToken(16)` in lambda/oauth/login/authorization-response.ts). */
  grant: string;
  /** A client id (`randomToken(16)` in lambda/oauth/endpoints/register.ts). */
  client: string;
  /** A user's `sub` at the upstream provider (Cognito's: a UUID). */
  user: string;
}

/**
 * The UpdateItem inputs of the three ways the oauth function revokes a subject now
 * (`revokeGrantFamily`, `revokeClientTokens`, `revokeUser`), at `now`, captured.
 */
export async function revocationUpdates(
  now: number,
  accessTokenTtlSeconds: number,
  subjects: ModelledSubjects,
  tableName = 'table',
): Promise<Record<keyof ModelledSubjects, UpdateCommand['input']>> {
  const capture = async (revoke: (deps: OAuthDeps) => Promise<void>) => {
    const { db, sent } = capturingClient();
    const deps = {
      now: () => now,
      config: { accessTokenTtlSeconds },
      revocations: new DynamoRevocationList(db, tableName, () => now),
      grants: { revokeFamily: async () => undefined },
    } as unknown as OAuthDeps;
    await revoke(deps);
    const update = sent.find((command) => command instanceof UpdateCommand);
    if (!update) throw new Error('the revocation sent no UpdateItem');
    return update.input;
  };
  return {
    grant: await capture((deps) => revokeGrantFamily(deps, subjects.grant)),
    client: await capture((deps) => revokeClientTokens(deps, subjects.client)),
    user: await capture((deps) => revokeUser(deps, subjects.user)),
  };
}

/** Sizes the items the code writes at `now`; the largest marker kind stands for every marker. */
export async function buildLayout(
  now: number,
  accessTokenTtlSeconds: number,
  subjects: ModelledSubjects,
): Promise<Layout & { markers: Record<keyof ModelledSubjects, Item>; publicKey: Item }> {
  const updates = await revocationUpdates(now, accessTokenTtlSeconds, subjects);
  const markers = {
    grant: itemAfterUpdate(updates.grant),
    client: itemAfterUpdate(updates.client),
    user: itemAfterUpdate(updates.user),
  };
  const largest = Object.values(markers).reduce((a, b) => (itemSize(b) > itemSize(a) ? b : a));
  const projected = indexProjection(largest);
  const keys = await publicKeyItem(now);
  const keysProjected = indexProjection(keys);
  if (!projected || !keysProjected) throw new Error('a marker or the public key item is not in the index');
  return {
    markers,
    publicKey: keys,
    markerBytes: itemSize(largest),
    markerIndexBytes: itemSize(projected),
    markerWrite: markerWriteCost(largest),
    markerLifetimeSeconds: Number(largest[TABLE_SCHEMA.ttlAttribute]) - now / 1000,
    coldStartWindowSeconds: markerRelevanceMs(accessTokenTtlSeconds) / 1000,
    publicKeyBytes: itemSize(keys),
    publicKeyIndexBytes: itemSize(keysProjected),
  };
}
