/**
 * Generated invisible and reordering characters through the real local server, in the fields
 * that reach the consent page and cannot be refused without locking someone out: a client ID
 * metadata document's `client_name` (the document is the publisher's, served to many servers),
 * and the user's name and email as the upstream provider states them. Each character has
 * Unicode's `Bidi_Control` or `Default_Ignorable_Code_Point` property (from the data Node ships)
 * or is a lone surrogate; the page must show none of them, show the rest of the string isolated
 * in `<bdi>`, and leave out an email that carried one. (Registration refuses them instead:
 * `registration-metadata-fuzz.test.ts`.)
 */
import fc from 'fast-check';
import * as oauth from 'oauth4webapi';
import type { LocalServer } from '../../lib/local/server.js';
import { DocumentServer } from '../support/document-server.js';
import { registerClient, startTestServer, type RegisteredClient } from '../support/local-server.js';
import { startLogin, UserAgent } from '../support/user-agent.js';

const SEED = 20261207;
const RUNS = 25;
const REDIRECT = 'http://127.0.0.1:41234/callback';

const HIDDEN: string[] = [];
for (let cp = 0; cp <= 0x10ffff; cp++) {
  const char = String.fromCodePoint(cp);
  if (/[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}]/u.test(char)) HIDDEN.push(char);
}
const LONE_SURROGATE = fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => String.fromCharCode(u));
/** Anything the page must never contain. */
const SHOWN_NEVER = /[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}\p{Cs}]/u;

/** `clean` with `char` inserted at a generated position. */
const inserted = (clean: fc.Arbitrary<string>, char: fc.Arbitrary<string>) =>
  fc.tuple(clean, char, fc.nat()).map(([text, c, at]) => {
    const i = at % (text.length + 1);
    return { clean: text, dirty: `${text.slice(0, i)}${c}${text.slice(i)}` };
  });
const visibleName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ]{0,20}[A-Za-z0-9]$/);

let server: LocalServer;
const documents = new DocumentServer();

beforeAll(async () => {
  await documents.start();
  server = await startTestServer({ env: { CIMD_ALLOW_HTTP_LOOPBACK: '1' } });
});
afterAll(async () => {
  await server?.close();
  await documents.close();
});

async function authorizeUrl(clientId: string): Promise<string> {
  const challenge = await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier());
  return `${server.issuer}/authorize?${new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'display',
    resource: `${server.issuer}/mcp`,
  })}`;
}

async function consentHtml(clientId: string, username: string): Promise<string> {
  const step = await startLogin(new UserAgent(), await authorizeUrl(clientId), server, { username });
  if (!step.consent) throw new Error(`expected the consent page, got a redirect to ${step.redirect}`);
  return step.consent.html;
}

describe('a metadata document client_name', () => {
  let n = 0;

  it('reaches the consent page without the character, isolated, and the document still works', async () => {
    await fc.assert(
      fc.asyncProperty(
        inserted(visibleName, fc.oneof(fc.constantFrom(...HIDDEN), LONE_SURROGATE)),
        async ({ clean, dirty }) => {
          // Prepare: a new URL each time, so no cached copy answers.
          const path = `/display-${n++}.json`;
          const url = `${documents.origin()}${path}`;
          documents.json(path, {
            client_id: url,
            client_name: dirty,
            redirect_uris: ['http://127.0.0.1/callback'],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
          });

          // Act
          const html = await consentHtml(url, 'ada');

          // Assess
          expect(html).not.toMatch(SHOWN_NEVER);
          expect(html).toContain(`<strong><bdi>${clean}</bdi></strong>`);
        },
      ),
      { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true },
    );
  });
});

describe('the upstream name and email', () => {
  let client: RegisteredClient;
  beforeAll(async () => {
    client = await registerClient(server.issuer, {
      client_name: 'Display test app',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
  });

  // The local provider makes the login the user's `sub`, `name` and `email`. A lone surrogate
  // cannot travel in a UTF-8 form (it arrives as U+FFFD), so only the properties' code points do.
  it('reach the consent page as the name without the character; an email carrying one is left out', async () => {
    await fc.assert(
      fc.asyncProperty(
        inserted(fc.constantFrom('ada', 'grace.hopper'), fc.constantFrom(...HIDDEN)),
        async (v) => {
          // Act
          const html = await consentHtml(client.client_id, `${v.dirty}@example.com`);

          // Assess: the name, cleaned; no "(email)" beside it, since the email was left out.
          expect(html).not.toMatch(SHOWN_NEVER);
          expect(html).toContain(`Signed in as <bdi>${v.clean}@example.com</bdi>.`);
        },
      ),
      { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true },
    );
  });
});
