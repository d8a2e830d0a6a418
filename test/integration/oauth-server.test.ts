/**
 * The authorization server over real HTTP: the local server with its embedded DynamoDB, driven by
 * oauth4webapi (a strict OAuth client) and verified with jose against the served JWKS.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import type { LocalServer } from '../../lib/local/server.js';
import {
  basicAuth,
  registerClient,
  startTestServer,
  type RegisteredClient,
} from '../support/local-server.js';

let server: LocalServer;
let issuer: string;
let as: oauth.AuthorizationServer;
const insecure = { [oauth.allowInsecureRequests]: true };

beforeAll(async () => {
  server = await startTestServer({ env: { ACCESS_TOKEN_TTL_SECONDS: '600' } });
  issuer = server.issuer;
  as = await oauth.processDiscoveryResponse(
    new URL(issuer),
    await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...insecure }),
  );
});
afterAll(() => server.close());

async function post(path: string, body: string, headers: Record<string, string>) {
  const response = await fetch(`${issuer}${path}`, { method: 'POST', headers, body });
  return { response, body: (await response.json().catch(() => undefined)) as Record<string, unknown> };
}
const postJson = (path: string, value: unknown, headers: Record<string, string> = {}) =>
  post(path, typeof value === 'string' ? value : JSON.stringify(value), {
    'content-type': 'application/json',
    ...headers,
  });
const postForm = (fields: Record<string, string> | string, headers: Record<string, string> = {}) =>
  post('/token', typeof fields === 'string' ? fields : new URLSearchParams(fields).toString(), {
    'content-type': 'application/x-www-form-urlencoded',
    ...headers,
  });

const machineClient = (extra: Record<string, unknown> = {}) =>
  registerClient(issuer, { client_name: 'agent', grant_types: ['client_credentials'], ...extra });

describe('discovery', () => {
  it('serves metadata that oauth4webapi accepts for the exact issuer', () => {
    expect(as.issuer).toBe(issuer);
    expect(as.token_endpoint).toBe(`${issuer}/token`);
    expect(as.registration_endpoint).toBe(`${issuer}/register`);
    expect(as.jwks_uri).toBe(`${issuer}/.well-known/jwks.json`);
    // The jwt-bearer grant too: the local server runs a local enterprise identity provider.
    expect(as.grant_types_supported).toEqual([
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ]);
    expect(as.response_types_supported).toEqual(['code']);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.revocation_endpoint).toBe(`${issuer}/revoke`);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    // OpenID Connect Discovery requires it of /.well-known/openid-configuration (same document).
    expect(as.id_token_signing_alg_values_supported).toEqual(['RS256']);
    expect(as.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'none']),
    );
    expect(as.scopes_supported).toEqual(['mcp:tools', 'mcp:resources']);
  });

  it('serves the same document as the OpenID configuration', async () => {
    const oidc = await oauth.processDiscoveryResponse(
      new URL(issuer),
      await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oidc', ...insecure }),
    );
    expect(JSON.stringify(oidc)).toBe(JSON.stringify(as));
  });

  it('publishes only public key material, cacheable, with a kid per key', async () => {
    const response = await fetch(`${issuer}/.well-known/jwks.json`);
    const jwks = (await response.json()) as { keys: Record<string, string>[] };
    expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2);
    for (const key of jwks.keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    }
  });

  it('lets browser clients read the metadata across origins', async () => {
    const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`, {
      headers: { origin: 'http://localhost:6274' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('registration (RFC 7591)', () => {
  it('registers a confidential machine client through oauth4webapi', async () => {
    const response = await oauth.dynamicClientRegistrationRequest(
      as,
      {
        client_name: 'ci job',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      insecure,
    );
    const client = await oauth.processDynamicClientRegistrationResponse(response);
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(client.client_id).toMatch(/^[\w-]{22}$/);
    expect(client.client_secret).toMatch(/^[\w-]{43}$/);
    expect(client).toMatchObject({
      client_secret_expires_at: 0,
      client_name: 'ci job',
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'mcp:tools mcp:resources',
      registration_client_uri: `${issuer}/clients/${client.client_id}`,
    });
    expect(client.registration_access_token).toMatch(/^[\w-]{43}$/);
    expect(typeof client.client_id_issued_at).toBe('number');
  });

  it('serves the same handler at /dcr', async () => {
    const { response, body } = await postJson('/dcr', { grant_types: ['client_credentials'] });
    expect(response.status).toBe(201);
    expect(body.token_endpoint_auth_method).toBe('client_secret_basic');
  });

  it('registers a public client without a secret and leaves absent fields out', async () => {
    const { response, body } = await postJson('/register', {
      redirect_uris: ['http://127.0.0.1/', 'https://vscode.dev/redirect'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      application_type: 'native',
      logo_uri: '',
    });
    expect(response.status).toBe(201);
    expect(body).not.toHaveProperty('client_secret');
    expect(body).not.toHaveProperty('client_secret_expires_at');
    expect(body).not.toHaveProperty('logo_uri');
    expect(body).not.toHaveProperty('client_name');
    expect(Object.values(body)).not.toContain('');
    expect(body.response_types).toEqual(['code']);
  });

  it.each([
    [
      'Cursor',
      [
        'cursor://anysphere.cursor-mcp/oauth/callback',
        'https://www.cursor.com/agents/mcp/oauth/callback',
        'http://localhost:8787/callback',
      ],
    ],
    ['Claude', ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback']],
    ['Claude Code', ['http://localhost:53127/callback']],
    ['VS Code', ['https://vscode.dev/redirect', 'http://127.0.0.1/', 'http://127.0.0.1:33418/']],
    ['MCP Inspector', ['http://localhost:6274/oauth/callback', 'http://localhost:6274/oauth/callback/debug']],
    ['ChatGPT', ['https://chatgpt.com/connector_platform_oauth_redirect']],
    ['an IPv6 loopback client', ['http://[::1]:8080/cb']],
  ])('accepts the redirect URIs %s registers', async (_client, uris) => {
    const { response, body } = await postJson('/register', {
      redirect_uris: uris,
      token_endpoint_auth_method: 'none',
    });
    expect(response.status).toBe(201);
    expect(body.redirect_uris).toEqual(uris);
  });

  it.each([
    ['javascript:alert(1)'],
    ['data:text/html,hi'],
    ['file:///etc/passwd'],
    ['vbscript:msgbox'],
    ['https://example.com/cb#fragment'],
    ['http://example.com/callback'],
    ['/relative/callback'],
  ])('refuses the redirect URI %s with invalid_redirect_uri', async (uri) => {
    const { response, body } = await postJson('/register', { redirect_uris: [uri] });
    expect(response.status).toBe(400);
    expect(body.error).toBe('invalid_redirect_uri');
    expect(body.error_description).toContain('redirect URI');
  });

  it.each([
    ['a body that is not JSON', '{not json', 'not valid JSON'],
    ['a JSON array', [], 'JSON object'],
    ['an unsupported grant type', { grant_types: ['password'] }, '"grant_types"'],
    [
      'a refresh grant without the code grant',
      { grant_types: ['client_credentials', 'refresh_token'] },
      'refresh_token',
    ],
    [
      'response types without the code grant',
      { grant_types: ['client_credentials'], response_types: ['code'] },
      'response_types',
    ],
    [
      'an unsupported response type',
      { redirect_uris: ['https://a.example/cb'], response_types: ['token'] },
      'response_types',
    ],
    [
      'an unknown auth method',
      { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_jwt' },
      'client_secret_jwt',
    ],
    [
      'a public client asking for client_credentials',
      { grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' },
      'public client',
    ],
    ['an unknown scope', { grant_types: ['client_credentials'], scope: 'mcp:tools admin' }, '"admin"'],
    ['a wrongly typed field', { grant_types: ['client_credentials'], client_name: 42 }, '"client_name"'],
    ...['\u0000', '\u001b[31m', '\u202e', '\u2066', '\u200f'].map(
      (char): [string, Record<string, unknown>, string] => [
        `a display name with ${JSON.stringify(char)}`,
        { grant_types: ['client_credentials'], client_name: `Legit${char}App` },
        'control or bidi',
      ],
    ),
    [
      'a logo URI that is not http(s)',
      { grant_types: ['client_credentials'], logo_uri: 'javascript:alert(1)' },
      '"logo_uri" must be an absolute https URL with a host',
    ],
    [
      'a logo URI without a host',
      { grant_types: ['client_credentials'], logo_uri: 'https://' },
      '"logo_uri" must be an absolute https URL with a host',
    ],
    [
      'too many redirect URIs',
      { redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`) },
      '"redirect_uris"',
    ],
  ])('refuses %s with invalid_client_metadata', async (_case, metadata, message) => {
    const { response, body } = await postJson('/register', metadata);
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(body.error).toBe('invalid_client_metadata');
    expect(body.error_description).toContain(message);
  });

  it('requires redirect URIs for the authorization code grant', async () => {
    const { response, body } = await postJson('/register', { client_name: 'web app' });
    expect(response.status).toBe(400);
    expect(body.error).toBe('invalid_redirect_uri');
  });

  it('refuses a body over the size cap with 413', async () => {
    const { response, body } = await postJson('/register', { client_name: 'x'.repeat(20_000) });
    expect(response.status).toBe(413);
    expect(body.error).toBe('invalid_request');
  });
});

describe('client management (RFC 7592)', () => {
  let client: RegisteredClient;
  const manage = (method: string, token: string | undefined, id = client.client_id, body?: unknown) =>
    fetch(`${issuer}/clients/${id}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  beforeEach(async () => {
    client = await machineClient({ client_name: 'managed' });
  });

  it('reads the registration without any secret or hash', async () => {
    const response = await manage('GET', client.registration_access_token);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ client_id: client.client_id, client_name: 'managed' });
    expect(text).not.toContain(client.client_secret!);
    expect(text).not.toContain(client.registration_access_token);
    expect(Object.keys(JSON.parse(text))).not.toContain('client_secret');
    expect(text).not.toMatch(/hash/i);
  });

  it('asks for a bearer token when none is sent', async () => {
    const response = await manage('GET', undefined);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it("refuses another client's registration access token", async () => {
    const other = await machineClient();
    for (const method of ['GET', 'DELETE']) {
      const response = await manage(method, other.registration_access_token);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(((await response.json()) as { error: string }).error).toBe('invalid_token');
    }
    expect((await manage('GET', client.registration_access_token)).status).toBe(200);
  });

  it('answers an unknown client like a wrong token', async () => {
    const response = await manage('GET', client.registration_access_token, 'no-such-client');
    expect(response.status).toBe(401);
  });

  it('updates the metadata after validating all of it again', async () => {
    const bad = await manage('PUT', client.registration_access_token, client.client_id, {
      client_id: client.client_id,
      grant_types: ['client_credentials'],
      scope: 'unknown',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('invalid_client_metadata');

    const good = await manage('PUT', client.registration_access_token, client.client_id, {
      client_id: client.client_id,
      client_name: 'renamed',
      grant_types: ['client_credentials'],
      scope: 'mcp:tools',
    });
    expect(good.status).toBe(200);
    expect(await good.json()).toMatchObject({ client_name: 'renamed', scope: 'mcp:tools' });
    const read = (await (await manage('GET', client.registration_access_token)).json()) as Record<
      string,
      unknown
    >;
    expect(read).toMatchObject({ client_name: 'renamed', scope: 'mcp:tools' });
  });

  it('refuses an update whose client_id differs from the path', async () => {
    const response = await manage('PUT', client.registration_access_token, client.client_id, {
      client_id: 'someone-else',
      grant_types: ['client_credentials'],
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_client_metadata');
  });

  it('refuses to turn a confidential client into a public one', async () => {
    const response = await manage('PUT', client.registration_access_token, client.client_id, {
      client_id: client.client_id,
      redirect_uris: ['http://localhost/cb'],
      token_endpoint_auth_method: 'none',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error_description: string }).error_description).toContain('public');
  });

  it('deletes the client, after which it can no longer obtain tokens', async () => {
    const before = await postForm(
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(client.client_id, client.client_secret!) },
    );
    expect(before.response.status).toBe(200);

    const deleted = await manage('DELETE', client.registration_access_token);
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');

    const after = await postForm(
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(client.client_id, client.client_secret!) },
    );
    expect(after.response.status).toBe(401);
    expect(after.body.error).toBe('invalid_client');
    expect((await manage('GET', client.registration_access_token)).status).toBe(401);
  });
});

describe('client_credentials grant', () => {
  const jwks = () => createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));

  it.each([
    ['client_secret_basic', oauth.ClientSecretBasic],
    ['client_secret_post', oauth.ClientSecretPost],
  ] as const)('issues a verifiable at+jwt to a %s client through oauth4webapi', async (method, auth) => {
    // Prepare
    const registered = await machineClient({ token_endpoint_auth_method: method });
    const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: method };
    // Act
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      auth(registered.client_secret!),
      { scope: 'mcp:tools', resource: `${issuer}/mcp` },
      insecure,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    // Assess
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 600, scope: 'mcp:tools' });
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks(), {
      issuer,
      audience: `${issuer}/mcp`,
      typ: 'at+jwt',
      algorithms: ['RS256'],
    });
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload).toMatchObject({
      iss: issuer,
      sub: registered.client_id,
      aud: `${issuer}/mcp`,
      client_id: registered.client_id,
      scope: 'mcp:tools',
    });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(payload.jti).toEqual(expect.any(String));
  });

  it('issues tokens that pass RFC 9068 validation by oauth4webapi', async () => {
    const registered = await machineClient();
    const response = await postForm(
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(registered.client_id, registered.client_secret!) },
    );
    const token = response.body.access_token as string;
    const request = new Request(`${issuer}/mcp`, { headers: { authorization: `Bearer ${token}` } });
    const claims = await oauth.validateJwtAccessToken(as, request, `${issuer}/mcp`, insecure);
    expect(claims.client_id).toBe(registered.client_id);
  });

  it('grants every registered scope when none is requested, and the MCP resource as audience', async () => {
    const registered = await machineClient({ scope: 'mcp:resources' });
    const { response, body } = await postForm(
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(registered.client_id, registered.client_secret!) },
    );
    expect(response.status).toBe(200);
    expect(body.scope).toBe('mcp:resources');
    const { payload } = await jwtVerify(body.access_token as string, jwks(), { issuer });
    expect(payload.aud).toBe(`${issuer}/mcp`);
    expect(decodeProtectedHeader(body.access_token as string).typ).toBe('at+jwt');
  });

  describe('errors', () => {
    let basic: RegisteredClient;
    let postClient: RegisteredClient;
    beforeAll(async () => {
      basic = await machineClient({ scope: 'mcp:tools' });
      postClient = await machineClient({ token_endpoint_auth_method: 'client_secret_post' });
    });
    const auth = () => ({ authorization: basicAuth(basic.client_id, basic.client_secret!) });

    it('answers a wrong Basic secret with 401 invalid_client and a Basic challenge', async () => {
      const { response, body } = await postForm(
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(basic.client_id, 'wrong') },
      );
      expect(response.status).toBe(401);
      expect(body.error).toBe('invalid_client');
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
    });

    it('answers a wrong body secret with 401 invalid_client', async () => {
      const { response, body } = await postForm({
        grant_type: 'client_credentials',
        client_id: postClient.client_id,
        client_secret: 'wrong',
      });
      expect(response.status).toBe(401);
      expect(body.error).toBe('invalid_client');
    });

    it('holds a client to its registered authentication method', async () => {
      const { response, body } = await postForm({
        grant_type: 'client_credentials',
        client_id: basic.client_id,
        client_secret: basic.client_secret!,
      });
      expect(response.status).toBe(401);
      expect(body.error).toBe('invalid_client');
      expect(body.error_description).toContain('client_secret_basic');
    });

    it('answers an unknown client with 401 invalid_client', async () => {
      const { response, body } = await postForm(
        { grant_type: 'client_credentials' },
        { authorization: basicAuth('nobody', 'nothing') },
      );
      expect(response.status).toBe(401);
      expect(body.error).toBe('invalid_client');
    });

    it('answers a request without client authentication with 401 invalid_client', async () => {
      const { response, body } = await postForm({ grant_type: 'client_credentials' });
      expect(response.status).toBe(401);
      expect(body.error).toBe('invalid_client');
    });

    it('refuses a malformed Basic header with invalid_client', async () => {
      const { response, body } = await postForm(
        { grant_type: 'client_credentials' },
        { authorization: 'Basic %%%' },
      );
      expect(response.status).toBe(401);
      expect(body.error).toBe('invalid_client');
    });

    it('refuses two authentication methods at once with invalid_request', async () => {
      const { response, body } = await postForm(
        { grant_type: 'client_credentials', client_secret: basic.client_secret! },
        auth(),
      );
      expect(response.status).toBe(400);
      expect(body.error).toBe('invalid_request');
    });

    it('requires grant_type', async () => {
      const { response, body } = await postForm({ scope: 'mcp:tools' }, auth());
      expect(response.status).toBe(400);
      expect(body.error).toBe('invalid_request');
    });

    it('refuses a grant type the server does not implement', async () => {
      const { response, body } = await postForm(
        { grant_type: 'password', username: 'a', password: 'b' },
        auth(),
      );
      expect(response.status).toBe(400);
      expect(body.error).toBe('unsupported_grant_type');
    });

    it('refuses a grant type the client did not register', async () => {
      const webClient = await registerClient(issuer, {
        redirect_uris: ['https://app.example/cb'],
        grant_types: ['authorization_code'],
      });
      const { response, body } = await postForm(
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(webClient.client_id, webClient.client_secret!) },
      );
      expect(response.status).toBe(400);
      expect(body.error).toBe('unauthorized_client');
    });

    it('refuses a scope beyond what the client registered', async () => {
      const { response, body } = await postForm(
        { grant_type: 'client_credentials', scope: 'mcp:resources' },
        auth(),
      );
      expect(response.status).toBe(400);
      expect(body.error).toBe('invalid_scope');
    });

    it('refuses a resource other than this MCP server with invalid_target', async () => {
      const { response, body } = await postForm(
        { grant_type: 'client_credentials', resource: 'https://other.example/mcp' },
        auth(),
      );
      expect(response.status).toBe(400);
      expect(body.error).toBe('invalid_target');
    });

    it('refuses a repeated parameter with invalid_request', async () => {
      const { response, body } = await postForm(
        'grant_type=client_credentials&scope=mcp:tools&scope=mcp:tools',
        auth(),
      );
      expect(response.status).toBe(400);
      expect(body.error).toBe('invalid_request');
    });

    it('refuses a body that is not form-encoded', async () => {
      const { response, body } = await post('/token', '{"grant_type":"client_credentials"}', {
        'content-type': 'application/json',
        ...auth(),
      });
      expect(response.status).toBe(400);
      expect(body.error).toBe('invalid_request');
    });

    it('answers GET on the token endpoint with 404, as API Gateway does for an unrouted method', async () => {
      const response = await fetch(`${issuer}/token`);
      expect(response.status).toBe(404);
    });
  });
});

describe('authorization endpoint', () => {
  const authorizeUrl = (params: Record<string, string>) =>
    `${issuer}/authorize?${new URLSearchParams(params)}`;

  it('is listed in the metadata', () => {
    expect(as.authorization_endpoint).toBe(`${issuer}/authorize`);
  });

  it.each([
    ['no client_id', {}],
    ['an unknown client', { client_id: 'nobody', redirect_uri: 'https://evil.example/cb' }],
  ])('shows an error page, never a redirect, for %s', async (_case, params) => {
    const response = await fetch(authorizeUrl(params), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toContain('text/html');
  });

  it('never redirects to a URI the client did not register', async () => {
    const client = await registerClient(issuer, { redirect_uris: ['https://app.example/cb'] });
    const response = await fetch(
      authorizeUrl({
        client_id: client.client_id,
        redirect_uri: 'https://evil.example/cb',
        response_type: 'code',
      }),
      { redirect: 'manual' },
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('not registered');
  });
});

/** RFC 7592 PUT with the client's registration access token. */
const updateRegistration = (client: RegisteredClient, metadata: Record<string, unknown>) =>
  fetch(client.registration_client_uri, {
    method: 'PUT',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${client.registration_access_token}`,
    },
    body: JSON.stringify({ client_id: client.client_id, ...metadata }),
  });

describe('routing', () => {
  it('serves the route the request was sent to, whatever X-Forwarded-Proto says', async () => {
    // Act: a header that would turn the URL into http://x/register#://host/token if trusted.
    const { response, body } = await postJson(
      '/token',
      { client_name: 'smuggled', grant_types: ['client_credentials'] },
      { 'x-forwarded-proto': 'http://x/register#' },
    );

    // Assess: the token endpoint refused the JSON body; nothing was registered.
    expect(response.status).toBe(400);
    expect(body).not.toHaveProperty('client_id');
    expect(body.error).toBe('invalid_request');
  });
});

describe('registration policies', () => {
  it('requires the initial access token under the token policy', async () => {
    const guarded = await startTestServer({
      env: { REGISTRATION_POLICY: 'token', INITIAL_ACCESS_TOKEN: 'let-me-in-0123456789' },
    });
    try {
      const url = `${guarded.issuer}/register`;
      const send = (headers: Record<string, string>) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ grant_types: ['client_credentials'] }),
        });
      const missing = await send({});
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await send({ authorization: 'Bearer not-the-token' });
      expect(wrong.status).toBe(401);
      expect(((await wrong.json()) as { error: string }).error).toBe('invalid_token');
      const right = await send({ authorization: 'Bearer let-me-in-0123456789' });
      expect(right.status).toBe(201);
    } finally {
      await guarded.close();
    }
  });

  it('applies the token policy to machine clients only, leaving interactive clients open by default', async () => {
    const guarded = await startTestServer({
      env: { REGISTRATION_POLICY: 'token', INITIAL_ACCESS_TOKEN: 'let-me-in-0123456789' },
    });
    try {
      const register = (metadata: object) =>
        fetch(`${guarded.issuer}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(metadata),
        });
      const desktop = await register({
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'none',
      });
      const machine = await register({ grant_types: ['client_credentials'] });
      expect(desktop.status).toBe(201);
      expect(machine.status).toBe(401);
    } finally {
      await guarded.close();
    }
  });

  it('holds a client with both kinds of grant to both policies', async () => {
    const guarded = await startTestServer({
      env: {
        REGISTRATION_POLICY: 'open',
        INTERACTIVE_REGISTRATION_POLICY: 'token',
        INITIAL_ACCESS_TOKEN: 'let-me-in-0123456789',
      },
    });
    try {
      const response = await fetch(`${guarded.issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
          redirect_uris: ['https://app.example/cb'],
          token_endpoint_auth_method: 'client_secret_post',
        }),
      });
      expect(response.status).toBe(401);
    } finally {
      await guarded.close();
    }
  });

  it('will not add user login to a machine client through RFC 7592', async () => {
    const client = await registerClient(issuer, { grant_types: ['client_credentials'] });
    const response = await updateRegistration(client, {
      redirect_uris: ['https://evil.example/cb'],
      grant_types: ['client_credentials', 'authorization_code'],
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_client_metadata');
  });

  it('will not turn an interactive client into a machine client through RFC 7592', async () => {
    const guarded = await startTestServer({ env: { REGISTRATION_POLICY: 'token' } });
    try {
      const client = await registerClient(guarded.issuer, {
        redirect_uris: ['https://app.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      const response = await updateRegistration(client, {
        redirect_uris: ['https://app.example/cb'],
        grant_types: ['authorization_code', 'client_credentials'],
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_client_metadata');
    } finally {
      await guarded.close();
    }
  });

  it('refuses every registration and hides the endpoint under the closed policies', async () => {
    const closed = await startTestServer({
      env: { REGISTRATION_POLICY: 'closed', INTERACTIVE_REGISTRATION_POLICY: 'closed' },
    });
    try {
      const response = await fetch(`${closed.issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_types: ['client_credentials'] }),
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: string }).error).toBe('access_denied');
      const metadata = (await (
        await fetch(`${closed.issuer}/.well-known/oauth-authorization-server`)
      ).json()) as object;
      expect(metadata).not.toHaveProperty('registration_endpoint');
    } finally {
      await closed.close();
    }
  });
});
