/**
 * A built Lambda bundle running in its own Node process, as one execution environment: module
 * scope runs once, then each `invoke` is one warm invocation. Unlike a one-shot child, it lives
 * across invocations, so a test can change what its dependencies do between them (inject a fault,
 * clear it) and see the same environment recover without a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { StoredSigningKey } from '../../lambda/shared/key-set.js';
import { privateKeyOf, signJwt } from '../lambda/mcp/mcp-test-kit.js';

/**
 * Results go out on fd 3, so the function's own log lines (stdout) stay apart. After each
 * invocation the driver also writes an end marker to stdout: once it arrives, every line the
 * invocation wrote has arrived too (one stream keeps its order), however slow the machine.
 */
const END_MARKER = 'bundleProcessInvocationEnd';
const DRIVER = `
import { createInterface } from 'node:readline';
import { createWriteStream } from 'node:fs';
const out = createWriteStream(null, { fd: 3 });
// A controlled clock: Date.now stands still from here, before the bundle's module scope captures
// it, and moves only when the test says (\`advanceClock\`). Timers still run on real time.
let clockOffsetMs = 0;
if (process.env.BUNDLE_CLOCK === 'controlled') {
  const frozenAt = Date.now();
  Date.now = () => frozenAt + clockOffsetMs;
}
const { handler } = await import(process.env.BUNDLE);
out.write(JSON.stringify({ ready: true }) + '\\n');
for await (const line of createInterface({ input: process.stdin })) {
  const { id, event, context, advanceClockMs } = JSON.parse(line);
  if (advanceClockMs !== undefined) {
    clockOffsetMs += advanceClockMs;
    out.write(JSON.stringify({ id, clockAdvanced: true }) + '\\n');
    continue;
  }
  const started = performance.now();
  let result;
  let error;
  try {
    result = await handler(
      event,
      context && { ...context, getRemainingTimeInMillis: () => context.deadlineMs - Date.now() },
    );
  } catch (thrown) {
    // What Lambda reports as the invocation's error (and what makes Secrets Manager retry a step).
    error = { name: thrown?.name, message: thrown?.message, code: thrown?.code };
  }
  const ms = Math.round(performance.now() - started);
  process.stdout.write(JSON.stringify({ ${END_MARKER}: id }) + '\\n');
  out.write(JSON.stringify({ id, result, error, ms }) + '\\n');
}
`;

export interface InvocationError {
  name?: string;
  message?: string;
  code?: string;
}

export interface Invocation {
  /** What the handler returned; absent when it threw (then `error` is set). */
  result: APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string> };
  /** The error the handler threw, as Lambda would report the invocation's failure. */
  error?: InvocationError;
  /** How long the handler took, in milliseconds. */
  ms: number;
  /** The function's log lines written during this invocation, parsed. */
  logs: Array<Record<string, unknown>>;
}

/**
 * The fields of a Lambda context an invocation may pass (`invoke(event, context)`); the driver
 * adds `getRemainingTimeInMillis()`, counting down to `deadlineMs` (epoch milliseconds).
 */
export interface FakeLambdaContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  deadlineMs: number;
}

