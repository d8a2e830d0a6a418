/**
 * What the functions write, read the way CloudWatch would receive it:
 *
 * - every line the local server's process writes (both functions' handlers, at `debug`) during a
 *   whole flow (a registration with an initial access token, `client_credentials`, a tool call,
 *   a user login with code and refresh, revocation, deletion, and refused credentials) is a
 *   Powertools JSON line, and none holds a token, secret, code or registration access token
 *   issued or sent in that flow;
 * - the deployed bundles, invoked with a Lambda context as Lambda invokes them, put that context
 *   and the API Gateway request id on every line of the invocation, write the business metrics
 *   as EMF lines with the agreed names and dimensions, and never the event, even when
 *   `POWERTOOLS_LOGGER_LOG_EVENT` asks for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_FILE, buildOptions, PROJECT_ROOT } from '../../lib/bundling.js';
import { startLocalDynamo, type LocalDynamo } from '../../lib/local/dynamodb.js';
import { rotateSigningKeySet } from '../../lambda/shared/key-set.js';
import {
  addToolCallEvent,
  apiGatewayEvent,
  LAMBDA_RUNTIME_ENV,
  startBundle,
  type BundleProcess,
  type FakeLambdaContext,
  type Invocation,
} from '../support/bundle-process.js';
import { buildBuiltInMcpBundle } from '../support/built-in-server.js';
import { startFakeAws, type FakeAws } from '../support/fake-aws.js';
import { basicAuth, toolCallInit } from '../support/local-server.js';
import { login, UserAgent } from '../support/user-agent.js';

type Line = Record<string, unknown>;
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'];
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * The values to look for: each whole, and for a JWT also its signature alone, so that a line
 * holding part of a token is caught too.
 */
function needles(secrets: Record<string, string>): Array<[string, string]> {
  return Object.entries(secrets).flatMap(([name, value]): Array<[string, string]> => {
    const parts = value.split('.');
    return parts.length === 3
      ? [
          [name, value],
          [`${name} (signature)`, parts[2]!],
        ]
      : [[name, value]];
  });
}

/** The secrets some line holds, by name: what the test expects to be empty. */
function leaked(lines: string[], secrets: Record<string, string>): string[] {
  return needles(secrets)
    .filter(([, value]) => lines.some((line) => line.includes(value)))
    .map(([name]) => name);
}

// ------------------------------------------------------------------ the local server, whole flow

/** Starts the local server in a child process, so that every line it writes is captured. */
const SERVER = `
const { startLocalServer } = await import(process.env.SERVER_MODULE);
const server = await startLocalServer({
  port: 0, inMemory: true, logLevel: 'debug', env: { REGISTRATION_POLICY: 'token' }, mcpServer: 'built-in',
});
process.send({ issuer: server.issuer, upstreamIssuer: server.upstreamIssuer, initialAccessToken: server.initialAccessToken });
process.once('message', async () => {
  await server.close();
  process.exit(0);
});
`;

interface ServerProcess {
  issuer: string;
  upstreamIssuer: string;
  initialAccessToken: string;
  stdout: string[];
  stderr: string[];
  stop(): Promise<void>;
}

async function startServerProcess(): Promise<ServerProcess> {
  // Jest's --experimental-vm-modules is not the server's, and would add a warning to stderr.
  const { NODE_OPTIONS: _jestOptions, ...inherited } = process.env;
  const env = { ...inherited, SERVER_MODULE: join(PROJECT_ROOT, 'lib/local/server.ts') };
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', SERVER],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await Promise.race([
    new Promise<Omit<ServerProcess, 'stdout' | 'stderr' | 'stop'>>((resolve) =>
      child.once('message', (m) => resolve(m as Omit<ServerProcess, 'stdout' | 'stderr' | 'stop'>)),
    ),
    exited.then(() => Promise.reject(new Error(`the local server exited at start: ${out.stderr}`))),
  ]);
  const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
  const server: ServerProcess = {
    ...ready,
    stdout: [],
    stderr: [],
    async stop() {
      child.send('close');
      await exited;
      server.stdout = lines(out.stdout);
      server.stderr = lines(out.stderr);
    },
  };
  return server;
}

