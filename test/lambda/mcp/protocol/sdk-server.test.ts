/**
 * `createMcpApp({ sdkServer })`: a team's own MCP SDK server (v2 and v1) behind this project's
 * front. The front's answers (401, 403 `insufficient_scope`, 413, 415, too deep) are the built-in
 * path's, byte for byte; the SDK server gets the verified caller but never the token; a fresh
 * server serves every request; and the default bundle holds no SDK server code.
 */
import { McpServer as V1McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpServer, requireScopes } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { createMcpApp } from '../../../../lambda/mcp/app.js';
import type { BusinessMetrics } from '../../../../lambda/shared/metrics.js';
import {
  buildExampleV2Server,
  EXAMPLE_SCOPES,
  exampleV1Front,
  exampleV2Front,
} from '../../../../lambda/mcp/examples/sdk-server.js';
import {
  DEFAULT_METHOD_SCOPES,
  callerOf,
  createSdkServerFront,
  type SdkExchange,
  type SdkServerFront,
} from '../../../../lambda/mcp/protocol/sdk-server.js';
import { PlainResponse } from '../../../../lambda/shared/http-message.js';
import { sdkV1Server } from '../../../../lambda/mcp/protocol/sdk-server-v1.js';
import { sdkV2Server } from '../../../../lambda/mcp/protocol/sdk-server-v2.js';
import { DEADLINE_MARGIN_MS } from '../../../../lambda/mcp/tools/tool.js';
import { Dispatcher } from '../../../../lambda/mcp/protocol/dispatcher.js';
import { RESOURCES } from '../../../../lambda/mcp/resources/registry.js';
import { TOOLS } from '../../../../lambda/mcp/tools/registry.js';
import { PROJECT_ROOT } from '../../../../lib/bundling.js';
import { buildBuiltInMcpBundle } from '../../../support/built-in-server.js';
import { CachedPublicKeys } from '../../../../lambda/shared/signing-keys.js';
import { toPublicKeySet } from '../../../../lambda/shared/key-set.js';
import { createLogger } from '../../../../lambda/shared/logger.js';
import {
  accessToken,
  currentKey,
  INIT,
  mcpPost,
  modernPost,
  NOW_MS,
  PRM_URL,
  RESOURCE,
  rpc,
  testApp,
  testConfig,
} from '../mcp-test-kit.js';

interface Reply {
  id?: unknown;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** createMcpApp as the test kit builds it, with an SDK server behind it. */
async function appWith(
  sdkServer: SdkServerFront,
  options: { toolTimeLimitMs?: number; logs?: string[]; metrics?: BusinessMetrics } = {},
) {
  const key = await currentKey();
  const logs = options.logs ?? [];
  return createMcpApp({
    config: testConfig(),
    keys: new CachedPublicKeys({ load: async () => toPublicKeySet({ current: key }) }),
    logger: createLogger('mcp', { level: 'debug', write: (line) => logs.push(line) }),
    now: () => NOW_MS,
    sdkServer,
    ...(options.toolTimeLimitMs !== undefined && { toolTimeLimitMs: options.toolTimeLimitMs }),
    ...(options.metrics && { metrics: options.metrics }),
  });
}

/** The body of a JSON or SSE answer, as the JSON-RPC messages it carries. */
async function repliesOf(response: {
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}) {
  const text = await response.text();
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    return text
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => JSON.parse(line.slice(5)) as Reply);
  }
  const body = JSON.parse(text) as Reply | Reply[];
  return Array.isArray(body) ? body : [body];
}

const SDKS = [
  ['v2', exampleV2Front],
  ['v1', exampleV1Front],
] as const;

/** Business metrics that remember what was counted, as `[name]` or `[name, dimension value]`. */
function countingMetrics(): { metrics: BusinessMetrics; counted: string[][] } {
  const counted: string[][] = [];
  const count = (name: string, value?: string) => counted.push(value === undefined ? [name] : [name, value]);
  return { metrics: { count } as BusinessMetrics, counted };
}

/**
 * A front over an exchange that serves one tool, `echo`, and answers `tools/list` as `list` says:
 * with the tool, by throwing, or never (until its request is aborted).
 */
