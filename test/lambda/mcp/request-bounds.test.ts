/**
 * Bounded work per POST on /mcp: how many messages a batch may hold, how deeply a body may nest,
 * how large a response may grow, and batch members validated exactly as single messages are.
 */
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../../lambda/mcp/protocol/json-body.js';
import { MAX_BATCH_MESSAGES } from '../../../lambda/mcp/protocol/protocol.js';
import { MAX_RESPONSE_BYTES } from '../../../lambda/mcp/protocol/reply-writer.js';
import { accessToken, INIT, mcpPost, rpc, testApp } from './mcp-test-kit.js';

type Reply = {
  jsonrpc: string;
  id: unknown;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
};

const BIG_BODIES = { MAX_BODY_BYTES: String(1024 * 1024) };

/** `{"a": [[...[1]...]]}` nested so that the whole tools/call body is `depth` levels deep. */
function callNestedTo(depth: number) {
  let value: unknown = 1;
  // body, params and arguments are three levels; the rest is the argument's own nesting.
  for (let i = 0; i < depth - 3; i++) value = [value];
  return rpc('tools/call', { name: 'add', arguments: { a: value, b: 1 } });
}

/** The same as text, for depths `JSON.stringify` itself could not reach. */
function rawCallNestedTo(depth: number): string {
  const n = depth - 3;
  return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":${'['.repeat(n)}1${']'.repeat(n)},"b":1}}}`;
}

describe('batch length', () => {
  it.each([1, 2, 50, MAX_BATCH_MESSAGES])('answers a batch of %i pings with one reply each', async (n) => {
    // Prepare
    const app = await testApp({ env: BIG_BODIES });
    const batch = Array.from({ length: n }, (_, i) => rpc('ping', undefined, i));

    // Act
    const response = await app(mcpPost(batch, { token: await accessToken() }));

    // Assess
    expect(response.status).toBe(200);
    const replies = (await response.json()) as Reply[];
    expect(replies.map((r) => r.id)).toEqual(batch.map((m) => m.id));
  });

  it.each([MAX_BATCH_MESSAGES + 1, 1000, 10_000])(
    'refuses a batch of %i messages with 400 and -32600 before running any',
    async (n) => {
      // Prepare
      const logs: string[] = [];
      const app = await testApp({ env: BIG_BODIES, logs });
      const batch = Array.from({ length: n }, (_, i) => rpc('tools/list', undefined, i));

      // Act
      const response = await app(mcpPost(batch, { token: await accessToken() }));

      // Assess
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'Invalid Request: Batch must not exceed 100 messages' },
      });
    },
  );
});

describe('batch members are validated as single messages are', () => {
  // Each member alone, then inside a batch: the same error code either way.
  const members: Array<[string, unknown]> = [
    ['a number', 7],
    ['null', null],
    ['a wrong jsonrpc version', { jsonrpc: '1.0', id: 1, method: 'ping' }],
    ['a fractional id', { jsonrpc: '2.0', id: 1.5, method: 'ping' }],
    ['an object id', { jsonrpc: '2.0', id: {}, method: 'ping' }],
    ['params that are a string', { jsonrpc: '2.0', id: 1, method: 'ping', params: 'x' }],
    ['params that are an array', { jsonrpc: '2.0', id: 1, method: 'tools/list', params: [] }],
    ['an unknown method', rpc('prompts/list')],
    ['a tool name that is an object', rpc('tools/call', { name: { toString: null } })],
    ['a resource uri that is a number', rpc('resources/read', { uri: 7 })],
    ['a cursor that is a number', rpc('tools/list', { cursor: 7 })],
    ['initialize without clientInfo', rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {} })],
    ['a method that is not a string', { jsonrpc: '2.0', id: 1, method: 7 }],
  ];

  it.each(members)('%s', async (_, member) => {
    // Prepare
    const app = await testApp();
    const token = await accessToken();

    // Act
    const single = await app(mcpPost(member, { token }));
    const batch = await app(mcpPost([member, rpc('ping', undefined, 'last')], { token }));

    // Assess
    const alone = (await single.json()) as Reply;
    const replies = (await batch.json()) as Reply[];
    expect(single.status).not.toBe(500);
    expect(batch.status).toBe(200);
    expect(alone.error).toBeDefined();
    expect(replies).toHaveLength(2);
    expect(replies[0]!.error!.code).toBe(alone.error!.code);
    expect(replies[1]).toEqual({ jsonrpc: '2.0', id: 'last', result: {} });
  });

  it('runs no member of a batch when one member needs a scope the token lacks', async () => {
    const app = await testApp();
    const token = await accessToken({ scope: 'mcp:resources' });
    const response = await app(
      mcpPost([rpc('resources/list', undefined, 1), rpc('tools/list', undefined, 2)], { token }),
    );
    expect(response.status).toBe(403);
  });

  it('keeps the order of the members in the replies', async () => {
    const app = await testApp();
    const response = await app(
      mcpPost([rpc('ping', undefined, 1), { jsonrpc: '2.0', id: 2, method: 7 }, rpc('ping', undefined, 3)], {
        token: await accessToken(),
      }),
    );
    expect(((await response.json()) as Reply[]).map((r) => r.id)).toEqual([1, 2, 3]);
  });
});