async function call(url: string, init: RequestInit & { form?: Record<string, string> } = {}) {
  const { form, ...rest } = init;
  const response = await fetch(url, {
    ...rest,
    ...(form && {
      method: 'POST',
      body: new URLSearchParams(form),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(rest.headers as object) },
    }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

const toolCall = (token: string) => toolCallInit(token);

describe('every line the local server writes during a whole flow', () => {
  let server: ServerProcess;
  const secrets: Record<string, string> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await startServerProcess();
    const { issuer } = server;
    secrets['initial access token'] = server.initialAccessToken;

    // A machine client, registered with the initial access token; a token; a tool call.
    const machine = await call(`${issuer}/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.initialAccessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'mcp:tools',
      }),
    });
    expect(machine.status).toBe(201);
    ids.machine = machine.body.client_id;
    secrets['client secret'] = machine.body.client_secret;
    secrets['registration access token (machine)'] = machine.body.registration_access_token;
    const basic = basicAuth(machine.body.client_id, machine.body.client_secret);
    const issued = await call(`${issuer}/token`, {
      headers: { authorization: basic },
      form: { grant_type: 'client_credentials' },
    });
    expect(issued.status).toBe(200);
    secrets['client_credentials access token'] = issued.body.access_token;
    const tool = await call(`${issuer}/mcp`, toolCall(issued.body.access_token));
    expect(tool.body.result?.structuredContent).toEqual({ sum: 42 });

    // Refused credentials: a wrong client secret, a forged bearer token.
    secrets['wrong client secret'] = randomBytes(32).toString('base64url');
    const refused = await call(`${issuer}/token`, {
      headers: { authorization: basicAuth(machine.body.client_id, secrets['wrong client secret']) },
      form: { grant_type: 'client_credentials' },
    });
    expect(refused.status).toBe(401);
    const [header, payload] = issued.body.access_token.split('.');
    secrets['forged access token'] = `${header}.${payload}.${randomBytes(256).toString('base64url')}`;
    expect((await call(`${issuer}/mcp`, toolCall(secrets['forged access token']))).status).toBe(401);

    // A user logs in at a desktop app: code, then refresh.
    const desktop = await call(`${issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Log test desktop app',
        redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        application_type: 'native',
      }),
    });
    expect(desktop.status).toBe(201);
    ids.desktop = desktop.body.client_id;
    secrets['registration access token (desktop)'] = desktop.body.registration_access_token;
    const verifier = randomBytes(32).toString('base64url');
    secrets['PKCE code verifier'] = verifier;
    const redirectUri = 'http://127.0.0.1:41234/callback';
    const authorizationUrl = `${issuer}/authorize?${new URLSearchParams({
      client_id: desktop.body.client_id,
      redirect_uri: redirectUri,
      response_type: 'code',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: 'log-test',
      resource: `${issuer}/mcp`,
    })}`;
    const redirect = await login(new UserAgent(), authorizationUrl, server, 'ada');
    const code = redirect.searchParams.get('code')!;
    expect(code).toBeTruthy();
    secrets['authorization code'] = code;
    const user = await call(`${issuer}/token`, {
      form: {
        grant_type: 'authorization_code',
        client_id: desktop.body.client_id,
        code,
        code_verifier: verifier,
        redirect_uri: redirectUri,
        resource: `${issuer}/mcp`,
      },
    });
    expect(user.status).toBe(200);
    secrets['user access token'] = user.body.access_token;
    secrets['refresh token'] = user.body.refresh_token;
    const refreshed = await call(`${issuer}/token`, {
      form: {
        grant_type: 'refresh_token',
        client_id: desktop.body.client_id,
        refresh_token: user.body.refresh_token,
      },
    });
    expect(refreshed.status).toBe(200);
    secrets['refreshed access token'] = refreshed.body.access_token;
    secrets['rotated refresh token'] = refreshed.body.refresh_token;
    expect((await call(`${issuer}/mcp`, toolCall(refreshed.body.access_token))).status).toBe(200);

    // Revocation, then both clients deleted.
    const revokeRefresh = await call(`${issuer}/revoke`, {
      form: { client_id: desktop.body.client_id, token: refreshed.body.refresh_token },
    });
    expect(revokeRefresh.status).toBe(200);
    const revokeAccess = await call(`${issuer}/revoke`, {
      headers: { authorization: basic },
      form: { token: issued.body.access_token },
    });
    expect(revokeAccess.status).toBe(200);
    // The code again: a replay, refused, which revokes its grant (already revoked here).
    const replayed = await call(`${issuer}/token`, {
      form: {
        grant_type: 'authorization_code',
        client_id: desktop.body.client_id,
        code,
        code_verifier: verifier,
        redirect_uri: redirectUri,
        resource: `${issuer}/mcp`,
      },
    });
    expect(replayed.status).toBe(400);
    for (const client of [machine.body, desktop.body]) {
      const deleted = await call(`${issuer}/clients/${client.client_id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${client.registration_access_token}` },
      });
      expect(deleted.status).toBe(204);
    }
    await server.stop();
  }, 60_000);

  afterAll(async () => {
    if (server && server.stdout.length === 0) await server.stop().catch(() => {});
  });

  it('holds the lines of every step, so the capture saw the flow', () => {
    const messages = server.stdout.map((l) => {
      const line = JSON.parse(l) as Line;
      return `${line.service} ${line.message}${line.grantType ? ` ${line.grantType}` : ''}`;
    });
    expect(messages).toEqual(
      expect.arrayContaining([
        'oauth client registered',
        'oauth token issued client_credentials',
        'oauth token issued authorization_code',
        'oauth token issued refresh_token',
        'oauth login started',
        'oauth authorization code issued',
        'mcp access token refused',
        'oauth grant revoked',
        'oauth access token revoked',
        'oauth client deleted',
      ]),
    );
  });

  it('writes one audit line per security event of the flow, with the documented fields', () => {
    const audits = server.stdout.map((l) => JSON.parse(l) as Line).filter((line) => 'audit' in line);
    const what = (l: Line) =>
      [l.audit, l.action, l.decision, l.grantType, l.reason, l.target && `${l.target} by ${l.by}`]
        .filter(Boolean)
        .join(' ');
    const user = { sub: 'ada', clientId: ids.desktop };
    const issuedTo = { audience: `${server.issuer}/mcp`, tokenId: expect.stringMatching(/^[0-9a-f-]{36}$/) };

    expect(audits.map(what)).toEqual([
      'client registered',
      'token client_credentials',
      'client registered',
      'login',
      'consent granted',
      'token authorization_code',
      'refresh refresh_token',
      'revoke grant by client',
      'revoke token by client',
      'refused code_replay',
      'revoke grant by replay',
      'revoke client by client',
      'client deleted',
      'revoke client by client',
      'client deleted',
    ]);
    const [, machineToken, , login, consent, userToken, refresh, revokedGrant, , refused] = audits;
    expect(machineToken).toMatchObject({ clientId: ids.machine, scope: 'mcp:tools', ...issuedTo });
    expect(machineToken).not.toHaveProperty('sub');
    expect(login).toMatchObject(user);
    expect(consent).toMatchObject({ ...user, scope: expect.any(String) });
    const grantId = expect.any(String);
    expect(userToken).toMatchObject({ ...user, grantId, scope: expect.any(String), ...issuedTo });
    expect(refresh).toMatchObject({ ...user, grantId: userToken!.grantId, ...issuedTo });
    expect(revokedGrant).toMatchObject({ clientId: ids.desktop, grantId: userToken!.grantId });
    expect(refused).toMatchObject({ ...user, grantId: userToken!.grantId });
    for (const line of audits) expect(line).toMatchObject({ level: 'INFO', message: `audit: ${line.audit}` });
  });

  it('writes only Powertools JSON lines: level, message, service and timestamp on each', () => {
    for (const text of server.stdout) {
      const line = JSON.parse(text) as Line;
      expect(line).toEqual(
        expect.objectContaining({
          level: expect.any(String),
          message: expect.any(String),
          service: expect.stringMatching(/^(oauth|mcp|local)$/),
          timestamp: expect.stringMatching(ISO_TIME),
        }),
      );
      expect(LEVELS).toContain(line.level);
    }
  });

  it('never writes a token, secret, code or registration access token of the flow', () => {
    expect(Object.keys(secrets)).toHaveLength(13);
    expect(leaked(server.stdout, secrets)).toEqual([]);
    expect(leaked(server.stderr, secrets)).toEqual([]);
  });
});

