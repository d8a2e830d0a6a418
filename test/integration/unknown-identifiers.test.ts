/**
 * Identifiers that become DynamoDB keys, generated: `client_id` at `/token`, `/authorize`,
 * `/clients/{client_id}` and `/revoke`; registration access tokens; authorization codes; refresh
 * tokens; `state` at `/callback`; the pending authorization handle of the consent form. Strings
 * of any code points (control characters, lone surrogates, bidi controls), the shapes of issued
 * ids and tokens, and huge ones. Each gets the endpoint's answer for an unknown identifier (its
 * status and error code) and writes nothing: the table is scanned before and after every case.
 * URL-shaped `client_id`s are left out: they name client metadata documents, which are fetched
 * over the network (`cimd.test.ts` covers them).
 */
import fc from 'fast-check';
import type { LocalServer } from '../../lib/local/server.js';
import { isMetadataDocumentUrl } from '../../lambda/oauth/clients/metadata-document-fetch.js';
import {
  basicAuth,
  registerClient,
  registerMachineClient,
  startTestServer,
  type MachineClient,
  type RegisteredClient,
} from '../support/local-server.js';
import { HEADER_VALUE_CHARS, rawRequest } from '../support/raw-http.js';
import { NO_CHANGES, tableChanges, tableReader, type TableReader } from '../support/table.js';

const SEED = 7;
const RUNS = 60;

let server: LocalServer;
let table: TableReader;
let app: RegisteredClient;
let machine: MachineClient;

beforeAll(async () => {
  server = await startTestServer();
  table = tableReader(server);
  app = await registerClient(server.issuer, {
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
  });
  machine = await registerMachineClient(server.issuer);
});
afterAll(async () => {
  table.close();
  await server.close();
});

/** Any string a client could send, as UTF-8 (lone surrogates become U+FFFD on the wire anyway). */
const identifier = fc
  .oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    // The shapes of issued client ids (22) and of codes, refresh tokens and handles (43).
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{22}$/) },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
    // Longer than DynamoDB allows a key (2048 bytes), short enough for every endpoint's body limit.
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 2049, maxLength: 4000 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 520, maxLength: 560 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        ' ',
        '\u0000',
        '\ud800',
        '\u202e\u2066evil',
        'client#x',
        `refresh#${'A'.repeat(43)}`,
        '__proto__',
        'constructor',
        '%00',
        '../x',
        'A'.repeat(64),
        'A'.repeat(65),
      ),
    },
  )
  .filter((value) => !isMetadataDocumentUrl(value) && encodeURIComponent(wellFormed(value)).length < 7_000);

const nonEmpty = identifier.filter((value) => value !== '');
const headerValue = fc.string({ unit: fc.constantFrom(...HEADER_VALUE_CHARS), maxLength: 200 });

function wellFormed(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

interface Answer {
  status: number;
  /** The OAuth `error` of a JSON answer, or the error code an HTML page shows. */
  error: string | undefined;
}

async function answerOf(response: { status: number; contentType: string; body: string }): Promise<Answer> {
  if (response.contentType.startsWith('application/json') && response.body) {
    return { status: response.status, error: (JSON.parse(response.body) as { error?: string }).error };
  }
  if (response.contentType.startsWith('text/html')) {
    return { status: response.status, error: /Error code: <code>([a-z_]+)<\/code>/.exec(response.body)?.[1] };
  }
  return { status: response.status, error: undefined };
}

async function post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.issuer}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
  return answerOf({
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: await response.text(),
  });
}

async function get(path: string, query: Record<string, string>) {
  const response = await fetch(`${server.issuer}${path}?${new URLSearchParams(query)}`, {
    redirect: 'manual',
  });
  return answerOf({
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: await response.text(),
  });
}

/** Runs `act` for every generated value; each must be answered `expected(value)` and write nothing. */
async function eachValue<T>(
  arbitrary: fc.Arbitrary<T>,
  act: (value: T) => Promise<Answer>,
  expected: (value: T) => Answer,
) {
  let before = await table.snapshot();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      const answer = await act(value);
      const after = await table.snapshot();
      const changes = tableChanges(before, after);
      before = after;
      expect(answer).toEqual(expected(value));
      expect(changes).toEqual(NO_CHANGES);
    }),
    // A failure shrinks its case; the limit keeps a slow shrink of a huge value inside the test's time.
    { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true },
  );
}

const VERIFIER = 'v'.repeat(43);

