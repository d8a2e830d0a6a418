/**
 * `npm run bench`: the mcp function against the pattern users would otherwise pick (the SDK's
 * stateless `createMcpHandler`, a fresh server per request, with `jose` verification), both
 * bundled with the deployed esbuild options (`lib/bundling.ts`). Prints, side by side:
 *
 * - bundle bytes;
 * - a fresh process's import plus first authenticated `tools/call` (median of several spawns);
 * - warm time per authenticated `tools/call` through the Lambda entry (median and p99);
 * - requests per second through a loopback HTTP server (bounded in count and time).
 *
 * Parameter Store, Secrets Manager and the JWKS endpoint are loopback fakes (test/support/fake-aws.ts).
 *
 * Then the mcp function serving an SDK server of one's own (`createMcpApp({ sdkServer })`, a fresh
 * SDK server per request behind this project's front), v2 (the baseline's tools through
 * `sdkV2Server`) and v1 (`sdkV1Server`): bundle bytes, import plus first `tools/call`, warm
 * `tools/call` (scripts/bench/sdk-server-entry.ts, scripts/bench/sdk-server-v1-entry.ts).
 *
 * Then the oauth function against what a team would run instead, `oidc-provider`, bundled the same
 * way and behind the same Lambda adapter and stand-ins (scripts/bench/oauth-anchor.ts): bundle
 * bytes, a fresh process's import plus first `client_credentials` `/token` and plus first
 * `GET /authorize`, warm `/token` per grant and warm `/authorize` (median, p99, CPU), and each
 * endpoint's requests to the stand-ins per invocation with the longest chain of them
 * (scripts/bench/round-trips.ts), the floors of issue 22 judged. Then warm `/token` per grant over
 * loopback HTTP on the local server, for scale (scripts/bench/user-tokens.ts).
 * Figures vary by machine; doc/performance.md records a run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildOptions, NODE_OPTIONS, PROJECT_ROOT } from '../lib/bundling.js';
import { generateSigningKey } from '../lambda/shared/key-set.js';
import { buildBuiltInMcpBundle } from '../test/support/built-in-server.js';
import { startFakeAws } from '../test/support/fake-aws.js';
import { formatAnchor, measureOAuthAnchor } from './bench/oauth-anchor.js';
import { httpEvent } from './bench/oauth-events.js';
import { measureWarmUserTokens } from './bench/user-tokens.js';
import { createPrivateKey, sign } from 'node:crypto';

const ISSUER = 'http://localhost:3000';
const FRESH_RUNS = Number(process.env.BENCH_FRESH_RUNS ?? 7);
const WARM_CALLS = Number(process.env.BENCH_WARM_CALLS ?? 5000);
const LOAD_REQUESTS = Number(process.env.BENCH_LOAD_REQUESTS ?? 4000);
const LOAD_CONCURRENCY = 16;
/**
 * How long the loopback stand-ins for SSM, DynamoDB, Secrets Manager and the JWKS endpoint wait
 * before answering: 0 by default (the floors are judged so); set it to see a cold start, and the
 * oauth function's round trips, with a service's latency.
 */
const SERVICE_LATENCY_MS = Number(process.env.BENCH_SERVICE_LATENCY_MS ?? 0);
const LOAD_MAX_MS = 15_000;
/** Logins (authorization codes) for the warm user-grant figures, and refresh rotations per code. */
const LOGINS = Number(process.env.BENCH_LOGINS ?? 200);
const REFRESH_ROUNDS = Number(process.env.BENCH_REFRESH_ROUNDS ?? 3);
const TOKEN_WARMUP = 20;
const outRoot = join(PROJECT_ROOT, '.bench');

type Variant = 'mcp' | 'baseline';

/** The mcp function serving an SDK server through `createMcpApp({ sdkServer })`, per SDK. */
type SdkVariant = 'v2' | 'v1';
const SDK_ENTRIES: Record<SdkVariant, string> = {
  v2: 'scripts/bench/sdk-server-entry.ts',
  v1: 'scripts/bench/sdk-server-v1-entry.ts',
};

async function buildSdkServerBundles(): Promise<Record<SdkVariant, string>> {
  const bundles = {} as Record<SdkVariant, string>;
  for (const [variant, entry] of Object.entries(SDK_ENTRIES) as [SdkVariant, string][]) {
    const dir = join(outRoot, `sdk-server-${variant}`);
    await build({ ...buildOptions('mcp', dir), entryPoints: [join(PROJECT_ROOT, entry)] });
    bundles[variant] = join(dir, 'index.mjs');
  }
  return bundles;
}

