/**
 * The whole system at a large company's load, from what the code sends per request
 * (`OAUTH_ENDPOINT_REQUESTS`, which test/scripts/round-trips.test.ts holds the code to), its key
 * layout (which items many requests share), the stack's defaults (lib/settings.ts) and the
 * revocation model (scripts/capacity-model.ts): DynamoDB per partition, Lambda concurrency, API
 * Gateway's route throttle and account quota, Parameter Store, Secrets Manager, Cognito's request
 * quota for the upstream logins and re-checks, and the monthly bill; then which limit the system
 * passes first as the load grows, and what raises it. `npm run capacity` prints it after the
 * revocation figures; doc/performance.md ("Sized for a large company") shows a run.
 *
 * Quotas are AWS's documented defaults (each adjustable unless said); prices are us-east-1
 * on-demand list prices. Both are inputs here, with their source, not read from AWS.
 */
import { OAUTH_ENDPOINT_REQUESTS, type OAuthEndpoint } from './bench/round-trips.js';
import { DYNAMODB_LIMITS, ON_DEMAND_PRICES, type ScenarioFigures } from './capacity-model.js';

/** The load, as the issue states it, and the assumptions each figure needs (all flags). */
export interface CompanyLoad {
  users: number;
  /** mcp execution environments alive at once (each polls the `mcp-reads` index). */
  environments: number;
  /** Logins in the busiest minute (9 a.m.). */
  peakLoginsPerMinute: number;
  toolsCallsPerHour: number;
  /**
   * Share of users whose client holds a grant it refreshes while they work (one grant each; a
   * refresh per access-token lifetime).
   */
  activeGrantShare: number;
  /** Hours a day the load lasts, and days a month, for the bill. */
  hoursPerDay: number;
  daysPerMonth: number;
  /** Mean time of one `tools/call` in the mcp function (the tool's own work), ms. */
  toolsCallMs: number;
  /** Mean DynamoDB latency per round trip in the region, ms; the upstream's per request. */
  dynamoDbMs: number;
  upstreamMs: number;
  /** CPU time of an oauth request (bench: about 2 to 10 ms), ms. */
  oauthCpuMs: number;
  /** Write units of an update of the client item (its metadata; 1 KB a unit). */
  clientItemWriteUnits: number;
}

/** The stack's settings the model reads (lib/settings.ts defaults unless given). */
export interface CompanySettings {
  accessTokenTtlSeconds: number;
  /** UPSTREAM_RECHECK_SECONDS: the upstream is asked again at a refresh at most this often per grant. */
  upstreamRecheckSeconds: number;
  throttleRateLimit: number;
  oauthMemoryMb: number;
  mcpMemoryMb: number;
}

/** AWS's default quotas the model checks against. */
export const AWS_QUOTAS = {
  /** Lambda concurrent executions per account and Region (new accounts may start lower). */
  lambdaConcurrency: 1_000,
  /** Lambda scaling: new execution environments per function every 10 seconds. */
  lambdaScalePer10Seconds: 1_000,
  /** API Gateway HTTP API: requests per second per account and Region (burst 5,000). */
  apiGatewayAccountRps: 10_000,
  /** API Gateway HTTP API: the most an integration may take (not adjustable). */
  apiGatewayIntegrationTimeoutSeconds: 30,
  /** Parameter Store GetParameter, standard throughput (10,000 with higher throughput). */
  parameterStoreTps: 40,
  /** Secrets Manager GetSecretValue per second. */
  secretsManagerTps: 10_000,
  /**
   * Cognito user pools, `UserAuthentication` category: managed-login sign-ins and the token
   * endpoint's `refresh_token` grant count against it (the `authorization_code` grant has the same
   * rate but does not consume it). Per account and Region, adjustable.
   */
  cognitoUserAuthenticationRps: 120,
} as const;

