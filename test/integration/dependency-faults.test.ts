/**
 * Dependency faults at the real seam: the oauth and mcp bundles as deployed, each in one living
 * process (one execution environment), in front of loopback stand-ins for DynamoDB (a fault
 * proxy over the embedded engine) and for Secrets Manager and Systems Manager (fake-aws). The
 * stand-ins throttle, fail, hang or drop the connection as the services do; every such request
 * is answered 503 with `Retry-After` and the spec's error body, logs its cause once, writes
 * nothing, and once the fault clears the same requests succeed in the same process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { BUNDLE_FILE, buildOptions } from '../../lib/bundling.js';
import { buildBuiltInMcpBundle } from '../support/built-in-server.js';
import { startLocalDynamo, type LocalDynamo } from '../../lib/local/dynamodb.js';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { TablePublisher } from '../../lambda/rotate-keys/public-key-publisher.js';
import { rotateSigningKeySet, toPublicKeySet, type SigningKeySet } from '../../lambda/shared/key-set.js';
import { PUBLIC_KEYS_ITEM_KEY } from '../../lambda/shared/revocations.js';
import {
  addToolCallEvent,
  apiGatewayEvent,
  LAMBDA_RUNTIME_ENV,
  startBundle,
  type BundleOptions,
  type BundleProcess,
  type Invocation,
} from '../support/bundle-process.js';
import { startDynamoFaultProxy, type DynamoFaultProxy } from '../support/dynamodb-fault-proxy.js';
import { startFakeAws, type FakeAws } from '../support/fake-aws.js';
import type { FaultKind } from '../support/faults.js';

const ISSUER = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
const TABLE = 'McpOAuth-Table';
const RUNTIME = { ...LAMBDA_RUNTIME_ENV, LOG_LEVEL: 'warn' };

let outdir: string;
let dynamo: LocalDynamo;
let proxy: DynamoFaultProxy;
let aws: FakeAws;
let keySet: SigningKeySet;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'mcp-faults-'));
  await Promise.all([
    build(buildOptions('oauth', join(outdir, 'oauth'))),
    buildBuiltInMcpBundle(join(outdir, 'mcp')),
  ]);
  dynamo = await startLocalDynamo({ tableName: TABLE });
  proxy = await startDynamoFaultProxy(dynamo.endpoint);
  keySet = await rotateSigningKeySet({});
  aws = await startFakeAws(keySet);
}, 60_000);

afterEach(() => {
  proxy.faults.set(undefined);
  aws.faults.set(undefined);
});

afterAll(async () => {
  await proxy?.close();
  await aws?.close();
  await dynamo?.close();
  rmSync(outdir, { recursive: true, force: true });
});

function startOAuth(): Promise<BundleProcess> {
  return startBundle(join(outdir, 'oauth', BUNDLE_FILE), {
    ...RUNTIME,
    ISSUER,
    TABLE_NAME: TABLE,
    SIGNING_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing-keys',
    REGISTRATION_POLICY: 'open',
    AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
  });
}

function event(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  return apiGatewayEvent(ISSUER, method, path, body, headers);
}

const REGISTER = event(
  'POST',
  '/register',
  JSON.stringify({ client_name: 'fault test', grant_types: ['client_credentials'] }),
  { 'content-type': 'application/json' },
);

function tokenEvent(client: { client_id: string; client_secret: string }) {
  const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
  return event('POST', '/token', 'grant_type=client_credentials', {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${basic}`,
  });
}

/** A `client_credentials` token from the oauth bundle, which then stops. */
async function machineAccessToken(): Promise<string> {
  const oauth = await startOAuth();
  const client = JSON.parse((await oauth.invoke(REGISTER)).result.body!);
  const accessToken = JSON.parse((await oauth.invoke(tokenEvent(client))).result.body!).access_token;
  await oauth.close();
  return accessToken;
}