async function buildBundles(): Promise<Record<Variant, string>> {
  const mcpDir = join(outRoot, 'mcp');
  const baselineDir = join(outRoot, 'baseline');
  // The built-in tools (the figures are the built-in path's), whatever served-server.ts names.
  await buildBuiltInMcpBundle(mcpDir);
  await build({
    ...buildOptions('mcp', baselineDir),
    entryPoints: [join(PROJECT_ROOT, 'scripts/bench/baseline-entry.ts')],
  });
  return { mcp: join(mcpDir, 'index.mjs'), baseline: join(baselineDir, 'index.mjs') };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const postEvent = (path: string, body: string, headers: Record<string, string>) =>
  httpEvent('POST', path, { body, headers });

/** An authenticated `tools/call` of `add` on `/mcp`. */
function event(token: string, id = 1) {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'add', arguments: { a: 1, b: 2 } },
  });
  return postEvent('/mcp', body, {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-06-18',
    authorization: `Bearer ${token}`,
  });
}

// Runs inside a fresh `node` process: import the bundle, answer one call, report the time.
const FRESH_SCRIPT = `
const t0 = performance.now();
const { handler } = await import(process.env.BUNDLE);
const result = await handler(JSON.parse(process.env.EVENT));
const ms = performance.now() - t0;
if (result.statusCode !== 200 || !result.body.includes('"sum":3')) { console.error(JSON.stringify(result)); process.exit(1); }
console.log(JSON.stringify({ ms }));
`;

// Runs inside a node process: warm up, then time every call (hrtime) and the total CPU time.
const WARM_SCRIPT = `
import { readFileSync } from 'node:fs';
const { handler } = await import(process.env.BUNDLE);
const events = JSON.parse(readFileSync(process.env.EVENTS_FILE, 'utf8'));
const n = Number(process.env.CALLS);
for (let i = 0; i < 500; i++) await handler(events[i % events.length]);
const times = new Float64Array(n);
const cpu0 = process.cpuUsage();
for (let i = 0; i < n; i++) {
  const t = process.hrtime.bigint();
  const r = await handler(events[i % events.length]);
  times[i] = Number(process.hrtime.bigint() - t) / 1000;
  if (r.statusCode !== 200) { console.error(JSON.stringify(r)); process.exit(1); }
}
const cpu = process.cpuUsage(cpu0);
times.sort();
console.log(JSON.stringify({ median: times[Math.floor(n / 2)], p99: times[Math.floor(n * 0.99)], cpuMean: (cpu.user + cpu.system) / n }));
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs a script in a child `node`; async, because the loopback fakes live in this process. */
function runNode(script: string, env: Record<string, string>): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`benchmark child failed: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>);
    });
  });
}

async function loadTest(url: string, token: string): Promise<number> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'add', arguments: { a: 1, b: 2 } },
  });
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    authorization: `Bearer ${token}`,
  };
  let sent = 0;
  let done = 0;
  const started = performance.now();
  const worker = async () => {
    while (sent < LOAD_REQUESTS && performance.now() - started < LOAD_MAX_MS) {
      sent++;
      const response = await fetch(`${url}/mcp`, { method: 'POST', headers, body });
      if (response.status !== 200) throw new Error(`load test got ${response.status}`);
      await response.arrayBuffer();
      done++;
    }
  };
  for (let i = 0; i < 200; i++) {
    await (await fetch(`${url}/mcp`, { method: 'POST', headers, body })).arrayBuffer();
  }
  await Promise.all(Array.from({ length: LOAD_CONCURRENCY }, worker));
  return done / ((performance.now() - started) / 1000);
}

async function serve(bundle: string, env: Record<string, string>): Promise<{ url: string; stop(): void }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'scripts/bench/serve-bundle.ts'), bundle],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { url, stop: () => child.kill() };
}

/** The oauth function against oidc-provider, with this run's settings. */
const ANCHOR_OPTIONS = {
  freshRuns: FRESH_RUNS,
  logins: LOGINS,
  rounds: REFRESH_ROUNDS,
  warmup: TOKEN_WARMUP,
  latencyMs: SERVICE_LATENCY_MS,
};

/** `BENCH_ONLY=oauth`: only the oauth function against oidc-provider. */
async function oauthOnly() {
  mkdirSync(outRoot, { recursive: true });
  const anchor = await measureOAuthAnchor(ANCHOR_OPTIONS);
  console.log(
    `\nnode ${process.version}, ${FRESH_RUNS} fresh processes per bundle and path, ${LOGINS} logins`,
  );
  console.log(formatAnchor(anchor, SERVICE_LATENCY_MS));
}

