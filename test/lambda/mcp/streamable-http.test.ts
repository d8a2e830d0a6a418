import { TOOLS } from '../../../lambda/mcp/tools/registry.js';
import {
  accessToken,
  INIT,
  ISSUER,
  mcpPost,
  modernPost,
  NOW_MS,
  RESOURCE,
  rpc,
  testApp,
} from './mcp-test-kit.js';

type Reply = {
  jsonrpc: string;
  id: unknown;
  result?: Record<string, any>;
  error?: { code: number; message: string; data?: any };
};

async function call(name: string, args: unknown) {
  const app = await testApp();
  const response = await app(
    mcpPost(rpc('tools/call', { name, arguments: args }), { token: await accessToken() }),
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as Reply).result!;
}

describe('stateless Streamable HTTP on /mcp (2025 era)', () => {
  it('answers initialize with the requested supported version, JSON, and no Mcp-Session-Id', async () => {
    // Prepare
    const app = await testApp();

    // Act
    const response = await app(
      mcpPost(
        { ...INIT, params: { ...INIT.params, protocolVersion: '2024-11-05' } },
        { token: await accessToken() },
      ),
    );

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('mcp-session-id')).toBeNull();
    const body = (await response.json()) as Reply;
    expect(body.result).toMatchObject({
      protocolVersion: '2024-11-05',
      serverInfo: { name: 'mcp-oauth-aws' },
      capabilities: { tools: {} },
    });
  });

  it('offers its latest version when the client asks for one it does not know', async () => {
    const app = await testApp();
    const response = await app(
      mcpPost(
        { ...INIT, params: { ...INIT.params, protocolVersion: '1999-01-01' } },
        { token: await accessToken() },
      ),
    );
    expect(((await response.json()) as Reply).result!.protocolVersion).toBe('2025-11-25');
  });

  it.each(['GET', 'DELETE'])('answers %s with 405 and Allow: POST', async (method) => {
    // Prepare
    const app = await testApp();

    // Act
    const response = await app(
      new Request(RESOURCE, { method, headers: { authorization: `Bearer ${await accessToken()}` } }),
    );

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it.each(['GET', 'DELETE'])(
    'answers an unauthenticated %s with the 401 challenge, not 405',
    async (method) => {
      // Prepare
      const app = await testApp();

      // Act
      const response = await app(new Request(RESOURCE, { method }));

      // Assess
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="[^"]+"/);
    },
  );

  it('answers a notification with 202 and no body', async () => {
    const app = await testApp();
    const response = await app(
      mcpPost({ jsonrpc: '2.0', method: 'notifications/initialized' }, { token: await accessToken() }),
    );
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
  });

  it('answers invalid JSON with 400 and JSON-RPC -32700', async () => {
    const app = await testApp();
    const response = await app(
      mcpPost(undefined, { token: await accessToken(), raw: '{"jsonrpc": "2.0", ' }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as Reply).error!.code).toBe(-32700);
  });

  it('answers a body that is not JSON-RPC with 400 and -32600', async () => {
    const app = await testApp();
    const response = await app(mcpPost({ hello: 'world' }, { token: await accessToken() }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as Reply).error!.code).toBe(-32600);
  });

  it('answers an unsupported MCP-Protocol-Version with 400', async () => {
    const app = await testApp();
    const response = await app(
      mcpPost(rpc('tools/list'), {
        token: await accessToken(),
        headers: { 'mcp-protocol-version': '2023-01-01' },
      }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as Reply).error!.message).toContain('Unsupported protocol version');
  });

  it.each(['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'])(
    'serves requests that carry MCP-Protocol-Version %s',
    async (version) => {
      const app = await testApp();
      const response = await app(
        mcpPost(rpc('tools/list'), {
          token: await accessToken(),
          headers: { 'mcp-protocol-version': version },
        }),
      );
      expect(response.status).toBe(200);
      expect(((await response.json()) as Reply).result!.tools).toHaveLength(TOOLS.length);
    },
  );

  it('refuses a request from a browser origin that is not allowed with 403, before looking at the token', async () => {
    const app = await testApp();
    const response = await app(mcpPost(INIT, { headers: { origin: 'http://evil.example.com' } }));
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves an allowed browser origin with CORS headers exposing WWW-Authenticate and Mcp-Session-Id', async () => {
    // Prepare
    const app = await testApp();

    // Act
    const ok = await app(
      mcpPost(INIT, { token: await accessToken(), headers: { origin: 'https://app.example.com' } }),
    );
    const unauthorized = await app(mcpPost(INIT, { headers: { origin: 'https://app.example.com' } }));

    // Assess
    for (const response of [ok, unauthorized]) {
      expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(response.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
      expect(response.headers.get('access-control-expose-headers')).toMatch(/Mcp-Session-Id/);
    }
    expect(ok.status).toBe(200);
    expect(unauthorized.status).toBe(401);
  });

  it('accepts the server its own origin (same-origin requests are not rebinding)', async () => {
    const app = await testApp();
    const response = await app(mcpPost(INIT, { token: await accessToken(), headers: { origin: ISSUER } }));
    expect(response.status).toBe(200);
  });

  it('answers a CORS preflight from an allowed origin without a token', async () => {
    // Prepare
    const app = await testApp();

    // Act
    const response = await app(
      new Request(RESOURCE, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type, mcp-protocol-version',
        },
      }),
    );

    // Assess
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('refuses a preflight from an origin that is not allowed', async () => {
    const app = await testApp();
    const response = await app(
      new Request(RESOURCE, { method: 'OPTIONS', headers: { origin: 'https://evil.example.com' } }),
    );
    expect(response.status).toBe(403);
  });

  it('refuses a body larger than the cap with 413', async () => {
    const app = await testApp();
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2, pad: 'x'.repeat(5000) } }), {
        token: await accessToken(),
      }),
    );
    expect(response.status).toBe(413);
    expect(((await response.json()) as Reply).error!.code).toBe(-32000);
  });

  it('refuses a body that is not application/json with 415', async () => {
    const app = await testApp();
    const response = await app(
      mcpPost(INIT, { token: await accessToken(), headers: { 'content-type': 'text/plain' } }),
    );
    expect(response.status).toBe(415);
  });

  it.each([['application/json'], ['text/event-stream'], ['*/*'], ['']])(
    'answers with JSON whatever part of Accept is sent (%s)',
    async (accept) => {
      const app = await testApp();
      const response = await app(
        mcpPost(rpc('tools/list'), { token: await accessToken(), headers: { accept } }),
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
    },
  );

  it('never sends Mcp-Session-Id, even when the client sends one', async () => {
    const app = await testApp();
    const response = await app(
      mcpPost(rpc('tools/list'), { token: await accessToken(), headers: { 'mcp-session-id': 'abc' } }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('mcp-session-id')).toBeNull();
  });

  it('answers a JSON-RPC batch of the 2025-03-26 revision with one reply per request', async () => {
    const app = await testApp();
    const response = await app(
      mcpPost(
        [
          rpc('ping', undefined, 1),
          { jsonrpc: '2.0', method: 'notifications/initialized' },
          rpc('tools/list', undefined, 2),
        ],
        { token: await accessToken() },
      ),
    );
    const replies = (await response.json()) as Reply[];
    expect(replies.map((r) => r.id)).toEqual([1, 2]);
  });

  it('answers an unknown method with -32601', async () => {
    const app = await testApp();
    const response = await app(mcpPost(rpc('prompts/list'), { token: await accessToken() }));
    expect(((await response.json()) as Reply).error!.code).toBe(-32601);
  });

  it('answers 404 for paths it does not serve', async () => {
    const app = await testApp();
    expect((await app(new Request(`${ISSUER}/mcp/extra`, { method: 'POST' }))).status).toBe(404);
  });
});