/** us-east-1 list prices (arm64 Lambda, HTTP API first tier, Cognito Essentials). */
export const PRICES = {
  lambdaUsdPerMillionRequests: 0.2,
  lambdaUsdPerGbSecondArm: 0.0000133334,
  apiGatewayUsdPerMillion: 1.0,
  secretsManagerUsdPerSecretMonth: 0.4,
  secretsManagerUsdPer10kCalls: 0.05,
  /** Essentials tier, per monthly active user above the free 10,000 (direct sign-in users). */
  cognitoUsdPerMau: 0.015,
  cognitoFreeMau: 10_000,
  sources:
    'https://aws.amazon.com/lambda/pricing/, https://aws.amazon.com/api-gateway/pricing/, ' +
    'https://aws.amazon.com/secrets-manager/pricing/, https://aws.amazon.com/cognito/pricing/',
} as const;

export const DEFAULT_LOAD: CompanyLoad = {
  users: 100_000,
  environments: 10_000,
  peakLoginsPerMinute: 1_000,
  toolsCallsPerHour: 1_000_000,
  activeGrantShare: 1,
  hoursPerDay: 10,
  daysPerMonth: 21,
  toolsCallMs: 100,
  dynamoDbMs: 5,
  upstreamMs: 150,
  oauthCpuMs: 10,
  clientItemWriteUnits: 2,
};

export interface Limit {
  name: string;
  /** What the load asks, and what the limit allows, in the same unit. */
  demand: number;
  limit: number;
  unit: string;
  raise: string;
}

export interface CompanyFigures {
  /** Requests per second at the 9 a.m. peak, by oauth endpoint. */
  oauthRps: Record<OAuthEndpoint | 'upstream re-check', number>;
  mcpRps: number;
  /** DynamoDB at the peak: all partitions, and the busiest item's partition. */
  dynamo: {
    readUnitsPerSecond: number;
    writeUnitsPerSecond: number;
    /** One client every user signs in with (the worst case: one popular app). */
    sharedClientReads: number;
    sharedClientWrites: number;
    /** The `mcp-reads` index partition, steady and in a burst of revocations (capacity-model.ts). */
    indexReadsSteady: number;
    indexReadsBurst: number;
    indexWritesBurst: number;
  };
  lambda: { oauthConcurrency: number; mcpConcurrencyFromCalls: number; mcpEnvironments: number };
  cognitoRps: { signIns: number; recheckRefreshes: number };
  limits: Limit[];
  /** Sorted by demand / limit, largest first: the first is the first limit passed as load grows. */
  ranked: Limit[];
  monthlyUsd: Record<string, number>;
}

/** Requests per endpoint for one login (authorize, callback, consent, code) and one refresh. */
function dynamoUnits(endpoint: OAuthEndpoint, clientWriteUnits: number): { read: number; write: number } {
  const { reads, writes } = OAUTH_ENDPOINT_REQUESTS[endpoint];
  // Strongly consistent reads of items under 4 KB: one unit each. Writes of items under 1 KB: one
  // unit each, apart from the consent's update of the client item (its last login).
  const clientUpdate = endpoint === 'POST /authorize (consent)' ? clientWriteUnits - 1 : 0;
  return { read: reads, write: writes + clientUpdate };
}

