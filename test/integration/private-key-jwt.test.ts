/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2) through the real endpoints of the
 * local server: the v2 MCP SDK's own `PrivateKeyJwtProvider` gets a `client_credentials` token
 * and calls a tool; a registered client whose keys are at a `jwks_uri` authenticates; and every
 * bad assertion is refused `invalid_client` with nothing written to the table.
 */
import {
  Client as V2Client,
  PrivateKeyJwtProvider,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client';
import { exportJWK, exportPKCS8, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { LocalServer } from '../../lib/local/server.js';
import { CLIENT_ASSERTION_TYPE } from '../../lambda/oauth/clients/client-assertion.js';
import { DocumentServer } from '../support/document-server.js';
import { registerClient, startTestServer } from '../support/local-server.js';
import { login, UserAgent } from '../support/user-agent.js';
import * as oauth from 'oauth4webapi';
import { NO_CHANGES, tableChanges, tableReader, type TableReader } from '../support/table.js';

interface KeyPair {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function keyPair(alg: 'RS256' | 'ES256', kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A client assertion as RFC 7523 §3 has it, with any claim or header overridden. */
async function assertion(
  key: KeyPair,
  clientId: string,
  audience: string,
  options: { claims?: Record<string, unknown>; header?: Record<string, unknown>; lifetime?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: clientId,
    sub: clientId,
    aud: audience,
    iat: now,
    exp: now + (options.lifetime ?? 60),
    jti: crypto.randomUUID(),
    ...options.claims,
  })
    .setProtectedHeader({ alg: key.publicJwk.alg!, kid: key.publicJwk.kid!, ...options.header })
    .sign(key.privateKey);
}

/** An unsecured JWT (`alg: none`) or one MACed with a shared key (HS256): what a verifier must refuse. */
async function unsigned(claims: Record<string, unknown>): Promise<string> {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

function post(url: string, params: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
}

describe('private_key_jwt client authentication', () => {
  let server: LocalServer;
  let table: TableReader;
  const documents = new DocumentServer();
  let key: KeyPair;
  let otherKey: KeyPair;
  let clientId: string;
  /** The functions' log lines: the audit lines are checked in them. */
  const functionLog: string[] = [];

  beforeAll(async () => {
    await documents.start();
    server = await startTestServer({
      env: { CIMD_ALLOW_HTTP_LOOPBACK: '1' },
      logLevel: 'info',
      writeFunctionLog: (line) => functionLog.push(line),
    });
    table = tableReader(server);
    [key, otherKey] = await Promise.all([keyPair('RS256', 'k1'), keyPair('ES256', 'other')]);
    const registered = await registerClient(server.issuer, {
      client_name: 'key agent',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.publicJwk] },
      scope: 'mcp:tools',
    });
    clientId = registered.client_id;
  });
  afterAll(async () => {
    table?.close();
    await server?.close();
    await documents.close();
  });

  const token = (params: Record<string, string>) => post(`${server.issuer}/token`, params);
  const withAssertion = (signed: string, extra: Record<string, string> = {}) => ({
    grant_type: 'client_credentials',
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: signed,
    ...extra,
  });

  it('advertises private_key_jwt with asymmetric signing algorithms only', async () => {
    const metadata = (await (
      await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, string[]>;

    expect(metadata.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(metadata.revocation_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).toEqual(
      expect.arrayContaining(['RS256', 'ES256', 'PS256', 'EdDSA']),
    );
    expect(
      metadata.token_endpoint_auth_signing_alg_values_supported!.filter((a) => /^(HS|none)/i.test(a)),
    ).toEqual([]);
  });

  it('issues no secret to a private_key_jwt client, and keeps its keys', async () => {
    const registered = await registerClient(server.issuer, {
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.publicJwk] },
    });

    expect(registered.client_secret).toBeUndefined();
    expect(registered.token_endpoint_auth_method).toBe('private_key_jwt');
    expect(registered.jwks).toEqual({ keys: [key.publicJwk] });
  });

  it('refuses to move a key client to a secret by RFC 7592 update, which would leave it without credentials', async () => {
    // Prepare
    const registered = await registerClient(server.issuer, {
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.publicJwk] },
    });
    const before = await table.snapshot();

    // Act
    const response = await fetch(registered.registration_client_uri, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${registered.registration_access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        client_id: registered.client_id,
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });
    const body = (await response.json()) as { error: string; error_description: string };

    // Assess
    expect(response.status).toBe(400);
    expect(body.error_description).toContain('cannot change between public, secret and key authentication');
    expect(tableChanges(before, await table.snapshot())).toEqual(NO_CHANGES);
  });

  it.each([
    ['no key', { token_endpoint_auth_method: 'private_key_jwt' }, 'requires "jwks" or "jwks_uri"'],
    [
      'both jwks and jwks_uri',
      { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] }, jwks_uri: 'https://a.example/k' },
      '"jwks"',
    ],
    [
      'a private key',
      {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB', d: 'x' }] },
      },
      'private key material',
    ],
    [
      'a symmetric key',
      { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } },
      'only RSA, EC and OKP',
    ],
    [
      'an HMAC signing algorithm',
      {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: 'https://a.example/k',
        token_endpoint_auth_signing_alg: 'HS256',
      },
      '"HS256" is not supported',
    ],
  ])('refuses to register a private_key_jwt client with %s', async (_case, metadata, message) => {
    const response = await fetch(`${server.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_types: ['client_credentials'], ...metadata }),
    });
    const body = (await response.json()) as { error: string; error_description: string };

    expect(response.status).toBe(400);
    expect(body.error).toBe('invalid_client_metadata');
    expect(body.error_description).toContain(message);
  });

  it("gets a token with the v2 SDK's PrivateKeyJwtProvider and calls a tool", async () => {
    // Prepare: the SDK signs with a PEM private key and sends no client_id, only the assertion.
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const sdkClient = await registerClient(server.issuer, {
      client_name: 'sdk key agent',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), use: 'sig' }] },
    });
    const authProvider = new PrivateKeyJwtProvider({
      clientId: sdkClient.client_id,
      privateKey: await exportPKCS8(privateKey),
      algorithm: 'RS256',
      expectedIssuer: server.issuer,
    });
    const mcp = new V2Client({ name: 'v2-private-key-jwt', version: '1.0.0' });
    const transport = new V2Transport(new URL(`${server.issuer}/mcp`), { authProvider });

    // Act
    await mcp.connect(transport);
    const sum = await mcp.callTool({ name: 'add', arguments: { a: 40, b: 2 } });
    const me = await mcp.callTool({ name: 'get_user_info', arguments: {} });
    await mcp.close();

    // Assess
    expect(authProvider.tokens()?.access_token).toEqual(expect.any(String));
    expect(sum.structuredContent).toEqual({ sum: 42 });
    expect(me.structuredContent).toMatchObject({ client_id: sdkClient.client_id });
  });

  it('revokes with an assertion', async () => {
    const issued = await token(withAssertion(await assertion(key, clientId, server.issuer)));
    const { access_token: accessToken } = (await issued.json()) as { access_token: string };
    const revoked = await post(`${server.issuer}/revoke`, {
      token: accessToken,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await assertion(key, clientId, server.issuer),
    });

    expect(issued.status).toBe(200);
    expect(revoked.status).toBe(200);
  });

  it('authenticates a registered client whose keys are at its jwks_uri, fetched once', async () => {
    // Prepare
    const keys = await keyPair('ES256', 'uri-key');
    documents.json('/keys.json', { keys: [keys.publicJwk] }, { 'cache-control': 'max-age=300' });
    const registered = await registerClient(server.issuer, {
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: `${documents.origin()}/keys.json`,
    });
    documents.reset();

    // Act
    const first = await token(withAssertion(await assertion(keys, registered.client_id, server.issuer)));
    const second = await token(withAssertion(await assertion(keys, registered.client_id, server.issuer)));

    // Assess
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(documents.requests).toHaveLength(1);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const refusals: [string, () => Promise<Record<string, string>>, string][] = [
    [
      'signed by another key',
      async () =>
        withAssertion(
          await assertion(
            { ...otherKey, publicJwk: { ...otherKey.publicJwk, kid: 'k1' } },
            clientId,
            server.issuer,
          ),
        ),
      'no key of the client matches',
    ],
    [
      'signed by another key with the same kid and algorithm',
      async () => {
        const forged = await keyPair('RS256', 'k1');
        return withAssertion(await assertion(forged, clientId, server.issuer));
      },
      'signature does not verify',
    ],
    [
      'for another audience',
      async () => withAssertion(await assertion(key, clientId, 'https://other-server.example')),
      '"aud" claim',
    ],
    [
      // Another server could have obtained it by naming our token endpoint as its own
      // (audience injection, draft-ietf-oauth-rfc7523bis): only the issuer is this server.
      'for the token endpoint rather than the issuer',
      async () => withAssertion(await assertion(key, clientId, `${server.issuer}/token`)),
      '"aud" claim',
    ],
    [
      'for this server and another one at once',
      async () =>
        withAssertion(
          await new SignJWT({ jti: crypto.randomUUID() })
            .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
            .setIssuer(clientId)
            .setSubject(clientId)
            .setAudience([server.issuer, 'https://other-server.example'])
            .setExpirationTime(now() + 60)
            .sign(key.privateKey),
        ),
      '"aud" must be this server\'s issuer alone',
    ],
    [
      'with alg none',
      async () =>
        withAssertion(
          await unsigned({ iss: clientId, sub: clientId, aud: server.issuer, exp: now() + 60, jti: 'n1' }),
        ),
      'algorithm is not accepted',
    ],
    [
      'with HS256',
      async () =>
        withAssertion(
          await new SignJWT({ iss: clientId, sub: clientId, aud: server.issuer, jti: 'h1' })
            .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
            .setExpirationTime(now() + 60)
            .sign(new TextEncoder().encode('a shared secret of at least 32 bytes')),
        ),
      'algorithm is not accepted',
    ],
    [
      'expired',
      async () =>
        withAssertion(await assertion(key, clientId, server.issuer, { claims: { exp: now() - 300 } })),
      'has expired',
    ],
    [
      'living too long',
      async () => withAssertion(await assertion(key, clientId, server.issuer, { lifetime: 3600 })),
      'more than 300 s ahead',
    ],
    [
      'with another iss',
      async () =>
        withAssertion(await assertion(key, clientId, server.issuer, { claims: { iss: 'someone-else' } }), {
          client_id: clientId,
        }),
      '"iss" claim',
    ],
    [
      'with another sub',
      async () =>
        withAssertion(await assertion(key, clientId, server.issuer, { claims: { sub: 'someone-else' } })),
      '"sub" claim',
    ],
    [
      'without a jti',
      async () =>
        withAssertion(await assertion(key, clientId, server.issuer, { claims: { jti: undefined } })),
      '"jti" claim',
    ],
    [
      'of another assertion type',
      async () => ({
        ...withAssertion(await assertion(key, clientId, server.issuer)),
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      }),
      'is not supported',
    ],
    [
      'as a secret client would authenticate',
      async () => ({ grant_type: 'client_credentials', client_id: clientId }),
      'registered to authenticate with "private_key_jwt"',
    ],
  ];

  it.each(refusals)(
    'refuses an assertion %s: invalid_client 401, nothing written',
    async (_case, request, message) => {
      // Prepare
      const params = await request();
      const before = await table.snapshot();

      // Act
      const response = await token(params);
      const revoked = await post(`${server.issuer}/revoke`, { ...params, token: 'x'.repeat(43) });
      const body = (await response.json()) as { error: string; error_description: string };

      // Assess
      expect(response.status).toBe(401);
      expect(body.error).toBe('invalid_client');
      expect(body.error_description).toContain(message);
      expect(revoked.status).toBe(401);
      expect(tableChanges(before, await table.snapshot())).toEqual(NO_CHANGES);
    },
  );

  it('refuses a replayed assertion: the first use writes its jti, the replay writes nothing but an audit line', async () => {
    // Prepare
    const signed = await assertion(key, clientId, server.issuer);
    const first = await token(withAssertion(signed));
    const before = await table.snapshot();

    // Act
    const replay = await token(withAssertion(signed));
    const body = (await replay.json()) as { error: string; error_description: string };

    // Assess
    expect(first.status).toBe(200);
    expect(replay.status).toBe(401);
    expect(body).toEqual({
      error: 'invalid_client',
      error_description: 'the client assertion was already used ("jti" seen before)',
    });
    expect(tableChanges(before, await table.snapshot())).toEqual(NO_CHANGES);
    const refusals = functionLog
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.audit === 'refused');
    expect(refusals).toEqual([expect.objectContaining({ reason: 'client_assertion_replay', clientId })]);
  });

  describe("a metadata document of ChatGPT's shape (private_key_jwt first, keys at a jwks_uri)", () => {
    const CHATGPT_REDIRECT = 'https://chatgpt.com/connector_platform_oauth_redirect';
    const insecure = { [oauth.allowInsecureRequests]: true };

    it('logs a user in, redeems the code and refreshes with client assertions, and refuses the client without one', async () => {
      // Prepare: the document and its key set, served as ChatGPT serves them
      const chatgptKey = await keyPair('RS256', 'chatgpt-2026');
      const docUrl = `${documents.origin()}/oauth/app_123/client.json`;
      documents.json('/oauth/app_123/jwks.json', { keys: [chatgptKey.publicJwk] });
      documents.json('/oauth/app_123/client.json', {
        client_id: docUrl,
        client_name: 'ChatGPT',
        redirect_uris: [CHATGPT_REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
        token_endpoint_auth_signing_alg: 'RS256',
        jwks_uri: `${documents.origin()}/oauth/app_123/jwks.json`,
        scope: 'mcp:tools',
      });
      const as = await oauth.processDiscoveryResponse(
        new URL(server.issuer),
        await oauth.discoveryRequest(new URL(server.issuer), { algorithm: 'oauth2', ...insecure }),
      );
      const client: oauth.Client = { client_id: docUrl };
      const clientAuth = oauth.PrivateKeyJwt({ key: chatgptKey.privateKey, kid: 'chatgpt-2026' });
      const verifier = oauth.generateRandomCodeVerifier();
      const authorizeUrl = `${server.issuer}/authorize?${new URLSearchParams({
        client_id: docUrl,
        redirect_uri: CHATGPT_REDIRECT,
        response_type: 'code',
        scope: 'mcp:tools',
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: 'chatgpt-state',
        resource: `${server.issuer}/mcp`,
      })}`;

      // Act: log in, then redeem without an assertion (refused), then with one, then refresh
      const redirect = await login(new UserAgent(), authorizeUrl, server, 'grace@example.com');
      const params = oauth.validateAuthResponse(as, client, redirect, 'chatgpt-state');
      const withoutAssertion = await post(`${server.issuer}/token`, {
        grant_type: 'authorization_code',
        client_id: docUrl,
        code: params.get('code')!,
        code_verifier: verifier,
        redirect_uri: CHATGPT_REDIRECT,
      });
      const tokens = await oauth.processAuthorizationCodeResponse(
        as,
        client,
        await oauth.authorizationCodeGrantRequest(
          as,
          client,
          clientAuth,
          params,
          CHATGPT_REDIRECT,
          verifier,
          {
            additionalParameters: { resource: `${server.issuer}/mcp` },
            ...insecure,
          },
        ),
      );
      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, insecure),
      );
      const call = await fetch(`${server.issuer}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${refreshed.access_token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'add', arguments: { a: 40, b: 2 } },
        }),
      });

      // Assess
      expect(withoutAssertion.status).toBe(401);
      expect(((await withoutAssertion.json()) as { error_description: string }).error_description).toBe(
        'the client is registered to authenticate with "private_key_jwt"',
      );
      expect(tokens.access_token).toEqual(expect.any(String));
      expect(refreshed.access_token).toEqual(expect.any(String));
      expect(call.status).toBe(200);
      expect(JSON.stringify(await call.json())).toContain('"sum":42');
    });
  });
});
