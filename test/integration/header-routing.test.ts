/**
 * Headers a client controls never choose the endpoint. For every route and method of `ROUTES`,
 * a fixed request is answered once without extra headers; then the same request is sent again
 * with generated `Host`, `X-Forwarded-Proto`, `X-Forwarded-Host`, `Forwarded` and the
 * path- and method-override headers some frameworks honour. The answer must be the same
 * (status, content type, body, `Location`, `WWW-Authenticate`, `Allow`), never a 5xx, and the
 * table must not change. Below that, the Lambda adapter is given arbitrary header and domain
 * values: the URL it builds always has the routed path, and a host that is not a host name
 * becomes `invalid.localhost`.
 */
import fc from 'fast-check';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { LocalServer } from '../../lib/local/server.js';
import { toRequest } from '../../lambda/shared/lambda-adapter.js';
import { ROUTES, type RouteMethod } from '../../lambda/shared/routes.js';
import {
  machineToken,
  registerClient,
  registerMachineClient,
  startTestServer,
  type RegisteredClient,
} from '../support/local-server.js';
import { HEADER_VALUE_CHARS, rawRequest, type RawResponse } from '../support/raw-http.js';
import { NO_CHANGES, tableChanges, tableReader, type TableReader } from '../support/table.js';

const SEED = 9001;

interface Probe {
  label: string;
  method: RouteMethod;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

let server: LocalServer;
let table: TableReader;
let client: RegisteredClient;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  table = tableReader(server);
  client = await registerClient(server.issuer, {
    redirect_uris: ['http://127.0.0.1/callback'],
    token_endpoint_auth_method: 'none',
  });
  token = await machineToken(server.issuer, await registerMachineClient(server.issuer));
});
afterAll(async () => {
  table.close();
  await server.close();
});

const JSON_TYPE = { 'content-type': 'application/json' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };

/** A request to each route and method whose answer does not depend on time or randomness and writes nothing. */
function probes(): Probe[] {
  const all: Probe[] = [];
  for (const route of ROUTES) {
    const path = route.path.replace('{client_id}', client.client_id);
    for (const method of route.methods) {
      const probe: Probe = { label: `${method} ${route.path}`, method, path, headers: {} };
      if (method === 'OPTIONS') {
        probe.headers = { origin: 'https://app.example', 'access-control-request-method': 'POST' };
      } else if (route.path === '/mcp' && method === 'POST') {
        probe.headers = { ...JSON_TYPE, accept: 'application/json, text/event-stream' };
        probe.body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      } else if (['/register', '/dcr', '/clients/{client_id}'].includes(route.path) && method !== 'GET') {
        probe.headers = JSON_TYPE;
        probe.body = '{}';
      } else if (method === 'POST') {
        probe.headers = FORM_TYPE;
        probe.body = '';
      }
      all.push(probe);
    }
  }
  // Authenticated: a tool call answers the same wherever the headers claim it was sent.
  all.push({
    label: 'POST /mcp tools/call with a valid token',
    method: 'POST',
    path: '/mcp',
    headers: {
      ...JSON_TYPE,
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'add', arguments: { a: 1, b: 2 } },
    }),
  });
  return all;
}

/** What identifies the endpoint that answered, and everything it derived from the request's origin. */
function identity(response: RawResponse) {
  return {
    status: response.status,
    contentType: response.headers['content-type'],
    location: response.headers.location,
    wwwAuthenticate: response.headers['www-authenticate'],
    allow: response.headers.allow,
    body: response.body,
  };
}

/**
 * Values that look like a host name to a pattern but not to a URL parser: dotted numbers (parsed
 * as IPv4, and refused out of range), hex and octal-looking labels, and ports up to 99999.
 */
const hostLike = fc
  .tuple(
    fc.oneof(
      fc
        .array(
          fc.oneof(fc.nat(999), fc.nat(99_999_999_999), fc.constantFrom('0x100000000', '09', '0x', '08')),
          {
            minLength: 1,
            maxLength: 6,
          },
        )
        .map((labels) => labels.join('.')),
      fc.domain(),
    ),
    fc.option(fc.nat(99_999)),
  )
  .map(([host, port]) => (port === null ? host : `${host}:${port}`));