// ------------------------------------------------------------------ the bundles, in Lambda

const ISSUER = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
const TABLE = 'McpOAuth-Table';
const RUNTIME = {
  ...LAMBDA_RUNTIME_ENV,
  LOG_LEVEL: 'debug',
  POWERTOOLS_LOGGER_LOG_EVENT: 'true',
  POWERTOOLS_METRICS_NAMESPACE: 'McpOAuth/McpOAuth',
  // What Lambda sets in an on-demand environment; Powertools reports `cold_start` only with it.
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
};

function lambdaEvent(
  requestId: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
) {
  return apiGatewayEvent(ISSUER, method, path, body, headers, requestId);
}

function lambdaContext(functionName: string, awsRequestId: string): FakeLambdaContext {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    deadlineMs: Date.now() + 10_000,
  };
}

/** The log lines (Powertools' keys) and the EMF lines of one invocation, apart. */
function split(invocation: Invocation) {
  return {
    logs: invocation.logs.filter((l) => 'level' in l),
    metrics: invocation.logs
      .filter((l) => '_aws' in l)
      .map((l) => {
        const [directive] = (
          l._aws as {
            CloudWatchMetrics: Array<{
              Namespace: string;
              Dimensions: string[][];
              Metrics: Array<{ Name: string }>;
            }>;
          }
        ).CloudWatchMetrics;
        const dimensions = directive!.Dimensions;
        return {
          namespace: directive!.Namespace,
          dimensions,
          values: Object.fromEntries(
            [...dimensions.flat(), ...directive!.Metrics.map((m) => m.Name)].map((k) => [k, l[k]]),
          ),
        };
      }),
    other: invocation.logs.filter((l) => !('level' in l) && !('_aws' in l)),
  };
}

