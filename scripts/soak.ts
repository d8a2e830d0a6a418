/**
 * `npm run soak`: a bounded soak of the local server over loopback. The server (the handlers,
 * the embedded DynamoDB engine and the local upstream provider, as `npm start` runs them) runs in
 * a child process of its own, so its memory is measured apart from the load; this process runs
 * `SOAK_CONNECTIONS` workers (default 32, each with one request in flight, keep-alive) for
 * `SOAK_SECONDS` (default 60) with mixed traffic (`SOAK_MIX=read-only` leaves out what writes):
 *
 * - `tools/call` on `/mcp` with a pool of tokens (machine and user tokens, replaced as new ones
 *   are issued, so the verified-token cache sees hits and misses), and with deliberately bad ones;
 * - `client_credentials` at `/token`, and with a wrong secret on purpose;
 * - refresh rotations of user grants made through the authorization code flow (logins run over
 *   HTTP with the tests' user agent, as `scripts/bench/user-tokens.ts` does), and whole logins;
 * - registrations, `/revoke` (refresh tokens of logins, access tokens never used again, unknown
 *   tokens), and the metadata documents.
 *
 * It reports per route: count, status histogram, p50/p99 latency and errors (connection errors
 * and unexpected statuses; the non-2xx answers sent on purpose, and redirects, are listed apart);
 * the server's RSS, JS heap (after a full GC) and external memory every 5 s, with a verdict for
 * each whether it levelled off (growth in the last third of the run against the first third);
 * and the size of every in-process cache. It exits 1 if any request failed or got an unexpected
 * status. doc/performance.md ("Soak") records a run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { tableReader } from '../test/support/table.js';
import { login, UserAgent } from '../test/support/user-agent.js';

const SECONDS = setting('SOAK_SECONDS', 60);
const CONNECTIONS = setting('SOAK_CONNECTIONS', 32);
/** `mixed` (default), or `read-only`: no operation that writes to the table (see OPERATIONS). */
const MIX = process.env.SOAK_MIX ?? 'mixed';
if (MIX !== 'mixed' && MIX !== 'read-only') throw new Error('SOAK_MIX must be mixed or read-only');
const SAMPLE_MS = 5_000;
/** Tokens `/mcp` calls are made with at any moment; new ones replace old ones as they are issued. */
const TOKEN_POOL = 8;
const REDIRECT_URI = 'http://127.0.0.1/callback';

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

interface Sample {
  /** Seconds since the load started. */
  t: number;
  rss: number;
  heapUsed: number;
  /** Memory outside the JS heap: buffers, where the embedded engine keeps the table's keys and values. */
  external: number;
  items: Record<string, number>;
  caches: Record<string, number>;
}

type ToServer = { kind: 'sample' } | { kind: 'finish' };
type FromServer =
  | { kind: 'ready'; issuer: string; upstreamIssuer: string }
  | ({ kind: 'sample' } & Omit<Sample, 't'>)
  | { kind: 'finished' };

// ---------------------------------------------------------------- the server process

async function serve(): Promise<void> {
  const { startLocalServer } = await import('../lib/local/server.js');
  const { formatterCacheSize } = await import('../lambda/mcp/tools/get-time.js');
  const server = await startLocalServer({ port: 0, inMemory: true, logLevel: 'silent' });
  const table = tableReader(server);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the server process needs --expose-gc');
  const send = (message: FromServer) => process.send!(message);

  const itemsByKind = () => table.itemsByKind();

  process.on('message', (message: ToServer) => {
    void (async () => {
      if (message.kind === 'sample') {
        const items = await itemsByKind();
        gc();
        const memory = process.memoryUsage();
        send({
          kind: 'sample',
          rss: memory.rss,
          heapUsed: memory.heapUsed,
          external: memory.external,
          items,
          caches: { ...server.cacheSizes(), getTimeFormatters: formatterCacheSize() },
        });
      } else {
        send({ kind: 'finished' });
        table.close();
        await server.close();
        process.exit(0);
      }
    })();
  });
  send({ kind: 'ready', issuer: server.issuer, upstreamIssuer: server.upstreamIssuer });
}

// ---------------------------------------------------------------- statistics

interface RouteStats {
  latencies: number[];
  statuses: Map<number, number>;
  /** Non-2xx answers the soak asked for (a bad token's 401, a login's redirects). */
  expected: Map<number, number>;
  unexpected: Map<string, number>;
  errors: Map<string, number>;
}

const stats = new Map<string, RouteStats>();
let recording = false;