/**
 * The mcp bundle with the stack's environment: keys from the SSM stand-in, the list through the
 * proxy. With `clock: 'controlled'` its `Date.now` moves only by `advanceClock`, so what it counts
 * per back-off interval does not depend on how long a loaded machine takes between invocations.
 */
function startMcp(options: BundleOptions = {}): Promise<BundleProcess> {
  return startBundle(
    join(outdir, 'mcp', BUNDLE_FILE),
    {
      ...RUNTIME,
      ISSUER,
      PUBLIC_KEYS_PARAMETER_NAME: '/McpOAuth/signing-keys/public-jwks',
      SSM_ENDPOINT: `${aws.url}/ssm/`,
      TABLE_NAME: TABLE,
      DYNAMODB_ENDPOINT: proxy.url,
    },
    options,
  );
}

/** Waits (on real time, at most `ms`) until the process has logged `message` outside any invocation. */
async function loggedAtStart(process: BundleProcess, message: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!process.logs.some((l) => l.message === message)) {
    if (Date.now() > deadline) throw new Error(`"${message}" was not logged within ${ms} ms`);
    await sleep(20);
  }
}

/** An authenticated `tools/call` of `add` (40 + 2). */
const toolCall = (accessToken: string) => addToolCallEvent(ISSUER, accessToken);

/** Every item of the table by key, as JSON. */
async function snapshot(): Promise<Map<string, string>> {
  const { Items = [] } = await dynamo.client.send(
    new ScanCommand({ TableName: TABLE, ConsistentRead: true }),
  );
  return new Map(Items.map((item) => [item.pk!.S!, JSON.stringify(item)]));
}

