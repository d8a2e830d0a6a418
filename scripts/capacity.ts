/**
 * `npm run capacity [-- --environments=10000 --burst-rate=1000 ...]`: the revocation state's load
 * on DynamoDB at scale, from the items the code writes (scripts/capacity-model.ts), against the
 * per-partition limits, with the on-demand cost; then the whole system at a large company's load
 * (scripts/capacity-company.ts). doc/performance.md, "Revocation at scale" and "Sized for a large
 * company", show its output.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEFAULT_SETTINGS } from '../lib/settings.js';
import { CHANGE_MARGIN_MS } from '../lambda/mcp/aws/mcp-table-reader.js';
import { randomToken } from '../lambda/shared/crypto.js';
import {
  buildLayout,
  DYNAMODB_LIMITS,
  indexProjection,
  itemSize,
  writeUnits,
  type Item,
  type Layout,
  ON_DEMAND_PRICES,
  scenarios,
  type Resource,
  type ScenarioFigures,
  type ScenarioInputs,
} from './capacity-model.js';
import { companyModel, DEFAULT_LOAD, formatCompany, type CompanyLoad } from './capacity-company.js';

/** The scenario's figures that are not the code's; each has a flag. */
const ASSUMED = {
  environments: 10_000,
  'steady-rate': 0.1,
  'burst-rate': 1_000,
  'burst-seconds': 60,
  /** Lambda recycles environments; one cold start per environment per hour is assumed. */
  'environment-lifetime-minutes': 60,
  /** DynamoDB deletes expired items "typically within a few days"; two days assumed. */
  'ttl-lag-hours': 48,
  /** A new on-demand table serves 4,000 write units/s at once: at least four partitions. */
  'table-partitions': 4,
  /** A user's `sub` at the upstream provider: Cognito's is a UUID; OIDC allows up to 255. */
  'user-id-length': 36,
  // The large company (scripts/capacity-company.ts); --environments is shared.
  users: DEFAULT_LOAD.users,
  'logins-per-minute': DEFAULT_LOAD.peakLoginsPerMinute,
  'tools-calls-per-hour': DEFAULT_LOAD.toolsCallsPerHour,
  'tools-call-ms': DEFAULT_LOAD.toolsCallMs,
  /** UPSTREAM_RECHECK_SECONDS (issue 19's default). */
  'upstream-recheck-seconds': 900,
};

/** A fixed instant, so that the numbers' sizes (and the output) do not change from run to run. */
const NOW = Date.parse('2026-06-01T12:34:56.789Z');

function inputs(): { scenario: ScenarioInputs; userIdLength: number; company: CompanyLoad; recheck: number } {
  const { values } = parseArgs({
    options: Object.fromEntries(Object.keys(ASSUMED).map((name) => [name, { type: 'string' as const }])),
  });
  const value = (name: keyof typeof ASSUMED): number => {
    const given = values[name];
    const number = given === undefined ? ASSUMED[name] : Number(given);
    if (!Number.isFinite(number) || number < 0) throw new Error(`--${name} must be a number ≥ 0`);
    return number;
  };
  return {
    userIdLength: value('user-id-length'),
    recheck: value('upstream-recheck-seconds'),
    company: {
      ...DEFAULT_LOAD,
      users: value('users'),
      environments: value('environments'),
      peakLoginsPerMinute: value('logins-per-minute'),
      toolsCallsPerHour: value('tools-calls-per-hour'),
      toolsCallMs: value('tools-call-ms'),
    },
    scenario: {
      environments: value('environments'),
      steadyRevocationsPerSecond: value('steady-rate'),
      burstRevocationsPerSecond: value('burst-rate'),
      burstSeconds: value('burst-seconds'),
      environmentLifetimeSeconds: value('environment-lifetime-minutes') * 60,
      ttlDeletionLagSeconds: value('ttl-lag-hours') * 3600,
      tablePartitions: value('table-partitions'),
      refreshSeconds: DEFAULT_SETTINGS.revocationRefreshSeconds,
      changeMarginSeconds: CHANGE_MARGIN_MS / 1000,
      signingKeyRotationDays: DEFAULT_SETTINGS.signingKeyRotationDays,
    },
  };
}

const integer = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const share = (n: number, limit: number) => `${fixed((100 * n) / limit, n < limit / 100 ? 2 : 0)} %`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  const rule = `| ${widths.map((width, column) => (column === 0 ? '-'.repeat(width) : `${'-'.repeat(width - 1)}:`)).join(' | ')} |`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

