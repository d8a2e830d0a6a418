/**
 * The local provider's `/users` page (`lib/local/upstream-provider.ts`), as a developer uses it
 * under `npm start` to watch groups and offboarding: a form sets a user's groups and disables
 * them, the next login sees it, and a form posted from another origin changes nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { LocalServer } from '../../lib/local/server.js';
import { registerClient, startTestServer } from '../support/local-server.js';
import { login, startLogin, UserAgent } from '../support/user-agent.js';

let server: LocalServer;

beforeAll(async () => {
  server = await startTestServer({ env: { SCOPE_POLICY: '{"scopes":{"mcp:resources":["readers"]}}' } });
});
afterAll(async () => {
  await server.close();
});

function postUsers(form: Record<string, string>, origin = server.upstreamIssuer) {
  return fetch(`${server.upstreamIssuer}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams(form),
    redirect: 'manual',
  });
}

/** Logs `username` in for `mcp:resources`; answers the client's redirect. */
async function loginFor(username: string): Promise<URL> {
  const client = await registerClient(server.issuer, {
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  });
  const url = new URL(`${server.issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: 'http://127.0.0.1/callback',
    scope: 'mcp:resources',
    code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const agent = new UserAgent();
  const step = await startLogin(agent, url.href, server, { username });
  if (step.redirect) return step.redirect;
  return login(agent, url.href, server, username);
}

describe("the local provider's /users page", () => {
  it('sets groups that the next login is granted scopes by', async () => {
    // Prepare
    const before = await loginFor('grace@example.com');

    // Act
    const set = await postUsers({ user: 'grace@example.com', action: 'groups', groups: 'readers writers' });
    const after = await loginFor('grace@example.com');
    const page = await (await fetch(`${server.upstreamIssuer}/users`)).text();

    // Assess: without the group, the only scope asked for is withheld; with it, granted.
    expect(before.searchParams.get('error')).toBe('access_denied');
    expect(set.status).toBe(303);
    expect(after.searchParams.get('code')).toBeTruthy();
    expect(page).toContain('grace@example.com');
    expect(page).toContain('value="readers writers"');
  });

  it('disables a user, who can then no longer log in', async () => {
    // Act
    await postUsers({ user: 'linus@example.com', action: 'groups', groups: 'readers' });
    const disabled = await postUsers({ user: 'linus@example.com', action: 'disable' });
    const refused = await loginFor('linus@example.com').catch((error: Error) => error);
    await postUsers({ user: 'linus@example.com', action: 'enable' });
    const enabled = await loginFor('linus@example.com');

    // Assess
    expect(disabled.status).toBe(303);
    expect(refused instanceof URL ? refused.searchParams.get('code') : null).toBeNull();
    expect(enabled.searchParams.get('code')).toBeTruthy();
  });

  it('refuses a form posted from another origin', async () => {
    // Act
    const response = await postUsers(
      { user: 'mallory@example.com', action: 'groups', groups: 'readers' },
      'https://evil.example',
    );
    const page = await (await fetch(`${server.upstreamIssuer}/users`)).text();

    // Assess
    expect(response.status).toBe(403);
    expect(page).not.toContain('mallory@example.com');
  });
});
