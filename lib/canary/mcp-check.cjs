/**
 * The synthetic canary's check, run by CloudWatch Synthetics every `canaryIntervalMinutes`
 * (`lib/constructs/canary.ts` deploys it as inline code; it asks for no browser page, only HTTP). A run passes when
 * every step does, and fails with the first step's error otherwise:
 *
 * 1. the authorization server metadata names this issuer and a token endpoint;
 * 2. the canary client (`{"client_id", "client_secret"}` in the secret `CLIENT_SECRET_ARN`, put
 *    there once after deployment, doc/operations.md) gets a token with `client_credentials`;
 * 3. `tools/call` of `add` on `/mcp` with that token returns 2 + 3 = 5.
 *
 * Without a client in the secret, it checks that `/mcp` answers 401 with its `resource_metadata`
 * challenge instead of steps 2 and 3, and passes: always when `REQUIRE_CLIENT` is `false`
 * (registration closed, so no client can exist), and otherwise while the secret's `{}` placeholder
 * is younger than `CLIENT_GRACE_MS`. The stack starts the canary as soon as it creates it, and
 * `scripts/deploy.sh` registers the client only once the deployment is done: a fresh deployment
 * must not page anyone for that. Past the grace the run fails, so a client nobody registered is
 * still reported.
 *
 * CommonJS, because the Synthetics Node.js runtimes load the handler with `require`.
 */
'use strict';

const TIMEOUT_MS = 10_000;
/** How long after the stack created the canary's client secret a run may go without the client. */
const CLIENT_GRACE_MS = 60 * 60_000;
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** Runs the steps against `issuer`; resolves to a one-line summary, rejects with the failed step. */
/**
 * `readClient` resolves to the client, or to `{ placeholderSince }` (when the secret's `{}` was
 * written) while there is none.
 */
async function check({ issuer, readClient, requireClient, fetch, log = () => {}, now = Date.now }) {
  const metadata = await step('metadata', async () => {
    const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`, request('GET'));
    const body = await expectJson(response, 200);
    if (body.issuer !== issuer)
      throw new Error(`issuer is ${JSON.stringify(body.issuer)}, expected ${issuer}`);
    if (typeof body.token_endpoint !== 'string') throw new Error('no token_endpoint');
    return body;
  });
  log(`metadata: issuer ${metadata.issuer}`);

  const read = await step('client', readClient);
  const client = read && typeof read.client_id === 'string' ? read : undefined;
  if (!client) {
    const waitedMs = read && read.placeholderSince ? now() - read.placeholderSince.getTime() : Infinity;
    if (requireClient && waitedMs > CLIENT_GRACE_MS) {
      throw new Error(
        'step client: the canary client secret holds no client_id and client_secret yet; register one and put it ' +
          'there (doc/operations.md, "Synthetic canary")',
      );
    }
    await step('challenge', async () => {
      const response = await fetch(`${issuer}/mcp`, request('POST', MCP_HEADERS, rpc('tools/list')));
      if (response.status !== 401)
        throw new Error(`/mcp without a token answered ${response.status}, expected 401`);
      if (!/resource_metadata=/.test(response.headers.get('www-authenticate') ?? '')) {
        throw new Error('401 without resource_metadata in WWW-Authenticate');
      }
    });
    return requireClient
      ? `metadata and the 401 challenge answered (no canary client yet, ${Math.round(waitedMs / 60_000)} minutes ` +
          'after the stack created its secret)'
      : 'metadata and the 401 challenge answered (no canary client: registration is closed)';
  }

  const accessToken = await step('token', async () => {
    const basic = Buffer.from(
      `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`,
    ).toString('base64');
    const response = await fetch(
      metadata.token_endpoint,
      request(
        'POST',
        { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        'grant_type=client_credentials',
      ),
    );
    const body = await expectJson(response, 200);
    if (typeof body.access_token !== 'string') throw new Error('no access_token in the answer');
    return body.access_token;
  });
  log('token: issued');

  const sum = await step('tools/call', async () => {
    const response = await fetch(
      `${issuer}/mcp`,
      request(
        'POST',
        { ...MCP_HEADERS, authorization: `Bearer ${accessToken}` },
        rpc('tools/call', { name: 'add', arguments: { a: 2, b: 3 } }),
      ),
    );
    const body = await expectJson(response, 200);
    if (body.error) throw new Error(`JSON-RPC error ${body.error.code}: ${body.error.message}`);
    return body.result && body.result.structuredContent && body.result.structuredContent.sum;
  });
  if (sum !== 5) throw new Error(`step tools/call: add(2, 3) returned ${JSON.stringify(sum)}`);
  log('tools/call: add(2, 3) = 5');
  return 'metadata, token and tools/call answered';
}

async function step(name, run) {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('step ')) throw error;
    throw new Error(`step ${name}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

function request(method, headers = {}, body) {
  return {
    method,
    headers: { 'user-agent': 'mcp-oauth-canary', ...headers },
    ...(body === undefined ? {} : { body }),
    redirect: 'manual',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  };
}

function rpc(method, params) {
  return JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params ? { params } : {}) });
}

/** The body as JSON when the status is `status`; never echoes a body that might hold a token. */
async function expectJson(response, status) {
  if (response.status !== status) throw new Error(`HTTP ${response.status}, expected ${status}`);
  try {
    return JSON.parse(await response.text());
  } catch {
    throw new Error('the answer is not JSON');
  }
}

/**
 * The canary client from its secret, or, while it holds the `{}` placeholder, when that was
 * written (`CreatedDate` of the version read: the stack's creation of the secret).
 */
async function readClientFromSecret(secretId) {
  const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
  const { SecretString, CreatedDate } = await new SecretsManagerClient({}).send(
    new GetSecretValueCommand({ SecretId: secretId }),
  );
  const value = JSON.parse(SecretString || '{}');
  if (typeof value.client_id !== 'string' || typeof value.client_secret !== 'string') {
    return { placeholderSince: CreatedDate instanceof Date ? CreatedDate : undefined };
  }
  return { client_id: value.client_id, client_secret: value.client_secret };
}

exports.check = check;
exports.CLIENT_GRACE_MS = CLIENT_GRACE_MS;
exports.handler = async () =>
  check({
    issuer: process.env.ISSUER,
    readClient: () => readClientFromSecret(process.env.CLIENT_SECRET_ARN),
    requireClient: process.env.REQUIRE_CLIENT !== 'false',
    fetch: globalThis.fetch,
    log: (line) => console.log(line),
  });
