/**
 * Generated hostile input at every endpoint user login added (`GET /authorize`, `GET /callback`,
 * `POST /authorize`, `POST /token` for the code and refresh grants, `POST /revoke`): random
 * parameter sets drawn from the names each endpoint reads plus strangers, with values from a
 * pool of awkward strings (oversized, control and bidi characters, percent escapes, JSON, URLs,
 * near-valid tokens), repeated parameters and odd content types. Whatever arrives, the answer
 * is never a 5xx, and it has the endpoint's own shape: an HTML page or a redirect for the browser
 * endpoints, an RFC 6749 error object for the API ones. Nothing is written either, except the
 * pending authorization of an `/authorize` request valid enough to go on to the upstream login:
 * the table is scanned after every case. The generator is seeded, so a failure names a case that
 * can be replayed.
 */
import type { LocalServer } from '../../lib/local/server.js';
import { registerClient, startTestServer, type RegisteredClient } from '../support/local-server.js';
import { keyKind, NO_CHANGES, tableChanges, tableReader, type TableReader } from '../support/table.js';

/** A small seeded generator (mulberry32), so every run sends the same cases. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CASES_PER_ENDPOINT = 150;

let server: LocalServer;
let client: RegisteredClient;
let table: TableReader;

beforeAll(async () => {
  server = await startTestServer();
  table = tableReader(server);
  client = await registerClient(server.issuer, {
    redirect_uris: ['http://127.0.0.1/callback', 'https://app.example/cb'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
  });
});
afterAll(async () => {
  table.close();
  await server.close();
});

/**
 * Runs `cases` requests, scanning the table after each: a case may write only what `allowed`
 * says for its response (nothing, by default).
 */
async function eachCase(
  count: number,
  send: (i: number) => Promise<{ response: Response; label: string }>,
  allowed: (response: Response) => 'pending authorization' | 'nothing' = () => 'nothing',
): Promise<void> {
  let before = await table.snapshot();
  for (let i = 0; i < count; i++) {
    const { response, label } = await send(i);
    const after = await table.snapshot();
    const changes = tableChanges(before, after);
    const expected =
      allowed(response) === 'pending authorization'
        ? {
            added: [changes.added.find((k) => keyKind(k) === 'authz') ?? 'one authz# item'],
            changed: [],
            removed: [],
          }
        : NO_CHANGES;
    expect([label, changes]).toEqual([label, expected]);
    before = after;
  }
}

function values(): string[] {
  return [
    '',
    ' ',
    client.client_id,
    `${client.client_id}x`,
    'A'.repeat(43),
    'A'.repeat(44),
    'x'.repeat(3000),
    'x'.repeat(20_000),
    '\u0000',
    '\u202e\u2066evil',
    '%00%0d%0aSet-Cookie: a=b',
    '<script>alert(1)</script>',
    '{"a":[1,2,{"b":null}]}',
    '[]',
    'null',
    'http://127.0.0.1/callback',
    'http://127.0.0.1:9/callback',
    'https://evil.example/',
    'javascript:alert(1)',
    `${server.issuer}/mcp`,
    'code',
    'token',
    'S256',
    'plain',
    'none',
    'consent',
    'login none',
    'mcp:tools mcp:resources admin',
    'authorization_code',
    'refresh_token',
    'client_credentials',
    'approve',
    'deny',
    '\ud800',
    '😀'.repeat(500),
    '../../etc/passwd',
    '__proto__',
  ];
}

const PARAMS: Record<string, string[]> = {
  authorize: [
    'client_id',
    'redirect_uri',
    'response_type',
    'code_challenge',
    'code_challenge_method',
    'state',
    'scope',
    'resource',
    'prompt',
    'nonce',
  ],
  callback: ['state', 'code', 'error', 'error_description', 'iss'],
  consent: ['authorization', 'csrf_token', 'decision'],
  token: [
    'grant_type',
    'client_id',
    'client_secret',
    'code',
    'code_verifier',
    'redirect_uri',
    'resource',
    'refresh_token',
    'scope',
  ],
  revoke: ['token', 'token_type_hint', 'client_id', 'client_secret'],
};

function generate(next: () => number, names: string[]): URLSearchParams {
  const pool = values();
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
  const params = new URLSearchParams();
  const count = Math.floor(next() * (names.length + 2));
  for (let i = 0; i < count; i++) {
    const name = next() < 0.9 ? pick(names) : pick(['__proto__', 'x'.repeat(300), '', 'client%5Fid']);
    params.append(name, pick(pool));
  }
  return params;
}

/**
 * A valid authorization request with one or two parameters replaced, dropped or repeated: random
 * parameter sets almost never name the registered client, so these reach the checks after it.
 */
