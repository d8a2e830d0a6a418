import type { PlainResponse } from '../../../lambda/shared/http-message.js';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  accessToken,
  claims,
  currentKey,
  foreignRsaKey,
  INIT,
  ISSUER,
  mcpPost,
  NOW,
  PRM_URL,
  RESOURCE,
  rpc,
  signJwt,
  testApp,
} from './mcp-test-kit.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function expectInvalidToken(response: PlainResponse) {
  expect(response.status).toBe(401);
  const challenge = response.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^Bearer /);
  expect(challenge).toContain('error="invalid_token"');
  expect(challenge).toContain(`resource_metadata="${PRM_URL}"`);
  expect(challenge).toContain('scope="mcp:tools mcp:resources"');
}

describe('bearer token verification on /mcp', () => {
  it('accepts a token minted as the oauth function mints it', async () => {
    // Prepare
    const app = await testApp();

    // Act
    const response = await app(mcpPost(INIT, { token: await accessToken() }));

    // Assess
    expect(response.status).toBe(200);
    expect(((await response.json()) as { result: { protocolVersion: string } }).result.protocolVersion).toBe(
      '2025-06-18',
    );
  });

  it('answers 401 with resource_metadata and scope but no error code when no token is sent', async () => {
    // Prepare
    const app = await testApp();

    // Act
    const response = await app(mcpPost(INIT));

    // Assess
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${PRM_URL}", scope="mcp:tools mcp:resources"`,
    );
  });

  it('treats a non-Bearer Authorization scheme as no token', async () => {
    const app = await testApp();
    const response = await app(mcpPost(INIT, { headers: { authorization: 'Basic YTpi' } }));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).not.toContain('error=');
  });

  it('refuses alg none', async () => {
    // Prepare
    const key = await currentKey();
    const token = `${b64({ alg: 'none', typ: 'at+jwt', kid: key.kid })}.${b64(claims())}.`;
    const app = await testApp();

    // Act
    const response = await app(mcpPost(INIT, { headers: { authorization: `Bearer ${token}` } }));
    const unsigned = await app(
      mcpPost(INIT, { token: `${b64({ alg: 'none', typ: 'at+jwt', kid: key.kid })}.${b64(claims())}.AA` }),
    );

    // Assess
    expectInvalidToken(response);
    expectInvalidToken(unsigned);
  });

  it('refuses HS256 signed with the public key as the HMAC secret', async () => {
    // Prepare
    const key = await currentKey();
    const publicPem = createPublicKey({ key: { kty: 'RSA', n: key.n, e: key.e }, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const { createHmac } = await import('node:crypto');
    const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })}.${b64(claims())}`;
    const token = `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
    const app = await testApp();

    // Act
    const response = await app(mcpPost(INIT, { token }));

    // Assess
    expectInvalidToken(response);
  });

  it('refuses a token signed by a foreign key that claims a known kid', async () => {
    const key = await currentKey();
    const token = signJwt({ alg: 'RS256', typ: 'at+jwt', kid: key.kid }, claims(), foreignRsaKey());
    const app = await testApp();
    expectInvalidToken(await app(mcpPost(INIT, { token })));
  });

  it('refuses an expired token', async () => {
    const app = await testApp();
    expectInvalidToken(await app(mcpPost(INIT, { token: await accessToken({ exp: NOW - 120 }) })));
  });

  it('accepts a token that expired within the clock skew', async () => {
    const app = await testApp();
    expect((await app(mcpPost(INIT, { token: await accessToken({ exp: NOW - 30 }) }))).status).toBe(200);
  });

  it('refuses a token that is not valid yet', async () => {
    const app = await testApp();
    expectInvalidToken(await app(mcpPost(INIT, { token: await accessToken({ nbf: NOW + 600 }) })));
  });

  it('refuses a token issued for another resource', async () => {
    const app = await testApp();
    expectInvalidToken(
      await app(mcpPost(INIT, { token: await accessToken({ aud: 'https://other.example.com/mcp' }) })),
    );
    expectInvalidToken(await app(mcpPost(INIT, { token: await accessToken({ aud: `${RESOURCE}/` }) })));
  });

  it('refuses a token from another issuer', async () => {
    const app = await testApp();
    expectInvalidToken(
      await app(mcpPost(INIT, { token: await accessToken({ iss: 'https://evil.example.com' }) })),
    );
  });

  it('refuses a token whose typ is not at+jwt (an ID token, for example)', async () => {
    const app = await testApp();
    expectInvalidToken(await app(mcpPost(INIT, { token: await accessToken({}, { typ: 'JWT' }) })));
    expectInvalidToken(await app(mcpPost(INIT, { token: await accessToken({}, { typ: undefined }) })));
  });

  it('refuses a token whose payload was altered after signing', async () => {
    // Prepare
    const [header, , signature] = (await accessToken({ scope: 'mcp:tools' })).split('.');
    const token = `${header}.${b64(claims({ scope: 'mcp:tools mcp:resources admin' }))}.${signature}`;
    const app = await testApp();

    // Act
    const response = await app(mcpPost(INIT, { token }));

    // Assess
    expectInvalidToken(response);
  });

  it('refuses garbage and names no internals in the answer', async () => {
    const app = await testApp();
    const response = await app(mcpPost(INIT, { token: 'not-a-jwt' }));
    expectInvalidToken(response);
    expect(await response.text()).not.toMatch(/at .*\.ts|Error:/);
  });

  it('never writes the token to the logs', async () => {
    // Prepare
    const logs: string[] = [];
    const app = await testApp({ logs });
    const expired = await accessToken({ exp: NOW - 3600 });
    const good = await accessToken();

    // Act
    await app(mcpPost(INIT, { token: expired }));
    await app(mcpPost(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }), { token: good }));

    // Assess
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) {
      expect(line).not.toContain(expired.split('.')[2]);
      expect(line).not.toContain(good.split('.')[2]);
    }
  });

  it('answers 403 insufficient_scope with the required scope when a tool needs a scope the token lacks', async () => {
    // Prepare
    const app = await testApp();
    const token = await accessToken({ scope: 'mcp:resources' });

    // Act
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }), { token }),
    );

    // Assess
    expect(response.status).toBe(403);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain(`resource_metadata="${PRM_URL}"`);
    expect(challenge).toMatch(/scope="mcp:tools mcp:resources"/);
  });

  it('lets a token without mcp:tools initialize but not list tools', async () => {
    const app = await testApp();
    const token = await accessToken({ scope: 'mcp:resources' });
    expect((await app(mcpPost(INIT, { token }))).status).toBe(200);
    expect((await app(mcpPost(rpc('tools/list'), { token }))).status).toBe(403);
    expect((await app(mcpPost(rpc('resources/list'), { token }))).status).toBe(200);
  });

  it('answers 503 with Retry-After, not 500, when the signing keys cannot be read', async () => {
    // Prepare
    const app = await testApp({ keySet: 'unavailable' });

    // Act
    const response = await app(mcpPost(INIT, { token: await accessToken() }));

    // Assess
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });

  it('answers 503 when the key set is still empty (first deployment)', async () => {
    const app = await testApp({ keySet: {} });
    expect((await app(mcpPost(INIT, { token: await accessToken() }))).status).toBe(503);
  });

  it('still verifies tokens signed by the previous key after a rotation', async () => {
    // Prepare
    const current = await currentKey();
    const { generateSigningKey } = await import('../../../lambda/shared/key-set.js');
    const next = await generateSigningKey();
    const app = await testApp({ keySet: { current: next, previous: current } });

    // Act
    const response = await app(mcpPost(INIT, { token: await accessToken() }));

    // Assess
    expect(response.status).toBe(200);
  });

  it('refuses a token signed with an EC key even when the kid matches (algorithm must fit the key)', async () => {
    const key = await currentKey();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const token = signJwt({ alg: 'ES256', typ: 'at+jwt', kid: key.kid }, claims(), ec);
    const app = await testApp();
    expectInvalidToken(await app(mcpPost(INIT, { token })));
  });
});

describe('protected resource metadata (RFC 9728)', () => {
  it.each(['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'])(
    'serves the document at %s with resource exactly <issuer>/mcp',
    async (path) => {
      // Prepare
      const app = await testApp({ env: { RESOURCE_NAME: 'Example MCP' } });

      // Act
      const response = await app(
        new Request(`${ISSUER}${path}`, { headers: { origin: 'https://anywhere.example' } }),
      );

      // Assess
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(await response.json()).toEqual({
        resource: RESOURCE,
        authorization_servers: [ISSUER],
        scopes_supported: ['mcp:tools', 'mcp:resources'],
        bearer_methods_supported: ['header'],
        resource_name: 'Example MCP',
      });
    },
  );

  it('answers a CORS preflight for the metadata', async () => {
    const app = await testApp();
    const response = await app(
      new Request(PRM_URL, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://localhost:6274',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'mcp-protocol-version',
        },
      }),
    );
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toContain('mcp-protocol-version');
  });
});
