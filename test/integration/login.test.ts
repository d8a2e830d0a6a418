/**
 * User login over real HTTP against the local server and its local upstream provider: the
 * authorization endpoint's validation, the upstream callback, consent, the authorization code
 * and refresh token grants, revocation, and the races and attacks around them. oauth4webapi (a
 * strict client: it checks `iss` per RFC 9207 and `state`) drives the happy paths; the attacks
 * are raw requests. The browser tests show Chromium doing the same steps.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import type { LocalServer } from '../../lib/local/server.js';
import {
  basicAuth,
  registerClient,
  startTestServer,
  type RegisteredClient,
} from '../support/local-server.js';
import { answerConsent, login, startLogin, UserAgent } from '../support/user-agent.js';

let server: LocalServer;
let as: oauth.AuthorizationServer;
const insecure = { [oauth.allowInsecureRequests]: true };
const REDIRECT = 'http://127.0.0.1/callback';

beforeAll(async () => {
  server = await startTestServer();
  as = await oauth.processDiscoveryResponse(
    new URL(server.issuer),
    await oauth.discoveryRequest(new URL(server.issuer), { algorithm: 'oauth2', ...insecure }),
  );
});
afterAll(() => server.close());

const resource = () => `${server.issuer}/mcp`;

function publicClient(extra: Record<string, unknown> = {}): Promise<RegisteredClient> {
  return registerClient(server.issuer, {
    client_name: 'Test desktop app',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    ...extra,
  });
}

interface Pkce {
  verifier: string;
  challenge: string;
}

async function pkce(): Promise<Pkce> {
  const verifier = oauth.generateRandomCodeVerifier();
  return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier) };
}

function authorizeUrl(
  client: { client_id: string },
  challenge: string,
  params: Record<string, string> = {},
  base = server.issuer,
): string {
  return `${base}/authorize?${new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: 'http://127.0.0.1:41234/callback',
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'client-state-1',
    resource: resource(),
    ...params,
  })}`;
}

/** Logs `username` in for `client`; returns the code and the PKCE verifier that redeems it. */
async function authorizationCode(
  client: RegisteredClient,
  username = 'ada',
  agent = new UserAgent(),
  params: Record<string, string> = {},
): Promise<{ code: string; verifier: string; redirect: URL }> {
  const { verifier, challenge } = await pkce();
  const redirect = await login(agent, authorizeUrl(client, challenge, params), server, username);
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error(`no code: ${redirect}`);
  return { code, verifier, redirect };
}

