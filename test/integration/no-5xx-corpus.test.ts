/**
 * Every route of `ROUTES`, every method (those it serves and the others), generated requests
 * against the real local server: query strings, headers (credentials good and bad, origins,
 * content types of every kind) and bodies (JSON, forms, JSON-RPC, multipart, bytes that are not
 * UTF-8, empty, oversized). Whatever arrives:
 *
 * - never a 5xx;
 * - never a stack trace or an error's own text (`Error:`, `    at f (file:1:2)` frames) in the body;
 * - the body has the shape its endpoint promises: an RFC 6749 error object for OAuth errors, an
 *   HTML page or a redirect where the endpoint serves the browser, JSON-RPC on `/mcp` (or an
 *   RFC 6750 challenge with an OAuth error object when the bearer token is the problem), no body
 *   on 202 and 204, and API Gateway's own 404 for a method the route does not have.
 */
import fc from 'fast-check';
import type { LocalServer } from '../../lib/local/server.js';
import { ROUTES, type Route } from '../../lambda/shared/routes.js';
import {
  basicAuth,
  machineToken,
  registerClient,
  registerMachineClient,
  startTestServer,
  type RegisteredClient,
} from '../support/local-server.js';
import { HEADER_VALUE_CHARS, rawRequest, type RawResponse } from '../support/raw-http.js';

const SEED = 5_000_000;
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD'] as const;
const PAGES = ['/authorize', '/callback'];

let server: LocalServer;
let client: RegisteredClient;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  client = await registerClient(server.issuer, {
    redirect_uris: ['http://127.0.0.1/callback'],
    token_endpoint_auth_method: 'none',
  });
  token = await machineToken(server.issuer, await registerMachineClient(server.issuer));
});
afterAll(() => server.close());

const NAMES = [
  'client_id',
  'client_secret',
  'grant_type',
  'code',
  'code_verifier',
  'redirect_uri',
  'refresh_token',
  'token',
  'token_type_hint',
  'scope',
  'resource',
  'state',
  'response_type',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'authorization',
  'csrf_token',
  'decision',
  'error',
  'iss',
  'x',
];

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    'code',
    'client_credentials',
    'authorization_code',
    'refresh_token',
    'S256',
    'approve',
    'A'.repeat(43),
  ),
);
const params = fc
  .array(fc.tuple(fc.constantFrom(...NAMES), text), { maxLength: 8 })
  .map((pairs) => new URLSearchParams(pairs));
const json = fc.jsonValue({ maxDepth: 4 });
const headerValue = fc.string({ unit: fc.constantFrom(...HEADER_VALUE_CHARS), maxLength: 80 });

const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=iso-8859-1',
    'text/plain',
    'text/html',
    'multipart/form-data; boundary=zzz',
    'application/octet-stream',
    'application/xml',
    'application/jwt',
    'application/merge-patch+json',
    '*/*',
    '',
  ),
  headerValue,
);

const body = fc.oneof(
  json.map((v) => JSON.stringify(v)),
  params.map((p) => p.toString()),
  fc
    .tuple(fc.constantFrom('ping', 'tools/list', 'tools/call', 'initialize', 'resources/read'), json)
    .map(([method, p]) => JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: p })),
  params.map((p) => `--zzz\r\nContent-Disposition: form-data; name="x"\r\n\r\n${p}\r\n--zzz--\r\n`),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(''),
  fc.integer({ min: 17_000, max: 300_000 }).map((n) => `{"client_name":"${'x'.repeat(n)}"}`),
);

const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant('TOKEN'),
  fc.constant('REGISTRATION'),
  headerValue.map((v) => `Bearer ${v}`),
  fc.tuple(text, text).map(([id, secret]) => basicAuth(id, secret)),
  headerValue,
);

const requestArbitrary = fc.record({
  route: fc.constantFrom(...ROUTES),
  method: fc.constantFrom(...METHODS),
  clientId: fc.oneof(
    fc.constant('REAL'),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
  ),
  query: fc.option(params),
  headers: fc.record(
    {
      'content-type': contentType,
      accept: fc.oneof(
        fc.constantFrom('application/json, text/event-stream', 'text/html', '*/*'),
        headerValue,
      ),
      origin: fc.oneof(fc.constantFrom('http://localhost:6274', 'https://evil.example', 'null'), headerValue),
      'mcp-protocol-version': fc.oneof(fc.constantFrom('2025-06-18', '2026-07-28'), headerValue),
      cookie: headerValue,
    },
    { requiredKeys: [] },
  ),
  authorization,
  body: fc.option(body),
});

