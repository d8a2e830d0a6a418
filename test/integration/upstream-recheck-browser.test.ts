/**
 * The company's identity provider stays in charge for the life of a grant (issue 19), end to end:
 * headless Chromium logs users in at a real OpenID provider on loopback (`oidc-provider`, the
 * local provider, configured per server here), the real local server keeps the upstream refresh
 * token encrypted, and refreshes through the real `/token` re-check it at the provider. The
 * tests control the provider (disable a user, change groups, an outage) and the oauth function's
 * clock (`now`): a login is placed in the past, so the re-check interval, the outage grace and
 * the session cap are reached without waiting. `/mcp` runs on the real clock.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, runBrowserTests } from '../support/browser.js';
import { registerClient, startTestServer, toolCallInit } from '../support/local-server.js';
import type { LocalServer } from '../../lib/local/server.js';

const describeWithBrowser = runBrowserTests ? describe : describe.skip;

const REDIRECT_URI = 'http://127.0.0.1:41999/callback';
const RECHECK = 900;

interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
}

/** A server whose oauth clock runs `offset` seconds from the real one. */
interface Harness {
  server: LocalServer;
  clock: { offsetSeconds: number };
  lines: string[];
}

async function startHarness(
  env: Record<string, string> = {},
  localUpstream: { refreshTokens?: boolean } = {},
): Promise<Harness> {
  const clock = { offsetSeconds: 0 };
  const lines: string[] = [];
  const server = await startTestServer({
    env: { REVOCATION_REFRESH_SECONDS: '1', ...env },
    logLevel: 'debug',
    writeFunctionLog: (line) => lines.push(line),
    localUpstream,
    now: () => Date.now() + clock.offsetSeconds * 1000,
  });
  return { server, clock, lines };
}

/** What the browser saw: the consent page's text (when one was shown) and the final redirect. */
interface BrowserLogin {
  consentText?: string;
  redirect: URL;
}

/** The first redirect of `issuer` that leaves it and the upstream: the client's redirect URI. */
function finalRedirect(page: Page, issuer: string, upstream: string): Promise<URL> {
  return new Promise((resolve) => {
    page.on('response', (response) => {
      const location = response.headers()['location'];
      if (!response.url().startsWith(issuer) || !location) return;
      const target = new URL(location, response.url());
      if (!target.href.startsWith(issuer) && !target.href.startsWith(upstream)) resolve(target);
    });
  });
}

async function browserLogin(browser: Browser, server: LocalServer, url: string, username: string) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const redirected = finalRedirect(page, server.issuer, server.upstreamIssuer);
    await page.goto(url);
    await page.fill('input[name="login"]', username);
    await page.fill('input[name="password"]', 'any password');
    await page.click('button[type="submit"]');
    const first = await Promise.race([
      redirected,
      page.waitForSelector('button[name="decision"][value="approve"]').then(() => null),
    ]);
    if (first) return { redirect: first } satisfies BrowserLogin;
    const consentText = (await page.textContent('body')) ?? '';
    await page.click('button[name="decision"][value="approve"]').catch(() => undefined);
    return { consentText, redirect: await redirected } satisfies BrowserLogin;
  } finally {
    await context.close();
  }
}

/**
 * A desktop client registers, the user logs in through the browser at `clock.offsetSeconds`,
 * and the code is redeemed: the tokens, the client id and what the browser saw.
 */
async function login(
  h: Harness,
  browser: Browser,
  username: string,
  scope = 'mcp:tools',
): Promise<{ clientId: string; tokens?: Tokens; seen: BrowserLogin }> {
  const { server } = h;
  const client = await registerClient(server.issuer, {
    client_name: 'Re-check test app',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    scope: 'mcp:tools mcp:resources',
  });
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${server.issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    scope,
    state: 'state-1',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    resource: `${server.issuer}/mcp`,
  }).toString();
  const seen = await browserLogin(browser, server, url.href, username);
  const code = seen.redirect.searchParams.get('code');
  if (!code) return { clientId: client.client_id, seen };
  const response = await token(server, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    client_id: client.client_id,
  });
  expect(response.status).toBe(200);
  return { clientId: client.client_id, tokens: response.body as unknown as Tokens, seen };
}