const headerValue = fc.oneof(
  hostLike,
  fc.string({ unit: fc.constantFrom(...HEADER_VALUE_CHARS), maxLength: 200 }),
  fc.constantFrom(
    '',
    'evil.example',
    'evil.example:443',
    'localhost',
    '127.0.0.1:1',
    '[::1]',
    'https',
    'http',
    'ws',
    'http://evil.example/register#',
    'https://evil.example/token?',
    '/token',
    '/register',
    '/mcp',
    '/.well-known/jwks.json',
    'DELETE',
    'PUT',
    'for=203.0.113.7;proto=https;host=evil.example',
    'abc123.execute-api.eu-west-1.amazonaws.com',
    'x'.repeat(4000),
  ),
  fc.webUrl(),
  fc.domain(),
);

const spoofingHeaders = fc.record(
  {
    host: headerValue,
    'x-forwarded-proto': headerValue,
    'x-forwarded-host': headerValue,
    'x-forwarded-port': headerValue,
    'x-forwarded-prefix': headerValue,
    forwarded: headerValue,
    'x-original-url': headerValue,
    'x-rewrite-url': headerValue,
    'x-http-method-override': headerValue,
  },
  { requiredKeys: [] },
);

describe('through the local server', () => {
  it('answers every route and method alike whatever Host and forwarding headers say, never 5xx, writing nothing', async () => {
    // Prepare: each probe's answer without extra headers
    const all = probes();
    const expected = new Map<string, ReturnType<typeof identity>>();
    for (const probe of all) expected.set(probe.label, identity(await send(probe, {})));
    let refusedByHttpLayer = 0;
    let before = await table.snapshot();

    // Act and assess
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...all), spoofingHeaders, async (probe, headers) => {
        const response = await send(probe, headers);
        const after = await table.snapshot();
        const changes = tableChanges(before, after);
        before = after;
        expect(changes).toEqual(NO_CHANGES);
        expect(response.status).toBeLessThan(500);
        // Node's HTTP parser refuses a few Host values, and oversized headers (431), before any
        // handler runs, as API Gateway refuses what it cannot route: no body, from neither function.
        const bare = response.body === '' && !response.headers['content-type'];
        if (bare && (response.status === 400 || response.status === 431)) {
          refusedByHttpLayer++;
          return;
        }
        expect(identity(response)).toEqual(expected.get(probe.label));
      }),
      { seed: SEED, numRuns: 600 },
    );
    expect(refusedByHttpLayer).toBeLessThan(60);
  }, 60_000);
});

function send(probe: Probe, headers: Record<string, string>): Promise<RawResponse> {
  return rawRequest(server.issuer, {
    method: probe.method,
    path: probe.path,
    headers: { host: new URL(server.issuer).host, ...probe.headers, ...headers },
    ...(probe.body !== undefined && { body: probe.body }),
  });
}

describe('the Lambda adapter', () => {
  const anyText = fc.string({ unit: 'binary', maxLength: 300 });

  it('builds the request URL from the routed path only, whatever the headers and domain name', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ROUTES.map((r) => r.path.replace('{client_id}', 'abc'))),
        fc.dictionary(fc.constantFrom('host', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded'), anyText),
        fc.oneof(anyText, hostLike, fc.constant(undefined)),
        (path, headers, domainName) => {
          // Act
          const request = toRequest({
            version: '2.0',
            routeKey: `GET ${path}`,
            rawPath: path,
            rawQueryString: '',
            headers,
            requestContext: { domainName, http: { method: 'GET', path } },
            isBase64Encoded: false,
          } as unknown as APIGatewayProxyEventV2);

          // Assess
          const url = new URL(request.url);
          expect(url.pathname).toBe(path);
          expect(url.protocol).toBe('https:');
          const isHostName = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/.test(domainName ?? '');
          if (!isHostName) expect(url.host).toBe('invalid.localhost');
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