function nearValidAuthorization(next: () => number): URLSearchParams {
  const pool = values();
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
  const valid: Record<string, string> = {
    client_id: client.client_id,
    redirect_uri: 'http://127.0.0.1/callback',
    response_type: 'code',
    code_challenge: 'A'.repeat(43),
    code_challenge_method: 'S256',
    state: 'opaque-state',
    scope: 'mcp:tools',
    resource: `${server.issuer}/mcp`,
  };
  const params = new URLSearchParams(valid);
  const mutations = 1 + Math.floor(next() * 2);
  for (let i = 0; i < mutations; i++) {
    const name = pick([...PARAMS.authorize!]);
    const how = next();
    if (how < 0.6) params.set(name, pick(pool));
    else if (how < 0.8) params.delete(name);
    else params.append(name, pick(pool));
  }
  return params;
}

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/json',
  'text/plain',
  '',
];

type Shape = 'page' | 'oauth';

async function check(response: Response, shape: Shape, label: string): Promise<void> {
  const body = await response.text();
  if (response.status >= 500) throw new Error(`${label} answered ${response.status}: ${body.slice(0, 300)}`);
  // An oversized URL is refused by the HTTP layer before any handler (API Gateway does the same).
  if (response.status === 414 || response.status === 431) return;
  if (shape === 'page') {
    const isRedirect = response.status >= 300 && response.status < 400 && response.headers.get('location');
    if (!isRedirect && !/^text\/html/.test(response.headers.get('content-type') ?? '')) {
      throw new Error(`${label} answered ${response.status} without a page or a redirect`);
    }
  } else if (response.status !== 200 && !('error' in (JSON.parse(body) as object))) {
    throw new Error(
      `${label} answered ${response.status} without an OAuth error object: ${body.slice(0, 300)}`,
    );
  }
}

/** A redirect to the upstream's login: the request was valid, so its pending authorization is stored. */
const wentUpstream = (response: Response) =>
  response.status === 302 && (response.headers.get('location') ?? '').startsWith(server.upstreamIssuer)
    ? 'pending authorization'
    : 'nothing';

it.each([
  ['GET /authorize', 'authorize', 1],
  ['GET /callback', 'callback', 2],
])(
  '%s answers generated queries with a page or a redirect, never a 5xx, and writes nothing else',
  async (label, endpoint, seed) => {
    const next = random(seed);
    await eachCase(
      CASES_PER_ENDPOINT,
      async (i) => {
        const query = generate(next, PARAMS[endpoint]!);
        const response = await fetch(`${server.issuer}/${endpoint}?${query}`, { redirect: 'manual' });
        const caseLabel = `${label} case ${i} (${query.toString().slice(0, 200)})`;
        await check(response, 'page', caseLabel);
        return { response, label: caseLabel };
      },
      endpoint === 'authorize' ? wentUpstream : undefined,
    );
  },
);

it('GET /authorize answers near-valid requests with a page or a redirect, and stores only the pending authorization of a valid one', async () => {
  const next = random(6);
  let upstream = 0;
  await eachCase(
    CASES_PER_ENDPOINT,
    async (i) => {
      const query = nearValidAuthorization(next);
      const response = await fetch(`${server.issuer}/authorize?${query}`, { redirect: 'manual' });
      const caseLabel = `GET /authorize near-valid case ${i} (${query.toString().slice(0, 300)})`;
      await check(response, 'page', caseLabel);
      if (wentUpstream(response) !== 'nothing') upstream++;
      return { response, label: caseLabel };
    },
    wentUpstream,
  );
  // Both branches ran: some requests stayed valid and went on to the upstream, most did not.
  expect(upstream).toBeGreaterThan(0);
  expect(upstream).toBeLessThan(CASES_PER_ENDPOINT);
});

it.each([
  ['POST /authorize (consent)', '/authorize', 'consent', 'page', 3],
  ['POST /token', '/token', 'token', 'oauth', 4],
  ['POST /revoke', '/revoke', 'revoke', 'oauth', 5],
] as const)(
  '%s answers generated bodies in its own shape, never a 5xx, and writes nothing',
  async (label, path, endpoint, shape, seed) => {
    const next = random(seed);
    await eachCase(CASES_PER_ENDPOINT, async (i) => {
      const body = generate(next, PARAMS[endpoint]!);
      const contentType = CONTENT_TYPES[Math.floor(next() * CONTENT_TYPES.length)]!;
      const response = await fetch(`${server.issuer}${path}`, {
        method: 'POST',
        headers: contentType ? { 'content-type': contentType } : {},
        body: body.toString(),
        redirect: 'manual',
      });
      const caseLabel = `${label} case ${i} (${contentType}: ${body.toString().slice(0, 200)})`;
      await check(response, shape, caseLabel);
      return { response, label: caseLabel };
    });
  },
);