async function tokenRequest(fields: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

const redeem = (
  client: RegisteredClient,
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
) =>
  tokenRequest({
    grant_type: 'authorization_code',
    client_id: client.client_id,
    code,
    code_verifier: verifier,
    redirect_uri: 'http://127.0.0.1:41234/callback',
    resource: resource(),
    ...extra,
  });

const refresh = (client: RegisteredClient, refreshToken: string, extra: Record<string, string> = {}) =>
  tokenRequest({
    grant_type: 'refresh_token',
    client_id: client.client_id,
    refresh_token: refreshToken,
    ...extra,
  });

/** A user's tokens for a new public client. */
async function loggedIn(username = 'ada') {
  const client = await publicClient();
  const { code, verifier } = await authorizationCode(client, username);
  const tokens = await redeem(client, code, verifier);
  expect(tokens.status).toBe(200);
  return { client, tokens: tokens.body };
}

function redirectParams(response: Response): Record<string, string> {
  return Object.fromEntries(new URL(response.headers.get('location')!).searchParams);
}

describe('the authorization endpoint', () => {
  it.each([
    ['no client_id', () => ({ client_id: '' })],
    ['an unknown client', () => ({ client_id: 'nobody' })],
    ['a 10,000-character client_id', () => ({ client_id: 'x'.repeat(10_000) })],
    ['an unregistered redirect URI', () => ({ redirect_uri: 'https://evil.example/cb' })],
    [
      'a redirect URI on a loopback path that was not registered',
      () => ({ redirect_uri: 'http://127.0.0.1/other' }),
    ],
  ])('shows an error page and never redirects for %s', async (_case, params) => {
    // Prepare
    const client = await publicClient();
    const { challenge } = await pkce();

    // Act
    const response = await fetch(authorizeUrl(client, challenge, params()), { redirect: 'manual' });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('shows an error page for a repeated parameter, before trusting any redirect URI', async () => {
    const client = await publicClient();
    const { challenge } = await pkce();
    const url = `${authorizeUrl(client, challenge)}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`;
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  const INVALID_REQUESTS: [string, Record<string, string>, string][] = [
    ['no response_type', { response_type: '' }, 'invalid_request'],
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
    ['no code_challenge (PKCE is required)', { code_challenge: '' }, 'invalid_request'],
    ['code_challenge_method=plain (downgrade)', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['no code_challenge_method (plain by default)', { code_challenge_method: '' }, 'invalid_request'],
    ['a malformed code_challenge', { code_challenge: 'short' }, 'invalid_request'],
    ['a scope the client did not register', { scope: 'mcp:tools admin' }, 'invalid_scope'],
    ['another resource', { resource: 'https://other.example/mcp' }, 'invalid_target'],
    ['prompt=none', { prompt: 'none' }, 'login_required'],
    ['an unknown prompt', { prompt: 'sideways' }, 'invalid_request'],
  ];

  function invalidRequest(client: RegisteredClient, challenge: string, params: Record<string, string>): URL {
    const url = new URL(authorizeUrl(client, challenge));
    for (const [name, value] of Object.entries(params)) {
      if (value === '') url.searchParams.delete(name);
      else url.searchParams.set(name, value);
    }
    return url;
  }

  it.each(INVALID_REQUESTS)(
    'redirects %s back to a client that has logged a user in, with %s, state and iss',
    async (_case, params, error) => {
      // Prepare
      const client = await publicClient({ scope: 'mcp:tools' });
      await authorizationCode(client, 'ada', new UserAgent(), { scope: 'mcp:tools' });
      const { challenge } = await pkce();

      // Act
      const response = await fetch(invalidRequest(client, challenge, params), { redirect: 'manual' });

      // Assess
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get('location')!);
      expect(location.origin + location.pathname).toBe('http://127.0.0.1:41234/callback');
      expect(redirectParams(response)).toMatchObject({ error, state: 'client-state-1', iss: server.issuer });
    },
  );

  it.each(INVALID_REQUESTS)(
    'shows %s to the user, not redirecting, for a client that never logged anyone in (no open redirector)',
    async (_case, params, error) => {
      // Prepare: anyone can register any redirect URI.
      const client = await publicClient({ scope: 'mcp:tools', redirect_uris: ['https://evil.example/'] });
      const { challenge } = await pkce();
      const url = invalidRequest(client, challenge, { ...params, redirect_uri: 'https://evil.example/' });

      // Act
      const response = await fetch(url, { redirect: 'manual' });

      // Assess
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toContain(error);
    },
  );

  it.each([
    ['an https redirect URI', 'https://evil.example/'],
    ['a private-use scheme', 'com.example.app:/cb'],
  ])(
    'shows the error page, not a redirect, to anyone after a login, for %s (RFC 9700 §4.11.2: no redirector)',
    async (_case, redirectUri) => {
      // Prepare: the registrant logs in once through its own client.
      const client = await publicClient({ scope: 'mcp:tools', redirect_uris: [redirectUri] });
      await authorizationCode(client, 'mallory', new UserAgent(), {
        scope: 'mcp:tools',
        redirect_uri: redirectUri,
      });
      const { challenge } = await pkce();

      for (const [, params, error] of INVALID_REQUESTS) {
        // Act: anyone, with no session, sends a broken request for that client.
        const url = invalidRequest(client, challenge, { ...params, redirect_uri: redirectUri });
        const response = await fetch(url, { redirect: 'manual' });

        // Assess: a page, and the way back only as a link the user chooses, naming where it leads.
        expect(response.status).toBe(400);
        expect(response.headers.get('location')).toBeNull();
        const html = await response.text();
        expect(html).toContain(error);
        const link = /<a href="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
        expect(link).toBeDefined();
        expect(link!.startsWith(redirectUri)).toBe(true);
        expect(Object.fromEntries(new URL(link!).searchParams)).toMatchObject({ error, iss: server.issuer });
      }
    },
  );

  it('redirects response_type=token for a logged-in loopback client, and pages it for the https one (the reported redirector)', async () => {
    // Prepare
    const loopback = await publicClient();
    await authorizationCode(loopback, 'ada');
    const web = await publicClient({ redirect_uris: ['https://evil.example/'] });
    await authorizationCode(web, 'mallory', new UserAgent(), { redirect_uri: 'https://evil.example/' });
    const query = (client: RegisteredClient, redirectUri: string) =>
      `${server.issuer}/authorize?${new URLSearchParams({ client_id: client.client_id, redirect_uri: redirectUri, response_type: 'token' })}`;

    // Act
    const toWeb = await fetch(query(web, 'https://evil.example/'), { redirect: 'manual' });
    const toLoopback = await fetch(query(loopback, 'http://127.0.0.1:41234/callback'), {
      redirect: 'manual',
    });

    // Assess
    expect(toWeb.status).toBe(400);
    expect(toWeb.headers.get('location')).toBeNull();
    expect(toLoopback.status).toBe(302);
    expect(redirectParams(toLoopback)).toMatchObject({
      error: 'unsupported_response_type',
      iss: server.issuer,
    });
  });

  it('answers unauthorized_client for a client that did not register the authorization_code grant', async () => {
    const client = await registerClient(server.issuer, {
      grant_types: ['client_credentials'],
      redirect_uris: [REDIRECT],
    });
    const { challenge } = await pkce();
    const response = await fetch(authorizeUrl(client, challenge), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('unauthorized_client');
  });

  it('sends a valid request to the upstream provider with PKCE S256, state and nonce, bound to the browser', async () => {
    // Prepare
    const client = await publicClient();
    const { challenge } = await pkce();

    // Act
    const response = await fetch(authorizeUrl(client, challenge), { redirect: 'manual' });

    // Assess
    expect(response.status).toBe(302);
    const upstream = new URL(response.headers.get('location')!);
    expect(upstream.href.startsWith(server.upstreamIssuer)).toBe(true);
    expect(Object.fromEntries(upstream.searchParams)).toMatchObject({
      response_type: 'code',
      redirect_uri: `${server.issuer}/callback`,
      code_challenge_method: 'S256',
      scope: 'openid email profile',
    });
    expect(upstream.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(upstream.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The client's own PKCE challenge and state never leave this server.
    expect(upstream.searchParams.get('code_challenge')).not.toBe(challenge);
    expect(response.headers.get('set-cookie')).toMatch(
      /^mcp-login-[\w-]+=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/,
    );
  });
});

describe('a whole login, as oauth4webapi sees it', () => {
  it('issues a code with iss and state, redeems it with PKCE for user tokens, and refreshes', async () => {
    // Prepare
    const registered = await publicClient();
    const client: oauth.Client = { client_id: registered.client_id };
    const { verifier, challenge } = await pkce();

    // Act
    const redirect = await login(
      new UserAgent(),
      authorizeUrl(registered, challenge),
      server,
      'ada@example.com',
    );
    const params = oauth.validateAuthResponse(as, client, redirect, 'client-state-1');
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        params,
        'http://127.0.0.1:41234/callback',
        verifier,
        { additionalParameters: { resource: resource() }, ...insecure },
      ),
    );
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, {
        additionalParameters: { resource: resource() },
        ...insecure,
      }),
    );

    // Assess
    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.issuer,
      audience: resource(),
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({
      sub: 'ada@example.com',
      name: 'ada@example.com',
      email: 'ada@example.com',
      client_id: registered.client_id,
      scope: 'mcp:tools mcp:resources',
    });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toMatch(/^[\w-]{43}$/);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const again = await jwtVerify(refreshed.access_token, jwks, {
      issuer: server.issuer,
      audience: resource(),
    });
    expect(again.payload.sub).toBe('ada@example.com');
  });

  it('lets a confidential client (client_secret_post, as Claude registers) log in, and only with its secret', async () => {
    // Prepare
    const client = await publicClient({ token_endpoint_auth_method: 'client_secret_post' });
    const { code, verifier } = await authorizationCode(client, 'claude-user', new UserAgent(), {
      prompt: 'consent',
    });

    // Act
    const withoutSecret = await redeem(client, code, verifier);
    const withSecret = await redeem(client, code, verifier, { client_secret: client.client_secret! });

    // Assess
    expect(withoutSecret.status).toBe(401);
    expect(withoutSecret.body.error).toBe('invalid_client');
    expect(withSecret.status).toBe(200);
    expect(withSecret.body.refresh_token).toBeTruthy();
  });
});

describe('the upstream callback', () => {
  it.each([
    ['no state', ''],
    ['an unknown state', '?state=' + 'A'.repeat(43) + '&code=x'],
    ['a malformed state', '?state=' + '%00'.repeat(5000)],
  ])('shows an error page for %s', async (_case, query) => {
    const response = await fetch(`${server.issuer}/callback${query}`, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('expired');
  });

  it('ends in access_denied at the client when the user cancels upstream', async () => {
    // Prepare
    const client = await publicClient();
    const { challenge } = await pkce();

    // Act
    const step = await startLogin(new UserAgent(), authorizeUrl(client, challenge), server, {
      username: 'ada',
      cancel: true,
    });

    // Assess
    expect(step.redirect).toBeDefined();
    expect(Object.fromEntries(step.redirect!.searchParams)).toMatchObject({
      error: 'access_denied',
      state: 'client-state-1',
      iss: server.issuer,
    });
  });

  it('refuses a callback replayed in another browser (no binding cookie)', async () => {
    // Prepare: the victim's browser starts a login; the attacker captures the callback URL.
    const client = await publicClient();
    const { challenge } = await pkce();
    const victim = new UserAgent();
    const start = await victim.fetch(authorizeUrl(client, challenge));
    const upstreamAuth = await victim.follow(start.headers.get('location')!, [server.upstreamIssuer]);
    const form = /<form[^>]*action="([^"]+)"/.exec(await upstreamAuth.page!.text())![1]!;
    const loggedIn = await victim.follow(new URL(form, upstreamAuth.pageUrl), [server.upstreamIssuer], {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ prompt: 'login', login: 'ada', password: 'x' }),
    });
    const callbackUrl = loggedIn.redirect!;

    // Act
    const response = await new UserAgent().fetch(callbackUrl);

    // Assess
    expect(callbackUrl.href.startsWith(`${server.issuer}/callback`)).toBe(true);
    expect(response.status).toBe(403);
    expect(response.headers.get('location')).toBeNull();
  });
});

describe('consent', () => {
  it('shows the client name as unverified, the redirect host, the scopes in words and the user, unframeable', async () => {
    // Prepare
    const client = await publicClient({ client_name: 'Totally <b>Legit</b> App' });
    const { challenge } = await pkce();

    // Act
    const step = await startLogin(new UserAgent(), authorizeUrl(client, challenge), server, {
      username: 'ada',
    });

    // Assess
    const { html, headers } = step.consent!;
    expect(html).toContain('Totally &lt;b&gt;Legit&lt;/b&gt; App');
    expect(html).toContain('not verified');
    expect(html).toContain('an app on this computer (127.0.0.1:41234)');
    expect(html).toContain('Use the tools of MCP server');
    expect(html).toContain('Read the resources of MCP server');
    expect(html).toContain('Signed in as <bdi>ada</bdi>');
    // Allow is not focused for the user: a key press or a stray click must not approve.
    expect(html).toMatch(/<button[^>]*value="approve"/);
    expect(html).not.toMatch(/autofocus/);
    // The one script is inline and allowed by its hash; nothing is loaded from anywhere.
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script[^>]*src|https?:\/\/(?!127\.0\.0\.1|localhost)/);
    const script = /<script>([^<]*)<\/script>/.exec(html)![1]!;
    const scriptHash = createHash('sha256').update(script).digest('base64');
    expect(headers.get('content-security-policy')).toContain(`script-src 'sha256-${scriptHash}'`);
    expect(headers.get('content-security-policy')).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(headers.get('cache-control')).toBe('no-store');
  });

  it('sends access_denied with state and iss when the user denies', async () => {
    const client = await publicClient();
    const { challenge } = await pkce();
    const agent = new UserAgent();
    const step = await startLogin(agent, authorizeUrl(client, challenge), server, { username: 'ada' });
    const response = await answerConsent(agent, server, step.consent!.fields, 'deny');
    expect(response.status).toBe(303);
    expect(redirectParams(response)).toEqual({
      error: 'access_denied',
      error_description: 'the user denied the request',
      state: 'client-state-1',
      iss: server.issuer,
    });
  });

  it('refuses a forged CSRF token and a form posted from another browser, and still takes the real answer', async () => {
    // Prepare
    const client = await publicClient();
    const { challenge } = await pkce();
    const agent = new UserAgent();
    const step = await startLogin(agent, authorizeUrl(client, challenge), server, { username: 'ada' });
    const fields = step.consent!.fields;

    // Act
    const forged = await answerConsent(agent, server, { ...fields, csrf_token: 'A'.repeat(43) }, 'approve');
    const elsewhere = await answerConsent(new UserAgent(), server, fields, 'approve');
    const real = await answerConsent(agent, server, fields, 'approve');
    const twice = await answerConsent(agent, server, fields, 'approve');

    // Assess
    expect(forged.status).toBe(403);
    expect(elsewhere.status).toBe(403);
    expect(real.status).toBe(303);
    expect(redirectParams(real).code).toBeTruthy();
    expect(twice.status).toBe(400);
  });

  it('is asked every time for a loopback redirect URI, which any local program could claim', async () => {
    // Prepare
    const client = await publicClient();
    await authorizationCode(client, 'ada', new UserAgent());
    const { challenge } = await pkce();

    // Act
    const again = await startLogin(new UserAgent(), authorizeUrl(client, challenge), server, {
      username: 'ada',
    });

    // Assess
    expect(again.consent).toBeDefined();
  });

  it('is remembered per user, client and scopes for a web redirect URI, and asked again for prompt=consent, another user or more scopes', async () => {
    // Prepare
    const web = 'https://app.example/oauth/callback';
    const client = await publicClient({ redirect_uris: [web] });
    await authorizationCode(client, 'ada', new UserAgent(), { scope: 'mcp:tools', redirect_uri: web });
    // A fresh browser each time, so that the upstream asks who logs in.
    const ask = async (username: string, params: Record<string, string>) => {
      const { challenge } = await pkce();
      return startLogin(
        new UserAgent(),
        authorizeUrl(client, challenge, { redirect_uri: web, ...params }),
        server,
        {
          username,
        },
      );
    };

    // Act
    const again = await ask('ada', { scope: 'mcp:tools' });
    const forced = await ask('ada', { scope: 'mcp:tools', prompt: 'consent' });
    const otherUser = await ask('grace', { scope: 'mcp:tools' });
    const moreScopes = await ask('ada', { scope: 'mcp:tools mcp:resources' });

    // Assess
    expect(again.redirect?.searchParams.get('code')).toBeTruthy();
    expect(forced.consent).toBeDefined();
    expect(otherUser.consent).toBeDefined();
    expect(moreScopes.consent).toBeDefined();
  });
});

