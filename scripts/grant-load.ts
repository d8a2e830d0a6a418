/**
 * `npm run load:grants`: user grants accumulating on the local server, over loopback, bounded in
 * time, to show that the stores do not slow down as grants pile up (the `npm run soak` pattern,
 * for user grants). The server (`startLocalServer({ inMemory: true })`: the handlers, the
 * embedded DynamoDB engine, the local upstream) runs in this process.
 *
 * - A few logins in headless Chromium first (GRANT_LOAD_BROWSER_LOGINS, default 3: the login and
 *   consent pages as a user meets them; SKIP_BROWSER_TESTS=1 leaves them out), then
 * - for GRANT_LOAD_SECONDS (default 60): new logins at GRANT_LOAD_LOGINS_PER_SECOND (default 5),
 *   each a whole login over HTTP with the tests' user agent and its code redeemed, and refreshes at
 *   GRANT_LOAD_REFRESHES_PER_SECOND (default 20) of grants picked at random among those made so
 *   far, each with the refresh token its last rotation returned. Requests start on schedule
 *   (open loop), whatever the answers' latency.
 *
 * It reports, for each third of the run, the grant families and refresh tokens in the table and
 * the p50 and p99 of each kind of request, and fails (exit 1) on any failed request, or when the
 * last third's p50 of a kind is more than 1.5 times the first third's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { startLocalServer } from '../lib/local/server.js';
import { launchChromium, loginInBrowser, runBrowserTests } from '../test/support/browser.js';
import { tableReader } from '../test/support/table.js';
import { login, UserAgent } from '../test/support/user-agent.js';

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0`);
  return value;
}
const SECONDS = setting('GRANT_LOAD_SECONDS', 60);
const LOGINS_PER_SECOND = setting('GRANT_LOAD_LOGINS_PER_SECOND', 5);
const REFRESHES_PER_SECOND = setting('GRANT_LOAD_REFRESHES_PER_SECOND', 20);
const BROWSER_LOGINS = runBrowserTests ? setting('GRANT_LOAD_BROWSER_LOGINS', 3) : 0;
const REDIRECT_URI = 'http://127.0.0.1/callback';
const DEGRADED = 1.5;

type Kind = 'login (HTTP, whole)' | 'POST /token authorization_code' | 'POST /token refresh_token';
interface Sample {
  kind: Kind;
  /** Seconds since the load started. */
  at: number;
  ms: number;
}

const server = await startLocalServer({ port: 0, inMemory: true, logLevel: 'silent' });
const servers = { issuer: server.issuer, upstreamIssuer: server.upstreamIssuer };
const resource = `${server.issuer}/mcp`;
const table = tableReader(server);
const itemsByKind = () => table.itemsByKind();

const registered = await fetch(`${server.issuer}/register`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    client_name: 'grant load',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  }),
});
const clientId = ((await registered.json()) as { client_id: string }).client_id;

function authorizationUrl(verifier: string, state: string): string {
  return `${server.issuer}/authorize?${new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    resource,
  })}`;
}

async function token(fields: Record<string, string>): Promise<{ ms: number; body: Record<string, string> }> {
  const started = performance.now();
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  const body = (await response.json()) as Record<string, string>;
  if (response.status !== 200) throw new Error(`/token answered ${response.status}: ${JSON.stringify(body)}`);
  return { ms: performance.now() - started, body };
}

const redeem = (code: string, verifier: string) =>
  token({
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    resource,
  });

/** Each grant's latest refresh token; a refresh under way takes its grant out until it returns. */
const grants: (string | undefined)[] = [];

if (BROWSER_LOGINS > 0) {
  const browser = await launchChromium();
  try {
    for (let i = 0; i < BROWSER_LOGINS; i++) {
      const verifier = randomBytes(32).toString('base64url');
      const { redirect, context } = await loginInBrowser(
        browser,
        authorizationUrl(verifier, `b${i}`),
        servers,
        {
          username: `browser-user-${i}`,
        },
      );
      await context.close();
      grants.push((await redeem(redirect.searchParams.get('code')!, verifier)).body.refresh_token);
    }
  } finally {
    await browser.close();
  }
}

const samples: Sample[] = [];
const failures: string[] = [];
const counts: { at: number; items: Record<string, number> }[] = [{ at: 0, items: await itemsByKind() }];
const started = performance.now();
const now = () => (performance.now() - started) / 1000;
const running = new Set<Promise<void>>();
let userNumber = 0;

