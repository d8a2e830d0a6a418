/**
 * The bundles as deployed (built with lib/bundling.ts), each run in a fresh Node process with the
 * environment the stack gives it, against loopback stand-ins for AWS: the embedded DynamoDB
 * engine, Secrets Manager `GetSecretValue` (the private keys, for oauth) and Systems Manager
 * `GetParameter` (the public keys the rotation publishes, for mcp), and a loopback OpenID
 * provider as the upstream a login starts at. Nothing else runs the oauth bundle before a
 * deployment, so an import or bundling fault would otherwise first show in Lambda.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { BUNDLE_FILE, buildOptions } from '../../lib/bundling.js';
import { startLocalDynamo, type LocalDynamo } from '../../lib/local/dynamodb.js';
import { startLocalUpstream } from '../../lib/local/upstream-provider.js';
import { rotateSigningKeySet, type SigningKeySet } from '../../lambda/shared/key-set.js';
import { agentAccessToken, LAMBDA_RUNTIME_ENV } from '../support/bundle-process.js';
import { buildBuiltInMcpBundle } from '../support/built-in-server.js';
import { startFakeAws, type FakeAws } from '../support/fake-aws.js';

const run = promisify(execFile);
const ISSUER = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
const TABLE = 'McpOAuth-Table';
const PARAMETER = '/McpOAuth/signing-keys/public-jwks';

const EVENT = `
const event = (method, path, body, headers = {}) => ({
  version: '2.0', routeKey: method + ' ' + path, rawPath: path, rawQueryString: '',
  headers: { host: new URL(process.env.ISSUER).host, 'x-forwarded-proto': 'https', ...headers },
  requestContext: { domainName: new URL(process.env.ISSUER).host, http: { method, path } },
  ...(body === undefined ? {} : { body: Buffer.from(body).toString('base64'), isBase64Encoded: true }),
});
`;

/** Runs in the first child: the oauth function registers an M2M client and issues a token. */
const OAUTH_FLOW = `${EVENT}
const oauth = (await import(process.env.OAUTH_BUNDLE)).handler;
const out = {};
const registered = await oauth(event('POST', '/register', JSON.stringify({ grant_types: ['client_credentials'] }), { 'content-type': 'application/json' }));
out.register = registered.statusCode;
const client = JSON.parse(registered.body);
const basic = 'Basic ' + Buffer.from(client.client_id + ':' + client.client_secret).toString('base64');
const token = await oauth(event('POST', '/token', 'grant_type=client_credentials', { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }));
out.token = token.statusCode;
out.accessToken = JSON.parse(token.body).access_token;
const metadata = await oauth(event('GET', '/.well-known/oauth-authorization-server'));
out.issuer = JSON.parse(metadata.body).issuer;
console.log(JSON.stringify(out));
`;

/** Posts one JSON-RPC request (`REQUEST`) to the mcp bundle with `ACCESS_TOKEN`; `answer` is its reply. */
const MCP_POST = `${EVENT}
const mcp = (await import(process.env.MCP_BUNDLE)).handler;
const call = await mcp(event('POST', '/mcp', process.env.REQUEST, {
  'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18',
  authorization: 'Bearer ' + process.env.ACCESS_TOKEN,
}));
// One JSON answer, or (an SDK server's way) one server-sent event carrying it.
const text = call.isBase64Encoded ? Buffer.from(call.body, 'base64').toString() : call.body;
const answer = text.startsWith('{') ? JSON.parse(text)
  : JSON.parse(text.split('\\n').find((line) => line.startsWith('data:')).slice(5));
`;

/**
 * Runs in the second child: the mcp bundle as deployed verifies that token and lists its tools,
 * whichever server it serves (served-server.ts).
 */
const MCP_FLOW = `${MCP_POST}
const tools = answer.result?.tools;
console.log(JSON.stringify({ mcp: call.statusCode, listed: Array.isArray(tools) && tools.length > 0 && tools.every((t) => typeof t.name === 'string') }));
`;

/** Runs in a child: the bundle serving the built-in tools calls `add`, leaving web streams unloaded. */
const BUILT_IN_TOOL_CALL = `${MCP_POST}
// Web streams are loaded only if something read middy's stream imports (lazy-streams.ts).
const webStreams = process.moduleLoadList.includes('NativeModule stream/web');
console.log(JSON.stringify({ mcp: call.statusCode, sum: answer.result?.structuredContent?.sum, webStreams }));
`;

/**
 * Runs `script` in a fresh node with exactly `env`; answers its last line of output, parsed. When
 * `expected` does not match it, the child's whole output (its log lines) goes with the failure.
 */
async function runChild(
  script: string,
  env: Record<string, string | undefined>,
  expected?: object,
): Promise<any> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env,
    timeout: 30_000,
  });
  const lines = stdout.trim().split('\n');
  const result = JSON.parse(lines.pop()!);
  if (expected) {
    try {
      expect(result).toEqual(expected);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n\nThe child's log:\n${lines.join('\n')}`);
    }
  }
  return result;
}

let outdir: string;
let dynamo: LocalDynamo;
let aws: FakeAws;
let set: SigningKeySet;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'mcp-bundles-'));
  await Promise.all([
    ...(['oauth', 'mcp'] as const).map((name) => build(buildOptions(name, join(outdir, name)))),
    buildBuiltInMcpBundle(join(outdir, 'mcp-built-in')),
  ]);
  dynamo = await startLocalDynamo({ tableName: TABLE });
  set = await rotateSigningKeySet({});
  aws = await startFakeAws(set);
}, 60_000);

afterAll(async () => {
  await dynamo?.close();
  await aws?.close();
  rmSync(outdir, { recursive: true, force: true });
});

