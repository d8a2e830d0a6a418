/**
 * A client ID metadata document client, end to end in the browser: a loopback server serves the
 * document (the local server runs with `CIMD_ALLOW_HTTP_LOOPBACK=1`), the v1 MCP SDK client uses
 * the document's URL as its `client_id` without registering, the user logs in and consents in
 * headless Chromium, the client redeems the code with no secret, calls a tool, and refreshes.
 */
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Browser } from 'playwright-core';
import type { LocalServer } from '../../lib/local/server.js';
import { launchChromium, runBrowserTests } from '../support/browser.js';
import { DocumentServer } from '../support/document-server.js';
import { startTestServer } from '../support/local-server.js';
import {
  BrowserOAuthProvider,
  connectWithLogin,
  LoopbackCallback,
} from '../support/oauth-client-provider.js';

const describeWithBrowser = runBrowserTests ? describe : describe.skip;

describeWithBrowser('a metadata document client logging a user in through the browser', () => {
  let server: LocalServer;
  let browser: Browser;
  let callback: LoopbackCallback;
  const documents = new DocumentServer();

  beforeAll(async () => {
    await documents.start();
    server = await startTestServer({ env: { CIMD_ALLOW_HTTP_LOOPBACK: '1' } });
    browser = await launchChromium();
    callback = new LoopbackCallback();
    await callback.start();
  });

  afterAll(async () => {
    await browser?.close();
    await callback?.close();
    await server?.close();
    await documents.close();
  });

  it('logs in with the document URL as client_id, calls a tool, and refreshes with no secret', async () => {
    // Prepare: the document lists the port-less loopback callback, as Claude Code's does
    const clientId = `${documents.origin()}/oauth/client-metadata.json`;
    documents.json('/oauth/client-metadata.json', {
      client_id: clientId,
      client_name: 'CIMD e2e client',
      redirect_uris: ['http://localhost/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    const mcpUrl = new URL(`${server.issuer}/mcp`);
    const provider = new BrowserOAuthProvider(browser, server, callback, { username: 'lin@example.com' });
    provider.client = { client_id: clientId };
    const client = new Client({ name: 'cimd-e2e', version: '1.0.0' });

    // Act
    await connectWithLogin(client, mcpUrl, provider);
    const me = await client.callTool({ name: 'get_user_info', arguments: {} });
    await client.close();
    const before = provider.savedTokens!;
    const refreshed = await auth(provider, { serverUrl: mcpUrl });

    // Assess
    expect(provider.client).toMatchObject({ client_id: clientId });
    expect(provider.client).not.toHaveProperty('client_secret');
    expect(me.structuredContent).toMatchObject({ sub: 'lin@example.com', client_id: clientId });
    expect(refreshed).toBe('AUTHORIZED');
    expect(provider.savedTokens!.access_token).not.toBe(before.access_token);
    expect(documents.requests.length).toBe(1);
  });
});