function launch(work: () => Promise<void>) {
  const task = work()
    .catch((error: unknown) => void failures.push(String(error)))
    .finally(() => running.delete(task));
  running.add(task);
}

async function newGrant(): Promise<void> {
  const verifier = randomBytes(32).toString('base64url');
  const at = now();
  const t0 = performance.now();
  const redirect = await login(
    new UserAgent(),
    authorizationUrl(verifier, 'load'),
    servers,
    `user-${userNumber++}`,
  );
  samples.push({ kind: 'login (HTTP, whole)', at, ms: performance.now() - t0 });
  const { ms, body } = await redeem(redirect.searchParams.get('code')!, verifier);
  samples.push({ kind: 'POST /token authorization_code', at: now(), ms });
  grants.push(body.refresh_token);
}

async function refresh(): Promise<void> {
  const index = Math.floor(Math.random() * grants.length);
  const refreshToken = grants[index];
  if (!refreshToken) return; // in use by another refresh right now
  grants[index] = undefined;
  const at = now();
  const { ms, body } = await token({
    grant_type: 'refresh_token',
    client_id: clientId,
    refresh_token: refreshToken,
  });
  samples.push({ kind: 'POST /token refresh_token', at, ms });
  grants[index] = body.refresh_token;
}

const TICK_MS = 100;
let due = { logins: 0, refreshes: 0 };
const thirds = [SECONDS / 3, (2 * SECONDS) / 3];
while (now() < SECONDS) {
  due = {
    logins: due.logins + (LOGINS_PER_SECOND * TICK_MS) / 1000,
    refreshes: due.refreshes + (REFRESHES_PER_SECOND * TICK_MS) / 1000,
  };
  for (; due.logins >= 1; due.logins--) launch(newGrant);
  for (; due.refreshes >= 1 && grants.length > 0; due.refreshes--) launch(refresh);
  if (thirds.length > 0 && now() >= thirds[0]!) {
    thirds.shift();
    counts.push({ at: now(), items: await itemsByKind() });
  }
  await new Promise((resolve) => setTimeout(resolve, TICK_MS));
}
await Promise.all(running);
counts.push({ at: now(), items: await itemsByKind() });
await server.close();
table.close();

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
};
const kinds: Kind[] = ['login (HTTP, whole)', 'POST /token authorization_code', 'POST /token refresh_token'];
const third = (s: Sample) => Math.min(2, Math.floor((3 * s.at) / SECONDS));
console.log(
  `\n${SECONDS} s, ${LOGINS_PER_SECOND} logins/s and ${REFRESHES_PER_SECOND} refreshes/s offered, ` +
    `${BROWSER_LOGINS} browser logins first; node ${process.version}\n`,
);
console.log('| table items at | families (`family#`) | refresh tokens (`refresh#`) | codes (`code#`) |');
console.log('| --- | ---: | ---: | ---: |');
for (const { at, items } of counts) {
  console.log(`| ${at.toFixed(0)} s | ${items.family ?? 0} | ${items.refresh ?? 0} | ${items.code ?? 0} |`);
}
console.log('\n| request | count | p50 ms, thirds 1 / 2 / 3 | p99 ms, thirds 1 / 2 / 3 | verdict |');
console.log('| --- | ---: | --- | --- | --- |');
let degraded = false;
for (const kind of kinds) {
  const of = (t: number) => samples.filter((s) => s.kind === kind && third(s) === t).map((s) => s.ms);
  const p50 = [0, 1, 2].map((t) => percentile(of(t), 0.5));
  const p99 = [0, 1, 2].map((t) => percentile(of(t), 0.99));
  const bad = p50[2]! > DEGRADED * p50[0]!;
  degraded ||= bad;
  console.log(
    `| ${kind} | ${samples.filter((s) => s.kind === kind).length} | ${p50.map((v) => v.toFixed(1)).join(' / ')} | ` +
      `${p99.map((v) => v.toFixed(1)).join(' / ')} | ${bad ? `SLOWER (over ${DEGRADED}×)` : 'level'} |`,
  );
}
console.log(
  `\nfailed requests: ${failures.length}${failures.length ? `: ${failures.slice(0, 3).join('; ')}` : ''}`,
);
process.exit(failures.length > 0 || degraded ? 1 : 0);