function echoFront(list: () => 'answer' | 'throw' | 'hang', now: () => number) {
  let lists = 0;
  const answer = (id: unknown, result: unknown) =>
    new PlainResponse(JSON.stringify({ jsonrpc: '2.0', id, result }), {
      headers: { 'content-type': 'application/json' },
    });
  const exchange: SdkExchange = async ({ request, parsedBody }) => {
    const message = parsedBody as { id: unknown; method: string };
    if (message.method !== 'tools/list') return answer(message.id, { content: [] });
    lists++;
    const mode = list();
    if (mode === 'throw') throw new Error('tools/list failed');
    if (mode === 'hang')
      return new Promise((_, reject) =>
        request.signal.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    return answer(message.id, { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] });
  };
  return { front: createSdkServerFront(exchange, { now }), lists: () => lists };
}

describe('the SDK front listing the tools it counts under', () => {
  it('lists again after a failed listing once a minute has passed, not before, counting nothing meanwhile', async () => {
    // Prepare
    let clock = NOW_MS;
    let mode: 'answer' | 'throw' = 'throw';
    const server = echoFront(
      () => mode,
      () => clock,
    );
    const { metrics, counted } = countingMetrics();
    const app = await appWith(server.front, { metrics });
    const token = await accessToken();
    const echo = () => app(mcpPost(rpc('tools/call', { name: 'echo', arguments: {} }), { token }));

    // Act
    const first = await echo();
    mode = 'answer';
    await echo();
    const listsWithinTheMinute = server.lists();
    clock += 60_000;
    await echo();

    // Assess
    expect(first.status).toBe(200);
    expect(listsWithinTheMinute).toBe(1);
    expect(server.lists()).toBe(2);
    expect(counted).toEqual([['ToolCalls', 'echo']]);
  });

  it('holds an answer no longer than the tool limit for a listing that does not finish', async () => {
    // Prepare
    const server = echoFront(
      () => 'hang',
      () => NOW_MS,
    );
    const { metrics, counted } = countingMetrics();
    const app = await appWith(server.front, { metrics, toolTimeLimitMs: 200 });

    // Act
    const started = Date.now();
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'echo', arguments: {} }), { token: await accessToken() }),
    );

    // Assess: answered when the listing's limit passed, uncounted
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(900);
    expect(counted).toEqual([]);
  });

  it('lists in the protocol era of the call, so a server that serves only 2026-07-28 is counted', async () => {
    // Prepare: the v2 SDK refusing 2025-era requests
    const front = sdkV2Server(buildExampleV2Server, {
      scopes: EXAMPLE_SCOPES,
      handler: { legacy: 'reject' },
    });
    const { metrics, counted } = countingMetrics();
    const app = await appWith(front, { metrics });

    // Act
    const response = await app(
      modernPost('tools/call', { name: 'reverse_text', arguments: { text: 'ab' } }, await accessToken()),
    );

    // Assess
    expect(response.status).toBe(200);
    expect((await repliesOf(response))[0]!.result).toMatchObject({ structuredContent: { reversed: 'ba' } });
    expect(counted).toEqual([['ToolCalls', 'reverse_text']]);
  });
});

