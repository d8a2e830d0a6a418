/**
 * Generated `POST /mcp` bodies, authenticated, at the local server's HTTP seam: any JSON value,
 * JSON-RPC-shaped messages with any field of any type, batches up to past the 100-message
 * limit, nesting from shallow to far past the 64-level bound, text that is not JSON, and for
 * every method params whose fields hold any JSON value, in both protocol eras. The answer is
 * always the transport's: 202 with no body, or JSON-RPC at 200 (a reply or a batch of replies)
 * or 400 (one error), never a 5xx, never -32603 (which means a bug), and nothing is written.
 *
 * `test/lambda/mcp/request-params.test.ts` pins the exact code for each wrongly typed parameter
 * and `request-bounds.test.ts` the exact batch and depth limits; this file adds arbitrary input
 * on top, over real HTTP, and checks only the rules every answer follows.
 */
import fc from 'fast-check';
import type { LocalServer } from '../../lib/local/server.js';
import { SERVER_DESCRIPTION_URI } from '../../lambda/mcp/resources/server-description.js';
import { TOOLS } from '../../lambda/mcp/tools/registry.js';
import { machineToken, registerMachineClient, startTestServer } from '../support/local-server.js';
import { rawRequest } from '../support/raw-http.js';
import { NO_CHANGES, tableChanges, tableReader, type TableReader } from '../support/table.js';

const SEED = 31337;

let server: LocalServer;
let table: TableReader;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  table = tableReader(server);
  token = await machineToken(server.issuer, await registerMachineClient(server.issuer));
});
afterAll(async () => {
  table.close();
  await server.close();
});

const METHODS = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'server/discover',
  'prompts/list',
  'completion/complete',
  'logging/setLevel',
  'notifications/initialized',
  'notifications/cancelled',
];

const json = fc.jsonValue({ maxDepth: 4 });
const id = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 20 }),
  fc.constant(null),
  fc.double(),
  fc.boolean(),
  fc.object({ maxDepth: 1 }),
);

/** A message shape with every field optional and of any type. */
const anyMessage = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), json),
    id,
    method: fc.oneof(fc.constantFrom(...METHODS), fc.string({ maxLength: 30 }), json),
    params: fc.oneof(fc.dictionary(fc.string({ maxLength: 12 }), json, { maxKeys: 5 }), json),
    result: json,
    error: json,
  },
  { requiredKeys: [] },
);

/** Params for each method, with its own field names holding anything. */
const params: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  'tools/call': fc.record(
    {
      name: fc.oneof(fc.constantFrom(...TOOLS.map((t) => t.name)), json),
      arguments: fc.oneof(
        fc.record(
          { a: json, b: json, timeZone: fc.oneof(fc.string({ maxLength: 70 }), json), name: json },
          { requiredKeys: [] },
        ),
        json,
      ),
      _meta: json,
    },
    { requiredKeys: [] },
  ),
  'resources/read': fc.record(
    { uri: fc.oneof(fc.constant(SERVER_DESCRIPTION_URI), fc.webUrl(), json) },
    { requiredKeys: [] },
  ),
  initialize: fc.record(
    {
      protocolVersion: fc.oneof(
        fc.constantFrom('2025-06-18', '2025-03-26', '2026-07-28', '1999-01-01'),
        json,
      ),
      capabilities: json,
      clientInfo: fc.oneof(fc.record({ name: json, version: json }, { requiredKeys: [] }), json),
    },
    { requiredKeys: [] },
  ),
};
const paramsFor = (method: string) =>
  params[method] ?? fc.dictionary(fc.constantFrom('cursor', '_meta', 'x'), json);

/** A well-formed request of a real method, whose params may be anything the method's fields can hold. */
const request = fc
  .tuple(fc.constantFrom(...METHODS), fc.oneof(fc.integer(), fc.string({ maxLength: 20 })))
  .chain(([method, requestId]) =>
    fc
      .option(paramsFor(method))
      .map((p) => ({ jsonrpc: '2.0', id: requestId, method, ...(p && { params: p }) })),
  );