export interface BundleProcess {
  /** One invocation; without `context` the handler gets none, as when tests call it directly. */
  invoke(event: LambdaEvent, context?: FakeLambdaContext): Promise<Invocation>;
  /**
   * With `{ clock: 'controlled' }`: moves the process's `Date.now` forward by `ms`, which
   * otherwise stands still, so that what counts time (back-off intervals, refresh ages) does not
   * depend on how fast the machine runs the test.
   */
  advanceClock(ms: number): Promise<void>;
  /** Log lines written outside any invocation (module scope, background reads). */
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** An invocation of any Lambda handler (an HTTP event, a Secrets Manager rotation step, ...). */
export type LambdaEvent = APIGatewayProxyEventV2 | object;

export interface BundleOptions {
  /** `controlled`: `Date.now` stands still until `advanceClock` (see {@link BundleProcess}). */
  clock?: 'real' | 'controlled';
}

export async function startBundle(
  bundle: string,
  env: Record<string, string | undefined>,
  options: BundleOptions = {},
): Promise<BundleProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', DRIVER], {
    env: { ...env, BUNDLE: bundle, ...(options.clock === 'controlled' && { BUNDLE_CLOCK: 'controlled' }) },
    stdio: ['pipe', 'pipe', 'inherit', 'pipe'],
  });
  let logs: Array<Record<string, unknown>> = [];
  const background = logs;
  const ending = new Map<number, () => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      parsed = { text: line };
    }
    if (typeof parsed[END_MARKER] === 'number') ending.get(parsed[END_MARKER])?.();
    else logs.push(parsed);
  });
  type Answer = Pick<Invocation, 'result' | 'error' | 'ms'>;
  const waiting = new Map<number, (answer: Answer) => void>();
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  createInterface({ input: child.stdio[3] as NodeJS.ReadableStream }).on('line', (line) => {
    const answer = JSON.parse(line) as Answer & { id?: number; ready?: boolean };
    if (answer.ready) ready();
    else waiting.get(answer.id!)?.(answer);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([started, exited.then(() => Promise.reject(new Error(`${bundle} exited at start`)))]);
  let next = 0;
  return {
    logs: background,
    async invoke(event, context) {
      const id = ++next;
      logs = [];
      const own = logs;
      const answer = await new Promise<Answer>((resolve, reject) => {
        // A process that dies mid-invocation answers nothing: fail the invocation, not the test run.
        void exited.then(() => reject(new Error(`${bundle} exited during an invocation`)));
        const answered = new Promise<Answer>((done) => waiting.set(id, done));
        // The end marker follows the invocation's last log line on stdout.
        const logged = new Promise<void>((done) => ending.set(id, done));
        void Promise.all([answered, logged]).then(([a]) => resolve(a));
        child.stdin!.write(JSON.stringify({ id, event, context }) + '\n');
      });
      waiting.delete(id);
      ending.delete(id);
      logs = background;
      return { ...answer, logs: own };
    },
    async advanceClock(ms) {
      if (options.clock !== 'controlled') throw new Error('advanceClock needs { clock: "controlled" }');
      const id = ++next;
      await new Promise<void>((resolve, reject) => {
        void exited.then(() => reject(new Error(`${bundle} exited while its clock was advanced`)));
        waiting.set(id, () => resolve());
        child.stdin!.write(JSON.stringify({ id, advanceClockMs: ms }) + '\n');
      });
      waiting.delete(id);
    },
    async close() {
      child.stdin!.end();
      child.kill();
      await exited;
    },
  };
}

/**
 * What the Lambda runtime gives every function besides the stack's settings: `PATH`, a region and
 * the execution role's credentials (stand-ins the loopback services accept).
 */
export const LAMBDA_RUNTIME_ENV = {
  PATH: process.env.PATH,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_SESSION_TOKEN: 'session',
};

/**
 * An HTTP API (payload 2.0) event as API Gateway delivers it for `issuer`'s host: the route
 * matched, the body base64-encoded, and `requestId` (the correlation id) when given.
 */
export function apiGatewayEvent(
  issuer: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
  requestId?: string,
): APIGatewayProxyEventV2 {
  const host = new URL(issuer).host;
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { host, 'x-forwarded-proto': 'https', ...headers },
    requestContext: { ...(requestId && { requestId }), domainName: host, http: { method, path } },
    ...(body === undefined ? {} : { body: Buffer.from(body).toString('base64'), isBase64Encoded: true }),
  } as unknown as APIGatewayProxyEventV2;
}

/** `tools/call add(40, 2)` on `/mcp` with `token` as the bearer: `{ sum: 42 }` when served. */
export function addToolCallEvent(issuer: string, token: string, requestId?: string): APIGatewayProxyEventV2 {
  return apiGatewayEvent(
    issuer,
    'POST',
    '/mcp',
    JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'add', arguments: { a: 40, b: 2 } },
    }),
    {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      authorization: `Bearer ${token}`,
    },
    requestId,
  );
}

/**
 * An access token as the oauth function signs it with `key`, for the M2M client `agent` with the
 * `mcp:tools` scope, valid for 10 minutes from now; `jti` tells tokens apart.
 */
export function agentAccessToken(issuer: string, key: StoredSigningKey, jti: string): string {
  const now = Math.floor(Date.now() / 1000);
  return signJwt(
    { alg: 'RS256', typ: 'at+jwt', kid: key.kid },
    {
      iss: issuer,
      sub: 'agent',
      aud: `${issuer}/mcp`,
      client_id: 'agent',
      scope: 'mcp:tools',
      iat: now,
      exp: now + 600,
      jti,
    },
    privateKeyOf(key),
  );
}