/** What raises each limit, and what it costs. */
const REMEDIES: Record<Resource, string> = {
  'index partition reads':
    'every warm environment re-reads every new marker from the one partition. Raised by sharding the ' +
    'index partition (`mcpRead` = mcp#0..N-1: N partitions, N Queries per read, N × 3,000 RCU/s), ' +
    'by fewer readers (a shared copy), or by a longer revocationRefreshSeconds (fewer, larger reads: ' +
    'the same bytes, so it only spreads them)',
  'index partition writes':
    'all markers share one index partition key. The SDK retries throttled writes (standard mode: 3 ' +
    'attempts), then the revocation answers 503; raised by sharding the index partition, at the cost ' +
    'of one Query per shard at every read',
  'table partition writes': 'markers have distinct keys: DynamoDB splits the table as it grows',
};

async function main(): Promise<void> {
  const { scenario, userIdLength, company, recheck } = inputs();
  const user = randomUUID().replaceAll('-', '').repeat(8).slice(0, userIdLength);
  const layout = await buildLayout(NOW, DEFAULT_SETTINGS.accessTokenTtlSeconds, {
    grant: randomToken(16),
    client: randomToken(16),
    user: userIdLength === 36 ? randomUUID() : user,
  });
  const { partitionWriteUnitsPerSecond: W, partitionReadUnitsPerSecond: R } = DYNAMODB_LIMITS;
  const figures = scenarios(layout, scenario);
  const out: string[] = [];
  out.push(
    `Items (bytes by DynamoDB's sizing rules; write units per write, eventually consistent read units per read):`,
    '',
    table([
      ['item', 'bytes', 'index entry bytes', 'write units', 'index write units'],
      ...Object.entries(layout.markers).map(([kind, item]) => {
        const key = String(item.pk);
        return [`marker ${key.slice(0, key.lastIndexOf('#') + 1)}<${kind} id>`, ...itemCells(item)];
      }),
      ['public key set (3 RSA-2048 keys)', ...itemCells(layout.publicKey)],
    ]),
    '',
    `A revocation of a subject not revoked before: ${layout.markerWrite.first.table} WCU on the table + ` +
      `${layout.markerWrite.first.index} on the index; revoked again, later: ${layout.markerWrite.again.table} + ` +
      `${layout.markerWrite.again.index} (the index deletes the old entry and puts the new one); already as ` +
      `late: ${layout.markerWrite.conditionFailed.table} + ${layout.markerWrite.conditionFailed.index}.`,
    `A marker matters ${integer(layout.markerLifetimeSeconds)} s, then stays until TTL deletes it (assumed ` +
      `${integer(scenario.ttlDeletionLagSeconds / 3600)} h), paid as storage only: a cold start reads the ` +
      `markers of the last ${integer(layout.coldStartWindowSeconds)} s and the public key item.`,
    `Reads: each of ${integer(scenario.environments)} environments queries what changed every ` +
      `${scenario.refreshSeconds} s, looking back ${scenario.refreshSeconds + scenario.changeMarginSeconds} s, and ` +
      `reads what can matter once per ${integer(scenario.environmentLifetimeSeconds / 60)} min (its cold start).`,
    '',
    table([
      [
        'scenario',
        `table writes/s per partition (of ${integer(W)})`,
        `index writes/s (of ${integer(W)})`,
        `index reads/s (of ${integer(R)})`,
        'markers in index',
        'cold-start read: KB, pages, RCU',
        'on-demand USD',
      ],
      ...figures.map((row) => [
        row.name,
        `${fixed(row.tableWritesPerPartition, 2)} (${share(row.tableWritesPerPartition, W)})`,
        `${fixed(row.indexWrites, 2)} (${share(row.indexWrites, W)})`,
        `${integer(row.indexReads)} (${share(row.indexReads, R)})`,
        integer(row.markers),
        `${fixed(row.coldStart.bytes / 1024, 1)}, ${row.coldStart.pages}, ${fixed(row.coldStart.readUnits, 1)}`,
        `${fixed(row.usd, 2)} per ${row.usdPer}`,
      ]),
    ]),
    '',
    ...verdict(figures, scenario, layout),
    '',
    `Prices: DynamoDB on-demand, Standard table class, ${ON_DEMAND_PRICES.region}, as of ${ON_DEMAND_PRICES.asOf}: ` +
      `$${ON_DEMAND_PRICES.usdPerMillionWriteUnits} per million write request units, ` +
      `$${ON_DEMAND_PRICES.usdPerMillionReadUnits} per million read request units, ` +
      `$${ON_DEMAND_PRICES.usdPerGbMonth} per GB-month (${ON_DEMAND_PRICES.source}).`,
    `Assumed (flags): ${Object.entries(ASSUMED)
      .map(([name, value]) => `--${name}=${value}`)
      .join(' ')}`,
  );
  const settings = {
    accessTokenTtlSeconds: DEFAULT_SETTINGS.accessTokenTtlSeconds,
    upstreamRecheckSeconds: recheck,
    throttleRateLimit: DEFAULT_SETTINGS.throttleRateLimit,
    oauthMemoryMb: DEFAULT_SETTINGS.oauthMemorySize,
    mcpMemoryMb: DEFAULT_SETTINGS.mcpMemorySize,
  };
  const whole = companyModel(company, settings, { steady: figures[1]!, burst: figures[2]! });
  out.push(formatCompany(company, settings, whole));
  console.log(out.join('\n'));
}

