/**
 * Generated hostile input at every endpoint user login added (`GET /authorize`, `GET /callback`,
 * `POST /authorize`, `POST /token` for the code and refresh grants, `POST /revoke`): random
 * parameter sets drawn from the names each endpoint reads plus strangers, with values from a
 * pool of awkward strings (oversized, control and bidi characters, percent escapes, JSON, URLs,
 * near-valid tokens), repeated parameters and odd content types. Whatever arrives, the answer
 * is never a 5xx, and it has the endpoint's own shape: an HTML page or a redirect for the browser
 * endpoints, an RFC 6749 error object for the API ones. The generator is seeded, so a failure
 * names a case that can be replayed.
 */
import type { LocalServer } from '../../lib/local/server.js';
import { registerClient, startTestServer, type RegisteredClient } from '../support/local-server.js';

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

beforeAll(async () => {
  server = await startTestServer();
  client = await registerClient(server.issuer, {
    redirect_uris: ['http://127.0.0.1/callback', 'https://app.example/cb'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
  });
});
afterAll(() => server.close());

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

it.each([
  ['GET /authorize', 'authorize', 1],
  ['GET /callback', 'callback', 2],
])('%s answers generated queries with a page or a redirect, never a 5xx', async (label, endpoint, seed) => {
  const next = random(seed);
  for (let i = 0; i < CASES_PER_ENDPOINT; i++) {
    const query = generate(next, PARAMS[endpoint]!);
    const response = await fetch(`${server.issuer}/${endpoint}?${query}`, { redirect: 'manual' });
    await check(response, 'page', `${label} case ${i} (${query.toString().slice(0, 200)})`);
  }
});

it.each([
  ['POST /authorize (consent)', '/authorize', 'consent', 'page', 3],
  ['POST /token', '/token', 'token', 'oauth', 4],
  ['POST /revoke', '/revoke', 'revoke', 'oauth', 5],
] as const)(
  '%s answers generated bodies in its own shape, never a 5xx',
  async (label, path, endpoint, shape, seed) => {
    const next = random(seed);
    for (let i = 0; i < CASES_PER_ENDPOINT; i++) {
      const body = generate(next, PARAMS[endpoint]!);
      const contentType = CONTENT_TYPES[Math.floor(next() * CONTENT_TYPES.length)]!;
      const response = await fetch(`${server.issuer}${path}`, {
        method: 'POST',
        headers: contentType ? { 'content-type': contentType } : {},
        body: body.toString(),
        redirect: 'manual',
      });
      await check(response, shape, `${label} case ${i} (${contentType}: ${body.toString().slice(0, 200)})`);
    }
  },
);