describe('tools', () => {
  it('add returns the sum as structured content and text', async () => {
    const result = await call('add', { a: 2, b: 3.5 });
    expect(result).toEqual({ content: [{ type: 'text', text: '5.5' }], structuredContent: { sum: 5.5 } });
  });

  it.each([[{ a: 1, b: 'two' }], [{ a: 1 }], [{ a: 1, b: 2, c: 3 }]])(
    'add turns invalid input %j into a tool error',
    async (args) => {
      const result = await call('add', args);
      expect(result.isError).toBe(true);
      expect(result.content[0].text).toMatch(/^Input validation error: Invalid arguments for tool add: /);
    },
  );

  it("answers arguments that are not an object with -32602, as the SDK's CallToolRequest schema does", async () => {
    const app = await testApp();
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'add', arguments: 'not an object' }), { token: await accessToken() }),
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as Reply).error).toMatchObject({
      code: -32602,
      message: 'Invalid params for tools/call: params.arguments: expected record',
    });
  });

  it('get_time returns UTC and the local time of a named zone', async () => {
    // Act
    const result = await call('get_time', { timeZone: 'Asia/Kolkata' });

    // Assess
    expect(result.isError).toBeUndefined();
    expect(result.structuredContent).toEqual({
      utc: new Date(NOW_MS).toISOString(),
      timeZone: 'Asia/Kolkata',
      local: '2026-01-15T17:30:00+05:30',
    });
  });

  it('get_time defaults to UTC', async () => {
    const result = await call('get_time', {});
    expect(result.structuredContent).toMatchObject({ timeZone: 'UTC', local: '2026-01-15T12:00:00+00:00' });
  });

  it('get_time answers an unknown time zone with a clear tool error', async () => {
    const result = await call('get_time', { timeZone: 'Mars/Olympus_Mons' });
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toContain('Unknown time zone "Mars/Olympus_Mons"');
  });

  it('get_user_info returns the verified caller, with name and email for user tokens', async () => {
    // Prepare
    const app = await testApp();
    const token = await accessToken({
      sub: 'user-42',
      sid: 'family-1',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      scope: 'mcp:tools',
    });

    // Act
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'get_user_info', arguments: {} }), { token }),
    );

    // Assess
    expect(((await response.json()) as Reply).result!.structuredContent).toEqual({
      kind: 'user',
      sub: 'user-42',
      client_id: 'client-1',
      issuer: ISSUER,
      scopes: ['mcp:tools'],
      expires_at: new Date(NOW_MS + 3600_000).toISOString(),
      name: 'Ada Lovelace',
      email: 'ada@example.com',
    });
  });

  it('answers an unknown tool with -32602', async () => {
    const app = await testApp();
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'nope', arguments: {} }), { token: await accessToken() }),
    );
    expect(((await response.json()) as Reply).error).toEqual({
      code: -32602,
      message: 'Tool nope not found',
    });
  });

  it('lists every tool with an object input schema', async () => {
    const app = await testApp();
    const response = await app(mcpPost(rpc('tools/list'), { token: await accessToken() }));
    const tools = ((await response.json()) as Reply).result!.tools as Array<{
      name: string;
      inputSchema: { type: string };
    }>;
    expect(tools.map((t) => t.name)).toEqual(TOOLS.map((t) => t.name));
    for (const tool of tools) expect(tool.inputSchema.type).toBe('object');
  });

  it('reads the server description resource', async () => {
    const app = await testApp();
    const response = await app(
      mcpPost(rpc('resources/read', { uri: 'mcp-oauth-aws://server/description' }), {
        token: await accessToken(),
      }),
    );
    const contents = ((await response.json()) as Reply).result!.contents as Array<{ text: string }>;
    expect(JSON.parse(contents[0]!.text)).toMatchObject({ resource: RESOURCE, authorizationServer: ISSUER });
  });
});

