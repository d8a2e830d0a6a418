/**
 * Enterprise-managed authorization (the MCP extension; ID-JAG through the jwt-bearer grant)
 * against the real local server: a stand-in company identity provider on loopback HTTPS with its
 * own CA (`lib/local/enterprise-idp.ts`, trusted through `fetchTrusting`, by the server for its
 * keys and by the client for the token exchange), and the v2 SDK's own `CrossAppAccessProvider`
 * doing the RFC 8693 exchange and the RFC 7523 grant through to a `tools/call` as the user.
 * Every refusal leaves the table exactly as it was.
 */
import { randomUUID } from 'node:crypto';
import {
  Client,
  CrossAppAccessProvider,
  discoverAndRequestJwtAuthGrant,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import fc from 'fast-check';
import { decodeJwt, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { JWT_BEARER } from '../../lambda/oauth/clients/client-metadata.js';
import type { OAuthDeps } from '../../lambda/oauth/deps.js';
import { DynamoRevocationList, revokeUser } from '../../lambda/oauth/stores/revocations.js';
import { startLocalEnterpriseIdp, type LocalEnterpriseIdp } from '../../lib/local/enterprise-idp.js';
import type { LocalServer } from '../../lib/local/server.js';
import { fetchTrusting } from '../support/ca-fetch.js';
import {
  basicAuth,
  registerClient,
  registerMachineClient,
  startTestServer,
  toolCallInit,
} from '../support/local-server.js';
import { keyKind, NO_CHANGES, tableChanges, tableReader, type TableReader } from '../support/table.js';
import { createTestCertificates } from '../support/test-certificates.js';

const certificates = createTestCertificates();
const caFetch = fetchTrusting(certificates.caPem);
const UNREACHABLE_IDP = 'https://127.0.0.1:9';

let idp: LocalEnterpriseIdp;
let server: LocalServer;
let table: TableReader;
let agent: { clientId: string; clientSecret: string };
let otherAgent: { clientId: string; clientSecret: string };
/** The functions' log lines, where the audit lines are checked. */
const functionLog: string[] = [];

async function registerEnterpriseClient(issuer: string) {
  const client = await registerClient(issuer, {
    client_name: 'enterprise agent',
    grant_types: [JWT_BEARER],
    token_endpoint_auth_method: 'client_secret_basic',
  });
  return { clientId: client.client_id, clientSecret: client.client_secret! };
}

beforeAll(async () => {
  idp = await startLocalEnterpriseIdp({ tls: { cert: certificates.certPem, key: certificates.keyPem } });
  server = await startTestServer({
    env: {
      // The second provider never answers (nothing listens on port 9).
      ENTERPRISE_IDPS: JSON.stringify([{ issuer: idp.issuer }, { issuer: UNREACHABLE_IDP }]),
      REVOCATION_REFRESH_SECONDS: '1',
    },
    enterpriseIdpFetch: caFetch,
    logLevel: 'info',
    writeFunctionLog: (line) => functionLog.push(line),
  });
  table = tableReader(server);
  agent = await registerEnterpriseClient(server.issuer);
  otherAgent = await registerEnterpriseClient(server.issuer);
});

afterAll(async () => {
  table.close();
  await server.close();
  await idp.close();
});

/** Step 1 of the extension at the stand-in: the user's ID token, issued to `clientId`. */
async function signIn(username: string, clientId = agent.clientId): Promise<string> {
  const response = await caFetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password: 'any', client_id: clientId }),
  });
  return ((await response.json()) as { id_token: string }).id_token;
}

/** The claims of a valid ID-JAG for `agent`, as the stand-in would issue it. */
function validClaims(overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: idp.issuer,
    sub: 'carol',
    aud: server.issuer,
    resource: `${server.issuer}/mcp`,
    client_id: agent.clientId,
    jti: randomUUID(),
    iat: now,
    exp: now + 300,
    scope: 'mcp:tools',
    ...overrides,
  };
}

const signed = (claims: JWTPayload, typ = 'oauth-id-jag+jwt') => idp.sign(claims, { typ });