/** The mcp function's environment as the stack gives it, plus the runtime's, running `bundle`. */
function mcpEnv(bundle: string, accessToken: string, request: object): Record<string, string | undefined> {
  return {
    ...LAMBDA_RUNTIME_ENV,
    // Its warnings say which start-up read failed, should the call not be answered.
    LOG_LEVEL: 'warn',
    ISSUER,
    PUBLIC_KEYS_PARAMETER_NAME: PARAMETER,
    SSM_ENDPOINT: `${aws.url}/ssm/`,
    TABLE_NAME: TABLE,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    MCP_BUNDLE: join(outdir, bundle, BUNDLE_FILE),
    ACCESS_TOKEN: accessToken,
    REQUEST: JSON.stringify({ jsonrpc: '2.0', id: 1, ...request }),
  };
}

it('registers a client and issues a token from the oauth bundle; the mcp bundle as deployed accepts it and lists its tools, reading only the public keys', async () => {
  // Prepare: each function gets the environment the stack gives it, plus the runtime's.
  const oauthEnv = {
    ...LAMBDA_RUNTIME_ENV,
    LOG_LEVEL: 'silent',
    ISSUER,
    TABLE_NAME: TABLE,
    SIGNING_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing-keys',
    REGISTRATION_POLICY: 'open',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    OAUTH_BUNDLE: join(outdir, 'oauth', BUNDLE_FILE),
  };

  // Act
  const oauth = await runChild(OAUTH_FLOW, oauthEnv);
  const oauthCalls = aws.calls.splice(0);
  const mcp = await runChild(MCP_FLOW, mcpEnv('mcp', oauth.accessToken, { method: 'tools/list' }), {
    mcp: 200,
    listed: true,
  });

  // Assess
  expect(oauth).toEqual({ register: 201, token: 200, accessToken: expect.any(String), issuer: ISSUER });
  expect(mcp).toEqual({ mcp: 200, listed: true });
  expect(oauthCalls.map((c) => c.target)).toEqual(['secretsmanager.GetSecretValue']);
  expect(aws.calls).toEqual([
    {
      target: 'AmazonSSM.GetParameter',
      path: '/ssm/',
      scope: expect.stringMatching(/^\d{8}\/eu-west-1\/ssm\/aws4_request$/),
      body: JSON.stringify({ Name: PARAMETER }),
    },
  ]);
});

it('serves a call of the built-in add tool from the mcp bundle serving the built-in tools, without loading web streams', async () => {
  // Prepare: an access token as the oauth function signs it
  aws.calls.splice(0);
  const token = agentAccessToken(ISSUER, set.current!, 'built-in-1');
  const request = { method: 'tools/call', params: { name: 'add', arguments: { a: 40, b: 2 } } };

  // Act
  const mcp = await runChild(BUILT_IN_TOOL_CALL, mcpEnv('mcp-built-in', token, request), {
    mcp: 200,
    sum: 42,
    webStreams: false,
  });

  // Assess
  expect(mcp).toEqual({ mcp: 200, sum: 42, webStreams: false });
  expect(aws.calls.map((c) => c.target)).toEqual(['AmazonSSM.GetParameter']);
});

/** Runs in a child: a desktop client registers and starts a login at the oauth bundle. */
const AUTHORIZE_FLOW = `${EVENT}
const oauth = (await import(process.env.OAUTH_BUNDLE)).handler;
const registered = await oauth(event('POST', '/register', JSON.stringify({
  redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none',
}), { 'content-type': 'application/json' }));
const client = JSON.parse(registered.body);
const query = new URLSearchParams({
  client_id: client.client_id, redirect_uri: 'http://127.0.0.1:5555/callback', response_type: 'code',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWZ-ExampleAB', code_challenge_method: 'S256', state: 's1',
}).toString();
const start = await oauth({ ...event('GET', '/authorize'), rawQueryString: query });
console.log(JSON.stringify({ register: registered.statusCode, status: start.statusCode,
  location: start.headers?.location, cookie: start.cookies?.[0] }));
`;

it('starts a user login from the oauth bundle: reads the signing keys at start and the upstream client secret from Secrets Manager, discovers the upstream, redirects there', async () => {
  // Prepare: a loopback OpenID provider as the upstream (http is allowed on loopback only).
  const upstream = await startLocalUpstream({ callbackUrl: `${ISSUER}/callback` });
  const upstreamSecretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:upstream-client';
  aws.calls.splice(0);
  try {
    // Act
    const result = await runChild(AUTHORIZE_FLOW, {
      ...LAMBDA_RUNTIME_ENV,
      LOG_LEVEL: 'silent',
      ISSUER,
      TABLE_NAME: TABLE,
      SIGNING_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing-keys',
      UPSTREAM_ISSUER: upstream.issuer,
      UPSTREAM_CLIENT_ID: upstream.clientId,
      UPSTREAM_CLIENT_SECRET_ARN: upstreamSecretArn,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      OAUTH_BUNDLE: join(outdir, 'oauth', BUNDLE_FILE),
    });

    // Assess
    expect(result.register).toBe(201);
    expect(result.status).toBe(302);
    const location = new URL(result.location);
    expect(location.href.startsWith(`${upstream.issuer}/`)).toBe(true);
    expect(location.searchParams.get('redirect_uri')).toBe(`${ISSUER}/callback`);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(result.cookie).toMatch(
      /^__Host-mcp-login-[\w-]+=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600; Secure$/,
    );
    // The signing keys at start (read before any request needs them), the upstream's secret at the login.
    expect(aws.calls.map((c) => JSON.parse(c.body).SecretId).sort()).toEqual([
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing-keys',
      upstreamSecretArn,
    ]);
  } finally {
    await upstream.close();
  }
});
