import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { grantedScopes, parseTrustedIssuers } from '../../../../lambda/mcp/auth/trusted-issuers.js';
import type { PlainResponse } from '../../../../lambda/shared/http-message.js';
import { ConfigError } from '../../../../lambda/shared/config.js';
import { INIT, mcpPost, NOW, RESOURCE, rpc, signJwt, signJwtAs, testApp } from '../mcp-test-kit.js';

const COGNITO = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = {
  ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
  kid: 'cognito-1',
  alg: 'RS256',
  use: 'sig',
};

/** A fake issuer: discovery and JWKS documents, counting how often each is fetched. */
function fakeIssuer(keys: Array<Record<string, unknown>> = [jwk]) {
  const calls: string[] = [];
  const fetch = (async (input: string | URL) => {
    const url = String(input);
    calls.push(url);
    if (url === `${COGNITO}/.well-known/openid-configuration`) {
      return new Response(JSON.stringify({ issuer: COGNITO, jwks_uri: `${COGNITO}/.well-known/jwks.json` }));
    }
    if (url === `${COGNITO}/.well-known/jwks.json`) return new Response(JSON.stringify({ keys }));
    return new Response('not found', { status: 404 });
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

function cognitoAccessToken(
  overrides: Record<string, unknown> = {},
  key: KeyObject = privateKey,
  kid = 'cognito-1',
) {
  return signJwt(
    { alg: 'RS256', kid },
    {
      iss: COGNITO,
      sub: 'machine-client',
      token_use: 'access',
      client_id: 'agent-client',
      scope: 'mcp/tools mcp:tools',
      iat: NOW - 10,
      exp: NOW + 3600,
      ...overrides,
    },
    key,
  );
}

const trusted = [{ issuer: COGNITO, clientIds: ['agent-client'], requiredScopes: ['mcp/tools'] }];

describe('trusted external issuers', () => {
  it('accepts a Cognito access token without aud from an allowed client with the required scope', async () => {
    // Prepare
    const issuer = fakeIssuer();
    const app = await testApp({ trustedIssuers: trusted, fetch: issuer.fetch });

    // Act
    const response = await app(mcpPost(INIT, { token: cognitoAccessToken() }));

    // Assess
    expect(response.status).toBe(200);
    expect(issuer.calls).toEqual([
      `${COGNITO}/.well-known/openid-configuration`,
      `${COGNITO}/.well-known/jwks.json`,
    ]);
  });

  it('fetches the JWKS once and serves later calls from the cache', async () => {
    const issuer = fakeIssuer();
    const app = await testApp({ trustedIssuers: trusted, fetch: issuer.fetch });
    await app(mcpPost(INIT, { token: cognitoAccessToken() }));
    await app(mcpPost(INIT, { token: cognitoAccessToken({ jti: 'other' }) }));
    expect(issuer.calls).toHaveLength(2);
  });

  it('does not fetch the JWKS again for unknown kids within the cooldown after a fetch', async () => {
    // Prepare
    const issuer = fakeIssuer();
    const app = await testApp({ trustedIssuers: trusted, fetch: issuer.fetch });

    // Act: the first token's JWKS fetch is the one the cooldown counts from
    const first = await app(mcpPost(INIT, { token: cognitoAccessToken({}, privateKey, 'unknown-1') }));
    const second = await app(mcpPost(INIT, { token: cognitoAccessToken({}, privateKey, 'unknown-2') }));

    // Assess
    expect(first.status).toBe(401);
    expect(second.status).toBe(401);
    expect(issuer.calls.filter((u) => u.endsWith('jwks.json'))).toHaveLength(1);
  });

  it('refuses a client that is not on the allow-list', async () => {
    const app = await testApp({ trustedIssuers: trusted, fetch: fakeIssuer().fetch });
    const response = await app(mcpPost(INIT, { token: cognitoAccessToken({ client_id: 'someone-else' }) }));
    expect(response.status).toBe(401);
  });

  it('refuses a token without the required scope', async () => {
    const app = await testApp({ trustedIssuers: trusted, fetch: fakeIssuer().fetch });
    const response = await app(mcpPost(INIT, { token: cognitoAccessToken({ scope: 'mcp:tools' }) }));
    expect(response.status).toBe(401);
  });

  it('refuses an ID token', async () => {
    const app = await testApp({ trustedIssuers: trusted, fetch: fakeIssuer().fetch });
    const response = await app(
      mcpPost(INIT, { token: cognitoAccessToken({ token_use: 'id', aud: 'agent-client' }) }),
    );
    expect(response.status).toBe(401);
  });

  it('accepts a token whose aud names this resource, and refuses another aud', async () => {
    const app = await testApp({ trustedIssuers: [{ issuer: COGNITO }], fetch: fakeIssuer().fetch });
    expect(
      (await app(mcpPost(INIT, { token: cognitoAccessToken({ aud: RESOURCE, token_use: undefined }) })))
        .status,
    ).toBe(200);
    expect(
      (await app(mcpPost(INIT, { token: cognitoAccessToken({ aud: 'https://other.example.com' }) }))).status,
    ).toBe(401);
  });

  it('refuses a token signed by another key under the issuer kid', async () => {
    const app = await testApp({ trustedIssuers: trusted, fetch: fakeIssuer().fetch });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect((await app(mcpPost(INIT, { token: cognitoAccessToken({}, other) }))).status).toBe(401);
  });

  it('ignores external issuers unless configured', async () => {
    const issuer = fakeIssuer();
    const app = await testApp({ fetch: issuer.fetch });
    expect((await app(mcpPost(INIT, { token: cognitoAccessToken() }))).status).toBe(401);
    expect(issuer.calls).toHaveLength(0);
  });

  it('answers 503 when the issuer cannot be reached', async () => {
    const app = await testApp({
      trustedIssuers: trusted,
      fetch: (async () => new Response('down', { status: 502 })) as typeof fetch,
    });
    const response = await app(mcpPost(INIT, { token: cognitoAccessToken() }));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).not.toBeNull();
  });
});

describe('a trusted issuer that cannot be reached', () => {
  it('fetches at most once per retry interval, answers the others 503 at once, and recovers after it', async () => {
    // Prepare: an issuer that is down, and a frozen clock
    let clock = NOW * 1000;
    let down = true;
    const issuer = fakeIssuer();
    const calls: string[] = [];
    const fetch = (async (input: string | URL, init?: RequestInit) => {
      calls.push(String(input));
      return down ? new Response('unavailable', { status: 503 }) : issuer.fetch(input, init);
    }) as typeof globalThis.fetch;
    const app = await testApp({ trustedIssuers: trusted, fetch, now: () => clock });
    const call = () => app(mcpPost(INIT, { token: cognitoAccessToken() }));

    // Act
    const whileDown = await Promise.all(Array.from({ length: 5 }, call));
    const fetchesWhileDown = calls.length;
    down = false;
    const withinInterval = await call();
    clock += 1_000;
    const recovered = await call();

    // Assess
    expect(whileDown.map((r) => r.status)).toEqual([503, 503, 503, 503, 503]);
    expect(whileDown[0]!.headers.get('retry-after')).toBe('5');
    expect(fetchesWhileDown).toBe(1);
    expect(withinInterval.status).toBe(503);
    expect(recovered.status).toBe(200);
  });
});

describe("lifetimes and headers of trusted issuers' tokens", () => {
  async function description(response: PlainResponse) {
    expect(response.status).toBe(401);
    return ((await response.json()) as { error_description: string }).error_description;
  }

  it.each<[string, Record<string, unknown>]>([
    ['a lifetime of a day', { iat: NOW - 10, exp: NOW - 10 + 86_400 }],
    ['no iat and an expiry within a day', { iat: undefined, exp: NOW + 3600 }],
  ])('accepts a token with %s by default', async (_, overrides) => {
    const app = await testApp({ trustedIssuers: trusted, fetch: fakeIssuer().fetch });
    expect((await app(mcpPost(INIT, { token: cognitoAccessToken(overrides) }))).status).toBe(200);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a lifetime of two days',
      { iat: NOW - 10, exp: NOW + 2 * 86_400 },
      '"exp" - "iat" exceeds the longest accepted token lifetime',
    ],
    [
      'no iat and an expiry two days away',
      { iat: undefined, exp: NOW + 2 * 86_400 },
      '"exp" claim is further away than the longest accepted token lifetime',
    ],
    [
      'iat beyond the clock skew in the future',
      { iat: NOW + 600, exp: NOW + 1200 },
      '"iat" claim timestamp check failed (issued in the future)',
    ],
    ['iat as a string', { iat: 'yesterday' }, '"iat" claim must be a number'],
  ])('refuses a token with %s', async (_, overrides, expected) => {
    const app = await testApp({ trustedIssuers: trusted, fetch: fakeIssuer().fetch });
    const response = await app(mcpPost(INIT, { token: cognitoAccessToken(overrides) }));
    expect(await description(response)).toBe(expected);
  });

  it("bounds lifetimes by the issuer's configured maxTokenLifetimeSeconds", async () => {
    // Prepare
    const week = cognitoAccessToken({ iat: NOW - 10, exp: NOW + 7 * 86_400 });
    const hour = cognitoAccessToken({ iat: NOW - 10, exp: NOW + 3600 });
    const longer = await testApp({
      trustedIssuers: [{ ...trusted[0]!, maxTokenLifetimeSeconds: 30 * 86_400 }],
      fetch: fakeIssuer().fetch,
    });
    const shorter = await testApp({
      trustedIssuers: [{ ...trusted[0]!, maxTokenLifetimeSeconds: 600 }],
      fetch: fakeIssuer().fetch,
    });

    // Act
    const accepted = await longer(mcpPost(INIT, { token: week }));
    const refused = await shorter(mcpPost(INIT, { token: hour }));

    // Assess
    expect(accepted.status).toBe(200);
    expect(await description(refused)).toBe('"exp" - "iat" exceeds the longest accepted token lifetime');
  });

  it('refuses a token with a crit header', async () => {
    const app = await testApp({ trustedIssuers: trusted, fetch: fakeIssuer().fetch });
    const token = signJwt(
      { alg: 'RS256', kid: 'cognito-1', b64: false, crit: ['b64'] },
      {
        iss: COGNITO,
        sub: 'm',
        token_use: 'access',
        client_id: 'agent-client',
        scope: 'mcp/tools',
        iat: NOW,
        exp: NOW + 60,
      },
      privateKey,
    );
    expect(await description(await app(mcpPost(INIT, { token })))).toBe(
      '"crit" header names an extension this server does not understand',
    );
  });
});

describe("a trusted issuer's scopes", () => {
  const ADD = rpc('tools/call', { name: 'add', arguments: { a: 2, b: 3 } });
  const cognito = { issuer: COGNITO, clientIds: ['agent-client'] };
  const mapped = [{ ...cognito, scopeMap: { 'mcp/tools': ['mcp:tools'] } }];

  it('lets a Cognito token call tools when its scope is mapped to mcp:tools', async () => {
    // Prepare
    const app = await testApp({ trustedIssuers: mapped, fetch: fakeIssuer().fetch });

    // Act
    const response = await app(mcpPost(ADD, { token: cognitoAccessToken({ scope: 'mcp/tools' }) }));

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ result: { structuredContent: { sum: 5 } } });
  });

  it('answers 403 insufficient_scope for a Cognito scope without a map, as Cognito names no scope mcp:tools', async () => {
    // Prepare
    const app = await testApp({ trustedIssuers: [cognito], fetch: fakeIssuer().fetch });

    // Act
    const response = await app(
      mcpPost(ADD, { token: cognitoAccessToken({ scope: 'default-m2m-resource-server-vccgqz/read' }) }),
    );

    // Assess
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it.each([
    ['a scope the map does not name', 'mcp/other'],
    ['a scope spelled as this server spells it, which the map does not name', 'mcp:tools'],
  ])('grants nothing for %s', async (_, scope) => {
    // Prepare
    const app = await testApp({ trustedIssuers: mapped, fetch: fakeIssuer().fetch });

    // Act
    const initialized = await app(mcpPost(INIT, { token: cognitoAccessToken({ scope }) }));
    const called = await app(mcpPost(ADD, { token: cognitoAccessToken({ scope }) }));

    // Assess
    expect(initialized.status).toBe(200);
    expect(called.status).toBe(403);
  });

  it('maps each scope of the token once, and passes scopes through unchanged without a map', () => {
    // Prepare
    const map = { 'mcp/tools': ['mcp:tools'], 'mcp/all': ['mcp:tools', 'mcp:resources'] };

    // Act
    const viaMap = grantedScopes({ issuer: COGNITO, scopeMap: map }, ['mcp/tools', 'mcp/all', 'other']);
    const unmapped = grantedScopes({ issuer: COGNITO }, ['mcp/tools', 'mcp:tools']);
    const inherited = grantedScopes({ issuer: COGNITO, scopeMap: map }, ['constructor', '__proto__']);

    // Assess
    expect(viaMap).toEqual(['mcp:tools', 'mcp:resources']);
    expect(unmapped).toEqual(['mcp/tools', 'mcp:tools']);
    expect(inherited).toEqual([]);
  });
});

describe("a trusted issuer's algorithms", () => {
  // Keys published without `alg` (Entra ID's, for one): nothing but the issuer's allow-list
  // stands between a token signed with the issuer's own key and any algorithm that key fits.
  const { alg: _pinned, ...unpinned } = jwk;
  const token = (alg: string) =>
    signJwtAs(
      { alg, kid: 'cognito-1' },
      {
        iss: COGNITO,
        sub: 'agent-client',
        token_use: 'access',
        client_id: 'agent-client',
        scope: 'mcp/tools',
        iat: NOW - 10,
        exp: NOW + 3600,
      },
      privateKey,
    );
  const refusal = async (response: PlainResponse) =>
    ((await response.json()) as { error_description: string }).error_description;

  it.each(['RS512', 'PS256'])(
    "refuses a token signed with the issuer's key as %s when the issuer is configured with the default, RS256",
    async (alg) => {
      // Prepare
      const app = await testApp({ trustedIssuers: trusted, fetch: fakeIssuer([unpinned]).fetch });

      // Act
      const response = await app(mcpPost(INIT, { token: token(alg) }));

      // Assess
      expect(response.status).toBe(401);
      expect(await refusal(response)).toBe('unsupported "alg" header');
    },
  );

  it('accepts only the algorithms an issuer is configured with', async () => {
    // Prepare
    const issuer = [{ ...trusted[0]!, algorithms: ['PS256'] }];
    const app = await testApp({ trustedIssuers: issuer, fetch: fakeIssuer([unpinned]).fetch });

    // Act
    const ps256 = await app(mcpPost(INIT, { token: token('PS256') }));
    const rs256 = await app(mcpPost(INIT, { token: token('RS256') }));
    const rs512 = await app(mcpPost(INIT, { token: token('RS512') }));

    // Assess
    expect(ps256.status).toBe(200);
    expect([rs256.status, rs512.status]).toEqual([401, 401]);
    expect([await refusal(rs256), await refusal(rs512)]).toEqual([
      'unsupported "alg" header',
      'unsupported "alg" header',
    ]);
  });
});

describe("the kind of a trusted issuer's caller", () => {
  const WHO = rpc('tools/call', { name: 'get_user_info', arguments: {} });
  const cognito = { issuer: COGNITO, clientIds: ['agent-client'], scopeMap: { 'mcp/tools': ['mcp:tools'] } };
  const who = async (issuer: Record<string, unknown>) => {
    const app = await testApp({ trustedIssuers: [{ ...cognito, ...issuer }], fetch: fakeIssuer().fetch });
    const response = await app(mcpPost(WHO, { token: cognitoAccessToken({ scope: 'mcp/tools' }) }));
    expect(response.status).toBe(200);
    return ((await response.json()) as { result: { structuredContent: Record<string, unknown> } }).result
      .structuredContent;
  };

  it('is a machine unless the issuer is configured otherwise (client credentials tokens)', async () => {
    expect(await who({})).toMatchObject({ kind: 'machine', sub: 'machine-client', issuer: COGNITO });
  });

  it('is a user for an issuer configured with callerKind "user"', async () => {
    expect(await who({ callerKind: 'user' })).toMatchObject({ kind: 'user', sub: 'machine-client' });
  });
});

describe('parseTrustedIssuers', () => {
  it('reads a callerKind, and refuses anything but "user" and "machine"', () => {
    const raw = (callerKind: unknown) => JSON.stringify([{ issuer: COGNITO, callerKind }]);
    expect(parseTrustedIssuers(raw('user'))).toEqual([{ issuer: COGNITO, callerKind: 'user' }]);
    expect(parseTrustedIssuers(raw('machine'))).toEqual([{ issuer: COGNITO, callerKind: 'machine' }]);
    expect(() => parseTrustedIssuers(raw('person'))).toThrow(
      new ConfigError('TRUSTED_ISSUERS[0].callerKind must be "user" or "machine"'),
    );
  });

  it('reads the TRUSTED_ISSUERS JSON', () => {
    expect(parseTrustedIssuers(JSON.stringify(trusted))).toEqual(trusted);
    expect(parseTrustedIssuers(undefined)).toEqual([]);
  });

  it('reads a maxTokenLifetimeSeconds', () => {
    const raw = JSON.stringify([{ issuer: COGNITO, maxTokenLifetimeSeconds: 7200 }]);
    expect(parseTrustedIssuers(raw)).toEqual([{ issuer: COGNITO, maxTokenLifetimeSeconds: 7200 }]);
  });

  it.each([
    '{',
    '{}',
    '[{"issuer":"http://insecure.example"}]',
    '[{"issuer":"https://x.example","clientIds":"a"}]',
    '[{"issuer":"https://x.example","maxTokenLifetimeSeconds":"3600"}]',
    '[{"issuer":"https://x.example","maxTokenLifetimeSeconds":3600.5}]',
    '[{"issuer":"https://x.example","maxTokenLifetimeSeconds":59}]',
    '[{"issuer":"https://x.example","maxTokenLifetimeSeconds":2592001}]',
  ])('refuses %s with a ConfigError', (raw) => {
    expect(() => parseTrustedIssuers(raw)).toThrow(ConfigError);
  });

  it('reads a scopeMap', () => {
    const raw = JSON.stringify([{ issuer: COGNITO, scopeMap: { 'mcp/tools': ['mcp:tools'] } }]);
    expect(parseTrustedIssuers(raw, ['mcp:tools', 'mcp:resources'])).toEqual([
      { issuer: COGNITO, scopeMap: { 'mcp/tools': ['mcp:tools'] } },
    ]);
  });

  it.each<[string, unknown, string]>([
    [
      'a scopeMap that is a list',
      [['mcp/tools', 'mcp:tools']],
      `TRUSTED_ISSUERS[0].scopeMap must be an object from the issuer's scopes to lists of this server's scopes, such as {"mcp/tools": ["mcp:tools"]}`,
    ],
    [
      'an empty scopeMap',
      {},
      `TRUSTED_ISSUERS[0].scopeMap must be an object from the issuer's scopes to lists of this server's scopes, such as {"mcp/tools": ["mcp:tools"]}`,
    ],
    [
      'a scope granted as a string rather than a list',
      { 'mcp/tools': 'mcp:tools' },
      'TRUSTED_ISSUERS[0].scopeMap["mcp/tools"] must be a non-empty array of scopes, such as ["mcp:tools"]',
    ],
    [
      'a scope that grants nothing',
      { 'mcp/tools': [] },
      'TRUSTED_ISSUERS[0].scopeMap["mcp/tools"] must be a non-empty array of scopes, such as ["mcp:tools"]',
    ],
    [
      'an issuer scope with a space',
      { 'mcp tools': ['mcp:tools'] },
      'TRUSTED_ISSUERS[0].scopeMap has an invalid scope "mcp tools"',
    ],
    [
      'a scope this server does not know',
      { 'mcp/tools': ['mcp:tool'] },
      `TRUSTED_ISSUERS[0].scopeMap["mcp/tools"] grants "mcp:tool", which is not one of this server's scopes (mcp:tools mcp:resources)`,
    ],
  ])('refuses %s, saying what is wrong', (_, scopeMap, message) => {
    const raw = JSON.stringify([{ issuer: COGNITO, scopeMap }]);
    expect(() => parseTrustedIssuers(raw, ['mcp:tools', 'mcp:resources'])).toThrow(new ConfigError(message));
  });

  it('refuses the same issuer twice and algorithms other than asymmetric signatures', () => {
    expect(() => parseTrustedIssuers(JSON.stringify([{ issuer: COGNITO }, { issuer: COGNITO }]))).toThrow(
      'TRUSTED_ISSUERS[1].issuer repeats TRUSTED_ISSUERS[0].issuer',
    );
    expect(() => parseTrustedIssuers(JSON.stringify([{ issuer: COGNITO, algorithms: ['HS256'] }]))).toThrow(
      'TRUSTED_ISSUERS[0].algorithms must list only RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512',
    );
  });
});