describe('the deployed bundles, invoked with a Lambda context', () => {
  let outdir: string;
  let dynamo: LocalDynamo;
  let aws: FakeAws;
  let oauth: BundleProcess;
  let mcp: BundleProcess;
  const invocations: Record<string, Invocation> = {};
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'mcp-function-logs-'));
    await Promise.all([
      build(buildOptions('oauth', join(outdir, 'oauth'))),
      buildBuiltInMcpBundle(join(outdir, 'mcp')),
    ]);
    dynamo = await startLocalDynamo({ tableName: TABLE });
    aws = await startFakeAws(await rotateSigningKeySet({}));
    oauth = await startBundle(join(outdir, 'oauth', BUNDLE_FILE), {
      ...RUNTIME,
      POWERTOOLS_SERVICE_NAME: 'oauth',
      ISSUER,
      TABLE_NAME: TABLE,
      SIGNING_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing-keys',
      REGISTRATION_POLICY: 'open',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    });
    mcp = await startBundle(join(outdir, 'mcp', BUNDLE_FILE), {
      ...RUNTIME,
      POWERTOOLS_SERVICE_NAME: 'mcp',
      ISSUER,
      PUBLIC_KEYS_PARAMETER_NAME: '/McpOAuth/signing-keys/public-jwks',
      SSM_ENDPOINT: `${aws.url}/ssm/`,
      TABLE_NAME: TABLE,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
    });

    const json = { 'content-type': 'application/json' };
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    invocations.register = await oauth.invoke(
      lambdaEvent(
        'apigw-register',
        'POST',
        '/register',
        JSON.stringify({ grant_types: ['client_credentials'] }),
        json,
      ),
      lambdaContext('McpOAuth-OAuth', 'lambda-register'),
    );
    const client = JSON.parse(invocations.register.result.body!) as Record<string, string>;
    secrets['client secret'] = client.client_secret!;
    secrets['registration access token'] = client.registration_access_token!;
    invocations.token = await oauth.invoke(
      lambdaEvent('apigw-token', 'POST', '/token', 'grant_type=client_credentials', {
        ...form,
        authorization: basicAuth(client.client_id!, client.client_secret!),
      }),
      lambdaContext('McpOAuth-OAuth', 'lambda-token'),
    );
    secrets['access token'] = (
      JSON.parse(invocations.token.result.body!) as Record<string, string>
    ).access_token!;
    secrets['wrong client secret'] = randomBytes(32).toString('base64url');
    invocations.refused = await oauth.invoke(
      lambdaEvent('apigw-refused', 'POST', '/token', 'grant_type=client_credentials', {
        ...form,
        authorization: basicAuth(client.client_id!, secrets['wrong client secret']),
      }),
      lambdaContext('McpOAuth-OAuth', 'lambda-refused'),
    );
    invocations.tool = await mcp.invoke(
      addToolCallEvent(ISSUER, secrets['access token'], 'apigw-tool'),
      lambdaContext('McpOAuth-Mcp', 'lambda-tool'),
    );
    const [header, payload] = secrets['access token'].split('.');
    secrets['forged access token'] = `${header}.${payload}.${randomBytes(256).toString('base64url')}`;
    invocations.forged = await mcp.invoke(
      addToolCallEvent(ISSUER, secrets['forged access token'], 'apigw-forged'),
      lambdaContext('McpOAuth-Mcp', 'lambda-forged'),
    );
  }, 90_000);

  afterAll(async () => {
    await oauth?.close();
    await mcp?.close();
    await dynamo?.close();
    await aws?.close();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it('answers as it always did', () => {
    expect(invocations.register!.result.statusCode).toBe(201);
    expect(invocations.token!.result.statusCode).toBe(200);
    expect(invocations.refused!.result.statusCode).toBe(401);
    // Should it fail, the diff shows the answer and what the environment logged at start.
    expect({ answer: invocations.tool!.result, atStart: mcp.logs }).toMatchObject({
      answer: { statusCode: 200 },
    });
    expect(JSON.parse(invocations.tool!.result.body!).result.structuredContent).toEqual({ sum: 42 });
    expect(invocations.forged!.result.statusCode).toBe(401);
  });

  it.each([
    ['register', 'oauth', 'McpOAuth-OAuth', 'lambda-register', 'apigw-register', true],
    ['token', 'oauth', 'McpOAuth-OAuth', 'lambda-token', 'apigw-token', false],
    ['forged', 'mcp', 'McpOAuth-Mcp', 'lambda-forged', 'apigw-forged', false],
  ])(
    'puts the Lambda context and the API Gateway request id on every line of the %s invocation',
    (name, service, functionName, requestId, correlationId, coldStart) => {
      const { logs, other } = split(invocations[name]!);
      expect(logs.length).toBeGreaterThan(0);
      expect(other).toEqual([]);
      for (const line of logs) {
        expect(line).toEqual(
          expect.objectContaining({
            level: expect.any(String),
            message: expect.any(String),
            timestamp: expect.stringMatching(ISO_TIME),
            service,
            function_name: functionName,
            function_request_id: requestId,
            cold_start: coldStart,
            correlation_id: correlationId,
          }),
        );
      }
    },
  );

  it('writes the business metrics of each invocation as EMF lines with the agreed names and dimensions', () => {
    const metrics = Object.fromEntries(
      Object.entries(invocations).map(([name, i]) => [name, split(i).metrics]),
    );
    const line = (dimensions: string[], values: Record<string, unknown>) => ({
      namespace: 'McpOAuth/McpOAuth',
      dimensions: [dimensions],
      values,
    });
    expect(metrics).toEqual({
      register: [line(['service'], { service: 'oauth', ClientsRegistered: 1 })],
      token: [
        line(['service', 'grant_type'], {
          service: 'oauth',
          grant_type: 'client_credentials',
          TokensIssued: 1,
        }),
      ],
      refused: [line(['service', 'reason'], { service: 'oauth', reason: 'invalid_client', Refusals: 1 })],
      tool: [line(['service', 'tool'], { service: 'mcp', tool: 'add', ToolCalls: 1 })],
      forged: [line(['service', 'reason'], { service: 'mcp', reason: 'invalid_token', Refusals: 1 })],
    });
  });

  it('never writes the event, a token, a secret or a registration access token', () => {
    const lines = [...Object.values(invocations).flatMap((i) => i.logs), ...oauth.logs, ...mcp.logs].map(
      (l) => JSON.stringify(l),
    );
    expect(lines.join('\n')).not.toContain('Lambda invocation event');
    expect(Object.keys(secrets)).toHaveLength(5);
    expect(leaked(lines, secrets)).toEqual([]);
  });
});