describe.each(SDKS)('an SDK server (%s) behind createMcpApp', (_, front) => {
  it('counts tool calls by the name of a tool the server has, as the built-in path does, and scope refusals', async () => {
    // Prepare
    const { metrics, counted } = countingMetrics();
    const app = await appWith(front(), { metrics });
    const token = await accessToken();
    const call = (name: string, id = 1) =>
      app(
        mcpPost(rpc('tools/call', { name, arguments: name === 'reverse_text' ? { text: 'ab' } : {} }, id), {
          token,
        }),
      );

    // Act
    const reversed = await call('reverse_text');
    const me = await call('whoami', 2);
    const unknown = await call('no_such_tool_' + 'x'.repeat(40), 3);
    const refused = await call('purge_cache', 4);

    // Assess: an unknown name is refused (v2: an error; v1: a tool error, which is a result) and
    // never becomes a dimension value
    expect([reversed.status, me.status, unknown.status, refused.status]).toEqual([200, 200, 200, 403]);
    const [answer] = await repliesOf(unknown);
    expect(answer!.error !== undefined || answer!.result?.isError === true).toBe(true);
    expect(counted).toEqual([
      ['ToolCalls', 'reverse_text'],
      ['ToolCalls', 'whoami'],
      ['Refusals', 'insufficient_scope'],
    ]);
  });

  it('runs its tools with the verified caller', async () => {
    // Prepare
    const app = await appWith(front());
    const token = await accessToken();

    // Act
    const reversed = await app(
      mcpPost(rpc('tools/call', { name: 'reverse_text', arguments: { text: 'abc' } }), { token }),
    );
    const me = await app(mcpPost(rpc('tools/call', { name: 'whoami', arguments: {} }), { token }));

    // Assess
    expect(reversed.status).toBe(200);
    expect((await repliesOf(reversed))[0]!.result).toMatchObject({ structuredContent: { reversed: 'cba' } });
    expect((await repliesOf(me))[0]!.result).toMatchObject({
      structuredContent: { sub: 'client-1', client_id: 'client-1', scopes: ['mcp:tools', 'mcp:resources'] },
    });
  });

  it('serves its resources and prompts', async () => {
    const app = await appWith(front());
    const token = await accessToken();
    const note = await app(mcpPost(rpc('resources/read', { uri: 'example://notes/welcome' }), { token }));
    const prompt = await app(
      mcpPost(rpc('prompts/get', { name: 'summarize', arguments: { text: 'x' } }), { token }),
    );
    expect((await repliesOf(note))[0]!.result).toMatchObject({
      contents: [{ text: 'Hello from the SDK server.' }],
    });
    expect((await repliesOf(prompt))[0]!.result).toMatchObject({
      messages: [{ role: 'user', content: { type: 'text', text: 'Summarize: x' } }],
    });
  });

  it('answers a tool the token lacks the scope for exactly as the built-in tools do', async () => {
    // Prepare: the same situation on both paths, a tools/call with a token without mcp:tools.
    const token = await accessToken({ scope: 'mcp:resources' });
    const builtIn = await (
      await testApp()
    )(mcpPost(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }), { token }));

    // Act
    const sdk = await (
      await appWith(front())
    )(mcpPost(rpc('tools/call', { name: 'reverse_text', arguments: { text: 'abc' } }), { token }));

    // Assess
    expect(sdk.status).toBe(403);
    expect(Object.fromEntries(sdk.headers)).toEqual(Object.fromEntries(builtIn.headers));
    expect(await sdk.text()).toBe(await builtIn.text());
  });

  it('names the per-tool scope it needs, and asks for it plus what the token has for step-up', async () => {
    const app = await appWith(front());
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'purge_cache', arguments: {} }), { token: await accessToken() }),
    );
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="this operation requires the scope(s): mcp:tools mcp:admin", resource_metadata="${PRM_URL}", scope="mcp:tools mcp:admin mcp:resources"`,
    );
  });

  it('runs a tool with a per-tool scope for a token that has it', async () => {
    const app = await appWith(front());
    const token = await accessToken({ scope: 'mcp:tools mcp:admin' });
    const response = await app(mcpPost(rpc('tools/call', { name: 'purge_cache', arguments: {} }), { token }));
    expect((await repliesOf(response))[0]!.result).toMatchObject({ content: [{ text: 'purged' }] });
  });

  it.each([
    ['no token', () => mcpPost(rpc('ping'))],
    ['a forged token', async () => mcpPost(rpc('ping'), { token: `${await accessToken()}x` })],
    [
      'an Origin not allowed',
      async () =>
        mcpPost(rpc('ping'), { token: await accessToken(), headers: { origin: 'https://evil.example' } }),
    ],
    [
      'a wrong content type',
      async () =>
        mcpPost(rpc('ping'), { token: await accessToken(), headers: { 'content-type': 'text/plain' } }),
    ],
    [
      'a body too large',
      async () => mcpPost(rpc('ping', { pad: 'x'.repeat(5000) }), { token: await accessToken() }),
    ],
    ['malformed JSON', async () => mcpPost(null, { token: await accessToken(), raw: '{' })],
    [
      'a body nested too deeply',
      async () =>
        mcpPost(rpc('ping', { deep: JSON.parse('['.repeat(70) + ']'.repeat(70)) }), {
          token: await accessToken(),
        }),
    ],
  ])('answers %s as the built-in path does', async (_, request) => {
    const builtIn = await (await testApp())(await request());
    const sdk = await (await appWith(front()))(await request());
    expect(sdk.status).toBe(builtIn.status);
    expect(sdk.headers.get('www-authenticate')).toBe(builtIn.headers.get('www-authenticate'));
    expect(await sdk.text()).toBe(await builtIn.text());
  });

  it('answers GET and DELETE with 405 once authenticated, as the built-in path does', async () => {
    const app = await appWith(front());
    const token = await accessToken();
    for (const method of ['GET', 'DELETE']) {
      const response = await app(
        new Request(RESOURCE, { method, headers: { authorization: `Bearer ${token}` } }),
      );
      expect(response.status).toBe(405);
    }
  });

  it('runs no member of a batch when one member needs a scope the token lacks', async () => {
    const app = await appWith(front());
    const token = await accessToken({ scope: 'mcp:tools' });
    const response = await app(
      mcpPost(
        [rpc('tools/call', { name: 'whoami', arguments: {} }, 1), rpc('resources/list', undefined, 2)],
        {
          token,
          headers: { 'mcp-protocol-version': '2025-03-26' },
        },
      ),
    );
    expect(response.status).toBe(403);
  });

  it('keeps no session', async () => {
    const app = await appWith(front());
    const response = await app(mcpPost(INIT, { token: await accessToken() }));
    expect(response.status).toBe(200);
    expect(response.headers.get('mcp-session-id')).toBeNull();
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('what the SDK server sees', () => {
  it.each(['v1', 'v2'] as const)(
    'gets the caller but neither the token nor the Authorization header (%s)',
    async (sdk) => {
      // Prepare: a tool that reports what it can see of the credentials.
      const seen = (
        authInfo: { token?: string; extra?: Record<string, unknown> } | undefined,
        header: (name: string) => string | null | undefined,
      ) => {
        const report = {
          token: authInfo?.token,
          sub: callerOf(authInfo)?.sub,
          authorization: header('authorization') ?? null,
          // Headers do reach the server: only the credentials are left out.
          contentType: header('content-type') ?? null,
        };
        return { content: [{ type: 'text' as const, text: JSON.stringify(report) }] };
      };
      const front =
        sdk === 'v2'
          ? sdkV2Server(() => {
              const server = new McpServer({ name: 't', version: '1' });
              server.registerTool('seen', { inputSchema: z.object({}) }, (_a, ctx) =>
                seen(ctx.http?.authInfo, (name) => ctx.http?.req?.headers.get(name)),
              );
              return server;
            })
          : sdkV1Server(() => {
              const server = new V1McpServer({ name: 't', version: '1' });
              server.registerTool('seen', { inputSchema: {} }, (_a, extra) =>
                seen(extra.authInfo, (name) => extra.requestInfo?.headers[name] as string | undefined),
              );
              return server;
            });
      const app = await appWith(front);

      // Act
      const response = await app(
        mcpPost(rpc('tools/call', { name: 'seen', arguments: {} }), { token: await accessToken() }),
      );

      // Assess
      const result = (await repliesOf(response))[0]!.result as { content: [{ text: string }] };
      expect(JSON.parse(result.content[0].text)).toEqual({
        token: '',
        sub: 'client-1',
        authorization: null,
        contentType: 'application/json',
      });
    },
  );

  it("points the v2 SDK's own scope challenges at this server's metadata", async () => {
    // Prepare: a tool that asks for its scope the SDK's way.
    const app = await appWith(
      sdkV2Server(() => {
        const server = new McpServer({ name: 't', version: '1' });
        server.registerTool(
          'admin',
          { inputSchema: z.object({}), scopeChallenge: requireScopes('mcp:admin') },
          () => ({
            content: [],
          }),
        );
        return server;
      }),
    );

    // Act
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'admin', arguments: {} }), { token: await accessToken() }),
    );

    // Assess
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain(`resource_metadata="${PRM_URL}"`);
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('builds a fresh server for every request', async () => {
    let built = 0;
    const app = await appWith(
      sdkV2Server(() => {
        built++;
        return new McpServer({ name: 't', version: '1' });
      }),
    );
    const token = await accessToken();
    await app(mcpPost(rpc('ping', undefined, 1), { token }));
    await app(mcpPost(rpc('ping', undefined, 2), { token }));
    expect(built).toBe(2);
  });

  it('answers subscriptions/listen, whose stream Lambda cannot deliver, with method not found', async () => {
    const app = await appWith(exampleV2Front());
    const response = await app(modernPost('subscriptions/listen', { filter: {} }, await accessToken()));
    expect(response.status).toBe(404);
    expect((await repliesOf(response))[0]!.error).toEqual({ code: -32601, message: 'Method not found' });
  });
});

describe('time limit of an SDK server', () => {
  it.each(['v1', 'v2'] as const)(
    'answers a tool that outlives the limit as the built-in path does, and aborts its signal (%s)',
    async (sdk) => {
      // Prepare: a tool that waits until its request is aborted.
      let aborted = false;
      const wait = (signal: AbortSignal) =>
        new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        });
      const front =
        sdk === 'v2'
          ? sdkV2Server(() => {
              const server = new McpServer({ name: 't', version: '1' });
              server.registerTool('slow', { inputSchema: z.object({}) }, (_a, ctx) =>
                wait(ctx.mcpReq.signal),
              );
              return server;
            })
          : sdkV1Server(() => {
              const server = new V1McpServer({ name: 't', version: '1' });
              server.registerTool('slow', { inputSchema: {} }, (_a, extra) => wait(extra.signal));
              return server;
            });
      const { metrics, counted } = countingMetrics();
      const app = await appWith(front, { metrics });
      // A Lambda invocation with 50 ms to spare beyond the margin.
      const invocation = { getRemainingTimeInMillis: () => DEADLINE_MARGIN_MS + 50 };

      // Act
      const started = Date.now();
      const response = await app(
        mcpPost(rpc('tools/call', { name: 'slow', arguments: {} }), { token: await accessToken() }),
        invocation,
      );

      // Assess
      expect(Date.now() - started).toBeLessThan(2000);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        jsonrpc: '2.0',
        id: 1,
        result: { content: [{ type: 'text', text: 'Tool slow did not finish within 50 ms' }], isError: true },
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(aborted).toBe(true);
      expect(counted).toEqual([['ToolCalls', 'slow']]);
    },
  );

  it('gives the exchange the configured limit without a Lambda invocation', async () => {
    // Prepare: the local default set to 40 ms, and a tool that never ends.
    const app = await appWith(
      sdkV2Server(() => {
        const server = new McpServer({ name: 't', version: '1' });
        server.registerTool('slow', { inputSchema: z.object({}) }, () => new Promise<never>(() => {}));
        return server;
      }),
      { toolTimeLimitMs: 40 },
    );

    // Act
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'slow', arguments: {} }), { token: await accessToken() }),
    );

    // Assess: counted from the request, so a millisecond or two may already have gone.
    const { result } = (await response.json()) as {
      result: { content: [{ text: string }]; isError: boolean };
    };
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(/^Tool slow did not finish within (3[5-9]|40) ms$/);
  });
});

describe('default scope rules', () => {
  it("are the built-in path's method scopes", () => {
    // Prepare: what the built-in dispatcher requires for each method it serves, in both eras.
    const dispatcher = new Dispatcher({
      config: testConfig(),
      tools: TOOLS,
      resources: RESOURCES,
      logger: createLogger('mcp', { level: 'silent' }),
      now: () => NOW_MS,
    });
    const params: Record<string, Record<string, unknown>> = {
      initialize: INIT.params,
      'tools/call': { name: 'no-such-tool' },
      'resources/read': { uri: 'no-such://resource' },
    };
    const required: Record<string, readonly string[]> = {};
    for (const era of ['legacy', 'modern'] as const) {
      for (const method of dispatcher.methods(era).keys()) {
        const prepared = dispatcher.prepare(rpc(method, params[method]) as never, era);
        if (prepared.kind === 'call' && prepared.requiredScopes.length > 0)
          required[method] = prepared.requiredScopes;
      }
    }

    // Assess
    expect(DEFAULT_METHOD_SCOPES).toEqual(required);
  });
});

describe('the mcp bundle serving the built-in tools', () => {
  it('holds no SDK server code: the adapters are imported only by entry points that serve one', async () => {
    // Act: everything as deployed, the built-in tools in served-server.ts's place
    const result = await buildBuiltInMcpBundle(`${PROJECT_ROOT}/.bench/sdk-server-test`, {
      write: false,
      metafile: true,
    });

    // Assess
    const inputs = Object.keys(result.metafile!.inputs);
    expect(
      inputs.filter((path) => /@modelcontextprotocol\/(sdk|server)\/|sdk-server-v[12]|examples\//.test(path)),
    ).toEqual([]);
    expect(inputs).toContain('lambda/mcp/app.ts');
  }, 60_000);
});