describe('nesting depth', () => {
  it.each([4, 10, MAX_JSON_DEPTH])('accepts a body %i levels deep', async (depth) => {
    // Prepare
    const app = await testApp({ env: BIG_BODIES });
    const body = callNestedTo(depth);
    expect(JSON.stringify(body)).toBe(rawCallNestedTo(depth));
    expect(nestsDeeperThan(rawCallNestedTo(depth), depth - 1)).toBe(true);
    expect(nestsDeeperThan(rawCallNestedTo(depth), depth)).toBe(false);

    // Act
    const response = await app(mcpPost(body, { token: await accessToken() }));

    // Assess: it reached the tool, which refuses an array where a number goes.
    expect(response.status).toBe(200);
    expect(((await response.json()) as Reply).result).toMatchObject({ isError: true });
  });

  it.each([MAX_JSON_DEPTH + 1, 1000, 100_000])(
    'refuses a body %i levels deep with 400 and -32600, before parsing it',
    async (depth) => {
      const app = await testApp({ env: BIG_BODIES });
      const response = await app(
        mcpPost(undefined, { token: await accessToken(), raw: rawCallNestedTo(depth) }),
      );
      expect(response.status).toBe(400);
      expect(((await response.json()) as Reply).error).toEqual({
        code: -32600,
        message: `Bad Request: the request body nests deeper than ${MAX_JSON_DEPTH} levels`,
      });
    },
  );

  it('refuses a deep batch the same way', async () => {
    const app = await testApp({ env: BIG_BODIES });
    const response = await app(mcpPost([callNestedTo(MAX_JSON_DEPTH)], { token: await accessToken() }));
    expect(response.status).toBe(400);
  });

  it.each([
    ['brackets inside a string', `{"a":"${'['.repeat(500)}"}`, false],
    ['an escaped quote before brackets inside a string', `{"a":"\\"${'{'.repeat(500)}"}`, false],
    ['an escaped backslash that ends a string', `{"a":"\\\\",${'['.repeat(70)}`, true],
    ['stray closing brackets (not JSON: the parser refuses it)', `]]]]${'['.repeat(64)}`, false],
  ])('counts only structural brackets: %s', (_, text, deep) => {
    expect(nestsDeeperThan(text, MAX_JSON_DEPTH)).toBe(deep);
  });
});

describe('response size', () => {
  it('keeps a full batch of tools/list well inside the response cap', async () => {
    // Prepare: the example, as many list requests as a batch may hold.
    const app = await testApp({ env: BIG_BODIES });
    const batch = Array.from({ length: MAX_BATCH_MESSAGES }, (_, i) => rpc('tools/list', undefined, i));

    // Act
    const response = await app(mcpPost(batch, { token: await accessToken() }));

    // Assess
    const text = await response.text();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect((JSON.parse(text) as Reply[]).every((r) => r.result !== undefined)).toBe(true);
  });

  it('answers the replies that do not fit with -32000, and stops running the batch', async () => {
    // Prepare: room for about two tools/list results.
    const app = await testApp({ maxResponseBytes: 4000 });
    const batch = Array.from({ length: 8 }, (_, i) => rpc('tools/list', undefined, i));

    // Act
    const response = await app(mcpPost(batch, { token: await accessToken() }));

    // Assess
    expect(response.status).toBe(200);
    const text = await response.text();
    const replies = JSON.parse(text) as Reply[];
    expect(replies.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const refused = replies.filter((r) => r.error);
    expect(refused.length).toBeGreaterThan(0);
    expect(replies.slice(replies.indexOf(refused[0]!)).every((r) => r.error?.code === -32000)).toBe(true);
    expect(refused[0]!.error!.message).toBe('Response Too Large: the reply would exceed 4000 bytes');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4000 + refused.length * 120);
  });

  it('answers a single request whose result does not fit with -32000 and HTTP 200', async () => {
    const app = await testApp({ maxResponseBytes: 500 });
    const response = await app(mcpPost(rpc('tools/list'), { token: await accessToken() }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as Reply).error).toEqual({
      code: -32000,
      message: 'Response Too Large: the reply would exceed 500 bytes',
    });
  });

  it('leaves small replies alone', async () => {
    const app = await testApp({ maxResponseBytes: 500 });
    const response = await app(mcpPost(INIT, { token: await accessToken() }));
    expect(((await response.json()) as Reply).result).toBeDefined();
  });
});
