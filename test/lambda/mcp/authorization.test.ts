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
  NOW_MS,
  PRM_URL,
  RESOURCE,
  privateKeyOf,
  rpc,
  signJwt,
  signJwtAs,
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

  it('names in the 403 description only the scope the tool needs; the challenge asks for it and the held ones', async () => {
    // Prepare
    const app = await testApp();
    const token = await accessToken({ scope: 'mcp:resources' });

    // Act
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }), { token }),
    );

    // Assess
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error_description="this operation requires the scope(s): mcp:tools"');
    expect(challenge).toContain('scope="mcp:tools mcp:resources"');
    expect(JSON.parse(await response.text())).toEqual({
      error: 'insufficient_scope',
      error_description: 'this operation requires the scope(s): mcp:tools',
    });
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
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32603, message: expect.stringMatching(/^Service Unavailable: /) },
    });
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

async function refusal(response: PlainResponse): Promise<string> {
  expectInvalidToken(response);
  return ((await response.json()) as { error_description: string }).error_description;
}

describe('headers and claims of a signed token that the verifier must refuse', () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      'an unencoded-payload token (RFC 7797 b64, critical)',
      { b64: false, crit: ['b64'] },
      '"crit" header names an extension this server does not understand',
    ],
    [
      'a critical private extension it carries',
      { 'urn:example:ext': 1, crit: ['urn:example:ext'] },
      '"crit" header names an extension this server does not understand',
    ],
    [
      'a critical extension it does not carry',
      { crit: ['urn:example:absent'] },
      '"crit" header names a parameter the header does not carry',
    ],
    [
      'a critical registered parameter',
      { crit: ['kid'] },
      '"crit" header names a registered header parameter',
    ],
    ['an empty crit list', { crit: [] }, '"crit" header must be a non-empty array of non-empty strings'],
    [
      'crit as a string',
      { crit: 'b64', b64: false },
      '"crit" header must be a non-empty array of non-empty strings',
    ],
    ['crit as null', { crit: null }, '"crit" header must be a non-empty array of non-empty strings'],
    [
      'crit naming an empty string',
      { crit: [''] },
      '"crit" header must be a non-empty array of non-empty strings',
    ],
  ])('refuses %s (RFC 7515 §4.1.11)', async (_, header, description) => {
    // Prepare
    const app = await testApp();
    const token = await accessToken({}, header);

    // Act
    const response = await app(mcpPost(INIT, { token }));

    // Assess
    expect(await refusal(response)).toBe(description);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no iat', { iat: undefined }, 'missing required "iat" claim'],
    ['iat as a string', { iat: String(NOW - 10) }, '"iat" claim must be a number'],
    ['iat as null', { iat: null }, '"iat" claim must be a number'],
    [
      'iat beyond the clock skew in the future',
      { iat: NOW + 61, exp: NOW + 600 },
      '"iat" claim timestamp check failed (issued in the future)',
    ],
    [
      'a lifetime one second longer than the configured lifetime plus skew',
      { iat: NOW - 10, exp: NOW - 10 + 3600 + 60 + 1 },
      '"exp" - "iat" exceeds the longest accepted token lifetime',
    ],
    [
      'a lifetime of a year',
      { iat: NOW - 10, exp: NOW + 365 * 86_400 },
      '"exp" - "iat" exceeds the longest accepted token lifetime',
    ],
    [
      'a backdated iat that hides a long lifetime',
      { iat: NOW - 86_400, exp: NOW + 86_400 },
      '"exp" - "iat" exceeds the longest accepted token lifetime',
    ],
  ])('refuses a token of its own issuer with %s', async (_, overrides, description) => {
    const app = await testApp();
    const token = await accessToken(overrides);
    expect(await refusal(await app(mcpPost(INIT, { token })))).toBe(description);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a lifetime of exactly the configured lifetime plus skew', { iat: NOW - 10, exp: NOW - 10 + 3660 }],
    ['iat within the clock skew in the future', { iat: NOW + 30, exp: NOW + 30 + 3600 }],
    ['a short lifetime', { iat: NOW - 10, exp: NOW + 50 }],
  ])('accepts a token with %s', async (_, overrides) => {
    const app = await testApp();
    const response = await app(mcpPost(INIT, { token: await accessToken(overrides) }));
    expect(response.status).toBe(200);
  });

  it('bounds lifetimes by the configured access token lifetime', async () => {
    // Prepare
    const twoHours = await accessToken({ iat: NOW - 10, exp: NOW - 10 + 7200 });
    const configured = await testApp({ env: { ACCESS_TOKEN_TTL_SECONDS: '7200' } });
    const shorter = await testApp({ env: { ACCESS_TOKEN_TTL_SECONDS: '600' } });

    // Act
    const accepted = await configured(mcpPost(INIT, { token: twoHours }));
    const refused = await shorter(mcpPost(INIT, { token: await accessToken() }));

    // Assess
    expect(accepted.status).toBe(200);
    expect(await refusal(refused)).toBe('"exp" - "iat" exceeds the longest accepted token lifetime');
  });

  it('remembers a verified token and still refuses it once it expires', async () => {
    // Prepare: one app, so one verifier and one cache, and a clock that moves.
    let clock = NOW_MS;
    const token = await accessToken();
    const app = await testApp({ now: () => clock });

    // Act
    const first = await app(mcpPost(INIT, { token }));
    const again = await app(mcpPost(INIT, { token }));
    clock = (NOW + 3600 + 61) * 1000;
    const expired = await app(mcpPost(INIT, { token }));

    // Assess
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(await refusal(expired)).toBe('"exp" claim timestamp check failed');
  });
});

