/**
 * Client ID metadata documents through the real endpoints of the local server: a client whose
 * `client_id` is the URL of its document logs a user in, redeems the code with no secret and
 * refreshes; bad documents are an error page at `/authorize` and `invalid_client` at `/token`;
 * and without the local loopback allowance, loopback, private and metadata addresses are refused
 * without the document server seeing a single connection.
 */
import * as oauth from 'oauth4webapi';
import type { LocalServer } from '../../lib/local/server.js';
import { DocumentServer } from '../support/document-server.js';
import { startTestServer } from '../support/local-server.js';
import { answerConsent, startLogin, UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://127.0.0.1:41234/callback';

async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = oauth.generateRandomCodeVerifier();
  return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier) };
}

function authorizeUrl(issuer: string, clientId: string, challenge: string, redirectUri = REDIRECT): string {
  return `${issuer}/authorize?${new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'cimd-state',
    resource: `${issuer}/mcp`,
  })}`;
}

function tokenRequest(issuer: string, params: Record<string, string>): Promise<Response> {
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
}

describe('client ID metadata documents, with the local loopback allowance', () => {
  let server: LocalServer;
  const documents = new DocumentServer();
  const docUrl = (path: string) => `${documents.origin()}${path}`;
  const document = (path: string, extra: Record<string, unknown> = {}) => ({
    client_id: docUrl(path),
    client_name: 'Document app',
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...extra,
  });

  beforeAll(async () => {
    await documents.start();
    server = await startTestServer({ env: { CIMD_ALLOW_HTTP_LOOPBACK: '1' } });
  });
  afterAll(async () => {
    await server?.close();
    await documents.close();
  });
  beforeEach(() => documents.reset());

  it('advertises client_id_metadata_document_supported', async () => {
    const metadata = (await (
      await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(metadata.client_id_metadata_document_supported).toBe(true);
    expect(metadata.token_endpoint_auth_methods_supported).toContain('none');
  });

  it('logs a user in, shows the document host on consent, redeems with no secret and refreshes, fetching once', async () => {
    // Prepare
    documents.json('/login.json', document('/login.json'), { 'cache-control': 'max-age=300' });
    const clientId = docUrl('/login.json');
    const { verifier, challenge } = await pkce();
    const agent = new UserAgent();

    // Act: login, up to the consent page
    const step = await startLogin(agent, authorizeUrl(server.issuer, clientId, challenge), server, {
      username: 'grace@example.com',
    });

    // Assess
    expect(step.consent?.html).toContain(
      '<strong><bdi>Document app</bdi></strong> from <span class="host"><bdi>127.0.0.1:',
    );
    expect(step.consent?.html).toContain(`127.0.0.1:${documents.port}`);

    // Act: approve and redeem
    const answer = await answerConsent(agent, server, step.consent!.fields, 'approve');
    const redirect = new URL(answer.headers.get('location')!);
    const tokens = await tokenRequest(server.issuer, {
      grant_type: 'authorization_code',
      client_id: clientId,
      code: redirect.searchParams.get('code')!,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      resource: `${server.issuer}/mcp`,
    });
    const issued = (await tokens.json()) as { access_token: string; refresh_token: string };
    const refreshed = await tokenRequest(server.issuer, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: issued.refresh_token,
    });

    // Assess
    expect(answer.status).toBe(303);
    expect(redirect.searchParams.get('state')).toBe('cimd-state');
    expect(tokens.status).toBe(200);
    expect(issued.access_token).toBeTruthy();
    expect(refreshed.status).toBe(200);
    expect(documents.requests).toHaveLength(1);
    const claims = JSON.parse(Buffer.from(issued.access_token.split('.')[1]!, 'base64url').toString()) as {
      client_id: string;
    };
    expect(claims.client_id).toBe(clientId);
  });

  it.each([
    [
      'a mismatched client_id',
      (path: string) => document(path, { client_id: 'https://other.example/client.json' }),
      'the document\'s "client_id" is not its own URL',
    ],
    [
      'a secret method',
      (path: string) => document(path, { token_endpoint_auth_method: 'client_secret_basic' }),
      '"token_endpoint_auth_method" is "client_secret_basic"; only "none" and "private_key_jwt" are supported',
    ],
    [
      'a client_secret',
      (path: string) => document(path, { client_secret: 'shh' }),
      'the document contains "client_secret"',
    ],
    [
      'a javascript: redirect URI',
      (path: string) => document(path, { redirect_uris: ['javascript:alert(1)'] }),
      'redirect URI "javascript:alert(1)"',
    ],
    [
      'the client_credentials grant',
      (path: string) => document(path, { grant_types: ['client_credentials'], response_types: [] }),
      'cannot use the "client_credentials" grant',
    ],
    [
      'the jwt-bearer grant (an ID-JAG redeemed with no registration policy)',
      (path: string) =>
        document(path, {
          grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
        }),
      'cannot use the jwt-bearer grant',
    ],
  ])(
    'refuses a document with %s: error page at /authorize, invalid_client at /token',
    async (_case, make, message) => {
      // Prepare
      const path = `/bad-${Math.random().toString(36).slice(2)}.json`;
      documents.json(path, make(path));
      const { challenge } = await pkce();

      // Act
      const page = await fetch(authorizeUrl(server.issuer, docUrl(path), challenge), { redirect: 'manual' });
      const token = await tokenRequest(server.issuer, {
        grant_type: 'refresh_token',
        client_id: docUrl(path),
        refresh_token: 'x',
      });
      const html = await page.text();
      const body = (await token.json()) as { error: string; error_description: string };

      // Assess
      expect(page.status).toBe(400);
      expect(page.headers.get('location')).toBeNull();
      expect(html).toContain('invalid_client');
      expect(html).toContain(message.replace(/"/g, '&quot;').replace(/'/g, '&#39;'));
      expect(token.status).toBe(401);
      expect(body.error).toBe('invalid_client');
      expect(body.error_description).toContain(message);
    },
  );

  it.each([
    [
      'too large',
      (res: import('node:http').ServerResponse) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(' '.repeat(6000)),
      'larger than 5120 bytes',
    ],
    [
      'not JSON',
      (res: import('node:http').ServerResponse) =>
        res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>'),
      'the document is not JSON',
    ],
    [
      'a redirect',
      (res: import('node:http').ServerResponse) =>
        res.writeHead(301, { location: 'http://169.254.169.254/' }).end(),
      'which is not followed',
    ],
  ])('refuses a document that is %s with an error page that says so', async (_case, respond, message) => {
    const path = `/odd-${Math.random().toString(36).slice(2)}.json`;
    documents.handlers.set(path, (_req, res) => respond(res));
    const { challenge } = await pkce();
    const page = await fetch(authorizeUrl(server.issuer, docUrl(path), challenge), { redirect: 'manual' });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain(message);
  });

  it('fetches a failing document once a minute at most, however often it is asked for', async () => {
    // Prepare
    const path = `/broken-${Math.random().toString(36).slice(2)}.json`;
    documents.handlers.set(path, (_req, res) => res.writeHead(500).end());
    const { challenge } = await pkce();

    // Act
    const pages = await Promise.all(
      [1, 2, 3].map(() =>
        fetch(authorizeUrl(server.issuer, docUrl(path), challenge), { redirect: 'manual' }),
      ),
    );
    const again = await fetch(authorizeUrl(server.issuer, docUrl(path), challenge), { redirect: 'manual' });

    // Assess: concurrent first requests may each fetch; the one after them is answered from memory.
    expect([...pages, again].map((p) => p.status)).toEqual([400, 400, 400, 400]);
    expect(documents.requests.length).toBeLessThanOrEqual(3);
    const before = documents.requests.length;
    await fetch(authorizeUrl(server.issuer, docUrl(path), challenge), { redirect: 'manual' });
    expect(documents.requests.length).toBe(before);
  });

  it('refuses a redirect_uri the document does not list, with an error page', async () => {
    documents.json('/listed.json', document('/listed.json'));
    const { challenge } = await pkce();
    const page = await fetch(
      authorizeUrl(server.issuer, docUrl('/listed.json'), challenge, 'https://attacker.example/callback'),
      { redirect: 'manual' },
    );
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
    expect(await page.text()).toContain('is not listed in the app&#39;s client metadata document');
  });

  it('authenticates a document client at /token with client_id only; a secret is refused', async () => {
    documents.json('/public.json', document('/public.json'));
    const response = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(docUrl('/public.json'))}:secret`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error_description: string }).error_description).toBe(
      'the client is registered to authenticate with "none"',
    );
  });
});

describe('client ID metadata documents, without the loopback allowance', () => {
  let server: LocalServer;
  const documents = new DocumentServer();
  beforeAll(async () => {
    await documents.start();
    server = await startTestServer({
      env: { CIMD_ALLOW_HTTP_LOOPBACK: '' },
      metadataDocumentFetch: {
        resolve: async (hostname) => {
          const table: Record<string, string> = {
            'loopback.example.test': '127.0.0.1',
            'private.example.test': '10.0.0.7',
            'metadata.example.test': '169.254.169.254',
            'metadata6.example.test': 'fd00:ec2::254',
          };
          const address = table[hostname];
          if (!address) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
          return [{ address, family: address.includes(':') ? 6 : 4 }];
        },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await documents.close();
  });

  it.each([
    ['http://127.0.0.1:{port}/client.json', 'The app is not registered with this server.'],
    ['http://localhost:{port}/client.json', 'The app is not registered with this server.'],
    ['https://127.0.0.1:{port}/client.json', 'loopback'],
    ['https://localhost:{port}/client.json', 'loopback'],
    ['https://[::1]:{port}/client.json', 'loopback'],
    ['https://[::ffff:7f00:1]:{port}/client.json', 'loopback'],
    ['https://10.0.0.1/client.json', 'private'],
    ['https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['https://[fd00:ec2::254]/latest/meta-data/', 'unique local'],
    ['https://100.64.0.1/client.json', 'carrier-grade NAT'],
    ['https://loopback.example.test:{port}/client.json', 'loopback'],
    ['https://private.example.test/client.json', 'private'],
    ['https://metadata.example.test/latest/meta-data/', 'link-local'],
    ['https://metadata6.example.test/latest/meta-data/', 'unique local'],
  ])('refuses %s at /authorize and /token without any connection', async (template, message) => {
    // Prepare
    documents.reset();
    const clientId = template.replace('{port}', String(documents.port));
    const { challenge } = await pkce();

    // Act
    const page = await fetch(authorizeUrl(server.issuer, clientId, challenge), { redirect: 'manual' });
    const token = await tokenRequest(server.issuer, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: 'x',
    });

    // Assess
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
    expect(await page.text()).toContain(message);
    expect(token.status).toBe(401);
    expect(((await token.json()) as { error: string }).error).toBe('invalid_client');
    expect(documents.connections).toBe(0);
  });
});
