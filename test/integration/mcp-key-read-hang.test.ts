/**
 * The mcp bundle as deployed, in one living process (one execution environment), while its read
 * of the public key parameter hangs: Systems Manager (the loopback stand-in) accepts the request
 * and never answers. The read gives up after its own timeout; until the keys can be read, every
 * request is answered 503 with `Retry-After`, and all but one per retry interval are answered at
 * once, without a read. Once the parameter answers again, the same request succeeds in the same
 * process. (`dependency-faults.test.ts` covers a read that is throttled or fails fast.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_FILE } from '../../lib/bundling.js';
import { buildBuiltInMcpBundle } from '../support/built-in-server.js';
import { startLocalDynamo, type LocalDynamo } from '../../lib/local/dynamodb.js';
import { rotateSigningKeySet, type SigningKeySet } from '../../lambda/shared/key-set.js';
import {
  addToolCallEvent,
  agentAccessToken,
  LAMBDA_RUNTIME_ENV,
  startBundle,
  type BundleProcess,
  type Invocation,
} from '../support/bundle-process.js';
import { startFakeAws, type FakeAws } from '../support/fake-aws.js';

const ISSUER = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
const TABLE = 'McpOAuth-Table';
/** The mcp function's timeout for one read of the parameter (`ssm-public-key-source.ts`). */
const READ_TIMEOUT_MS = 3_000;
/** Its first retry interval after a failed read, which then doubles (`read-backoff.ts`). */
const FIRST_RETRY_MS = 1_000;

let outdir: string;
let aws: FakeAws;
let set: SigningKeySet;
let mcp: BundleProcess;
let dynamo: LocalDynamo;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'mcp-hang-'));
  await buildBuiltInMcpBundle(join(outdir, 'mcp'));
  set = await rotateSigningKeySet({});
  aws = await startFakeAws(set);
  // The table the function reads besides the keys (the revocation list): served, not faulted.
  dynamo = await startLocalDynamo({ tableName: TABLE });
}, 60_000);

afterAll(async () => {
  await mcp?.close();
  await aws?.close();
  await dynamo?.close();
  rmSync(outdir, { recursive: true, force: true });
});

const toolCall = (token: string) => addToolCallEvent(ISSUER, token);

/** Logged when the read made during init fails: here, while the first request waits for it. */
const START_READ_FAILED = 'signing keys not loaded at start; will retry';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectUnavailable({ result, logs }: Invocation, label: string) {
  expect([label, result.statusCode, result.headers['retry-after']]).toEqual([label, 503, '5']);
  expect(JSON.parse(result.body!)).toEqual({
    jsonrpc: '2.0',
    id: null,
    error: { code: -32603, message: expect.stringMatching(/^Service Unavailable/) },
  });
  // The 503 is also counted as a ServerErrors metric line (embedded metric format), not a log line.
  const own = logs.filter((l) => l.message !== START_READ_FAILED && !('_aws' in l));
  expect(own.map((l) => [l.message, l.fault])).toEqual([['access token cannot be verified', 'timeout']]);
}

it('answers 503 while the key parameter hangs, one request per retry interval waits for a read, and serves once it answers', async () => {
  // Prepare: a token signed with the current key, and an environment whose first read hangs
  const token = agentAccessToken(ISSUER, set.current!, 'hang-1');
  const reads = () => aws.calls.filter((c) => c.target === 'AmazonSSM.GetParameter').length;
  aws.faults.set('hang', { targets: ['AmazonSSM.GetParameter'] });
  mcp = await startBundle(join(outdir, 'mcp', BUNDLE_FILE), {
    ...LAMBDA_RUNTIME_ENV,
    LOG_LEVEL: 'warn',
    ISSUER,
    PUBLIC_KEYS_PARAMETER_NAME: '/McpOAuth/signing-keys/public-jwks',
    SSM_ENDPOINT: `${aws.url}/ssm/`,
    TABLE_NAME: TABLE,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
  });
  const call = toolCall(token);

  // Act: the read started at init is under way and hangs
  const waitedForFirstRead = await mcp.invoke(call);
  const readsAfterFirst = reads();
  const backingOff = await mcp.invoke(call);
  await sleep(FIRST_RETRY_MS + 100);
  const waitedForSecondRead = await mcp.invoke(call);
  const readsAfterSecond = reads();
  const backingOffLonger = await mcp.invoke(call);
  aws.faults.set(undefined);
  const stillBackingOff = await mcp.invoke(call);
  const readsBeforeRecovery = reads();
  await sleep(2 * FIRST_RETRY_MS + 100);
  const served = await mcp.invoke(call);
  const servedAgain = await mcp.invoke(call);

  // Assess: the requests that waited for a read waited for its timeout, no longer
  expectUnavailable(waitedForFirstRead, 'first request, joins the hanging read');
  expect(waitedForFirstRead.ms).toBeGreaterThan(READ_TIMEOUT_MS - 1_000);
  expect(waitedForFirstRead.ms).toBeLessThan(READ_TIMEOUT_MS + 1_000);
  expect(readsAfterFirst).toBe(1);
  expectUnavailable(waitedForSecondRead, 'first request after the interval, reads again');
  expect(waitedForSecondRead.ms).toBeGreaterThan(READ_TIMEOUT_MS - 500);
  expect(waitedForSecondRead.ms).toBeLessThan(READ_TIMEOUT_MS + 1_000);
  expect(readsAfterSecond).toBe(2);
  // ... and every other request was answered at once, without a read
  for (const [label, answer] of [
    ['within the first interval', backingOff],
    ['within the second interval', backingOffLonger],
    ['after the parameter recovered, within the interval', stillBackingOff],
  ] as const) {
    expectUnavailable(answer, label);
    expect([label, answer.ms < 200]).toEqual([label, true]);
  }
  expect(readsBeforeRecovery).toBe(2);
  // Recovered without a restart: one read, then served from memory
  expect(served.result.statusCode).toBe(200);
  expect(JSON.parse(served.result.body!).result.structuredContent).toEqual({ sum: 42 });
  expect(servedAgain.result.statusCode).toBe(200);
  expect(reads()).toBe(3);
  const startLogs = [...mcp.logs, ...waitedForFirstRead.logs].filter((l) => l.message === START_READ_FAILED);
  expect(startLogs).toHaveLength(1);
}, 30_000);