describe('client_id', () => {
  it('at /token (public client, in the body) is an unknown client: 401 invalid_client', async () => {
    await eachValue(
      identifier,
      (id) => post('/token', { grant_type: 'client_credentials', client_id: id }),
      () => ({ status: 401, error: 'invalid_client' }),
    );
  });

  it('at /token (client_secret_post) is an unknown client: 401 invalid_client', async () => {
    await eachValue(
      fc.tuple(nonEmpty, identifier),
      ([id, secret]) =>
        post('/token', { grant_type: 'client_credentials', client_id: id, client_secret: secret }),
      () => ({ status: 401, error: 'invalid_client' }),
    );
  });

  it('at /token (HTTP Basic) is an unknown client: 401 invalid_client', async () => {
    await eachValue(
      // Both in one header, which must stay under Node's 16 KB limit once base64-encoded.
      fc.tuple(identifier, identifier).filter(([id, secret]) => basicAuth(id, secret).length < 12_000),
      ([id, secret]) =>
        post('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(id, secret) }),
      () => ({ status: 401, error: 'invalid_client' }),
    );
  });

  it('at /authorize is an unknown app: the error page, 400 invalid_client (invalid_request when empty)', async () => {
    await eachValue(
      identifier,
      (id) =>
        get('/authorize', {
          client_id: id,
          redirect_uri: 'http://127.0.0.1/callback',
          response_type: 'code',
          code_challenge: 'A'.repeat(43),
          code_challenge_method: 'S256',
        }),
      (id) => ({ status: 400, error: id === '' ? 'invalid_request' : 'invalid_client' }),
    );
  });

  it('at /revoke is an unknown client: 401 invalid_client', async () => {
    await eachValue(
      fc.tuple(identifier, fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)),
      ([id, token]) => post('/revoke', { client_id: id, token }),
      () => ({ status: 401, error: 'invalid_client' }),
    );
  });

  it.each(['GET', 'PUT', 'DELETE'])(
    "in the path of %s /clients/{client_id}, with another client's registration token, is 401 invalid_token",
    async (method) => {
      await eachValue(
        identifier.filter((id) => id !== '' && id !== '.' && id !== '..'),
        async (id) => {
          const response = await rawRequest(server.issuer, {
            method,
            path: `/clients/${encodeURIComponent(wellFormed(id))}`,
            headers: {
              authorization: `Bearer ${app.registration_access_token}`,
              'content-type': 'application/json',
            },
            ...(method === 'PUT' && {
              body: JSON.stringify({ client_id: id, redirect_uris: ['http://127.0.0.1/cb'] }),
            }),
          });
          return answerOf({
            status: response.status,
            contentType: String(response.headers['content-type'] ?? ''),
            body: response.body,
          });
        },
        () => ({ status: 401, error: 'invalid_token' }),
      );
    },
  );
});

describe('registration access token', () => {
  it.each(['GET', 'PUT', 'DELETE'])(
    "that is not the client's, at %s /clients/{client_id}, is 401 invalid_token and changes nothing",
    async (method) => {
      await eachValue(
        fc.oneof(headerValue, fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)),
        async (token) => {
          const response = await rawRequest(server.issuer, {
            method,
            path: `/clients/${app.client_id}`,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            ...(method === 'PUT' && {
              body: JSON.stringify({
                client_id: app.client_id,
                redirect_uris: ['http://127.0.0.1/other'],
                grant_types: ['authorization_code', 'refresh_token'],
                token_endpoint_auth_method: 'none',
              }),
            }),
          });
          return answerOf({
            status: response.status,
            contentType: String(response.headers['content-type'] ?? ''),
            body: response.body,
          });
        },
        () => ({ status: 401, error: 'invalid_token' }),
      );
    },
  );
});

describe('codes and tokens', () => {
  it('an authorization code that was never issued is 400 invalid_grant (invalid_request when empty)', async () => {
    await eachValue(
      identifier,
      (code) =>
        post('/token', {
          grant_type: 'authorization_code',
          client_id: app.client_id,
          code,
          code_verifier: VERIFIER,
          redirect_uri: 'http://127.0.0.1/callback',
        }),
      (code) => ({ status: 400, error: code === '' ? 'invalid_request' : 'invalid_grant' }),
    );
  });

  it('a refresh token that was never issued is 400 invalid_grant (invalid_request when empty)', async () => {
    await eachValue(
      identifier,
      (token) =>
        post('/token', { grant_type: 'refresh_token', client_id: app.client_id, refresh_token: token }),
      (token) => ({ status: 400, error: token === '' ? 'invalid_request' : 'invalid_grant' }),
    );
  });

  it('revoking a token that was never issued is 200 with nothing revoked (RFC 7009 §2.2)', async () => {
    await eachValue(
      nonEmpty,
      (token) => post('/revoke', { client_id: app.client_id, token }),
      () => ({ status: 200, error: undefined }),
    );
  });

  it('revoking one with the confidential client is 200 too', async () => {
    await eachValue(
      nonEmpty,
      (token) =>
        post('/revoke', { token }, { authorization: basicAuth(machine.clientId, machine.clientSecret) }),
      () => ({ status: 200, error: undefined }),
    );
  });
});

describe('login handles', () => {
  it('a state at /callback that names no pending login is the error page, 400 invalid_request', async () => {
    await eachValue(
      identifier,
      (state) => get('/callback', { state, code: 'x' }),
      () => ({ status: 400, error: 'invalid_request' }),
    );
  });

  it('a consent form for a pending login that does not exist is the error page, 400 invalid_request', async () => {
    await eachValue(
      fc.tuple(identifier, identifier),
      ([handle, csrf]) =>
        post('/authorize', { authorization: handle, csrf_token: csrf, decision: 'approve' }),
      () => ({ status: 400, error: 'invalid_request' }),
    );
  });
});
