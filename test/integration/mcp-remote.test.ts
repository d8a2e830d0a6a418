/**
 * `mcp-remote`, the stdio-to-HTTP bridge that Claude Desktop, Cursor and Windsurf users put in
 * front of remote servers, against the local server, unmodified and headless. It is a separate
 * OAuth client implementation from the SDK's, with its own habits (a loopback callback on
 * `/oauth/callback`, tokens and registration kept on disk, a probe connection before the real
 * one), so it is tested on its own: given nothing but the /mcp URL it must get a 401, discover,
 * register, open the browser, receive the code, redeem it, and then proxy tool calls as the user
 * who logged in.
 *
 * The stdio side is driven by the v1 SDK's `StdioClientTransport`, as a desktop client drives
 * `mcp-remote`. The "browser" it opens is a script: `mcp-remote` calls the `open` package, which
 * runs its bundled `xdg-open`; with no `DISPLAY` and no desktop environment that script falls back
 * to running `$BROWSER <url>`. Ours writes the URL to a file, and the test logs in with headless
 * Chromium at that URL, which then follows the redirect to `mcp-remote`'s callback server.
 */
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Browser } from 'playwright-core';
import type { LocalServer } from '../../lib/local/server.js';
import { launchChromium, loginInBrowser, runBrowserTests } from '../support/browser.js';
import { startTestServer } from '../support/local-server.js';

const describeWithBrowser = runBrowserTests ? describe : describe.skip;

/** The bound on every wait: discovery, registration, the login and each tool call. */
const WAIT_MS = 60_000;

/** The installed `mcp-remote` CLI (`node_modules/.bin/mcp-remote` is a link to it). */
const MCP_REMOTE = realpathSync('node_modules/.bin/mcp-remote');

/**
 * A free loopback port for `mcp-remote`'s callback server. Given explicitly, the port is strict:
 * should another process take it meanwhile, `mcp-remote` says so on stderr and exits.
 */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', () => done()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

/**
 * `promise`, bounded by `ms`; a failure or a timeout is reported with what was awaited (`what`) and
 * the diagnostics (mcp-remote's stderr).
 */
async function within<T>(promise: Promise<T>, ms: number, what: string, diagnostics: () => string) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${what}: ${reason}\n${diagnostics()}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** The first line the `$BROWSER` script appends to `file`, polled until it appears or `signal` aborts. */
async function firstOpenedUrl(file: string, signal: AbortSignal): Promise<string> {
  while (!signal.aborted) {
    const lines = await readFile(file, 'utf8').then(
      (text) => text.split('\n').filter(Boolean),
      () => [],
    );
    if (lines[0]) return lines[0];
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error('stopped waiting for the authorization URL');
}

describeWithBrowser('mcp-remote logging a user in through the browser', () => {
  let server: LocalServer;
  let browser: Browser;
  let workDir: string;
  let transport: StdioClientTransport | undefined;
  let client: Client | undefined;
  let stderr = '';

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    workDir = await mkdtemp(join(tmpdir(), 'mcp-remote-'));
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await transport?.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it(
    'goes from a bare /mcp URL to tool calls as the user who logged in',
    async () => {
      // Prepare
      const configDir = join(workDir, 'config');
      const openedUrls = join(workDir, 'opened-urls');
      const browserScript = join(workDir, 'browser.sh');
      await writeFile(browserScript, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${openedUrls}'\n`);
      await chmod(browserScript, 0o755);
      const callbackPort = await freePort();
      transport = new StdioClientTransport({
        command: process.execPath,
        args: [
          MCP_REMOTE,
          `${server.issuer}/mcp`,
          String(callbackPort),
          '--auth-timeout',
          String(WAIT_MS / 1000),
        ],
        // Merged over the SDK's default environment (HOME, LOGNAME, PATH, SHELL, TERM, USER): no
        // DISPLAY, WAYLAND_DISPLAY or XDG_CURRENT_DESKTOP reaches xdg-open, so it uses $BROWSER.
        env: { MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: browserScript },
        stderr: 'pipe',
      });
      transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const diagnostics = () => `mcp-remote stderr:\n${stderr || '(empty)'}`;
      client = new Client({ name: 'mcp-remote-e2e', version: '1.0.0' });

      // Act: connecting blocks until mcp-remote has logged in and reached the server, so the login
      // runs alongside, as soon as mcp-remote "opens the browser".
      const connected = client.connect(transport, { timeout: WAIT_MS });
      const polling = new AbortController();
      const authorizationUrl = await within(
        Promise.race([
          firstOpenedUrl(openedUrls, polling.signal),
          connected.then(() => Promise.reject(new Error('it connected without opening a browser'))),
        ]),
        WAIT_MS,
        'mcp-remote opening the authorization URL with $BROWSER',
        diagnostics,
      ).finally(() => polling.abort());
      const login = await within(
        loginInBrowser(browser, authorizationUrl, server, { username: 'grace@example.com' }),
        WAIT_MS,
        `logging in at ${authorizationUrl}`,
        diagnostics,
      );
      await within(connected, WAIT_MS, 'mcp-remote connecting after the login', diagnostics);
      const me = await within(
        client.callTool({ name: 'get_user_info', arguments: {} }),
        WAIT_MS,
        'get_user_info through mcp-remote',
        diagnostics,
      );
      const sum = await within(
        client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }),
        WAIT_MS,
        'add through mcp-remote',
        diagnostics,
      );
      const saved = join(configDir, (await readdir(configDir))[0] ?? '');
      const files = await readdir(saved);
      const read = async (suffix: string) => {
        const name = files.find((file) => file.endsWith(suffix));
        if (!name) throw new Error(`mcp-remote saved no *${suffix} in ${saved}: ${files.join(', ')}`);
        return JSON.parse(await readFile(join(saved, name), 'utf8')) as Record<string, unknown>;
      };
      const clientInfo = await read('_client_info.json');
      const tokens = await read('_tokens.json');

      // Assess: the authorization request mcp-remote built, and where the server sent the browser.
      const request = new URL(authorizationUrl);
      expect(request.origin + request.pathname).toBe(`${server.issuer}/authorize`);
      expect(request.searchParams.get('client_id')).toBe(clientInfo['client_id']);
      expect(request.searchParams.get('code_challenge_method')).toBe('S256');
      const redirectUri = `http://localhost:${callbackPort}/oauth/callback`;
      expect(request.searchParams.get('redirect_uri')).toBe(redirectUri);
      expect(login.redirect.origin + login.redirect.pathname).toBe(redirectUri);
      expect(login.redirect.searchParams.get('code')).toBeTruthy();
      expect(login.redirect.searchParams.get('iss')).toBe(server.issuer);
      expect(login.redirect.searchParams.get('state')).toBe(request.searchParams.get('state'));

      // Assess: the registration and tokens it kept, and the tool calls it proxied.
      expect(clientInfo).toMatchObject({ redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' });
      expect(tokens['access_token']).toBeTruthy();
      expect(tokens['refresh_token']).toBeTruthy();
      expect(client.getServerVersion()?.name).toBe('mcp-oauth-aws');
      expect(me.isError).toBeFalsy();
      expect(me.structuredContent).toMatchObject({
        sub: 'grace@example.com',
        client_id: clientInfo['client_id'],
        issuer: server.issuer,
      });
      expect(sum.isError).toBeFalsy();
      expect(sum.structuredContent).toEqual({ sum: 3 });
    },
    5 * WAIT_MS,
  );
});
