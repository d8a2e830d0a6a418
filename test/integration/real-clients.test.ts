/**
 * The registration bodies and redirects that shipping MCP clients send (see the interop notes in
 * doc/clients.md), each taken through the whole flow in headless Chromium: DCR, login at the
 * local upstream, consent, the redirect back (to a private-use scheme, a web callback or a
 * loopback port), the code exchange with the client's own authentication, a tool call as the
 * user, and a refresh. Chromium enforces the consent page's Content-Security-Policy, including
 * `form-action` on the redirect that follows the form, so a policy that blocked any of these
 * redirect targets would show here.
 */
import type { Browser } from 'playwright-core';
import * as oauth from 'oauth4webapi';
import type { LocalServer } from '../../lib/local/server.js';
import { launchChromium, loginInBrowser, runBrowserTests } from '../support/browser.js';
import {
  registerClient,
  startTestServer,
  toolCallInit,
  type RegisteredClient,
} from '../support/local-server.js';

const describeWithBrowser = runBrowserTests ? describe : describe.skip;

interface RealClient {
  name: string;
  registration: Record<string, unknown>;
  /** The redirect URI it uses at /authorize (a loopback one on the port it happened to bind). */
  redirectUri: string;
  /** Extra authorization request parameters it sends. */
  extra?: Record<string, string>;
}

const CLIENTS: RealClient[] = [
  {
    name: 'Cursor (three redirect URIs, public, private-use scheme)',
    registration: {
      client_name: 'Cursor',
      redirect_uris: [
        'cursor://anysphere.cursor-mcp/oauth/callback',
        'https://www.cursor.com/agents/mcp/oauth/callback',
        'http://localhost:8787/callback',
      ],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    redirectUri: 'cursor://anysphere.cursor-mcp/oauth/callback',
  },
  {
    name: 'Claude (client_secret_post, prompt=consent, web callback)',
    registration: {
      client_name: 'Claude',
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'mcp:tools',
    },
    redirectUri: 'https://claude.ai/api/mcp/auth_callback',
    extra: { prompt: 'consent', scope: 'mcp:tools' },
  },
  {
    name: 'VS Code (native, four URIs, 127.0.0.1 on a random port)',
    registration: {
      client_name: 'Visual Studio Code',
      redirect_uris: [
        'https://vscode.dev/redirect',
        'https://insiders.vscode.dev/redirect',
        'http://127.0.0.1/',
        'http://127.0.0.1:33418/',
      ],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    },
    redirectUri: 'http://127.0.0.1:50817/',
  },
  {
    name: 'Claude Code (native, ephemeral loopback port)',
    registration: {
      client_name: 'Claude Code',
      redirect_uris: ['http://localhost:41873/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    },
    redirectUri: 'http://localhost:52240/callback',
  },
  {
    name: 'MCP Inspector (browser app on localhost:6274)',
    registration: {
      client_name: 'MCP Inspector',
      redirect_uris: ['http://localhost:6274/oauth/callback', 'http://localhost:6274/oauth/callback/debug'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    redirectUri: 'http://localhost:6274/oauth/callback',
  },
  {
    name: 'ChatGPT (DCR, web callback)',
    registration: {
      client_name: 'ChatGPT',
      redirect_uris: ['https://chatgpt.com/connector_platform_oauth_redirect'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
    redirectUri: 'https://chatgpt.com/connector_platform_oauth_redirect',
  },
];

describeWithBrowser('real clients through the whole login', () => {
  let server: LocalServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const token = async (client: RegisteredClient, fields: Record<string, string>) => {
    const response = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: client.client_id,
        ...(client.client_secret ? { client_secret: client.client_secret } : {}),
        resource: `${server.issuer}/mcp`,
        ...fields,
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  };

  const whoAmI = async (accessToken: string) => {
    const response = await fetch(`${server.issuer}/mcp`, toolCallInit(accessToken, {}, 'get_user_info'));
    return ((await response.json()) as { result: { structuredContent: Record<string, unknown> } }).result
      .structuredContent;
  };

  it.each(CLIENTS.map((c) => [c.name, c] as const))('%s', async (_name, real) => {
    // Prepare
    const client = await registerClient(server.issuer, real.registration);
    const verifier = oauth.generateRandomCodeVerifier();
    const authorizationUrl = `${server.issuer}/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: real.redirectUri,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'state-of-the-client',
      resource: `${server.issuer}/mcp`,
      ...real.extra,
    })}`;

    // Act
    const login = await loginInBrowser(browser, authorizationUrl, server, { username: 'lin@example.com' });
    await login.context.close();
    const code = login.redirect.searchParams.get('code')!;
    const tokens = await token(client, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: real.redirectUri,
    });
    const me = await whoAmI(tokens.body.access_token!);
    const refreshed = await token(client, {
      grant_type: 'refresh_token',
      refresh_token: tokens.body.refresh_token!,
    });

    // Assess
    expect(login.redirect.href.startsWith(real.redirectUri)).toBe(true);
    expect(login.redirect.searchParams.get('state')).toBe('state-of-the-client');
    expect(login.redirect.searchParams.get('iss')).toBe(server.issuer);
    expect(login.cspViolations).toEqual([]);
    expect(tokens.status).toBe(200);
    expect(me).toMatchObject({
      sub: 'lin@example.com',
      email: 'lin@example.com',
      client_id: client.client_id,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).toBeTruthy();
  });
});
