/**
 * The large-company capacity model (scripts/capacity-company.ts): it multiplies the requests the
 * code sends (OAUTH_ENDPOINT_REQUESTS, which test/scripts/round-trips.test.ts holds the code to),
 * and names the limits the load passes, in the order the load passes them.
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_SETTINGS } from '../../lib/settings.js';
import { CHANGE_MARGIN_MS } from '../../lambda/mcp/aws/mcp-table-reader.js';
import { randomToken } from '../../lambda/shared/crypto.js';
import { OAUTH_ENDPOINT_REQUESTS } from '../../scripts/bench/round-trips.js';
import { buildLayout, scenarios } from '../../scripts/capacity-model.js';
import {
  AWS_QUOTAS,
  companyModel,
  DEFAULT_LOAD,
  type CompanySettings,
} from '../../scripts/capacity-company.js';

const NOW = Date.parse('2026-06-01T12:34:56.789Z');
const SETTINGS: CompanySettings = {
  accessTokenTtlSeconds: DEFAULT_SETTINGS.accessTokenTtlSeconds,
  upstreamRecheckSeconds: 900,
  throttleRateLimit: DEFAULT_SETTINGS.throttleRateLimit,
  oauthMemoryMb: DEFAULT_SETTINGS.oauthMemorySize,
  mcpMemoryMb: DEFAULT_SETTINGS.mcpMemorySize,
};

async function revocation() {
  const layout = await buildLayout(NOW, SETTINGS.accessTokenTtlSeconds, {
    grant: randomToken(16),
    client: randomToken(16),
    user: randomUUID(),
  });
  const [, steady, burst] = scenarios(layout, {
    environments: DEFAULT_LOAD.environments,
    steadyRevocationsPerSecond: 0.1,
    burstRevocationsPerSecond: 1_000,
    burstSeconds: 60,
    environmentLifetimeSeconds: 3600,
    ttlDeletionLagSeconds: 48 * 3600,
    tablePartitions: 4,
    refreshSeconds: DEFAULT_SETTINGS.revocationRefreshSeconds,
    changeMarginSeconds: CHANGE_MARGIN_MS / 1000,
    signingKeyRotationDays: DEFAULT_SETTINGS.signingKeyRotationDays,
  });
  return { steady: steady!, burst: burst! };
}

test("DynamoDB's load is the endpoints' requests times their rates", async () => {
  const figures = companyModel(DEFAULT_LOAD, SETTINGS, await revocation());

  const logins = DEFAULT_LOAD.peakLoginsPerMinute / 60;
  const refreshes = DEFAULT_LOAD.users / SETTINGS.accessTokenTtlSeconds;
  const r = OAUTH_ENDPOINT_REQUESTS;
  const perLogin = (key: 'reads' | 'writes') =>
    r['GET /authorize'][key] +
    r['GET /callback'][key] +
    r['POST /authorize (consent)'][key] +
    r['POST /token authorization_code'][key];
  expect(figures.dynamo.readUnitsPerSecond).toBeCloseTo(
    logins * perLogin('reads') + refreshes * r['POST /token refresh_token'].reads,
  );
  // Plus the consent's update of the client item beyond one unit, and a write per re-check.
  expect(figures.dynamo.writeUnitsPerSecond).toBeCloseTo(
    logins * (perLogin('writes') + DEFAULT_LOAD.clientItemWriteUnits - 1) +
      refreshes * r['POST /token refresh_token'].writes +
      DEFAULT_LOAD.users / SETTINGS.accessTokenTtlSeconds,
  );
});

test("the issue's load passes the revocation burst's index reads first, then Lambda's concurrency, then the /mcp route throttle", async () => {
  const figures = companyModel(DEFAULT_LOAD, SETTINGS, await revocation());

  const over = figures.ranked.filter((limit) => limit.demand > limit.limit).map((limit) => limit.name);
  expect(over).toEqual([
    'DynamoDB partition reads, the `mcp-reads` index in a burst of revocations',
    'Lambda concurrent executions (account)',
    'API Gateway route throttle (throttleRateLimit), busiest route POST /mcp',
    'DynamoDB partition writes, the `mcp-reads` index in a burst of revocations',
  ]);
  // One app shared by every user stays far from a partition's limits.
  expect(figures.dynamo.sharedClientReads).toBeLessThan(100);
  expect(figures.dynamo.sharedClientWrites).toBeLessThan(100);
});

test("Cognito's quota holds with hour-long access tokens, and is passed when they live as long as the re-check interval", async () => {
  const cognito = (
    settings: CompanySettings,
    figures = companyModel(DEFAULT_LOAD, settings, revocationFigures),
  ) => figures.limits.find((limit) => limit.name.startsWith('Cognito'))!;
  const revocationFigures = await revocation();

  const hourly = cognito(SETTINGS);
  const quarterHourly = cognito({ ...SETTINGS, accessTokenTtlSeconds: 900 });

  expect(hourly.limit).toBe(AWS_QUOTAS.cognitoUserAuthenticationRps);
  expect(hourly.demand).toBeLessThan(hourly.limit);
  expect(quarterHourly.demand).toBeGreaterThan(quarterHourly.limit);
});
