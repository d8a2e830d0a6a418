/**
 * The main use of the product, end to end: an MCP client that knows nothing but the /mcp URL
 * gets a 401, discovers the authorization server, registers itself, opens a real browser where
 * the user logs in at the upstream provider and consents, receives the code on a loopback
 * callback, redeems it with PKCE, calls a tool as the logged-in user, and later refreshes.
 * The client side is the v1 MCP SDK's own OAuth machinery (`auth()` and the transport's
 * `authProvider`); the browser is headless Chromium.
 */
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { launchChromium, runBrowserTests } from '../support/browser.js';
import { startTestServer } from '../support/local-server.js';
import type { LocalServer } from '../../lib/local/server.js';
import {
  BrowserOAuthProvider,
  connectWithLogin,
  LoopbackCallback,
} from '../support/oauth-client-provider.js';

const describeWithBrowser = runBrowserTests ? describe : describe.skip;

describeWithBrowser('v1 SDK client logging a user in through the browser', () => {
  let server: LocalServer;
  let browser: Browser;
  let callback: LoopbackCallback;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    callback = new LoopbackCallback();
    await callback.start();
  });

  afterAll(async () => {
    await browser?.close();
    await callback?.close();
    await server?.close();
  });

  it('goes from a 401 to a tool call as the user who logged in, then refreshes', async () => {
    // Prepare
    const mcpUrl = new URL(`${server.issuer}/mcp`);
    const provider = new BrowserOAuthProvider(browser, server, callback, { username: 'ada@example.com' });
    const client = new Client({ name: 'login-e2e', version: '1.0.0' });

    // Act: the first connection fails with 401 and runs discovery, registration and the login.
    const response = await connectWithLogin(client, mcpUrl, provider);
    const me = await client.callTool({ name: 'get_user_info', arguments: {} });
    const sum = await client.callTool({ name: 'add', arguments: { a: 20, b: 22 } });
    await client.close();

    // Assess
    expect(response.get('iss')).toBe(server.issuer);
    expect(provider.client?.client_id).toBeTruthy();
    expect(me.structuredContent).toMatchObject({
      sub: 'ada@example.com',
      name: 'ada@example.com',
      email: 'ada@example.com',
      client_id: provider.client!.client_id,
      issuer: server.issuer,
    });
    expect(sum.structuredContent).toEqual({ sum: 42 });

    // Act: refresh through the SDK, then call again with the new access token.
    const before = provider.savedTokens!;
    expect(before.refresh_token).toBeTruthy();
    const result = await auth(provider, { serverUrl: mcpUrl });
    const after = provider.savedTokens!;
    const again = new Client({ name: 'login-e2e', version: '1.0.0' });
    await again.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
    const meAgain = await again.callTool({ name: 'get_user_info', arguments: {} });
    await again.close();

    // Assess
    expect(result).toBe('AUTHORIZED');
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).toBeTruthy();
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(meAgain.structuredContent).toMatchObject({ sub: 'ada@example.com' });
  });
});