export function companyModel(
  load: CompanyLoad,
  settings: CompanySettings,
  revocation: { steady: ScenarioFigures; burst: ScenarioFigures },
): CompanyFigures {
  const logins = load.peakLoginsPerMinute / 60;
  const activeGrants = load.users * load.activeGrantShare;
  // A client refreshes once per access-token lifetime; the upstream is asked at a refresh when
  // its last check is older than the re-check interval, so at most once per max(both) per grant.
  const refreshes = activeGrants / settings.accessTokenTtlSeconds;
  const rechecks = activeGrants / Math.max(settings.accessTokenTtlSeconds, settings.upstreamRecheckSeconds);
  const oauthRps = {
    'GET /authorize': logins,
    'GET /callback': logins,
    'POST /authorize (consent)': logins,
    'POST /token authorization_code': logins,
    'POST /token refresh_token': refreshes,
    'POST /token client_credentials': 0,
    'upstream re-check': rechecks,
  };
  const mcpRps = load.toolsCallsPerHour / 3600;

  let readUnits = 0;
  let writeUnits = 0;
  for (const endpoint of Object.keys(OAUTH_ENDPOINT_REQUESTS) as OAuthEndpoint[]) {
    const units = dynamoUnits(endpoint, load.clientItemWriteUnits);
    readUnits += oauthRps[endpoint] * units.read;
    writeUnits += oauthRps[endpoint] * units.write;
  }
  // Each re-check also records `upstreamCheckedAt` on the grant family (issue 19): one write.
  writeUnits += rechecks;
  // Every request that reads the client reads the same item when everyone uses one app.
  const clientReadsPerLogin = 3; // /authorize, /callback, /token authorization_code
  const sharedClientReads = logins * clientReadsPerLogin + refreshes;
  const sharedClientWrites = logins * load.clientItemWriteUnits;

  // Little's law: concurrency = arrival rate × time in the function.
  const oauthSeconds = (endpoint: OAuthEndpoint) => {
    const { chain, upstream } = OAUTH_ENDPOINT_REQUESTS[endpoint];
    return ((chain - upstream) * load.dynamoDbMs + upstream * load.upstreamMs + load.oauthCpuMs) / 1000;
  };
  const oauthConcurrency =
    (Object.keys(OAUTH_ENDPOINT_REQUESTS) as OAuthEndpoint[]).reduce(
      (sum, endpoint) => sum + oauthRps[endpoint] * oauthSeconds(endpoint),
      0,
    ) +
    (rechecks * load.upstreamMs) / 1000;
  const mcpConcurrencyFromCalls = (mcpRps * load.toolsCallMs) / 1000;

  const signIns = logins;
  const routes: [string, number][] = [
    ['POST /mcp', mcpRps],
    ['POST /token', logins + refreshes],
    ['GET /authorize', logins],
    ['GET /callback', logins],
    ['POST /authorize', logins],
  ];
  const busiestRoute = routes.reduce((a, b) => (b[1] > a[1] ? b : a));
  const apiRps = routes.reduce((sum, [, rps]) => sum + rps, 0);
  const { partitionReadUnitsPerSecond: R, partitionWriteUnitsPerSecond: W } = DYNAMODB_LIMITS;

  const limits: Limit[] = [
    {
      name: 'Lambda concurrent executions (account)',
      demand: load.environments + oauthConcurrency,
      limit: AWS_QUOTAS.lambdaConcurrency,
      unit: 'executions',
      raise:
        'a Service Quotas increase of "Concurrent executions" (free; tens of thousands are granted); ' +
        'mcpReservedConcurrency then keeps the oauth function its share',
    },
    {
      name: `API Gateway route throttle (throttleRateLimit), busiest route ${busiestRoute[0]}`,
      demand: busiestRoute[1],
      limit: settings.throttleRateLimit,
      unit: 'requests/s',
      raise: 'the throttleRateLimit setting (per route; up to the account quota of 10,000/s)',
    },
    {
      name: 'API Gateway HTTP API requests (account)',
      demand: apiRps,
      limit: AWS_QUOTAS.apiGatewayAccountRps,
      unit: 'requests/s',
      raise: 'a Service Quotas increase',
    },
    {
      name: 'Cognito UserAuthentication (sign-ins + upstream re-check refreshes)',
      demand: signIns + rechecks,
      limit: AWS_QUOTAS.cognitoUserAuthenticationRps,
      unit: 'requests/s',
      raise:
        'a Cognito quota increase (purchased above the default), a longer UPSTREAM_RECHECK_SECONDS, ' +
        'or a longer access-token lifetime (a re-check happens only at a refresh)',
    },
    {
      name: 'DynamoDB partition reads, the `mcp-reads` index in a burst of revocations',
      demand: revocation.burst.indexReads,
      limit: R,
      unit: 'RCU/s',
      raise:
        'sharding the index partition (N partitions, N Queries per read), fewer readers, or fewer ' +
        'environments; "Revocation at scale" in doc/performance.md',
    },
    {
      name: 'DynamoDB partition writes, the `mcp-reads` index in a burst of revocations',
      demand: revocation.burst.indexWrites,
      limit: W,
      unit: 'WCU/s',
      raise: 'sharding the index partition key',
    },
    {
      name: 'DynamoDB partition reads, one client item shared by every user',
      demand: sharedClientReads,
      limit: R,
      unit: 'RCU/s',
      raise: 'DynamoDB splits hot partitions for reads; a per-process client cache would remove them',
    },
    {
      name: 'DynamoDB partition writes, one client item shared by every user (last login)',
      demand: sharedClientWrites,
      limit: W,
      unit: 'WCU/s',
      raise: 'recording the last login at most once a day per client, as refreshes extend it',
    },
    {
      name: 'Parameter Store GetParameter (only a stack upgraded from the earlier key layout)',
      demand: 0,
      limit: AWS_QUOTAS.parameterStoreTps,
      unit: 'requests/s',
      raise: 'none needed: the mcp function reads its keys from the table',
    },
  ];
  const ranked = [...limits].sort((a, b) => b.demand / b.limit - a.demand / a.limit);

  const hoursPerMonth = load.hoursPerDay * load.daysPerMonth;
  const secondsPerMonth = hoursPerMonth * 3600;
  // The peak logins last an hour a day; the refreshes and calls the whole working day.
  const loginsPerMonth = load.peakLoginsPerMinute * 60 * load.daysPerMonth;
  const refreshesPerMonth = refreshes * secondsPerMonth;
  const callsPerMonth = mcpRps * secondsPerMonth;
  const perLogin = (
    [
      'GET /authorize',
      'GET /callback',
      'POST /authorize (consent)',
      'POST /token authorization_code',
    ] as const
  ).map((e) => dynamoUnits(e, load.clientItemWriteUnits));
  const loginRead = perLogin.reduce((s, u) => s + u.read, 0);
  const loginWrite = perLogin.reduce((s, u) => s + u.write, 0);
  const refresh = dynamoUnits('POST /token refresh_token', load.clientItemWriteUnits);
  const dynamoUsd =
    ((loginsPerMonth * loginWrite + refreshesPerMonth * refresh.write + rechecks * secondsPerMonth) / 1e6) *
      ON_DEMAND_PRICES.usdPerMillionWriteUnits +
    ((loginsPerMonth * loginRead + refreshesPerMonth * refresh.read) / 1e6) *
      ON_DEMAND_PRICES.usdPerMillionReadUnits +
    revocation.steady.usd;
  const oauthRequestsPerMonth = loginsPerMonth * 4 + refreshesPerMonth;
  const lambdaUsd =
    ((callsPerMonth + oauthRequestsPerMonth) / 1e6) * PRICES.lambdaUsdPerMillionRequests +
    callsPerMonth *
      (load.toolsCallMs / 1000) *
      (settings.mcpMemoryMb / 1024) *
      PRICES.lambdaUsdPerGbSecondArm +
    oauthRequestsPerMonth *
      (oauthConcurrency / Math.max(1e-9, logins * 4 + refreshes)) *
      (settings.oauthMemoryMb / 1024) *
      PRICES.lambdaUsdPerGbSecondArm;
  const monthlyUsd = {
    'API Gateway (HTTP API)':
      ((callsPerMonth + oauthRequestsPerMonth) / 1e6) * PRICES.apiGatewayUsdPerMillion,
    Lambda: lambdaUsd,
    'DynamoDB (on-demand, revocation state included)': dynamoUsd,
    'Secrets Manager (3 secrets; reads once per environment)': 3 * PRICES.secretsManagerUsdPerSecretMonth,
    [`Cognito (${load.users.toLocaleString('en-US')} monthly active users, Essentials)`]:
      Math.max(0, load.users - PRICES.cognitoFreeMau) * PRICES.cognitoUsdPerMau,
  };

  return {
    oauthRps,
    mcpRps,
    dynamo: {
      readUnitsPerSecond: readUnits,
      writeUnitsPerSecond: writeUnits,
      sharedClientReads,
      sharedClientWrites,
      indexReadsSteady: revocation.steady.indexReads,
      indexReadsBurst: revocation.burst.indexReads,
      indexWritesBurst: revocation.burst.indexWrites,
    },
    lambda: { oauthConcurrency, mcpConcurrencyFromCalls, mcpEnvironments: load.environments },
    cognitoRps: { signIns, recheckRefreshes: rechecks },
    limits,
    ranked,
    monthlyUsd,
  };
}