describe('the authorization code grant', () => {
  it('redeems a code once; a replay is refused and revokes what the code produced', async () => {
    // Prepare
    const client = await publicClient();
    const { code, verifier } = await authorizationCode(client);
    const first = await redeem(client, code, verifier);

    // Act
    const replay = await redeem(client, code, verifier);
    const refreshAfterReplay = await refresh(client, first.body.refresh_token!);

    // Assess
    expect(first.status).toBe(200);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect(refreshAfterReplay.body.error).toBe('invalid_grant');
  });

  it('does not let someone without the verifier revoke a grant by replaying a spent code', async () => {
    // Prepare
    const client = await publicClient();
    const { code, verifier } = await authorizationCode(client);
    const first = await redeem(client, code, verifier);

    // Act
    const replay = await redeem(client, code, (await pkce()).verifier);
    const refreshAfter = await refresh(client, first.body.refresh_token!);

    // Assess
    expect(replay.body.error).toBe('invalid_grant');
    expect(refreshAfter.status).toBe(200);
  });

  it('lets exactly one of 20 parallel redemptions of a code succeed', async () => {
    const client = await publicClient();
    const { code, verifier } = await authorizationCode(client);
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem(client, code, verifier)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(19);
  });

  it.each([
    ['a wrong code_verifier', async () => ({ code_verifier: (await pkce()).verifier }), 'invalid_grant'],
    ['no code_verifier', async () => ({ code_verifier: '' }), 'invalid_request'],
    ['another redirect_uri', async () => ({ redirect_uri: 'http://127.0.0.1:9/callback' }), 'invalid_grant'],
    ['another resource', async () => ({ resource: 'https://other.example/mcp' }), 'invalid_target'],
    ['a made-up code', async () => ({ code: 'B'.repeat(43) }), 'invalid_grant'],
  ])('refuses %s without spending the code', async (_case, change, error) => {
    // Prepare
    const client = await publicClient();
    const { code, verifier } = await authorizationCode(client);
    const fields = Object.fromEntries(Object.entries(await change()).filter(([, v]) => v !== ''));
    const url = new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: client.client_id,
      code,
      code_verifier: verifier,
      redirect_uri: 'http://127.0.0.1:41234/callback',
      resource: resource(),
      ...fields,
    });
    for (const [name, value] of Object.entries(await change())) if (value === '') url.delete(name);

    // Act
    const refused = await tokenRequest(Object.fromEntries(url));
    const honest = await redeem(client, code, verifier);

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe(error);
    expect(honest.status).toBe(200);
  });

  it('refuses a code redeemed by another client', async () => {
    const victim = await publicClient();
    const attacker = await publicClient();
    const { code, verifier } = await authorizationCode(victim);
    const stolen = await redeem(attacker, code, verifier);
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_grant');
    expect((await redeem(victim, code, verifier)).status).toBe(200);
  });
});