async function token(server: LocalServer, form: Record<string, string>) {
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, string>,
  };
}

const refresh = (server: LocalServer, clientId: string, refreshToken: string) =>
  token(server, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });

async function callTool(server: LocalServer, accessToken: string): Promise<number> {
  const response = await fetch(`${server.issuer}/mcp`, toolCallInit(accessToken));
  await response.text();
  return response.status;
}

/** Polls `/mcp` until the token is refused or 10 s pass; answers the last status. */
async function untilRefused(server: LocalServer, accessToken: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await callTool(server, accessToken);
    if (status !== 200 || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describeWithBrowser('the identity provider governs a grant for its whole life', () => {
  let browser: Browser;
  let h: Harness;

  beforeAll(async () => {
    browser = await launchChromium();
    h = await startHarness({ SCOPE_POLICY: '{"scopes":{"mcp:resources":["readers"]}}' });
  });
  afterAll(async () => {
    await h?.server.close();
    await browser?.close();
  });
  afterEach(() => {
    h.server.upstreamControls!.setOutage(false);
    h.clock.offsetSeconds = 0;
  });

  it('refuses the refresh of a user disabled upstream once the re-check is due, and their access token leaves /mcp', async () => {
    // Prepare: a login 1000 s ago; the user is disabled upstream after it.
    h.clock.offsetSeconds = -1000;
    const { clientId, tokens } = await login(h, browser, 'leaver@example.com');
    h.server.upstreamControls!.disable('leaver@example.com');

    // Act: within the interval, no re-check is due and the refresh goes through (the bound)...
    h.clock.offsetSeconds = -1000 + RECHECK - 60;
    const within = await refresh(h.server, clientId, tokens!.refresh_token);
    // ... once it is due, the upstream is asked and refuses.
    h.clock.offsetSeconds = 0;
    const due = await refresh(h.server, clientId, within.body.refresh_token!);

    // Assess
    expect(within.status).toBe(200);
    expect(due.status).toBe(400);
    expect(due.body.error).toBe('invalid_grant');
    expect(await untilRefused(h.server, within.body.access_token!)).toBe(401);
    // The family is revoked: even the token refused just now is no way back in later.
    expect((await refresh(h.server, clientId, within.body.refresh_token!)).status).toBe(400);
  });

  it('keeps refreshing a user still enabled upstream, through the rotation of their upstream refresh token', async () => {
    // Prepare: a login 2000 s ago; the local provider rotates its refresh token on each use.
    h.clock.offsetSeconds = -2000;
    const { clientId, tokens } = await login(h, browser, 'stayer@example.com');

    // Act: two re-checks, the second one with the upstream token the first one received.
    h.clock.offsetSeconds = -1000;
    const first = await refresh(h.server, clientId, tokens!.refresh_token);
    h.clock.offsetSeconds = 0;
    const second = await refresh(h.server, clientId, first.body.refresh_token!);

    // Assess
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(await callTool(h.server, second.body.access_token!)).toBe(200);
  });

  it('withholds a group-restricted scope from a non-member at login, and says so on the consent page', async () => {
    // Prepare
    h.server.upstreamControls!.setGroups('reader@example.com', ['readers']);

    // Act
    const member = await login(h, browser, 'reader@example.com', 'mcp:tools mcp:resources');
    const outsider = await login(h, browser, 'outsider@example.com', 'mcp:tools mcp:resources');
    const onlyRestricted = await login(h, browser, 'outsider2@example.com', 'mcp:resources');

    // Assess
    expect(member.tokens!.scope).toBe('mcp:tools mcp:resources');
    expect(member.seen.consentText).not.toContain('you will not be given');
    expect(outsider.tokens!.scope).toBe('mcp:tools');
    expect(outsider.seen.consentText).toContain('you will not be given');
    expect(outsider.seen.consentText).toContain('Read the resources of');
    expect(onlyRestricted.tokens).toBeUndefined();
    expect(onlyRestricted.seen.redirect.searchParams.get('error')).toBe('access_denied');
  });

  it('drops a scope at the next re-check when the user leaves its group, and revokes a grant left with none', async () => {
    // Prepare: two grants of a reader, one with mcp:resources only.
    h.server.upstreamControls!.setGroups('mover@example.com', ['readers']);
    h.clock.offsetSeconds = -1000;
    const both = await login(h, browser, 'mover@example.com', 'mcp:tools mcp:resources');
    const onlyRestricted = await login(h, browser, 'mover@example.com', 'mcp:resources');
    h.server.upstreamControls!.setGroups('mover@example.com', []);

    // Act
    h.clock.offsetSeconds = 0;
    const narrowed = await refresh(h.server, both.clientId, both.tokens!.refresh_token);
    const emptied = await refresh(h.server, onlyRestricted.clientId, onlyRestricted.tokens!.refresh_token);

    // Assess
    expect(both.tokens!.scope).toBe('mcp:tools mcp:resources');
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('mcp:tools');
    expect(emptied.status).toBe(400);
    expect(emptied.body.error).toBe('invalid_grant');
  });

  it('lets refreshes through an upstream outage within the grace, then answers 503 without spending the token', async () => {
    // Prepare: one login 1000 s ago (within the grace), one 4000 s ago (past it).
    h.clock.offsetSeconds = -1000;
    const recent = await login(h, browser, 'recent@example.com');
    h.clock.offsetSeconds = -4000;
    const old = await login(h, browser, 'old@example.com');
    h.clock.offsetSeconds = 0;

    // Act
    h.server.upstreamControls!.setOutage(true);
    const withinGrace = await refresh(h.server, recent.clientId, recent.tokens!.refresh_token);
    const pastGrace = await refresh(h.server, old.clientId, old.tokens!.refresh_token);
    const tokenStillWorks = await callTool(h.server, withinGrace.body.access_token!);
    h.server.upstreamControls!.setOutage(false);
    const afterOutage = await refresh(h.server, old.clientId, old.tokens!.refresh_token);

    // Assess: nothing revoked; the same refresh token works once the provider is back.
    expect(withinGrace.status).toBe(200);
    expect(pastGrace.status).toBe(503);
    expect(pastGrace.body.error).toBe('temporarily_unavailable');
    expect(Number(pastGrace.retryAfter)).toBeGreaterThan(0);
    expect(tokenStillWorks).toBe(200);
    expect(afterOutage.status).toBe(200);
  });

  it('writes nothing the identity provider issued into any log line, at debug level', () => {
    // Assess: the tokens the provider issued during every test above.
    const issued = h.server.upstreamControls!.issuedTokens();
    expect(issued.length).toBeGreaterThan(10);
    expect(h.lines.length).toBeGreaterThan(0);
    expect(h.lines.some((line) => line.includes('grant re-checked at the identity provider'))).toBe(true);
    const leaked = issued.filter((value) => h.lines.some((line) => line.includes(value)));
    expect(leaked).toEqual([]);
  });
});

describeWithBrowser('a provider that issues no refresh token', () => {
  let browser: Browser;
  let h: Harness;

  beforeAll(async () => {
    browser = await launchChromium();
    h = await startHarness({}, { refreshTokens: false });
  });
  afterAll(async () => {
    await h?.server.close();
    await browser?.close();
  });

  it('ends the grant upstreamSessionMaxSeconds after the login', async () => {
    // Prepare: one login 1000 s ago, one just past the 12 hours.
    h.clock.offsetSeconds = -1000;
    const recent = await login(h, browser, 'ada@example.com');
    h.clock.offsetSeconds = -(43_200 + 10);
    const old = await login(h, browser, 'ada@example.com');
    h.clock.offsetSeconds = 0;

    // Act
    const withinCap = await refresh(h.server, recent.clientId, recent.tokens!.refresh_token);
    const pastCap = await refresh(h.server, old.clientId, old.tokens!.refresh_token);

    // Assess
    expect(withinCap.status).toBe(200);
    expect(pastCap.status).toBe(400);
    expect(pastCap.body.error).toBe('invalid_grant');
  });
});
