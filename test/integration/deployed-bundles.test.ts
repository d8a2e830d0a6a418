/**
 * The bundles as deployed (built with lib/bundling.ts), run in a fresh Node process with the
 * environment the stack gives them, against loopback stand-ins for AWS: the embedded DynamoDB
 * engine and a Secrets Manager `GetSecretValue` endpoint. Nothing else runs the oauth bundle
 * before a deployment, so an import or bundling fault would otherwise first show in Lambda.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { BUNDLE_FILE, buildOptions } from '../../lib/bundling.js';
import { startLocalDynamo, type LocalDynamo } from '../../lib/local/dynamodb.js';
import { rotateSigningKeySet } from '../../lambda/shared/key-set.js';
import { startFakeAws } from '../../scripts/bench/fake-aws.js';

const run = promisify(execFile);
const ISSUER = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
const TABLE = 'McpOAuth-Table';

/** Runs in the child: the two functions' handlers, driven through a whole M2M flow. */
const FLOW = `
const oauth = (await import(process.env.OAUTH_BUNDLE)).handler;
const mcp = (await import(process.env.MCP_BUNDLE)).handler;
const event = (method, path, body, headers = {}) => ({
  version: '2.0', routeKey: method + ' ' + path, rawPath: path, rawQueryString: '',
  headers: { host: new URL(process.env.ISSUER).host, 'x-forwarded-proto': 'https', ...headers },
  requestContext: { domainName: new URL(process.env.ISSUER).host, http: { method, path } },
  ...(body === undefined ? {} : { body: Buffer.from(body).toString('base64'), isBase64Encoded: true }),
});
const out = {};
const registered = await oauth(event('POST', '/register', JSON.stringify({ grant_types: ['client_credentials'] }), { 'content-type': 'application/json' }));
out.register = registered.statusCode;
const client = JSON.parse(registered.body);
const basic = 'Basic ' + Buffer.from(client.client_id + ':' + client.client_secret).toString('base64');
const token = await oauth(event('POST', '/token', 'grant_type=client_credentials', { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }));
out.token = token.statusCode;
const call = await mcp(event('POST', '/mcp', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'add', arguments: { a: 40, b: 2 } } }), {
  'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18',
  authorization: 'Bearer ' + JSON.parse(token.body).access_token,
}));
out.mcp = call.statusCode;
out.sum = JSON.parse(call.body).result?.structuredContent?.sum;
const metadata = await oauth(event('GET', '/.well-known/oauth-authorization-server'));
out.issuer = JSON.parse(metadata.body).issuer;
console.log(JSON.stringify(out));
`;

let outdir: string;
let dynamo: LocalDynamo;
let secrets: Awaited<ReturnType<typeof startFakeAws>>;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'mcp-bundles-'));
  await Promise.all((['oauth', 'mcp'] as const).map((name) => build(buildOptions(name, join(outdir, name)))));
  dynamo = await startLocalDynamo({ tableName: TABLE });
  secrets = await startFakeAws(await rotateSigningKeySet({}));
}, 60_000);

afterAll(async () => {
  await dynamo?.close();
  await secrets?.close();
  rmSync(outdir, { recursive: true, force: true });
});

it('registers a client, issues a token and serves a tool call from the deployed bundles', async () => {
  const env = {
    PATH: process.env.PATH,
    ISSUER,
    TABLE_NAME: TABLE,
    SIGNING_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing-keys',
    REGISTRATION_POLICY: 'open',
    LOG_LEVEL: 'silent',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    OAUTH_BUNDLE: join(outdir, 'oauth', BUNDLE_FILE),
    MCP_BUNDLE: join(outdir, 'mcp', BUNDLE_FILE),
  };
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', FLOW], {
    env,
    timeout: 30_000,
  });
  expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({
    register: 201,
    token: 200,
    mcp: 200,
    sum: 42,
    issuer: ISSUER,
  });
});
