/**
 * Cognito client-credentials tokens on `/mcp`, end to end: the mcp bundle as deployed, in its own
 * Node process, with `TRUSTED_ISSUERS` as the stack writes it for `cognitoMachineClient`, against
 * a loopback HTTPS stand-in for the user pool. The bundle reaches the stand-in's discovery
 * document and JWKS over TLS verified with a CA made for the test (`NODE_EXTRA_CA_CERTS`), as it
 * would reach Cognito. The stand-in counts its requests.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_FILE } from '../../lib/bundling.js';
import { buildBuiltInMcpBundle } from '../support/built-in-server.js';
import { rotateSigningKeySet } from '../../lambda/shared/key-set.js';
import {
  addToolCallEvent,
  LAMBDA_RUNTIME_ENV,
  startBundle,
  type BundleProcess,
} from '../support/bundle-process.js';
import { startCognitoStandIn, type CognitoStandIn } from '../support/cognito-stand-in.js';
import { startFakeAws, type FakeAws } from '../support/fake-aws.js';
import { createTestCertificates } from '../support/test-certificates.js';

const ISSUER = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
const CLIENT_ID = '4mcpmachineclientexample';

let outdir: string;
let aws: FakeAws;
let pool: CognitoStandIn;
let mcp: BundleProcess;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'mcp-cognito-'));
  const certificates = createTestCertificates();
  writeFileSync(join(outdir, 'ca.pem'), certificates.caPem);
  const [, , standIn] = await Promise.all([
    buildBuiltInMcpBundle(join(outdir, 'mcp')),
    startFakeAws(await rotateSigningKeySet({})).then((started) => (aws = started)),
    startCognitoStandIn(certificates, { clientId: CLIENT_ID, scope: 'mcp/tools' }),
  ]);
  pool = standIn;
  mcp = await startBundle(join(outdir, 'mcp', BUNDLE_FILE), {
    ...LAMBDA_RUNTIME_ENV,
    LOG_LEVEL: 'warn',
    NODE_EXTRA_CA_CERTS: join(outdir, 'ca.pem'),
    ISSUER,
    PUBLIC_KEYS_PARAMETER_NAME: '/McpOAuth/signing-keys/public-jwks',
    SSM_ENDPOINT: `${aws.url}/`,
    TABLE_NAME: 'McpOAuth-Table',
    DYNAMODB_ENDPOINT: `${aws.url}/`,
    // As the stack writes it with cognitoMachineClient (lib/constructs/user-pool.ts).
    TRUSTED_ISSUERS: JSON.stringify([
      {
        issuer: pool.issuer,
        clientIds: [CLIENT_ID],
        scopeMap: { 'mcp/tools': ['mcp:tools'] },
        maxTokenLifetimeSeconds: 3600,
      },
    ]),
  });
}, 60_000);

afterAll(async () => {
  await mcp?.close();
  await pool?.close();
  await aws?.close();
  rmSync(outdir, { recursive: true, force: true });
});

const addCall = (token: string) => addToolCallEvent(ISSUER, token);

const nowSeconds = () => Math.floor(Date.now() / 1000);
const jwksRequests = () => pool.requests.get(`${new URL(pool.issuer).pathname}/.well-known/jwks.json`) ?? 0;
const discoveryRequests = () =>
  pool.requests.get(`${new URL(pool.issuer).pathname}/.well-known/openid-configuration`) ?? 0;

describe('a Cognito client-credentials token on /mcp', () => {
  it('is accepted from the allowed client, and its scope mcp/tools calls a tool', async () => {
    // Act
    const { result } = await mcp.invoke(addCall(pool.accessToken()));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body!).result.structuredContent).toEqual({ sum: 42 });
    expect([discoveryRequests(), jwksRequests()]).toEqual([1, 1]);
  });

  it.each<[string, () => string, string]>([
    [
      'from a client not on the list',
      () => pool.accessToken({ client_id: 'someone-else', sub: 'someone-else' }),
      'token has no "aud" and its "client_id" is not allowed',
    ],
    [
      'that is an ID token',
      () => pool.accessToken({ token_use: 'id', aud: CLIENT_ID, scope: undefined }),
      'not an access token',
    ],
    [
      "signed with a stranger's key under the pool's kid",
      () => pool.accessToken({}, { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey }),
      'signature verification failed',
    ],
    [
      'that has expired',
      () => pool.accessToken({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }),
      '"exp" claim timestamp check failed',
    ],
  ])('is refused 401 invalid_token when it is a token %s', async (_, token, description) => {
    // Act
    const { result } = await mcp.invoke(addCall(token()));

    // Assess
    expect(result.statusCode).toBe(401);
    expect(result.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(JSON.parse(result.body!).error_description).toBe(description);
  });

  it('is refused 403 insufficient_scope at the tool without the mapped scope', async () => {
    // Act
    const { result } = await mcp.invoke(addCall(pool.accessToken({ scope: 'mcp/other' })));

    // Assess
    expect(result.statusCode).toBe(403);
    expect(result.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it('does not fetch the JWKS again for a stream of tokens with unknown kids', async () => {
    // Prepare
    const before = jwksRequests();

    // Act
    const results = [];
    for (let i = 0; i < 20; i++) {
      results.push(
        (await mcp.invoke(addCall(pool.accessToken({}, { kid: `unknown-${i}` })))).result.statusCode,
      );
    }

    // Assess
    expect(results).toEqual(Array(20).fill(401));
    expect(jwksRequests() - before).toBe(0);
    expect(discoveryRequests()).toBe(1);
  });
});