describe('the refresh token grant', () => {
  it('rotates the refresh token; the rotated-out one still works inside the grace window', async () => {
    const { client, tokens } = await loggedIn();
    const first = await refresh(client, tokens.refresh_token!);
    const withinGrace = await refresh(client, tokens.refresh_token!);
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(tokens.refresh_token);
    expect(withinGrace.status).toBe(200);
    expect((await refresh(client, first.body.refresh_token!)).status).toBe(200);
  });

  it('lets 10 parallel refreshes of one token succeed, all in one grant family', async () => {
    // Prepare
    const { client, tokens } = await loggedIn();

    // Act
    const results = await Promise.all(
      Array.from({ length: 10 }, () => refresh(client, tokens.refresh_token!)),
    );
    const revoke = await fetch(`${server.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: client.client_id, token: results[0]!.body.refresh_token! }),
    });
    const afterRevoke = await Promise.all(results.map((r) => refresh(client, r.body.refresh_token!)));

    // Assess
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(results.map((r) => r.body.refresh_token)).size).toBe(10);
    expect(revoke.status).toBe(200);
    expect(afterRevoke.map((r) => r.body.error)).toEqual(Array(10).fill('invalid_grant'));
  });

  it('narrows scope for the new access token, and refuses widening scope or resource without spending the token', async () => {
    // Prepare
    const client = await publicClient({ scope: 'mcp:tools mcp:resources' });
    const { code, verifier } = await authorizationCode(client, 'ada', new UserAgent(), {
      scope: 'mcp:tools',
    });
    const { body: tokens } = await redeem(client, code, verifier);

    // Act
    const wider = await refresh(client, tokens.refresh_token!, { scope: 'mcp:tools mcp:resources' });
    const otherResource = await refresh(client, tokens.refresh_token!, {
      resource: 'https://other.example/mcp',
    });
    const same = await refresh(client, tokens.refresh_token!, { scope: 'mcp:tools', resource: resource() });

    // Assess
    expect(wider.body.error).toBe('invalid_scope');
    expect(otherResource.body.error).toBe('invalid_target');
    expect(same.status).toBe(200);
    expect(same.body.scope).toBe('mcp:tools');
  });

  it('lets a client registered only for authorization_code refresh, so it keeps its connection', async () => {
    const client = await publicClient({ grant_types: ['authorization_code'] });
    const { code, verifier } = await authorizationCode(client);
    const { body } = await redeem(client, code, verifier);
    expect((await refresh(client, body.refresh_token!)).status).toBe(200);
  });

  it('keeps refreshed access tokens within the scope the client is registered for now (RFC 7592 update)', async () => {
    // Prepare
    const { client, tokens } = await loggedIn();
    const update = await fetch(client.registration_client_uri, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${client.registration_access_token}`,
      },
      body: JSON.stringify({
        client_id: client.client_id,
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        scope: 'mcp:tools',
      }),
    });

    // Act
    const refreshed = await refresh(client, tokens.refresh_token!);

    // Assess
    expect(tokens.scope).toBe('mcp:tools mcp:resources');
    expect(update.status).toBe(200);
    expect(refreshed.body.scope).toBe('mcp:tools');
  });

  it('refuses another client presenting the refresh token', async () => {
    const { tokens } = await loggedIn();
    const other = await publicClient();
    const stolen = await refresh(other, tokens.refresh_token!);
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_grant');
  });

  it('revokes the whole family when a rotated-out token is used after the grace window', async () => {
    // Prepare: a server whose grace window is one second.
    const strict = await startTestServer({ env: { REFRESH_TOKEN_REUSE_GRACE_SECONDS: '1' } });
    try {
      const client = await registerClient(strict.issuer, {
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
      });
      const { verifier, challenge } = await pkce();
      const redirect = await login(
        new UserAgent(),
        authorizeUrl(client, challenge, { resource: `${strict.issuer}/mcp` }, strict.issuer),
        strict,
        'ada',
      );
      const post = (fields: Record<string, string>) =>
        fetch(`${strict.issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ client_id: client.client_id, ...fields }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> }));
      const tokens = await post({
        grant_type: 'authorization_code',
        code: redirect.searchParams.get('code')!,
        code_verifier: verifier,
        redirect_uri: 'http://127.0.0.1:41234/callback',
      });
      const rotated = await post({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token! });

      // Act
      await new Promise((done) => setTimeout(done, 2100));
      const reuse = await post({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token! });
      const successor = await post({
        grant_type: 'refresh_token',
        refresh_token: rotated.body.refresh_token!,
      });

      // Assess
      expect(rotated.status).toBe(200);
      expect(reuse.body.error).toBe('invalid_grant');
      expect(successor.body.error).toBe('invalid_grant');
    } finally {
      await strict.close();
    }
  });
});

describe('revocation (RFC 7009)', () => {
  const revoke = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${server.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields),
    });

  it('revokes the grant of a refresh token for its own client', async () => {
    const { client, tokens } = await loggedIn();
    const response = await revoke({ client_id: client.client_id, token: tokens.refresh_token! });
    expect(response.status).toBe(200);
    expect((await refresh(client, tokens.refresh_token!)).body.error).toBe('invalid_grant');
  });

  it('answers 200 to another client but leaves the token working', async () => {
    const { client, tokens } = await loggedIn();
    const other = await publicClient();
    const response = await revoke({ client_id: other.client_id, token: tokens.refresh_token! });
    expect(response.status).toBe(200);
    expect((await refresh(client, tokens.refresh_token!)).status).toBe(200);
  });

  it.each([
    ['an unknown token', 'C'.repeat(43)],
    ['an access token', 'eyJhbGciOiJSUzI1NiJ9.e30.sig'],
  ])('answers 200 for %s', async (_case, token) => {
    const client = await publicClient();
    expect((await revoke({ client_id: client.client_id, token })).status).toBe(200);
  });

  it('requires client authentication as the token endpoint does', async () => {
    const confidential = await publicClient({ token_endpoint_auth_method: 'client_secret_basic' });
    const anonymous = await revoke({ token: 'C'.repeat(43) });
    const wrongSecret = await revoke(
      { token: 'C'.repeat(43) },
      { authorization: basicAuth(confidential.client_id, 'nope') },
    );
    const missingToken = await revoke(
      {},
      { authorization: basicAuth(confidential.client_id, confidential.client_secret!) },
    );
    expect(anonymous.status).toBe(401);
    expect(wrongSecret.status).toBe(401);
    expect(missingToken.status).toBe(400);
    expect(((await missingToken.json()) as { error: string }).error).toBe('invalid_request');
  });
});