describe('per-request protocol (2026-07-28)', () => {
  it('answers server/discover with the supported versions and serverInfo in _meta', async () => {
    const app = await testApp();
    const response = await app(modernPost('server/discover', {}, await accessToken()));
    expect(response.status).toBe(200);
    expect(((await response.json()) as Reply).result).toMatchObject({
      supportedVersions: ['2026-07-28'],
      resultType: 'complete',
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'mcp-oauth-aws' } },
    });
  });

  it('calls a tool when headers and body agree', async () => {
    const app = await testApp();
    const response = await app(
      modernPost('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, await accessToken()),
    );
    expect(((await response.json()) as Reply).result).toMatchObject({
      structuredContent: { sum: 3 },
      resultType: 'complete',
    });
  });

  it('refuses a tools/call whose Mcp-Name header names another tool', async () => {
    const app = await testApp();
    const response = await app(
      modernPost('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, await accessToken(), {
        'mcp-name': 'get_time',
      }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as Reply).error!.code).toBe(-32020);
  });

  it('refuses a request whose Mcp-Method header disagrees with the body', async () => {
    const app = await testApp();
    const response = await app(
      modernPost('tools/list', {}, await accessToken(), { 'mcp-method': 'tools/call' }),
    );
    expect(response.status).toBe(400);
  });

  it('refuses an unsupported per-request version with 400 and the supported list', async () => {
    const app = await testApp();
    const request = modernPost('tools/list', {}, await accessToken(), {
      'mcp-protocol-version': '2027-01-01',
    });
    const body = JSON.parse(await request.clone().text());
    body.params._meta['io.modelcontextprotocol/protocolVersion'] = '2027-01-01';
    const response = await app(
      mcpPost(body, {
        token: await accessToken(),
        headers: { 'mcp-protocol-version': '2027-01-01', 'mcp-method': 'tools/list' },
      }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as Reply).error).toMatchObject({
      code: -32022,
      data: { supported: ['2026-07-28'], requested: '2027-01-01' },
    });
  });

  it('answers initialize in the per-request era with 404 method not found', async () => {
    const app = await testApp();
    const response = await app(modernPost('initialize', {}, await accessToken()));
    expect(response.status).toBe(404);
  });
});