/** `value` wrapped in `depth` arrays or objects. */
const nested = fc
  .tuple(fc.integer({ min: 1, max: 300 }), fc.boolean(), fc.boolean())
  .map(([depth, inArguments, useObjects]) => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = useObjects ? { k: value } : [value];
    return inArguments
      ? {
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'add', arguments: { a: value, b: 1 } },
        }
      : value;
  });

/** Both eras: 2025 requests may carry a version header; 2026 ones carry version, method and name headers. */
const headers = fc.oneof(
  fc.constant({}),
  fc.record(
    {
      'mcp-protocol-version': fc.oneof(
        fc.constantFrom('2025-06-18', '2025-03-26', '2025-11-25', '2026-07-28', '2099-01-01', 'garbage', ''),
        fc.stringMatching(/^[ -~]{0,20}$/),
      ),
      'mcp-method': fc.oneof(fc.constantFrom(...METHODS), fc.stringMatching(/^[ -~]{0,20}$/)),
      'mcp-name': fc.oneof(
        fc.constantFrom('add', 'get_time', SERVER_DESCRIPTION_URI),
        fc.stringMatching(/^[ -~]{0,20}$/),
      ),
    },
    { requiredKeys: [] },
  ),
);

const body = fc.oneof(
  { weight: 2, arbitrary: json.map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: anyMessage.map((m) => JSON.stringify(m)) },
  { weight: 4, arbitrary: request.map((m) => JSON.stringify(m)) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.oneof(request, anyMessage, json), { maxLength: 110 })
      .map((b) => JSON.stringify(b)),
  },
  { weight: 1, arbitrary: nested.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
);

type Reply = {
  jsonrpc?: unknown;
  id?: unknown;
  result?: unknown;
  error?: { code?: unknown; message?: unknown };
};

function isReply(value: unknown): value is Reply {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const reply = value as Reply & Record<string, unknown>;
  const hasResult = 'result' in reply;
  const hasError = 'error' in reply;
  return (
    reply.jsonrpc === '2.0' &&
    'id' in reply &&
    (typeof reply.id === 'string' || typeof reply.id === 'number' || reply.id === null) &&
    hasResult !== hasError &&
    (!hasError || (Number.isInteger(reply.error?.code) && typeof reply.error?.message === 'string'))
  );
}

it("answers any body in the transport's shape: 202 empty, or JSON-RPC at 200 or 400, never 5xx or -32603", async () => {
  const before = await table.snapshot();
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(body, headers, async (text, extra) => {
      // Act
      const response = await rawRequest(server.issuer, {
        method: 'POST',
        path: '/mcp',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...extra,
        },
        body: text,
      });

      // Assess
      const label = `${JSON.stringify(extra)} ${text.slice(0, 300)}`;
      seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
      expect([label, [200, 202, 400].includes(response.status)]).toEqual([label, true]);
      if (response.status === 202) {
        expect([label, response.body]).toEqual([label, '']);
        return;
      }
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const answer = JSON.parse(response.body) as unknown;
      const replies = Array.isArray(answer) && response.status === 200 ? answer : [answer];
      expect([label, replies.length > 0 && replies.every(isReply)]).toEqual([label, true]);
      if (response.status === 400) expect([label, 'error' in (answer as Reply)]).toEqual([label, true]);
      for (const reply of replies as Reply[]) expect([label, reply.error?.code]).not.toEqual([label, -32603]);
    }),
    { seed: SEED, numRuns: 1200, interruptAfterTimeLimit: 40_000, markInterruptAsFailure: true },
  );
  expect(tableChanges(before, await table.snapshot())).toEqual(NO_CHANGES);
  // Every kind of answer came up, so none of the rules above went untested.
  expect([...seen.keys()].sort()).toEqual([200, 202, 400]);
}, 60_000);