function routeStats(route: string): RouteStats {
  let entry = stats.get(route);
  if (!entry) {
    entry = {
      latencies: [],
      statuses: new Map(),
      expected: new Map(),
      unexpected: new Map(),
      errors: new Map(),
    };
    stats.set(route, entry);
  }
  return entry;
}

const bump = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);

/** Records one answer; `expected` are the statuses that are not a failure for this request. */
function record(route: string, status: number, ms: number, expected: number[], detail = ''): void {
  if (!recording) {
    if (!expected.includes(status)) throw new Error(`setup: ${route} answered ${status} ${detail}`);
    return;
  }
  const entry = routeStats(route);
  entry.latencies.push(ms);
  bump(entry.statuses, status);
  if (!expected.includes(status)) bump(entry.unexpected, `${status} ${detail}`.trim().slice(0, 160));
  else if (status < 200 || status >= 300) bump(entry.expected, status);
}

function recordError(route: string, error: unknown): void {
  if (!recording) throw error;
  const cause = (error as { cause?: { code?: string } }).cause;
  bump(routeStats(route).errors, `${(error as Error).name}: ${cause?.code ?? (error as Error).message}`);
}

async function call(
  route: string,
  url: string,
  init: RequestInit,
  expected: number[],
): Promise<{ status: number; body: string } | undefined> {
  const started = performance.now();
  try {
    const response = await fetch(url, { ...init, redirect: 'manual' });
    const body = await response.text();
    const ms = performance.now() - started;
    const rpcError = route.startsWith('POST /mcp') && response.status === 200 && body.includes('"error":');
    record(
      route,
      rpcError ? -1 : response.status,
      ms,
      expected,
      rpcError || !expected.includes(response.status) ? body.slice(0, 120) : '',
    );
    return { status: response.status, body };
  } catch (error) {
    recordError(route, error);
    return undefined;
  }
}

/** The tests' user agent, with every request it makes timed (to the response headers). */
class TimedAgent extends UserAgent {
  constructor(private readonly issuer: string) {
    super();
  }

  override async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const method = init.method ?? 'GET';
    const ours = target.href.startsWith(this.issuer);
    const route = ours
      ? `${method} ${target.pathname}${method === 'POST' && target.pathname === '/authorize' ? ' (consent)' : ''}`
      : `${method} upstream provider (local)`;
    const expected = !ours
      ? [200, 302, 303]
      : target.pathname === '/callback'
        ? [200]
        : target.pathname === '/authorize'
          ? [method === 'GET' ? 302 : 303]
          : [200];
    const started = performance.now();
    try {
      const response = await super.fetch(url, init);
      record(route, response.status, performance.now() - started, expected);
      return response;
    } catch (error) {
      recordError(route, error);
      throw error;
    }
  }
}

// ---------------------------------------------------------------- the load

interface Context {
  issuer: string;
  upstreamIssuer: string;
  machines: Array<{ clientId: string; clientSecret: string; basic: string }>;
  publicClientId: string;
  /** Tokens `/mcp` calls use. */
  tokens: string[];
  /** Refresh tokens free to be rotated (each is taken by one worker at a time). */
  refreshTokens: string[];
  /** Refresh tokens of logins made during the soak, to revoke. */
  revocable: string[];
  /** Access tokens that no `/mcp` call will use again, to revoke. */
  throwaway: string[];
  /** Every token an `/mcp` call was served with, to bound the verified-token cache from below. */
  servedTokens: Set<string>;
}

const form = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function clientCredentials(ctx: Context): Promise<void> {
  // Revoking a machine token revokes its client's earlier tokens too (RFC 7009 §2.1, one marker
  // per client), so the tokens kept to be revoked come from a client of their own (the first),
  // and the /mcp pool's from the others.
  const forPool = Math.random() < 0.3;
  const machine = forPool ? pick(ctx.machines.slice(1)) : ctx.machines[0]!;
  const answer = await call(
    'POST /token client_credentials',
    `${ctx.issuer}/token`,
    {
      method: 'POST',
      headers: { ...FORM, authorization: machine.basic },
      body: 'grant_type=client_credentials',
    },
    [200],
  );
  if (answer?.status !== 200) return;
  const token = (JSON.parse(answer.body) as { access_token: string }).access_token;
  // Some new tokens go into the /mcp pool (cache misses), the rest are kept to be revoked.
  if (forPool) ctx.tokens[Math.floor(Math.random() * TOKEN_POOL)] = token;
  else if (ctx.throwaway.length < 1000) ctx.throwaway.push(token);
}