describe('what a refusal of a forged or misdirected token says', () => {
  const noneToken = async () =>
    `${b64({ alg: 'none', typ: 'at+jwt', kid: (await currentKey()).kid })}.${b64(claims())}.`;
  const hmacToken = async () => {
    const key = await currentKey();
    const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })}.${b64(claims())}`;
    const { createHmac } = await import('node:crypto');
    return `${input}.${createHmac('sha256', JSON.stringify({ n: key.n, e: key.e }))
      .update(input)
      .digest('base64url')}`;
  };

  it.each<[string, () => Promise<string>, string]>([
    ['alg none', noneToken, 'unsupported "alg" header'],
    ['HS256', hmacToken, 'unsupported "alg" header'],
    [
      'a foreign key under a known kid',
      async () =>
        signJwt({ alg: 'RS256', typ: 'at+jwt', kid: (await currentKey()).kid }, claims(), foreignRsaKey()),
      'signature verification failed',
    ],
    ['an unknown kid', () => accessToken({}, { kid: 'unknown-kid' }), 'signature verification failed'],
    ['no kid', () => accessToken({}, { kid: undefined }), 'missing "kid" header'],
    ['typ JWT', () => accessToken({}, { typ: 'JWT' }), '"typ" header must be "at+jwt"'],
    [
      'another audience',
      () => accessToken({ aud: 'https://other.example.com/mcp' }),
      '"aud" claim check failed',
    ],
    ['another issuer', () => accessToken({ iss: 'https://evil.example.com' }), '"iss" claim check failed'],
    [
      'an expiry past the clock skew',
      () => accessToken({ exp: NOW - 61 }),
      '"exp" claim timestamp check failed',
    ],
    ['no expiry', () => accessToken({ exp: undefined }), 'missing required "exp" claim'],
    [
      'a start beyond the clock skew',
      () => accessToken({ nbf: NOW + 61 }),
      '"nbf" claim timestamp check failed',
    ],
    ['not a JWS at all', async () => 'not-a-jwt', 'the token is not a compact JWS'],
    [
      'a valid token whose signature is spelled in a non-canonical base64url form (same bytes)',
      async () => {
        const token = await accessToken();
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        // The last character of a 256-byte signature carries 2 bits; its lowest bit is unused.
        const respelled = alphabet[alphabet.indexOf(token.at(-1)!) ^ 1]!;
        const variant = token.slice(0, -1) + respelled;
        const signature = (t: string) => Buffer.from(t.split('.')[2]!, 'base64url');
        expect(signature(variant).equals(signature(token))).toBe(true);
        return variant;
      },
      'the token is not a compact JWS',
    ],
    [
      'a header that is not JSON',
      async () => `${Buffer.from('{').toString('base64url')}.${b64(claims())}.AA`,
      'the token is not a compact JWS',
    ],
  ])('refuses %s, naming the failed check', async (_, token, description) => {
    // Prepare
    const app = await testApp();

    // Act
    const response = await app(mcpPost(INIT, { token: await token() }));

    // Assess
    expect(await refusal(response)).toBe(description);
  });

  // The oauth function signs RS256 only; the key would verify these too, so the allow-list alone
  // refuses them (a test that fails when `algorithms` is dropped from the verifier).
  it.each(['RS384', 'RS512', 'PS256', 'PS384', 'PS512'])(
    "refuses a token signed with this server's own key as %s, which it never issues",
    async (alg) => {
      // Prepare
      const app = await testApp();
      const key = await currentKey();
      const token = signJwtAs({ alg, typ: 'at+jwt', kid: key.kid }, claims(), privateKeyOf(key));

      // Act
      const response = await app(mcpPost(INIT, { token }));

      // Assess
      expect(await refusal(response)).toBe('unsupported "alg" header');
    },
  );

  it('accepts the same token signed as RS256 (the refusal above is the algorithm, not the signature)', async () => {
    const app = await testApp();
    const key = await currentKey();
    const token = signJwtAs({ alg: 'RS256', typ: 'at+jwt', kid: key.kid }, claims(), privateKeyOf(key));
    expect((await app(mcpPost(INIT, { token }))).status).toBe(200);
  });

  it('accepts the typ in its media type form, application/at+jwt (RFC 9068 §2.1)', async () => {
    const app = await testApp();
    const token = await accessToken({}, { typ: 'application/at+jwt' });
    expect((await app(mcpPost(INIT, { token }))).status).toBe(200);
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
