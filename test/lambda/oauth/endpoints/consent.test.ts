/**
 * The consent form's CSRF token at the unit level (issue 24: it rested on one integration test).
 * `consent()` runs against an in-memory pending authorization with the browser-binding cookie
 * right, so only the CSRF token decides: the token issued with this login's page lets the user's
 * answer through; any other, or none, is refused and leaves the pending authorization untouched.
 */
import { newBrowserBinding } from '../../../../lambda/oauth/login/authorization-response.js';
import type { ClientStore } from '../../../../lambda/oauth/stores/client-store.js';
import { consent } from '../../../../lambda/oauth/endpoints/consent.js';
import type { OAuthDeps } from '../../../../lambda/oauth/deps.js';
import type { GrantStore, PendingAuthorization } from '../../../../lambda/oauth/stores/grant-store.js';
import { loadConfig } from '../../../../lambda/shared/config.js';
import { randomToken, sha256 } from '../../../../lambda/shared/crypto.js';
import { createLogger } from '../../../../lambda/shared/logger.js';

const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
const config = loadConfig({ ISSUER: 'https://as.example' });

/** A login that reached the consent page: its handle, its page's CSRF token and its browser's cookie. */
function setup() {
  const lines: string[] = [];
  const deps = {
    config,
    logger: createLogger('oauth', { level: 'info', write: (line) => lines.push(line) }),
    now: () => NOW_MS,
  } as Partial<OAuthDeps> as OAuthDeps;
  const handle = randomToken();
  const csrfToken = randomToken();
  const binding = newBrowserBinding(sha256(handle), deps);
  const pending: PendingAuthorization = {
    request: {
      clientId: 'client-1',
      redirectUri: 'http://127.0.0.1:5000/callback',
      redirectUriSent: true,
      codeChallenge: 'challenge',
      scope: 'mcp:tools',
      audience: config.mcpResource,
      state: 'client-state',
      forceConsent: false,
    },
    upstream: { codeVerifier: 'verifier', nonce: 'nonce' },
    browserHash: binding.hash,
    identity: { sub: 'ada' },
    csrfHash: sha256(csrfToken),
    expiresAt: NOW_MS / 1000 + 600,
  };
  const store = new Map([[sha256(handle), pending]]);
  const codes: string[] = [];
  deps.grants = {
    getPending: async (hash: string) => store.get(hash),
    takePending: async (hash: string) => {
      const taken = store.get(hash);
      store.delete(hash);
      return taken;
    },
    saveConsent: async () => undefined,
    createFamily: async () => undefined,
    saveCode: async (hash: string) => {
      codes.push(hash);
    },
  } as Partial<GrantStore> as GrantStore;
  deps.clients = { recordLogin: async () => undefined } as Partial<ClientStore> as ClientStore;
  const cookie = binding.setCookie.split(';')[0]!;
  const answer = (form: Record<string, string>) =>
    consent(
      new Request(`${config.issuer}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams(form).toString(),
      }),
      deps,
    );
  const audits = () => lines.map((line) => JSON.parse(line)).filter((line) => 'audit' in line);
  return { handle, csrfToken, answer, store, codes, audits };
}

describe("the consent form's CSRF token", () => {
  it('lets the answer through with the token issued with this login, and issues a code', async () => {
    // Prepare
    const { handle, csrfToken, answer, store, codes } = setup();

    // Act
    const response = await answer({ authorization: handle, csrf_token: csrfToken, decision: 'approve' });

    // Assess
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('code')).toEqual(expect.any(String));
    expect(codes).toHaveLength(1);
    expect(store.size).toBe(0);
  });

  it.each<[string, (issued: string) => string]>([
    ['another issued token (another login’s page)', () => randomToken()],
    [
      'its own token with one character changed',
      (issued) => (issued[0] === 'A' ? 'B' : 'A') + issued.slice(1),
    ],
  ])('refuses %s with 403, issuing nothing and leaving the login pending', async (_, forge) => {
    // Prepare
    const { handle, csrfToken, answer, store, codes } = setup();

    for (const decision of ['approve', 'deny']) {
      // Act
      const response = await answer({ authorization: handle, csrf_token: forge(csrfToken), decision });

      // Assess
      expect(response.status).toBe(403);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toContain('This consent form does not belong to this browser.');
    }
    expect(codes).toEqual([]);
    expect(store.size).toBe(1);
  });

  it.each<[string, Record<string, string>]>([
    ['no token', {}],
    ['an empty token', { csrf_token: '' }],
    ['a token that is not one this server issues', { csrf_token: 'x' }],
  ])('refuses %s with 400, issuing nothing', async (_, extra) => {
    // Prepare
    const { handle, answer, store, codes } = setup();

    // Act
    const response = await answer({ authorization: handle, decision: 'approve', ...extra });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(codes).toEqual([]);
    expect(store.size).toBe(1);
  });

  it("refuses a login's token on another login's form", async () => {
    // Prepare: two logins in the same browser; the page of the second posts the first one's token.
    const first = setup();
    const second = setup();

    // Act
    const response = await second.answer({
      authorization: second.handle,
      csrf_token: first.csrfToken,
      decision: 'approve',
    });

    // Assess
    expect(response.status).toBe(403);
    expect(second.codes).toEqual([]);
  });
});

describe('the consent audit line', () => {
  it.each([
    ['approve', 'granted'],
    ['deny', 'denied'],
  ])('says the user answered %s: %s, with who, which client and which scopes', async (decision, logged) => {
    // Prepare
    const { handle, csrfToken, answer, audits } = setup();

    // Act
    await answer({ authorization: handle, csrf_token: csrfToken, decision });

    // Assess
    expect(audits()).toEqual([
      expect.objectContaining({
        audit: 'consent',
        decision: logged,
        sub: 'ada',
        clientId: 'client-1',
        scope: 'mcp:tools',
      }),
    ]);
  });

  it('is not written for a refused form', async () => {
    // Prepare
    const { handle, answer, audits } = setup();

    // Act
    await answer({ authorization: handle, csrf_token: randomToken(), decision: 'approve' });

    // Assess
    expect(audits()).toEqual([]);
  });
});