async function redeem(
  assertion: string,
  client = agent,
  extra: Record<string, string> = {},
  at = server.issuer,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${at}/token`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(client.clientId, client.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: JWT_BEARER, assertion, ...extra }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Calls a tool with `token` until it is refused (revocation reaches /mcp within a second here), or 5 s pass. */
async function statusOnceRefused(token: string): Promise<number> {
  let status = 200;
  for (let tries = 0; status === 200 && tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const response = await fetch(`${server.issuer}/mcp`, toolCallInit(token));
    await response.text();
    status = response.status;
  }
  return status;
}

describe('the v2 SDK CrossAppAccessProvider', () => {
  it('exchanges the user’s ID token for an ID-JAG at the provider and calls a tool as that user', async () => {
    // Prepare
    const idToken = await signIn('alice@example.com');
    const exchanges: string[] = [];
    const authProvider = new CrossAppAccessProvider({
      assertion: async (ctx) => {
        const result = await discoverAndRequestJwtAuthGrant({
          idpUrl: idp.issuer,
          audience: ctx.authorizationServerUrl,
          resource: ctx.resourceUrl,
          idToken,
          clientId: agent.clientId,
          ...(ctx.scope !== undefined && { scope: ctx.scope }),
          fetchFn: ctx.fetchFn,
        });
        exchanges.push(result.jwtAuthGrant);
        return result.jwtAuthGrant;
      },
      clientId: agent.clientId,
      clientSecret: agent.clientSecret,
      expectedIssuer: server.issuer,
      fetchFn: caFetch,
    });
    const mcp = new Client({ name: 'enterprise-agent', version: '1.0.0' });
    const before = await table.snapshot();

    // Act
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${server.issuer}/mcp`), { authProvider }));
    const sum = await mcp.callTool({ name: 'add', arguments: { a: 40, b: 2 } });
    const me = await mcp.callTool({ name: 'get_user_info', arguments: {} });
    await mcp.close();

    // Assess
    expect(sum.structuredContent).toEqual({ sum: 42 });
    expect(me.structuredContent).toMatchObject({
      kind: 'user',
      sub: `${idp.issuer}#alice@example.com`,
      client_id: agent.clientId,
      issuer: server.issuer,
      email: 'alice@example.com',
    });
    expect(exchanges).toHaveLength(1);
    expect(decodeJwt(exchanges[0]!)).toMatchObject({ aud: server.issuer, resource: `${server.issuer}/mcp` });
    const tokens = authProvider.tokens();
    expect(tokens?.refresh_token).toBeUndefined();
    // The grant, and the user's entry in the access index (`npm run admin -- users` lists them).
    const { added, changed, removed } = tableChanges(before, await table.snapshot());
    expect({ added: added.map(keyKind).sort(), changed, removed }).toEqual({
      added: ['family', 'user'],
      changed: [],
      removed: [],
    });
  });
});