function verdict(rows: ScenarioFigures[], scenario: ScenarioInputs, layout: Layout): string[] {
  const passed = rows.flatMap((row) =>
    Object.entries(row.exceeds).map(([resource, at]) => ({ row, resource: resource as Resource, at: at! })),
  );
  if (passed.length === 0) return ['No per-partition limit is reached.'];
  const first = passed[0]!;
  const ratio = (p: (typeof passed)[number]) =>
    p.resource === 'index partition reads'
      ? p.row.indexReads / DYNAMODB_LIMITS.partitionReadUnitsPerSecond
      : (p.resource === 'index partition writes' ? p.row.indexWrites : p.row.tableWritesPerPartition) /
        DYNAMODB_LIMITS.partitionWriteUnitsPerSecond;
  const firstInTime = passed.filter((p) => p.row === first.row).sort((a, b) => a.at - b.at);
  const lines = [`First limit hit, in "${first.row.name}":`];
  for (const p of firstInTime)
    lines.push(
      `- ${p.resource}, ${p.at === 0 ? 'from its first second' : `${p.at} s into it`}, ${fixed(100 * ratio(p), 2)} % of the limit at its peak: ${REMEDIES[p.resource]}.`,
    );
  for (const p of passed.filter((p) => p.row !== first.row))
    lines.push(`Also over in "${p.row.name}": ${p.resource}, ${fixed(100 * ratio(p), 2)} % of the limit.`);
  const peak = first.row;
  const after = rows.at(-1)!;
  const again = layout.markerWrite.again.index * scenario.burstRevocationsPerSecond;
  const unitsPerRead = peak.indexReads / (scenario.environments / scenario.refreshSeconds);
  lines.push(
    `Subjects revoked before (their markers moved later) cost ${layout.markerWrite.again.index} index writes each: ` +
      `${integer(again)} WCU/s at this rate, ${fixed((100 * again) / DYNAMODB_LIMITS.partitionWriteUnitsPerSecond, 0)} % of the limit.`,
    `A cold start after the burst reads ${fixed(after.coldStart.readUnits, 1)} RCU in ${after.coldStart.pages} pages one after another: ` +
      `the partition serves ${fixed(DYNAMODB_LIMITS.partitionReadUnitsPerSecond / after.coldStart.readUnits, 1)} such cold starts/s, ` +
      `against ${fixed(scenario.environments / scenario.environmentLifetimeSeconds, 2)}/s from the environments' turnover alone.`,
    `At the peak each warm environment's query reads about ${integer(unitsPerRead)} RCU; the partition's ` +
      `${integer(DYNAMODB_LIMITS.partitionReadUnitsPerSecond)} RCU/s serve ${integer(DYNAMODB_LIMITS.partitionReadUnitsPerSecond / unitsPerRead)} ` +
      `such queries a second, against ${integer(scenario.environments / scenario.refreshSeconds)} asked for. A throttled query fails the ` +
      `read; the environment answers from its last copy for up to ${DEFAULT_SETTINGS.revocationMaxAgeSeconds} s ` +
      `(revocationMaxAgeSeconds), then 503.`,
    `Before DynamoDB: POST /revoke, DELETE /clients/{client_id} and POST /token each accept ` +
      `${DEFAULT_SETTINGS.throttleRateLimit} requests/s (burst ${DEFAULT_SETTINGS.throttleBurstLimit}; throttleRateLimit), so a burst of ` +
      `${integer(scenario.burstRevocationsPerSecond)} revocations/s through one route needs that setting raised.`,
  );
  return lines;
}

function itemCells(item: Item): string[] {
  const projected = indexProjection(item);
  return [
    integer(itemSize(item)),
    projected ? integer(itemSize(projected)) : '-',
    String(writeUnits(itemSize(item))),
    projected ? String(writeUnits(itemSize(projected))) : '0',
  ];
}

await main();