const n = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The model's figures as the Markdown `npm run capacity` prints. */
export function formatCompany(load: CompanyLoad, settings: CompanySettings, f: CompanyFigures): string {
  const out: string[] = [];
  out.push(
    `\nA large company: ${n(load.users)} users, ${n(load.environments)} mcp environments, ` +
      `${n(load.peakLoginsPerMinute)} logins a minute at 9 a.m., ${n(load.toolsCallsPerHour)} tools/call an hour ` +
      `(access tokens live ${settings.accessTokenTtlSeconds} s, upstream re-check every ${settings.upstreamRecheckSeconds} s).\n`,
  );
  out.push('| at the 9 a.m. peak | per second |', '| --- | ---: |');
  for (const [endpoint, rps] of Object.entries(f.oauthRps)) out.push(`| oauth ${endpoint} | ${n(rps, 1)} |`);
  out.push(`| mcp POST /mcp (tools/call) | ${n(f.mcpRps, 1)} |`);
  out.push(
    `| DynamoDB read units, all partitions (oauth) | ${n(f.dynamo.readUnitsPerSecond, 1)} |`,
    `| DynamoDB write units, all partitions (oauth) | ${n(f.dynamo.writeUnitsPerSecond, 1)} |`,
    `| \`mcp-reads\` index reads, steady / in a burst of revocations (RCU) | ${n(f.dynamo.indexReadsSteady)} / ${n(f.dynamo.indexReadsBurst)} |`,
    `| Lambda concurrency: oauth / mcp from the call rate / mcp environments | ${n(f.lambda.oauthConcurrency, 1)} / ${n(f.lambda.mcpConcurrencyFromCalls, 1)} / ${n(f.lambda.mcpEnvironments)} |`,
    `| Cognito UserAuthentication: sign-ins / re-check refreshes | ${n(f.cognitoRps.signIns, 1)} / ${n(f.cognitoRps.recheckRefreshes, 1)} |`,
  );
  out.push('\n| limit | demand | limit | share |', '| --- | ---: | ---: | ---: |');
  for (const l of f.ranked) {
    out.push(
      `| ${l.name} | ${n(l.demand, 1)} ${l.unit} | ${n(l.limit)} | ${n((100 * l.demand) / l.limit, 1)} % |`,
    );
  }
  const impliedCallSeconds = load.environments / Math.max(1e-9, f.mcpRps);
  out.push(
    `\n${n(load.environments)} environments busy at once at ${n(f.mcpRps, 1)} calls/s means calls of ${n(impliedCallSeconds, 1)} s on ` +
      `average (Little's law); at ${load.toolsCallMs} ms a call, ${n(f.lambda.mcpConcurrencyFromCalls, 1)} are busy. ` +
      (impliedCallSeconds > AWS_QUOTAS.apiGatewayIntegrationTimeoutSeconds
        ? `Calls that long pass API Gateway's ${AWS_QUOTAS.apiGatewayIntegrationTimeoutSeconds} s integration timeout (not adjustable): ` +
          'tools that slow answer 504; environments left from a peak are idle, not busy, and count against no quota.'
        : ''),
  );
  const over = f.ranked.filter((l) => l.demand > l.limit);
  out.push(
    over.length === 0
      ? '\nNo limit is passed at this load.'
      : `\nPassed at this load, largest share first (so the first is the first passed as the load grows): ${over
          .map((l) => l.name)
          .join('; ')}.`,
  );
  const [first, second] = f.ranked;
  out.push(
    `\nFirst limit passed as the load grows: ${first!.name} (${n((100 * first!.demand) / first!.limit)} % of it at this load). ` +
      `Raised by ${first!.raise}.`,
    `Then: ${second!.name} (${n((100 * second!.demand) / second!.limit)} %). Raised by ${second!.raise}.`,
  );
  out.push('\n| monthly bill (us-east-1, list prices) | USD |', '| --- | ---: |');
  let total = 0;
  for (const [item, usd] of Object.entries(f.monthlyUsd)) {
    total += usd;
    out.push(`| ${item} | ${n(usd, 2)} |`);
  }
  out.push(`| total | ${n(total, 2)} |`);
  out.push(
    `\nAssumed (npm run capacity's --users, --environments, --logins-per-minute, --tools-calls-per-hour and ` +
      `--tools-call-ms set the first ones; --upstream-recheck-seconds the re-check): ${Object.entries(load)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}. Prices: ${PRICES.sources}; DynamoDB as above. CloudWatch logs and metrics, ` +
      'data transfer and the WAF are not counted.',
  );
  return out.join('\n');
}