describe('the jwt-bearer grant', () => {
  it('is advertised in the authorization server metadata', async () => {
    // Act
    const metadata = (await (
      await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)
    ).json()) as { grant_types_supported: string[] };

    // Assess
    expect(metadata.grant_types_supported).toContain(JWT_BEARER);
  });

  it('issues an access token with the scope granted by both the assertion and the registration, and no refresh token', async () => {
    // Act
    const { status, body } = await redeem(await signed(validClaims({ scope: 'mcp:tools offline_access' })));

    // Assess
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });
    expect(body.refresh_token).toBeUndefined();
    expect(decodeJwt(body.access_token as string)).toMatchObject({
      sub: `${idp.issuer}#carol`,
      client_id: agent.clientId,
      aud: `${server.issuer}/mcp`,
      scope: 'mcp:tools',
    });
  });

  it('lets the client revoke the token it got, which /mcp then refuses', async () => {
    // Prepare
    const { body } = await redeem(await signed(validClaims()));
    const token = body.access_token as string;
    expect((await fetch(`${server.issuer}/mcp`, toolCallInit(token))).status).toBe(200);

    // Act
    const revoked = await fetch(`${server.issuer}/revoke`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(agent.clientId, agent.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }),
    });
    const status = await statusOnceRefused(token);

    // Assess
    expect(revoked.status).toBe(200);
    expect(status).toBe(401);
  });

  it("is one of the user's grants: revoking the user (revokeUser) stops the token at /mcp", async () => {
    // Prepare
    const { body } = await redeem(await signed(validClaims({ sub: 'dave' })));
    const token = body.access_token as string;
    expect((await fetch(`${server.issuer}/mcp`, toolCallInit(token))).status).toBe(200);
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: server.table.endpoint,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    const deps = {
      revocations: new DynamoRevocationList(db, server.table.name),
      config: { accessTokenTtlSeconds: 3600 },
    } as unknown as OAuthDeps;

    // Act
    await revokeUser(deps, `${idp.issuer}#dave`);
    const status = await statusOnceRefused(token);
    db.destroy();

    // Assess
    expect(status).toBe(401);
  });

  it('writes a refused audit line for a replayed ID-JAG', async () => {
    // Prepare
    const assertion = await signed(validClaims({ sub: 'erin' }));
    expect((await redeem(assertion)).status).toBe(200);

    // Act
    const replay = await redeem(assertion);

    // Assess
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const refusals = functionLog
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.audit === 'refused' && line.reason === 'id_jag_replay');
    expect(refusals).toEqual([
      expect.objectContaining({ clientId: agent.clientId, sub: `${idp.issuer}#erin` }),
    ]);
  });

  describe('refuses, writing nothing,', () => {
    const cases: [string, () => Promise<{ assertion: string; client?: typeof agent }>, number, string][] = [
      [
        'a replayed assertion',
        async () => {
          const assertion = await signed(validClaims());
          expect((await redeem(assertion)).status).toBe(200);
          return { assertion };
        },
        400,
        'invalid_grant',
      ],
      [
        'an assertion for another audience',
        async () => ({ assertion: await signed(validClaims({ aud: 'https://other.example.com' })) }),
        400,
        'invalid_grant',
      ],
      [
        'an assertion for this server and another audience',
        async () => ({
          assertion: await signed(validClaims({ aud: [server.issuer, 'https://other.example.com'] })),
        }),
        400,
        'invalid_grant',
      ],
      [
        'an assertion of an issuer that is not configured',
        async () => ({ assertion: await signed(validClaims({ iss: 'https://unknown-idp.example.com' })) }),
        400,
        'invalid_grant',
      ],
      [
        'an assertion signed by a key that is not the issuer’s, under its key id',
        async () => {
          const { privateKey } = await generateKeyPair('ES256');
          return { assertion: await idp.sign(validClaims(), { typ: 'oauth-id-jag+jwt', key: privateKey }) };
        },
        400,
        'invalid_grant',
      ],
      [
        'an assertion signed by a key the issuer does not publish',
        async () => {
          const { privateKey } = await generateKeyPair('ES256');
          return {
            assertion: await idp.sign(validClaims(), {
              typ: 'oauth-id-jag+jwt',
              key: privateKey,
              kid: 'other',
            }),
          };
        },
        400,
        'invalid_grant',
      ],
      [
        'an unsigned assertion (alg none)',
        async () => {
          const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
          return { assertion: `${part({ alg: 'none', typ: 'oauth-id-jag+jwt' })}.${part(validClaims())}.` };
        },
        400,
        'invalid_grant',
      ],
      [
        'an assertion signed with HS256',
        async () => ({
          assertion: await new SignJWT(validClaims())
            .setProtectedHeader({ alg: 'HS256', typ: 'oauth-id-jag+jwt' })
            .sign(new TextEncoder().encode('a shared secret of thirty-two bytes!')),
        }),
        400,
        'invalid_grant',
      ],
      [
        'an assertion of the wrong type (an ID token)',
        async () => ({ assertion: await signed(validClaims(), 'JWT') }),
        400,
        'invalid_grant',
      ],
      [
        'an expired assertion',
        async () => {
          const now = Math.floor(Date.now() / 1000);
          return { assertion: await signed(validClaims({ iat: now - 500, exp: now - 200 })) };
        },
        400,
        'invalid_grant',
      ],
      [
        'an assertion that lives too long',
        async () => {
          const now = Math.floor(Date.now() / 1000);
          return { assertion: await signed(validClaims({ iat: now, exp: now + 3600 })) };
        },
        400,
        'invalid_grant',
      ],
      [
        'an assertion issued to another client',
        async () => ({ assertion: await signed(validClaims({ client_id: otherAgent.clientId })) }),
        400,
        'invalid_grant',
      ],
      [
        'an assertion for another resource',
        async () => ({ assertion: await signed(validClaims({ resource: 'https://other.example.com/mcp' })) }),
        400,
        'invalid_target',
      ],
      [
        'a client with the wrong secret',
        async () => ({
          assertion: await signed(validClaims()),
          client: { clientId: agent.clientId, clientSecret: 'not-the-secret' },
        }),
        401,
        'invalid_client',
      ],
    ];

    it.each(cases)('%s', async (_name, prepare, status, error) => {
      // Prepare
      const { assertion, client } = await prepare();
      const before = await table.snapshot();

      // Act
      const response = await redeem(assertion, client);

      // Assess
      expect(response.status).toBe(status);
      expect(response.body.error).toBe(error);
      expect(tableChanges(before, await table.snapshot())).toEqual(NO_CHANGES);
    });

    it('an assertion of a provider whose keys cannot be fetched, answered 503 for a retry', async () => {
      // Prepare
      const assertion = await signed(validClaims({ iss: UNREACHABLE_IDP }));
      const before = await table.snapshot();

      // Act
      const response = await redeem(assertion);

      // Assess
      expect(response.status).toBe(503);
      expect(response.body.error).toBe('temporarily_unavailable');
      expect(tableChanges(before, await table.snapshot())).toEqual(NO_CHANGES);
    });

    it('a client registered only for client_credentials', async () => {
      // Prepare
      const machine = await registerMachineClient(server.issuer);
      const assertion = await signed(validClaims({ client_id: machine.clientId }));
      const before = await table.snapshot();

      // Act
      const response = await redeem(assertion, machine);

      // Assess
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('unauthorized_client');
      expect(tableChanges(before, await table.snapshot())).toEqual(NO_CHANGES);
    });
  });

  it('answers every mutation of a valid assertion with a token or an OAuth error, never a server error', async () => {
    // Generated assertions: claims removed or replaced by values of other types, `typ` changed,
    // the signature cut or extended. None may cause a 5xx.
    const claimNames = [
      'iss',
      'sub',
      'aud',
      'resource',
      'client_id',
      'jti',
      'iat',
      'exp',
      'scope',
      'name',
      'email',
    ];
    const odd = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.string({ maxLength: 300 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
    );
    const mutation = fc.record({
      claims: fc.dictionary(fc.constantFrom(...claimNames), odd, { maxKeys: 3 }),
      typ: fc.oneof(
        fc.constant('oauth-id-jag+jwt'),
        fc.constant('application/oauth-id-jag+jwt'),
        fc.string(),
      ),
      tail: fc.oneof(fc.constant(''), fc.constant('x'), fc.constant('.'), fc.constant('..')),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ claims, typ, tail }) => {
        const payload = validClaims();
        for (const [name, value] of Object.entries(claims)) {
          if (value === undefined) delete payload[name];
          else payload[name] = value;
        }
        const { status, body } = await redeem(`${await signed(payload, typ)}${tail}`);
        expect(status).toBeLessThan(500);
        expect(typeof body.error === 'string' || status === 200).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

describe('a provider that is also the login upstream', () => {
  it('names the user by the provider’s own subject, as the browser login does', async () => {
    // Prepare: the same stand-in as the upstream OpenID provider users log in at.
    const upstreamServer = await startTestServer({
      env: {
        ENTERPRISE_IDPS: JSON.stringify([{ issuer: idp.issuer }]),
        UPSTREAM_ISSUER: idp.issuer,
        UPSTREAM_CLIENT_ID: 'mcp-server',
        UPSTREAM_CLIENT_SECRET: 'unused',
      },
      enterpriseIdpFetch: caFetch,
    });
    try {
      const client = await registerEnterpriseClient(upstreamServer.issuer);
      const assertion = await signed(
        validClaims({
          aud: upstreamServer.issuer,
          resource: `${upstreamServer.issuer}/mcp`,
          client_id: client.clientId,
        }),
      );

      // Act
      const response = await redeem(assertion, client, {}, upstreamServer.issuer);

      // Assess
      expect(response.status).toBe(200);
      expect(decodeJwt(response.body.access_token as string).sub).toBe('carol');
    } finally {
      await upstreamServer.close();
    }
  });
});

describe('the scope policy (SCOPE_POLICY)', () => {
  it('holds an ID-JAG to the groups it carries, as a browser login is held to the user’s', async () => {
    // Prepare: mcp:resources only for the finance group.
    const policyServer = await startTestServer({
      env: {
        ENTERPRISE_IDPS: JSON.stringify([{ issuer: idp.issuer }]),
        SCOPES: 'mcp:tools mcp:resources',
        SCOPE_POLICY: JSON.stringify({ claim: 'groups', scopes: { 'mcp:resources': ['finance'] } }),
      },
      enterpriseIdpFetch: caFetch,
    });
    try {
      const client = await registerEnterpriseClient(policyServer.issuer);
      const redeemAt = async (claims: JWTPayload) => {
        const assertion = await signed(
          validClaims({
            aud: policyServer.issuer,
            resource: `${policyServer.issuer}/mcp`,
            client_id: client.clientId,
            scope: 'mcp:tools mcp:resources',
            ...claims,
          }),
        );
        return redeem(assertion, client, {}, policyServer.issuer);
      };

      // Act
      const member = await redeemAt({ groups: ['finance', 'staff'] });
      const outsider = await redeemAt({ groups: ['staff'] });
      const noGroups = await redeemAt({});
      const onlyRestricted = await redeemAt({ scope: 'mcp:resources', groups: 'staff' });

      // Assess
      expect(member).toMatchObject({ status: 200, body: { scope: 'mcp:tools mcp:resources' } });
      expect(outsider).toMatchObject({ status: 200, body: { scope: 'mcp:tools' } });
      expect(noGroups).toMatchObject({ status: 200, body: { scope: 'mcp:tools' } });
      expect(onlyRestricted).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    } finally {
      await policyServer.close();
    }
  });
});