async function items(): Promise<number> {
  return (await dynamo.client.send(new ScanCommand({ TableName: TABLE, Select: 'COUNT' }))).Count ?? 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The oauth answer to a dependency fault: RFC 6749 `temporarily_unavailable`, 503, Retry-After. */
function expectTemporarilyUnavailable({ result, logs }: Invocation, fault: string) {
  expect(result.statusCode).toBe(503);
  expect(result.headers['retry-after']).toBe('5');
  expect(result.headers['cache-control']).toBe('no-store');
  expect(JSON.parse(result.body!)).toEqual({
    error: 'temporarily_unavailable',
    error_description: expect.any(String),
  });
  // Logged once, with its cause, and never as an unexpected failure; counted as a 5xx of this
  // version (an embedded-metric line, not a log line).
  const lines = logs.filter((l) => !('_aws' in l));
  expect(lines.map((l) => [l.level, l.message, l.fault])).toEqual([
    ['WARN', 'dependency unavailable', fault],
  ]);
  expect(JSON.stringify(lines[0]!.error)).not.toBe('{}');
  expect(logs.filter((l) => '_aws' in l && 'ServerErrors' in l)).toHaveLength(1);
}

describe('the oauth bundle when DynamoDB misbehaves', () => {
  let oauth: BundleProcess;
  beforeAll(async () => {
    oauth = await startOAuth();
  });
  afterAll(async () => {
    await oauth?.close();
  });

  it.each<[FaultKind, string]>([
    ['throttle', 'throttled'],
    ['fail', 'failed'],
    ['drop', 'unreachable'],
  ])(
    'answers 503 temporarily_unavailable while DynamoDB is told to %s, writes nothing, and registers once it recovers',
    async (kind, fault) => {
      // Prepare
      const before = await items();
      proxy.faults.set(kind);

      // Act
      const refused = await oauth.invoke(REGISTER);
      proxy.faults.set(undefined);
      const registered = await oauth.invoke(REGISTER);

      // Assess
      expectTemporarilyUnavailable(refused, fault);
      expect(registered.result.statusCode).toBe(201);
      expect(await items()).toBe(before + 1);
      const token = await oauth.invoke(tokenEvent(JSON.parse(registered.result.body!)));
      expect(token.result.statusCode).toBe(200);
    },
    20_000,
  );

  it.each<[FaultKind, string]>([
    ['throttle', 'throttled'],
    ['fail', 'failed'],
    ['drop', 'unreachable'],
  ])(
    'revokes a token and deletes a client only once the marker is written: while UpdateItem is told to %s, 503 and nothing changed; then both done',
    async (kind, fault) => {
      // Prepare
      const client = JSON.parse((await oauth.invoke(REGISTER)).result.body!);
      const accessToken = JSON.parse((await oauth.invoke(tokenEvent(client))).result.body!).access_token;
      const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
      const revoke = event('POST', '/revoke', new URLSearchParams({ token: accessToken }).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${basic}`,
      });
      const remove = event('DELETE', `/clients/${client.client_id}`, undefined, {
        authorization: `Bearer ${client.registration_access_token}`,
      });
      const before = await snapshot();
      proxy.faults.set(kind, { targets: ['UpdateItem'] });

      // Act
      const refusedRevoke = await oauth.invoke(revoke);
      const refusedDelete = await oauth.invoke(remove);
      const whileRefusing = await snapshot();
      proxy.faults.set(undefined);
      const revoked = await oauth.invoke(revoke);
      const deleted = await oauth.invoke(remove);
      const after = await snapshot();

      // Assess
      expectTemporarilyUnavailable(refusedRevoke, fault);
      expectTemporarilyUnavailable(refusedDelete, fault);
      expect(whileRefusing).toEqual(before);
      expect(revoked.result.statusCode).toBe(200);
      expect(deleted.result.statusCode).toBe(204);
      expect(after.has(`revoked#client#${client.client_id}`)).toBe(true);
      expect(after.has(`client#${client.client_id}`)).toBe(false);
    },
    20_000,
  );

  it('answers 503 inside the function timeout while DynamoDB hangs, and recovers without a restart', async () => {
    // Prepare
    const registered = JSON.parse((await oauth.invoke(REGISTER)).result.body!);
    proxy.faults.set('hang', { targets: ['GetItem'] });

    // Act
    const refused = await oauth.invoke(tokenEvent(registered));
    proxy.faults.set(undefined);
    const token = await oauth.invoke(tokenEvent(registered));

    // Assess: three attempts of 2 s each, well inside the function's 10 s
    expectTemporarilyUnavailable(refused, 'timeout');
    expect(refused.ms).toBeGreaterThanOrEqual(5_500);
    expect(refused.ms).toBeLessThan(9_000);
    expect(token.result.statusCode).toBe(200);
  }, 20_000);
});

describe('the oauth bundle when Secrets Manager misbehaves', () => {
  it('answers 503 while the signing keys cannot be read, makes one read per retry interval, and signs once they can', async () => {
    // Prepare: a fresh environment whose read of the signing keys at start (lambda/oauth/index.ts)
    // was throttled: no request waited for that read, so no back-off began.
    const reads = () => aws.calls.filter((c) => c.target === 'secretsmanager.GetSecretValue').length;
    const atStart = reads();
    aws.faults.set('throttle');
    const oauth = await startOAuth();
    try {
      for (let waited = 0; reads() - atStart < 3 && waited < 10_000; waited += 50) await sleep(50);
      expect(reads() - atStart).toBe(3); // the SDK's three attempts, at start
      const client = JSON.parse((await oauth.invoke(REGISTER)).result.body!);
      const before = reads();

      // Act
      const throttled = await oauth.invoke(tokenEvent(client));
      const readsWhileThrottled = reads() - before;
      const backingOff = await oauth.invoke(tokenEvent(client));
      const readsWhileBackingOff = reads() - before;
      await sleep(1_100);
      aws.faults.set('drop');
      const dropped = await oauth.invoke(tokenEvent(client));
      aws.faults.set(undefined);
      await sleep(2_100);
      const token = await oauth.invoke(tokenEvent(client));

      // Assess
      expectTemporarilyUnavailable(throttled, 'throttled');
      expect(readsWhileThrottled).toBe(3); // the SDK's three attempts
      expectTemporarilyUnavailable(backingOff, 'throttled');
      expect(backingOff.ms).toBeLessThan(500);
      expect(readsWhileBackingOff).toBe(3); // no read while backing off
      expectTemporarilyUnavailable(dropped, 'unreachable');
      expect(token.result.statusCode).toBe(200);
    } finally {
      await oauth.close();
    }
  }, 30_000);
});

describe('the mcp bundle when Systems Manager misbehaves', () => {
  it('answers 503 with JSON-RPC -32603 while the public keys cannot be read, and serves once they can', async () => {
    // Prepare: a token from the oauth bundle, and an mcp environment whose first read fails
    const accessToken = await machineAccessToken();
    aws.faults.set('throttle');
    const mcp = await startMcp({ clock: 'controlled' });
    const call = toolCall(accessToken);
    const reads = () => aws.calls.filter((c) => c.target === 'AmazonSSM.GetParameter').length;
    try {
      // The read at start, which fails with no request waiting
      await loggedAtStart(mcp, 'signing keys not loaded at start; will retry');
      const readsAtStart = reads();

      // Act: the first request reads again itself; the next is within its back-off (the clock
      // stands still between them, however slow the machine)
      const refused = await mcp.invoke(call);
      const readsByFirstRequest = reads() - readsAtStart;
      const backingOff = await mcp.invoke(call);
      const readsWhileBackingOff = reads() - readsAtStart - readsByFirstRequest;
      await mcp.advanceClock(1_100);
      aws.faults.set('fail');
      const failed = await mcp.invoke(call);
      aws.faults.set(undefined);
      await mcp.advanceClock(2_100);
      const served = await mcp.invoke(call);

      // Assess
      for (const { result, logs } of [refused, backingOff, failed]) {
        expect(result.statusCode).toBe(503);
        expect(result.headers['retry-after']).toBe('5');
        expect(JSON.parse(result.body!)).toEqual({
          jsonrpc: '2.0',
          id: null,
          error: { code: -32603, message: expect.stringMatching(/^Service Unavailable/) },
        });
        expect(logs.map((l) => l.message)).toEqual(['access token cannot be verified']);
      }
      expect(mcp.logs.map((l) => l.message)).toEqual(['signing keys not loaded at start; will retry']);
      expect(readsAtStart).toBe(1);
      expect(readsByFirstRequest).toBe(1);
      expect(readsWhileBackingOff).toBe(0);
      expect(refused.logs[0]!.fault).toBe('throttled');
      expect(backingOff.logs[0]!.fault).toBe('throttled');
      expect(failed.logs[0]!.fault).toBe('failed');
      expect(served.result.statusCode).toBe(200);
      expect(JSON.parse(served.result.body!).result.structuredContent).toEqual({ sum: 42 });
    } finally {
      await mcp.close();
    }
  }, 30_000);
});

describe('the mcp bundle when the revocation list cannot be read', () => {
  it.each(['throttle', 'fail', 'drop'] as FaultKind[])(
    'answers 503 with JSON-RPC -32603 on a cold start while DynamoDB answers %s, reads at most once per back-off interval, and serves once it recovers',
    async (fault) => {
      // Prepare: a token from the oauth bundle; the mcp function starts while BatchGetItem fails
      const accessToken = await machineAccessToken();
      proxy.faults.set(fault, { targets: ['BatchGetItem'] });
      const reads = () => proxy.calls.filter((c) => c === 'BatchGetItem').length;
      const before = reads();
      const mcp = await startMcp({ clock: 'controlled' });
      const call = toolCall(accessToken);
      try {
        // The read at start, which fails with no request waiting
        await loggedAtStart(mcp, 'revocation list not read');

        // Act: the first request reads again itself; the next two are within its back-off, on a
        // clock that stands still however long the invocations take
        const refused = [];
        for (let i = 0; i < 3; i++) refused.push(await mcp.invoke(call));
        const readsWhileRefusing = reads() - before;
        proxy.faults.set(undefined);
        await mcp.advanceClock(1_100); // past the first back-off interval (1 s)
        const served = await mcp.invoke(call);

        // Assess
        for (const { result } of refused) {
          expect(result.statusCode).toBe(503);
          expect(result.headers['retry-after']).toBe('5');
          expect(JSON.parse(result.body!)).toMatchObject({ error: { code: -32603 } });
        }
        expect(refused.map(({ logs }) => logs.map((l) => l.message))).toEqual([
          ['revocation list not read', 'access token cannot be verified'],
          ['access token cannot be verified'],
          ['access token cannot be verified'],
        ]);
        expect(mcp.logs.map((l) => l.message)).toEqual(['revocation list not read']);
        // At start, and by the first request. A dropped connection that had carried the Query
        // before is taken for one the service closed while idle, and each read is sent once more
        // on a new connection (aws-json-request.ts).
        expect(readsWhileRefusing).toBe(fault === 'drop' ? 4 : 2);

        expect(served.result.statusCode).toBe(200);
        expect(JSON.parse(served.result.body!).result.structuredContent).toEqual({ sum: 42 });
      } finally {
        await mcp.close();
      }
    },
    30_000,
  );
});

describe('the mcp bundle once the keys are in the table', () => {
  /** Publishes the keys as the rotation does; the tests above run as an upgraded stack, without. */
  async function publishKeys(): Promise<void> {
    await new TablePublisher(dynamo.documentClient, TABLE).publish(toPublicKeySet(keySet));
  }
  afterEach(async () => {
    await dynamo.documentClient.send(
      new DeleteCommand({ TableName: TABLE, Key: { pk: PUBLIC_KEYS_ITEM_KEY } }),
    );
  });

  it('reads the public keys and the revocation markers with one Query at start, and nothing of SSM or the earlier list', async () => {
    // Prepare
    const accessToken = await machineAccessToken();
    await publishKeys();
    const ssmReads = () => aws.calls.filter((c) => c.target === 'AmazonSSM.GetParameter').length;
    const [queries, batches, ssm] = [count('Query'), count('BatchGetItem'), ssmReads()];

    // Act
    const mcp = await startMcp();
    try {
      await sleep(300);
      const atStart = count('Query') - queries;
      const served = await mcp.invoke(toolCall(accessToken));

      // Assess
      expect(atStart).toBe(1);
      expect(count('Query') - queries).toBe(1);
      expect(count('BatchGetItem') - batches).toBe(0);
      expect(ssmReads() - ssm).toBe(0);
      expect(served.result.statusCode).toBe(200);
      expect(JSON.parse(served.result.body!).result.structuredContent).toEqual({ sum: 42 });
    } finally {
      await mcp.close();
    }
  }, 30_000);

  it.each(['throttle', 'fail', 'drop'] as FaultKind[])(
    'answers 503 with JSON-RPC -32603 while the Query answers %s, and serves once it recovers',
    async (fault) => {
      // Prepare: the mcp function starts while its one read fails
      const accessToken = await machineAccessToken();
      await publishKeys();
      proxy.faults.set(fault, { targets: ['Query'] });
      const mcp = await startMcp();
      const call = toolCall(accessToken);
      try {
        await sleep(300);

        // Act
        const refused = await mcp.invoke(call);
        proxy.faults.set(undefined);
        await sleep(2_100);
        const served = await mcp.invoke(call);

        // Assess
        expect(refused.result.statusCode).toBe(503);
        expect(refused.result.headers['retry-after']).toBe('5');
        expect(JSON.parse(refused.result.body!)).toMatchObject({ error: { code: -32603 } });
        expect(refused.logs.filter((l) => !('_aws' in l)).map((l) => l.message)).toContain(
          'access token cannot be verified',
        );
        expect(served.result.statusCode).toBe(200);
        expect(JSON.parse(served.result.body!).result.structuredContent).toEqual({ sum: 42 });
      } finally {
        await mcp.close();
      }
    },
    30_000,
  );
});

/** How many calls of `operation` reached the DynamoDB stand-in so far. */
function count(operation: string): number {
  return proxy.calls.filter((c) => c === operation).length;
}
