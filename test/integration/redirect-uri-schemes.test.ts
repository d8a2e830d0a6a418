/**
 * Redirect URIs at the real `/register`: every redirect URI the shipping clients of
 * `../shared/interop.md` register still registers, one client at a time as each client sends
 * them, while a scheme the operating system or browser handles itself (`lambda/oauth/clients/system-schemes.ts`)
 * is refused with `invalid_redirect_uri` in any letter case.
 */
import fc from 'fast-check';
import type { LocalServer } from '../../lib/local/server.js';
import { SYSTEM_SCHEME_PREFIXES, SYSTEM_SCHEMES } from '../../lambda/oauth/clients/system-schemes.js';
import { startTestServer } from '../support/local-server.js';

let server: LocalServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

async function register(redirectUris: string[]): Promise<Response> {
  return fetch(`${server.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    }),
  });
}

/** The redirect URIs of the interop notes' table, as each client registers them. */
const REAL_CLIENTS: [string, string[]][] = [
  ['Claude', ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback']],
  ['Claude Code', ['http://localhost:53127/callback', 'http://localhost/callback']],
  [
    'Cursor',
    [
      'cursor://anysphere.cursor-mcp/oauth/callback',
      'https://www.cursor.com/agents/mcp/oauth/callback',
      'http://localhost:8787/callback',
    ],
  ],
  [
    'VS Code',
    [
      'https://vscode.dev/redirect',
      'https://insiders.vscode.dev/redirect',
      'http://127.0.0.1/',
      'http://127.0.0.1:33418/',
    ],
  ],
  ['VS Code (its own scheme)', ['vscode://vscode.github-authentication/did-authenticate']],
  [
    'ChatGPT',
    ['https://chatgpt.com/connector_platform_oauth_redirect', 'https://chatgpt.com/connector/oauth/abc123'],
  ],
  ['MCP Inspector', ['http://localhost:6274/oauth/callback', 'http://localhost:6274/oauth/callback/debug']],
  ['mcp-remote', ['http://localhost:3335/oauth/callback']],
  ['a native app with a reverse-DNS scheme', ['com.example.app:/oauth2redirect']],
];

describe('redirect URIs at registration', () => {
  it.each(REAL_CLIENTS)('registers the redirect URIs %s sends', async (_name, redirectUris) => {
    const response = await register(redirectUris);
    expect(response.status).toBe(201);
    expect(((await response.json()) as { redirect_uris: string[] }).redirect_uris).toEqual(redirectUris);
  });

  it.each([
    'x-apple.systempreferences:com.apple.preference.security?Privacy_Camera',
    'X-Apple.systempreferences:com.apple.preference.security',
    'microsoft.windows.camera:',
    'ms-settings.app:/privacy',
    'ms-settings:privacy-webcam',
    'search-ms:query=invoice&crumb=location:\\\\evil.example\\share',
  ])('refuses %s as invalid_redirect_uri', async (uri) => {
    const response = await register([uri]);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_redirect_uri' });
  });

  it('refuses every scheme of the refusal list, in any case, beside a good URI', async () => {
    const scheme = fc.oneof(
      fc.constantFrom(...SYSTEM_SCHEMES),
      fc
        .tuple(
          fc.constantFrom(...SYSTEM_SCHEME_PREFIXES),
          fc.stringMatching(/^[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){0,2}$/),
        )
        .map(([prefix, rest]) => prefix + rest),
    );
    const casing = fc.constantFrom(
      (s: string) => s,
      (s: string) => s.toUpperCase(),
      (s: string) => s.replace(/^./, (c) => c.toUpperCase()),
    );
    await fc.assert(
      fc.asyncProperty(
        scheme,
        casing,
        fc.constantFrom('', '/', '//host/cb', '/cb?x=1'),
        async (name, cased, tail) => {
          const response = await register(['https://app.example/cb', `${cased(name)}:${tail}`]);
          expect(response.status).toBe(400);
          expect(await response.json()).toMatchObject({ error: 'invalid_redirect_uri' });
        },
      ),
      { numRuns: 150, seed: 24 },
    );
  });
});