async function badClientSecret(ctx: Context): Promise<void> {
  const machine = pick(ctx.machines);
  const basic = `Basic ${Buffer.from(`${form(machine.clientId)}:wrong-secret`).toString('base64')}`;
  await call(
    'POST /token client_credentials, wrong secret',
    `${ctx.issuer}/token`,
    { method: 'POST', headers: { ...FORM, authorization: basic }, body: 'grant_type=client_credentials' },
    [401],
  );
}

function mcpBody(): string {
  const params =
    Math.random() < 0.7
      ? { name: 'add', arguments: { a: Math.floor(Math.random() * 1000), b: 1 } }
      : {
          name: 'get_time',
          arguments: { timeZone: pick(['UTC', 'Europe/Paris', 'Asia/Tokyo', 'America/New_York']) },
        };
  return JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params });
}

const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};

async function mcpCall(ctx: Context): Promise<void> {
  const token = pick(ctx.tokens);
  const answer = await call(
    'POST /mcp tools/call',
    `${ctx.issuer}/mcp`,
    { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: mcpBody() },
    [200],
  );
  if (answer?.status === 200) ctx.servedTokens.add(token);
}

async function mcpBadToken(ctx: Context): Promise<void> {
  const token = pick(ctx.tokens);
  const at = 10 + Math.floor(Math.random() * (token.length - 20));
  const forged = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
  await call(
    'POST /mcp tools/call, bad token',
    `${ctx.issuer}/mcp`,
    { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${forged}` }, body: mcpBody() },
    [401],
  );
}

async function refresh(ctx: Context): Promise<void> {
  const refreshToken = ctx.refreshTokens.pop();
  if (!refreshToken) return metadata(ctx);
  const answer = await call(
    'POST /token refresh_token',
    `${ctx.issuer}/token`,
    {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: ctx.publicClientId,
        refresh_token: refreshToken,
      }).toString(),
    },
    [200],
  );
  if (answer?.status !== 200) return;
  const tokens = JSON.parse(answer.body) as { access_token: string; refresh_token: string };
  ctx.refreshTokens.unshift(tokens.refresh_token);
  if (Math.random() < 0.3) ctx.tokens[Math.floor(Math.random() * TOKEN_POOL)] = tokens.access_token;
}

async function register(ctx: Context): Promise<void> {
  await call(
    'POST /register',
    `${ctx.issuer}/register`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: `soak app ${randomBytes(4).toString('hex')}`,
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
      }),
    },
    [201],
  );
}

async function revoke(ctx: Context): Promise<void> {
  const refreshToken = ctx.revocable.pop();
  const token = refreshToken ?? ctx.throwaway.pop() ?? randomBytes(32).toString('base64url');
  // A login's refresh token by its public client; other tokens by a machine client (Basic).
  const client: { body: Record<string, string>; headers: Record<string, string> } = refreshToken
    ? { body: { client_id: ctx.publicClientId }, headers: {} }
    : { body: {}, headers: { authorization: ctx.machines[0]!.basic } };
  await call(
    'POST /revoke',
    `${ctx.issuer}/revoke`,
    {
      method: 'POST',
      headers: { ...FORM, ...client.headers },
      body: new URLSearchParams({ token, ...client.body }).toString(),
    },
    [200],
  );
}

const METADATA = [
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/.well-known/jwks.json',
  '/.well-known/oauth-protected-resource/mcp',
];

async function metadata(ctx: Context): Promise<void> {
  const path = pick(METADATA);
  await call(`GET ${path}`, `${ctx.issuer}${path}`, {}, [200]);
}

/** A whole login (authorize, upstream, callback, consent) and the code's redemption. */
async function loginAndRedeem(
  ctx: Context,
  agent: TimedAgent,
): Promise<{ refresh: string; access: string } | undefined> {
  const verifier = randomBytes(32).toString('base64url');
  const url = `${ctx.issuer}/authorize?${new URLSearchParams({
    client_id: ctx.publicClientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
    resource: `${ctx.issuer}/mcp`,
  })}`;
  let code: string | null;
  try {
    code = (await login(agent, url, ctx, 'soak-user')).searchParams.get('code');
  } catch (error) {
    recordError('login (as a whole)', error);
    return undefined;
  }
  if (!code) return undefined;
  const answer = await call(
    'POST /token authorization_code',
    `${ctx.issuer}/token`,
    {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: ctx.publicClientId,
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
      }).toString(),
    },
    [200],
  );
  if (answer?.status !== 200) return undefined;
  const tokens = JSON.parse(answer.body) as { access_token: string; refresh_token: string };
  return { refresh: tokens.refresh_token, access: tokens.access_token };
}

type Operation = (ctx: Context, agent: TimedAgent) => Promise<unknown>;

/** Weight, whether it writes to the table, and the operation. */
const OPERATIONS: Array<[weight: number, writes: boolean, run: Operation]> = [
  [34, false, mcpCall],
  [18, false, clientCredentials],
  [12, false, metadata],
  [10, true, refresh],
  [6, false, mcpBadToken],
  [6, true, revoke],
  [4, true, register],
  [2, false, badClientSecret],
  [
    3,
    true,
    async (ctx, agent) => {
      const tokens = await loginAndRedeem(ctx, agent);
      if (tokens) (Math.random() < 0.5 ? ctx.revocable : ctx.refreshTokens).push(tokens.refresh);
    },
  ],
];
// `read-only` leaves out every operation that adds to the table, whose growth is by design: what
// memory still grows then is the handlers' own.
const RUNNING = OPERATIONS.filter(([, writes]) => MIX === 'mixed' || !writes);
const TOTAL_WEIGHT = RUNNING.reduce((sum, [weight]) => sum + weight, 0);

function nextOperation(): Operation {
  let r = Math.random() * TOTAL_WEIGHT;
  for (const [weight, , run] of RUNNING) {
    r -= weight;
    if (r < 0) return run;
  }
  return RUNNING[0]![2];
}

async function setUp(
  issuer: string,
  upstreamIssuer: string,
): Promise<{ ctx: Context; agents: TimedAgent[] }> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`setup: ${path} answered ${response.status}`);
    return (await response.json()) as Record<string, string>;
  };
  const machines = [];
  for (let i = 0; i < 4; i++) {
    const m = await post('/register', {
      client_name: `soak agent ${i}`,
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    machines.push({
      clientId: m.client_id!,
      clientSecret: m.client_secret!,
      basic: `Basic ${Buffer.from(`${form(m.client_id!)}:${form(m.client_secret!)}`).toString('base64')}`,
    });
  }
  const app = await post('/register', {
    client_name: 'soak desktop app',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  });
  const ctx: Context = {
    issuer,
    upstreamIssuer,
    machines,
    publicClientId: app.client_id!,
    tokens: [],
    refreshTokens: [],
    revocable: [],
    throwaway: [],
    servedTokens: new Set(),
  };
  // One user agent per worker, each logged in once (its upstream session then skips the form).
  const agents = Array.from({ length: CONNECTIONS }, () => new TimedAgent(issuer));
  for (const agent of agents) {
    const tokens = await loginAndRedeem(ctx, agent);
    if (!tokens) throw new Error('setup: a login failed');
    ctx.refreshTokens.push(tokens.refresh);
    if (ctx.tokens.length < TOKEN_POOL / 2) ctx.tokens.push(tokens.access);
  }
  while (ctx.tokens.length < TOKEN_POOL) {
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { ...FORM, authorization: pick(machines).basic },
      body: 'grant_type=client_credentials',
    });
    ctx.tokens.push(((await response.json()) as { access_token: string }).access_token);
  }
  return { ctx, agents };
}

// ---------------------------------------------------------------- the report

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const signed = (bytes: number) => `${bytes < 0 ? '−' : '+'}${mb(Math.abs(bytes))}`;
const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

const histogram = (map: Map<number | string, number>) =>
  [...map]
    .sort(([a], [b]) => String(a).localeCompare(String(b)))
    .map(([k, v]) => `${k === -1 ? '200 + JSON-RPC error' : k}: ${v}`)
    .join(', ');

/** Growth over the first and the last third of the run, and whether the last third levelled off. */
function thirds(samples: Sample[], value: (s: Sample) => number) {
  const end = samples.at(-1)!.t;
  const at = (t: number) =>
    samples.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best));
  const first = value(at(end / 3)) - value(at(0));
  const last = value(at(end)) - value(at((2 * end) / 3));
  // Levelled off: the last third grew by less than half of what the first did, or by under 1 MB.
  return { first, last, levelled: last <= Math.max(first / 2, 1024 * 1024) };
}

function report(samples: Sample[], ctx: Context, elapsed: number): boolean {
  let failures = 0;
  let total = 0;
  console.log(
    `\n## Soak: ${SECONDS} s, ${CONNECTIONS} connections, ${MIX}, ${elapsed.toFixed(1)} s of load\n`,
  );
  console.log('| route | count | statuses | p50 ms | p99 ms | expected non-2xx | errors |');
  console.log('| --- | ---: | --- | ---: | ---: | --- | --- |');
  for (const [route, entry] of [...stats].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...entry.latencies].sort((a, b) => a - b);
    const errors = [...entry.errors, ...entry.unexpected];
    failures += errors.reduce((sum, [, n]) => sum + n, 0);
    total += sorted.length;
    console.log(
      `| ${route} | ${sorted.length} | ${histogram(entry.statuses)} | ${ms(percentile(sorted, 0.5))} | ${ms(percentile(sorted, 0.99))} | ${histogram(entry.expected) || '–'} | ${errors.map(([k, n]) => `${k} ×${n}`).join('; ') || '0'} |`,
    );
  }
  console.log(`\n${total} requests, ${(total / elapsed).toFixed(0)} per second; failures: ${failures}\n`);

  // Memory. The embedded engine keeps the table in buffers (external memory, part of RSS), and
  // the table only grows here (every refresh, login and registration adds items), so the JS heap
  // is where a leak of the handlers would show.
  const itemCount = (s: Sample) => Object.values(s.items).reduce((a, b) => a + b, 0);
  console.log('| t s | RSS MB | heap MB (after GC) | external MB | table items |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  for (const s of samples) {
    console.log(
      `| ${s.t.toFixed(0)} | ${mb(s.rss)} | ${mb(s.heapUsed)} | ${mb(s.external)} | ${itemCount(s)} |`,
    );
  }
  const first = samples[0]!;
  const last = samples.at(-1)!;
  const added = itemCount(last) - itemCount(first);
  const perItem =
    added > 0
      ? `; external memory grew ${((last.external - first.external) / added / 1024).toFixed(2)} KB per item added`
      : '';
  console.log(
    `\ntable: ${itemCount(first)} → ${itemCount(last)} items (${JSON.stringify(last.items)})${perItem}`,
  );
  for (const [name, value] of [
    ['heap (after GC)', (s: Sample) => s.heapUsed],
    ['RSS', (s: Sample) => s.rss],
    ['external', (s: Sample) => s.external],
  ] as const) {
    const g = thirds(samples, value);
    console.log(
      `${name}: ${signed(g.first)} MB in the first third, ${signed(g.last)} MB in the last third: ${g.levelled ? 'levelled off' : 'STILL GROWING'}`,
    );
  }

  const caches = samples.at(-1)!.caches;
  console.log('\n| in-process cache | entries at the end | bound |');
  console.log('| --- | ---: | --- |');
  const bounds: Record<string, string> = {
    oauthPublicKeys: 'the key set: at most 3',
    oauthPrivateKeys: 'the current key: 1',
    mcpPublicKeys: 'the key set: at most 3',
    metadataDocumentFailures: '1,000, oldest out first',
    clientKeySets: "clients' jwks_uri key sets: 1,000, oldest out first",
    getTimeFormatters: '64, then cleared',
    revocationListEntries: 'live revocations only (each ends when the tokens it covers expire)',
  };
  for (const [name, size] of Object.entries(caches))
    console.log(`| ${name} | ${size} | ${bounds[name] ?? '?'} |`);
  console.log(
    `| mcp verified tokens (no accessor: access-token-verifier.ts) | ≤ ${Math.min(1000, ctx.servedTokens.size)} (${ctx.servedTokens.size} distinct tokens served) | 1,000, oldest out first |`,
  );
  return failures === 0;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', fileURLToPath(import.meta.url), '--serve'],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const waiters: Array<(message: FromServer) => void> = [];
  child.on('message', (message: FromServer) => waiters.shift()?.(message));
  const next = () => new Promise<FromServer>((resolve) => waiters.push(resolve));
  const ask = (message: ToServer) => {
    const answer = next();
    child.send(message);
    return answer;
  };
  const ready = (await next()) as Extract<FromServer, { kind: 'ready' }>;
  const { ctx, agents } = await setUp(ready.issuer, ready.upstreamIssuer);

  const samples: Sample[] = [];
  const started = performance.now();
  const sample = async () => {
    const answer = (await ask({ kind: 'sample' })) as Extract<FromServer, { kind: 'sample' }>;
    samples.push({ t: (performance.now() - started) / 1000, ...answer });
  };
  recording = true;
  await sample();
  const deadline = started + SECONDS * 1000;
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(sample);
  }, SAMPLE_MS);
  await Promise.all(
    agents.map(async (agent) => {
      while (performance.now() < deadline) {
        // An answer the soak cannot read (a 200 whose body is not the JSON it should be) is a failure too.
        await nextOperation()(ctx, agent).catch((error: unknown) => recordError('soak client', error));
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(timer);
  await sampling;
  recording = false;
  if (samples.at(-1)!.t < elapsed - 1) await sample();
  await ask({ kind: 'finish' });
  await new Promise((resolve) => child.once('exit', resolve));
  const ok = report(samples, ctx, elapsed);
  process.exit(ok ? 0 : 1);
}

if (process.argv.includes('--serve')) await serve();
else await main();
