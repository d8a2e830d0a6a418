/**
 * An `OAuthClientProvider` for the v1 MCP SDK client, as a desktop client implements it: it
 * keeps its registration, tokens and PKCE verifier in memory, and opens authorization URLs in
 * the test's Chromium, where the user logs in and consents. A loopback server receives the
 * redirect, as Claude Code, VS Code and mcp-remote do.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Browser } from 'playwright-core';
import { loginInBrowser, type LoginOptions } from './browser.js';

/** A loopback HTTP server that waits for the authorization response on `/callback`. */
export class LoopbackCallback {
  private server: Server | undefined;
  private waiters: ((query: URLSearchParams) => void)[] = [];
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.');
      if (url.pathname === '/callback') this.waiters.shift()?.(url.searchParams);
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', () => done()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://localhost:${this.port}/callback`;
  }

  /** The query of the next request to `/callback`. */
  next(): Promise<URLSearchParams> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }
}

export class BrowserOAuthProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  savedTokens: OAuthTokens | undefined;
  private verifier = '';
  /** The authorization response the loopback server received for the last login. */
  lastResponse: Promise<URLSearchParams> | undefined;

  constructor(
    private readonly browser: Browser,
    private readonly server: { issuer: string; upstreamIssuer: string },
    private readonly callback: LoopbackCallback,
    private readonly login: LoginOptions,
    private readonly metadata: Partial<OAuthClientMetadata> = {},
  ) {}

  get redirectUrl(): string {
    return this.callback.url;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'SDK login test',
      redirect_uris: [this.callback.url],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...this.metadata,
    };
  }

  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.savedTokens = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    this.lastResponse = this.callback.next();
    const { context } = await loginInBrowser(this.browser, url.href, this.server, this.login);
    await this.lastResponse;
    await context.close();
  }
}

/**
 * Connects `client` to `mcpUrl` the way an SDK-based desktop client does: the first attempt gets
 * 401 and runs the provider's discovery, registration and browser login; the code the loopback
 * callback received is redeemed, and a second attempt connects. Answers that authorization
 * response (`code`, `state`, `iss`).
 */
export async function connectWithLogin(
  client: Client,
  mcpUrl: URL,
  provider: BrowserOAuthProvider,
): Promise<URLSearchParams> {
  const firstTry = client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
  const refused = await firstTry.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(refused instanceof UnauthorizedError)) {
    throw new Error(`expected the first connection to need a login, got ${String(refused)}`);
  }
  const response = await provider.lastResponse!;
  const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
  await transport.finishAuth(response.get('code')!);
  await client.connect(transport);
  return response;
}
