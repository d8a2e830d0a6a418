/**
 * What this server's error pages repeat of a request. A page names a repeated parameter only
 * when it is one of the authorization request's own parameters, and quotes at most
 * `EXCERPT_LENGTH` characters of anything else the requester chose: a parameter value, a client
 * ID URL, a field of a client metadata document, a response header of the document's host.
 * Generated input, seeded so that a failure names a case that can be replayed.
 */
import fc from 'fast-check';
import type { LocalServer } from '../../lib/local/server.js';
import { EXCERPT_LENGTH } from '../../lambda/oauth/excerpt.js';
import { escapeHtml } from '../../lambda/oauth/login/pages.js';
import { DocumentServer } from '../support/document-server.js';
import { registerClient, startTestServer, type RegisteredClient } from '../support/local-server.js';

const REDIRECT = 'https://app.example/cb';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

let server: LocalServer;
let client: RegisteredClient;
const documents = new DocumentServer();

beforeAll(async () => {
  await documents.start();
  server = await startTestServer({ env: { CIMD_ALLOW_HTTP_LOOPBACK: '1' } });
  // Never logged anyone in: every error is shown as a page.
  client = await registerClient(server.issuer, {
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'none',
    scope: 'mcp:tools',
  });
});
afterAll(async () => {
  await server?.close();
  await documents.close();
});

function authorize(params: [string, string][]): Promise<Response> {
  return fetch(`${server.issuer}/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' });
}

function request(overrides: Record<string, string> = {}): [string, string][] {
  return Object.entries({
    client_id: client.client_id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    ...overrides,
  });
}

/** The page's text, with its markup and escapes undone, as a person reads it. */
async function pageText(response: Response): Promise<string> {
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.headers.get('location')).toBeNull();
  expect(response.headers.get('content-type')).toContain('text/html');
  const html = await response.text();
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Whether `page` repeats more than `EXCERPT_LENGTH` consecutive characters of `text`. */
function repeatsBeyondExcerpt(page: string, text: string): string | undefined {
  const chars = Array.from(text);
  for (let i = 0; i + EXCERPT_LENGTH < chars.length; i++) {
    const run = chars.slice(i, i + EXCERPT_LENGTH + 1).join('');
    if (page.includes(run)) return run;
  }
  return undefined;
}

/** Long text a requester might want shown: words, a URL, no characters the page would escape. */
const longText = fc
  .array(fc.stringMatching(/^[A-Za-z0-9._~:/-]{1,12}$/), { minLength: 8, maxLength: 40 })
  .map((words) => `Suspended-${words.join('-')}`)
  .filter((text) => text.length > EXCERPT_LENGTH);

const RUNS = { numRuns: 40, seed: 2024 };

describe('a repeated parameter', () => {
  it('is named on the page only when it is an authorization request parameter', async () => {
    const stranger = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 300 })
      .map((name) => `zq${name}`)
      .filter((name) => name.trim() === name);
    await fc.assert(
      fc.asyncProperty(stranger, async (name) => {
        const response = await authorize([...request(), [name, '1'], [name, '2']]);
        const html = await response.clone().text();
        const text = await pageText(response);
        expect(text).toContain('A parameter is repeated.');
        expect(text).not.toContain(name);
        expect(html).not.toContain(escapeHtml(name));
      }),
      RUNS,
    );
  });

  it.each(['scope', 'state', 'redirect_uri', 'client_id'])('names "%s"', async (name) => {
    const response = await authorize([...request(), [name, 'x'], [name, 'y']]);
    expect(await pageText(response)).toContain(`The "${name}" parameter is repeated.`);
  });
});

describe('requester text on an error page', () => {
  it.each(['prompt', 'scope'])('repeats at most a short excerpt of "%s"', async (name) => {
    await fc.assert(
      fc.asyncProperty(longText, async (text) => {
        const page = await pageText(await authorize(request({ [name]: text })));
        expect(repeatsBeyondExcerpt(page, text)).toBeUndefined();
        expect(page).toContain(Array.from(text).slice(0, 10).join(''));
      }),
      RUNS,
    );
  });

  it('repeats at most a short excerpt of a client ID URL that is not canonical', async () => {
    await fc.assert(
      fc.asyncProperty(longText, async (text) => {
        const clientId = `${documents.origin()}/x/../${text}.json`;
        const page = await pageText(await authorize(request({ client_id: clientId })));
        expect(page).toContain('client metadata document was refused');
        expect(repeatsBeyondExcerpt(page, text)).toBeUndefined();
      }),
      RUNS,
    );
  });

  const documentFields: [string, (text: string) => Record<string, unknown>][] = [
    ['a redirect URI', (text) => ({ redirect_uris: [`http://app.example/${text}`] })],
    ['a grant type', (text) => ({ grant_types: [text] })],
    ['a response type', (text) => ({ response_types: [text] })],
    ['an auth method', (text) => ({ token_endpoint_auth_method: text })],
  ];
  it.each(documentFields)(
    'repeats at most a short excerpt of %s in a metadata document',
    async (_field, field) => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(longText, async (text) => {
          const path = `/doc-${n++}.json`;
          const clientId = `${documents.origin()}${path}`;
          documents.json(path, {
            client_id: clientId,
            redirect_uris: ['http://127.0.0.1/callback'],
            token_endpoint_auth_method: 'none',
            ...field(text),
          });
          const response = await authorize(
            request({ client_id: clientId, redirect_uri: 'http://127.0.0.1/callback' }),
          );
          const page = await pageText(response);
          expect(page).toContain('client metadata document was refused');
          expect(repeatsBeyondExcerpt(page, text)).toBeUndefined();
        }),
        RUNS,
      );
    },
  );

  it("repeats at most a short excerpt of the document host's content-type", async () => {
    await fc.assert(
      fc.asyncProperty(longText, async (text) => {
        const path = `/ct-${text.length}-${Math.random().toString(36).slice(2)}.json`;
        const clientId = `${documents.origin()}${path}`;
        documents.json(path, { client_id: clientId }, { 'content-type': `text/${text}` });
        const page = await pageText(
          await authorize(request({ client_id: clientId, redirect_uri: 'http://127.0.0.1/callback' })),
        );
        expect(page).toContain('client metadata document was refused');
        expect(repeatsBeyondExcerpt(page, text)).toBeUndefined();
      }),
      { ...RUNS, numRuns: 15 },
    );
  });
});