function pathOf(route: Route, clientId: string): string {
  const id = clientId === 'REAL' ? client.client_id : clientId;
  // `.` and `..` would be dot segments, which the URL parser removes before routing.
  const segment = id === '.' || id === '..' ? 'dot' : encodeURIComponent(Buffer.from(id).toString());
  return route.path.replace('{client_id}', segment);
}

/** A stack frame (`    at fn (file.js:1:2)`) or an error's own `Name: message` text. */
const STACK =
  /(^|\n)\s*at\s+\S.*(:\d+:\d+\)?|\(native\))\s*($|\n)|\b(Type|Range|Syntax|Reference)?Error:|node:internal|\.ts:\d+:\d+/;

function isOAuthError(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { error?: unknown }).error === 'string' &&
    ['undefined', 'string'].includes(typeof (value as { error_description?: unknown }).error_description)
  );
}

function isJsonRpc(value: unknown): boolean {
  const one = (v: unknown) =>
    typeof v === 'object' && v !== null && (v as { jsonrpc?: unknown }).jsonrpc === '2.0' && 'id' in v;
  return Array.isArray(value) ? value.length > 0 && value.every(one) : one(value);
}

/** Why the answer breaks the rules, or undefined when it keeps them. */
function problem(route: Route, method: string, response: RawResponse): string | undefined {
  const { status, body } = response;
  const type = String(response.headers['content-type'] ?? '');
  if (status >= 500) return `a ${status}`;
  if (STACK.test(body)) return 'a stack trace or error text in the body';
  if (!route.methods.includes(method as never)) {
    // API Gateway answers itself; no function runs.
    return status === 404 && (method === 'HEAD' || body === '{"message":"Not Found"}')
      ? undefined
      : 'not the gateway 404 for a method the route lacks';
  }
  if (status === 202 || status === 204) return body === '' ? undefined : `a body on ${status}`;
  if (status >= 300 && status < 400) {
    return PAGES.includes(route.path) && response.headers.location
      ? undefined
      : 'a redirect from an API endpoint';
  }
  if (type.startsWith('text/html')) {
    return PAGES.includes(route.path) && body.startsWith('<!doctype html>')
      ? undefined
      : 'an HTML answer here';
  }
  if (route.path === '/revoke' && status === 200 && body === '') return undefined;
  if (!type.startsWith('application/json')) return `content type "${type}"`;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'a body that is not JSON';
  }
  if (route.path === '/mcp') {
    // A problem with the bearer token is an RFC 6750 challenge; everything else is JSON-RPC.
    if (response.headers['www-authenticate'])
      return isOAuthError(value) ? undefined : 'a challenge without an OAuth error object';
    return isJsonRpc(value) ? undefined : 'not JSON-RPC';
  }
  if (status >= 400) return isOAuthError(value) ? undefined : 'an error that is not an OAuth error object';
  return typeof value === 'object' && value !== null ? undefined : 'a success that is not a JSON object';
}

it('never answers 5xx, a stack trace, or a body of the wrong shape, on any route and method', async () => {
  const statuses = new Map<string, Set<number>>();
  await fc.assert(
    fc.asyncProperty(requestArbitrary, async (generated) => {
      const { route, method } = generated;
      const headers: Record<string, string> = { ...generated.headers };
      if (generated.authorization === 'TOKEN') headers.authorization = `Bearer ${token}`;
      else if (generated.authorization === 'REGISTRATION')
        headers.authorization = `Bearer ${client.registration_access_token}`;
      else if (generated.authorization !== undefined) headers.authorization = generated.authorization;
      const path = `${pathOf(route, generated.clientId)}${generated.query ? `?${generated.query}` : ''}`;

      // Act
      const response = await rawRequest(server.issuer, {
        method,
        path,
        headers,
        ...(generated.body !== null && { body: generated.body }),
      });

      // Assess
      const label = `${method} ${path.slice(0, 200)}`;
      const key = `${method} ${route.path}`;
      statuses.set(key, (statuses.get(key) ?? new Set()).add(response.status));
      expect([label, problem(route, method, response)]).toEqual([label, undefined]);
    }),
    { seed: SEED, numRuns: 1500, interruptAfterTimeLimit: 50_000, markInterruptAsFailure: true },
  );
  // Every route and every method it serves was reached.
  for (const route of ROUTES) {
    for (const method of route.methods)
      expect([route.path, method, statuses.has(`${method} ${route.path}`)]).toEqual([
        route.path,
        method,
        true,
      ]);
  }
}, 90_000);
