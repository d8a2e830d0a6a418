/**
 * Runs in a child process of `npm run bench` (`node --import tsx`): imports one authorization
 * server bundle (the oauth function's, or the `oidc-provider` anchor's) and times warm `/token`
 * per grant through its Lambda handler, one request at a time, each invocation's requests to the
 * stand-ins recorded (scripts/bench/round-trips.ts). Prints one JSON line.
 *
 * Environment: BUNDLE, KIND (`oauth` or `oidc-provider`), ISSUER, CODES (a JSON file of
 * `{ code, verifier }` for the oauth function, minted by the parent as a finished login leaves
 * them; the anchor mints its own through its `bench` export), PUBLIC_CLIENT, MACHINE_CLIENT,
 * MACHINE_SECRET, LOGINS, ROUNDS, WARMUP, AUTHORIZE_EVENT.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { basic, formEvent } from './oauth-events.js';
import { countByService, longestChain, recordRoundTrips, type OutboundRequest } from './round-trips.js';

interface Result {
  statusCode: number;
  body?: string;
}
type Handler = (event: unknown) => Promise<Result>;

const env = (name: string) => process.env[name]!;
const REDIRECT_URI = 'http://127.0.0.1/callback';
const recorder = recordRoundTrips();
const mod = (await import(pathToFileURL(env('BUNDLE')).href)) as {
  handler: Handler;
  bench?: { mintCode(input: Record<string, string>): Promise<string> };
};
const logins = Number(env('LOGINS'));
const rounds = Number(env('ROUNDS'));
const warmup = Number(env('WARMUP'));
const publicClient = env('PUBLIC_CLIENT');

let codes: { code: string; verifier: string }[];
if (env('KIND') === 'oauth') {
  codes = JSON.parse(readFileSync(env('CODES'), 'utf8')) as typeof codes;
} else {
  codes = [];
  for (let i = 0; i < logins + warmup; i++) {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const code = await mod.bench!.mintCode({
      clientId: publicClient,
      sub: 'bench-user',
      redirectUri: REDIRECT_URI,
      challenge,
    });
    codes.push({ code, verifier });
  }
}

interface Timed {
  ms: number[];
  /** CPU time of this process (the function's own work; the stand-ins run elsewhere), ms. */
  cpu: number[];
  /** Requests per service and the longest chain, of each timed invocation. */
  trips: { counts: Record<string, number>; chain: number }[];
}
const timed = (): Timed => ({ ms: [], cpu: [], trips: [] });

async function invoke(
  event: unknown,
  into: Timed | undefined,
  expect = 200,
): Promise<Record<string, string>> {
  recorder.take();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await mod.handler(event);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const requests: OutboundRequest[] = recorder.take();
  if (result.statusCode !== expect) throw new Error(`answered ${result.statusCode}: ${result.body}`);
  if (into) {
    into.ms.push(ms);
    into.cpu.push((used.user + used.system) / 1000);
    into.trips.push({ counts: countByService(requests), chain: longestChain(requests) });
  }
  return expect === 200 ? (JSON.parse(result.body ?? '{}') as Record<string, string>) : {};
}

const resource = `${env('ISSUER')}/mcp`;
const machine = { authorization: basic(env('MACHINE_CLIENT'), env('MACHINE_SECRET')) };
const figures = {
  client_credentials: timed(),
  authorization_code: timed(),
  refresh_token: timed(),
  authorize: timed(),
};
for (let i = 0; i < warmup; i++) {
  await invoke(formEvent('/token', { grant_type: 'client_credentials', resource }, machine), undefined);
}

let refreshTokens: string[] = [];
for (const [i, { code, verifier }] of codes.entries()) {
  const body = await invoke(
    formEvent('/token', {
      grant_type: 'authorization_code',
      client_id: publicClient,
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      resource,
    }),
    i >= warmup ? figures.authorization_code : undefined,
  );
  if (!body.refresh_token) throw new Error(`no refresh token: ${JSON.stringify(body)}`);
  refreshTokens.push(body.refresh_token);
}
for (let round = 0; round < rounds; round++) {
  const next: string[] = [];
  for (const [i, refreshToken] of refreshTokens.entries()) {
    const body = await invoke(
      formEvent('/token', {
        grant_type: 'refresh_token',
        client_id: publicClient,
        refresh_token: refreshToken,
      }),
      round > 0 || i >= warmup ? figures.refresh_token : undefined,
    );
    next.push(body.refresh_token!);
  }
  refreshTokens = next;
}
for (let i = 0; i < logins; i++) {
  await invoke(
    formEvent('/token', { grant_type: 'client_credentials', resource }, machine),
    figures.client_credentials,
  );
}
const authorizeEvent = JSON.parse(env('AUTHORIZE_EVENT')) as unknown;
const authorizeStatus = Number(env('AUTHORIZE_STATUS'));
for (let i = 0; i < warmup + logins; i++) {
  await invoke(authorizeEvent, i >= warmup ? figures.authorize : undefined, authorizeStatus);
}

/** The most frequent round-trip figure of a grant's invocations (they are all alike on success). */
function usual(trips: Timed['trips']) {
  const tally = new Map<string, number>();
  for (const t of trips) tally.set(JSON.stringify(t), (tally.get(JSON.stringify(t)) ?? 0) + 1);
  return JSON.parse([...tally].sort((a, b) => b[1] - a[1])[0]![0]) as Timed['trips'][number];
}
function latency(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: sorted[Math.floor(sorted.length / 2)]!,
    p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!,
    count: sorted.length,
  };
}
console.log(
  JSON.stringify(
    Object.fromEntries(
      Object.entries(figures).map(([grant, t]) => [
        grant,
        { ...latency(t.ms), cpuMedian: latency(t.cpu).median, trips: usual(t.trips) },
      ]),
    ),
  ),
);