async function main() {
  if (process.env.BENCH_ONLY === 'oauth') return oauthOnly();
  mkdirSync(outRoot, { recursive: true });
  const bundles = await buildBundles();
  const key = await generateSigningKey();
  const privateKey = createPrivateKey({
    key: key as unknown as import('node:crypto').JsonWebKey,
    format: 'jwk',
  });
  const mint = (jti: string) => {
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64({ alg: 'RS256', typ: 'at+jwt', kid: key.kid })}.${b64({
      iss: ISSUER,
      sub: 'bench-client',
      aud: `${ISSUER}/mcp`,
      client_id: 'bench-client',
      scope: 'mcp:tools mcp:resources',
      iat: now,
      exp: now + 3600,
      jti,
    })}`;
    return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
  };
  const token = mint('bench');
  const aws = await startFakeAws({ current: key }, { latencyMs: SERVICE_LATENCY_MS });
  const env = {
    // As the stack runs the mcp function (the baseline and the SDK-server fronts likewise).
    NODE_OPTIONS: NODE_OPTIONS.mcp,
    ISSUER,
    LOG_LEVEL: 'warn',
    SIGNING_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `${aws.url}/`,
    PUBLIC_KEYS_PARAMETER_NAME: '/bench/public-keys',
    SSM_ENDPOINT: `${aws.url}/`,
    TABLE_NAME: 'bench',
    DYNAMODB_ENDPOINT: `${aws.url}/`,
    JWKS_URL: `${aws.url}/jwks`,
  };
  const sameToken = join(outRoot, 'events-same-token.json');
  const distinctTokens = join(outRoot, 'events-distinct-tokens.json');
  writeFileSync(sameToken, JSON.stringify([event(token)]));
  writeFileSync(
    distinctTokens,
    JSON.stringify(Array.from({ length: 2000 }, (_, i) => event(mint(`t${i}`), i))),
  );

  const rows: Record<string, Record<Variant, number>> = {};
  const variants: Variant[] = ['baseline', 'mcp'];
  rows['bundle bytes'] = { mcp: statSync(bundles.mcp).size, baseline: statSync(bundles.baseline).size };
  rows['import + first tools/call, ms (median)'] = await freshMedians(bundles, env, token);
  const warm: Record<Variant, Record<string, number>> = { mcp: {}, baseline: {} };
  const warmMiss: Record<Variant, Record<string, number>> = { mcp: {}, baseline: {} };
  for (const v of variants) {
    warm[v] = await runNode(WARM_SCRIPT, {
      ...env,
      BUNDLE: bundles[v],
      EVENTS_FILE: sameToken,
      CALLS: String(WARM_CALLS),
    });
    warmMiss[v] = await runNode(WARM_SCRIPT, {
      ...env,
      BUNDLE: bundles[v],
      EVENTS_FILE: distinctTokens,
      CALLS: String(WARM_CALLS),
    });
  }
  rows['warm tools/call, µs (median)'] = { mcp: warm.mcp.median!, baseline: warm.baseline.median! };
  rows['warm tools/call, µs (p99)'] = { mcp: warm.mcp.p99!, baseline: warm.baseline.p99! };
  rows['warm tools/call, CPU µs (mean)'] = { mcp: warm.mcp.cpuMean!, baseline: warm.baseline.cpuMean! };
  rows['warm, new token each call, µs (median)'] = {
    mcp: warmMiss.mcp.median!,
    baseline: warmMiss.baseline.median!,
  };
  rows['warm, new token each call, µs (p99)'] = { mcp: warmMiss.mcp.p99!, baseline: warmMiss.baseline.p99! };
  rows['loopback HTTP server, requests/s'] = { mcp: 0, baseline: 0 };
  for (const v of variants) {
    const server = await serve(bundles[v], env);
    try {
      rows['loopback HTTP server, requests/s'][v] = await loadTest(server.url, token);
    } finally {
      server.stop();
    }
  }
  const sdkRows = await measureSdkServers(env, token, sameToken);
  await aws.close();
  const anchor = await measureOAuthAnchor(ANCHOR_OPTIONS);
  const userTokens = await measureWarmUserTokens({
    logins: LOGINS,
    rounds: REFRESH_ROUNDS,
    warmup: TOKEN_WARMUP,
  });

  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
  console.log(
    `\nnode ${process.version}, ${WARM_CALLS} warm calls, ${FRESH_RUNS} fresh processes, ${LOAD_REQUESTS} HTTP requests x${LOAD_CONCURRENCY}, service latency ${SERVICE_LATENCY_MS} ms\n`,
  );
  console.log(`| figure | baseline (SDK createMcpHandler + jose) | mcp function | ratio |`);
  console.log(`| --- | ---: | ---: | ---: |`);
  for (const [name, r] of Object.entries(rows)) {
    console.log(`| ${name} | ${fmt(r.baseline)} | ${fmt(r.mcp)} | ${(r.mcp / r.baseline).toFixed(3)} |`);
  }
  const floors = [
    ['warm time ≤ 1/5', rows['warm tools/call, µs (median)']!, 1 / 5],
    ['import + first call ≤ 1/3', rows['import + first tools/call, ms (median)']!, 1 / 3],
    ['bundle ≤ 1/2', rows['bundle bytes']!, 1 / 2],
  ] as const;
  console.log('');
  for (const [name, r, limit] of floors) {
    console.log(
      `${r.mcp / r.baseline <= limit ? 'MET ' : 'MISS'} ${name} (ratio ${(r.mcp / r.baseline).toFixed(3)})`,
    );
  }
  console.log(
    `\n| own SDK server behind the front (createMcpApp({ sdkServer })) | v2 (sdkV2Server) | v1 (sdkV1Server) | v2 / baseline |`,
  );
  console.log(`| --- | ---: | ---: | ---: |`);
  const baselineOf: Record<string, number | undefined> = {
    'bundle bytes': rows['bundle bytes']!.baseline,
    'import + first tools/call, ms (median)': rows['import + first tools/call, ms (median)']!.baseline,
    'warm tools/call, µs (median)': rows['warm tools/call, µs (median)']!.baseline,
    'warm tools/call, µs (p99)': rows['warm tools/call, µs (p99)']!.baseline,
    'warm tools/call, CPU µs (mean)': rows['warm tools/call, CPU µs (mean)']!.baseline,
  };
  for (const [name, r] of Object.entries(sdkRows)) {
    const base = baselineOf[name];
    console.log(`| ${name} | ${fmt(r.v2)} | ${fmt(r.v1)} | ${base ? (r.v2 / base).toFixed(3) : ''} |`);
  }
  console.log(formatAnchor(anchor, SERVICE_LATENCY_MS));
  console.log(`\n| oauth function on the local server (loopback HTTP) | value |\n| --- | ---: |`);
  const grants = [
    ['authorization_code', userTokens.authorizationCode],
    ['refresh_token', userTokens.refreshToken],
    ['client_credentials (for scale)', userTokens.clientCredentials],
  ] as const;
  for (const [grant, figures] of grants) {
    console.log(`| warm /token ${grant}, local server, ms (median) | ${fmt(figures.median)} |`);
    console.log(`| warm /token ${grant}, local server, ms (p99) | ${fmt(figures.p99)} |`);
  }
  console.log(
    `\n(warm /token: ${userTokens.authorizationCode.count} codes, ${userTokens.refreshToken.count} refreshes in ` +
      `${REFRESH_ROUNDS} rotation rounds, ${userTokens.clientCredentials.count} client_credentials, after ` +
      `${userTokens.logins} untimed logins in ${(userTokens.loginMs / 1000).toFixed(1)} s)\n`,
  );
}

/**
 * The median, over FRESH_RUNS fresh processes per bundle, of importing the bundle and answering
 * one `tools/call`. The bundles take turns, run by run, so that
 * a change in the machine's load while the figures are taken weighs on each of them alike, and the
 * ratio between them holds even when the absolute figures drift.
 */
async function freshMedians<K extends string>(
  bundles: Record<K, string>,
  env: Record<string, string>,
  token: string,
): Promise<Record<K, number>> {
  const names = Object.keys(bundles) as K[];
  const runs = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < FRESH_RUNS; i++) {
    for (const name of names) {
      const fresh = await runNode(FRESH_SCRIPT, {
        ...env,
        BUNDLE: bundles[name],
        EVENT: JSON.stringify(event(token)),
      });
      runs[name].push(fresh.ms!);
    }
  }
  return Object.fromEntries(names.map((name) => [name, median(runs[name])])) as Record<K, number>;
}

/**
 * The own-SDK-server path: bundle bytes, a fresh process's import plus first `tools/call`, and
 * warm `tools/call` with the same token every call, measured as for the mcp function.
 */
async function measureSdkServers(
  env: Record<string, string>,
  token: string,
  eventsFile: string,
): Promise<Record<string, Record<SdkVariant, number>>> {
  const bundles = await buildSdkServerBundles();
  const rows: Record<string, Record<SdkVariant, number>> = {};
  const variants: SdkVariant[] = ['v2', 'v1'];
  rows['bundle bytes'] = { v2: statSync(bundles.v2).size, v1: statSync(bundles.v1).size };
  rows['import + first tools/call, ms (median)'] = await freshMedians(bundles, env, token);
  const warm = {} as Record<SdkVariant, Record<string, number>>;
  for (const v of variants) {
    warm[v] = await runNode(WARM_SCRIPT, {
      ...env,
      BUNDLE: bundles[v],
      EVENTS_FILE: eventsFile,
      CALLS: String(WARM_CALLS),
    });
  }
  rows['warm tools/call, µs (median)'] = { v2: warm.v2.median!, v1: warm.v1.median! };
  rows['warm tools/call, µs (p99)'] = { v2: warm.v2.p99!, v1: warm.v1.p99! };
  rows['warm tools/call, CPU µs (mean)'] = { v2: warm.v2.cpuMean!, v1: warm.v1.cpuMean! };
  return rows;
}

await main();
