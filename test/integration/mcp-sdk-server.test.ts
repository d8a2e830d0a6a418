/**
 * A team's own SDK server behind this project's front, end to end: `createMcpApp({ sdkServer })`
 * with the example servers (lambda/mcp/examples/sdk-server.ts, v2 and v1), through the Lambda
 * adapter and the local server's HTTP bridge on a loopback port, called by the official v1 and v2
 * SDK clients with a bearer token. Discovery (401 challenge, protected resource metadata) and
 * per-tool scopes are the front's, whichever SDK serves the tools.
 */
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpApp } from '../../lambda/mcp/app.js';
import { exampleV1Front, exampleV2Front } from '../../lambda/mcp/examples/sdk-server.js';
import type { SdkServerFront } from '../../lambda/mcp/protocol/sdk-server.js';
import { toPublicKeySet } from '../../lambda/shared/key-set.js';
import { lambdaHandler } from '../../lambda/shared/lambda-adapter.js';
import { createLogger } from '../../lambda/shared/logger.js';
import { CachedPublicKeys } from '../../lambda/shared/signing-keys.js';
import { readBody, toEvent, writeResult } from '../../lib/local/http-bridge.js';
import { accessToken, currentKey, ISSUER, NOW_MS, testConfig } from '../lambda/mcp/mcp-test-kit.js';

interface Running {
  mcpUrl: URL;
  close(): Promise<void>;
}

/** The app with `sdkServer`, as a Lambda handler behind a loopback HTTP server. */
async function serve(sdkServer: SdkServerFront): Promise<Running> {
  const logger = createLogger('mcp', { level: 'silent' });
  const key = await currentKey();
  const handler = lambdaHandler(
    createMcpApp({
      config: testConfig({ MAX_BODY_BYTES: '65536' }),
      keys: new CachedPublicKeys({ load: async () => toPublicKeySet({ current: key }) }),
      logger,
      // The test kit's tokens are issued on its frozen clock.
      now: () => NOW_MS,
      sdkServer,
    }),
    logger,
  );
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      writeResult(res, await handler(toEvent(req, await readBody(req), { path, params: {} })));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    mcpUrl: new URL(`http://127.0.0.1:${port}/mcp`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const bearer = (token: string) => ({ requestInit: { headers: { authorization: `Bearer ${token}` } } });

/** What both clients are asked, and how they report it. */
interface Session {
  listTools(): Promise<string[]>;
  callTool(
    name: string,
    args: Record<string, unknown>,
  ): Promise<{ structuredContent?: unknown; content?: unknown }>;
  readResource(uri: string): Promise<unknown>;
  getPrompt(name: string, args: Record<string, string>): Promise<unknown>;
  close(): Promise<void>;
}

async function connect(client: 'v1' | 'v2', url: URL, token: string): Promise<Session> {
  const mcp =
    client === 'v1'
      ? new V1Client({ name: 'v1-e2e', version: '1.0.0' })
      : new V2Client({ name: 'v2-e2e', version: '1.0.0' });
  const transport =
    client === 'v1' ? new V1Transport(url, bearer(token)) : new V2Transport(url, bearer(token));
  await (mcp as V2Client).connect(transport as V2Transport);
  const any = mcp as unknown as {
    listTools(): Promise<{ tools: { name: string }[] }>;
    callTool(params: {
      name: string;
      arguments: Record<string, unknown>;
    }): Promise<{ structuredContent?: unknown }>;
    readResource(params: { uri: string }): Promise<unknown>;
    getPrompt(params: { name: string; arguments: Record<string, string> }): Promise<unknown>;
    close(): Promise<void>;
  };
  return {
    listTools: async () => (await any.listTools()).tools.map((t) => t.name).sort(),
    callTool: (name, args) => any.callTool({ name, arguments: args }),
    readResource: (uri) => any.readResource({ uri }),
    getPrompt: (name, args) => any.getPrompt({ name, arguments: args }),
    close: () => any.close(),
  };
}

const SERVERS = [
  ['v2', exampleV2Front],
  ['v1', exampleV1Front],
] as const;
const CLIENTS = ['v1', 'v2'] as const;

describe.each(SERVERS)('an SDK %s server behind the front', (_, front) => {
  let running: Running;

  beforeAll(async () => {
    running = await serve(front());
  });

  afterAll(async () => {
    await running.close();
  });

  it.each(CLIENTS)(
    'serves the %s SDK client its tools, resources and prompts, with the caller',
    async (client) => {
      // Prepare
      const session = await connect(client, running.mcpUrl, await accessToken());

      // Act
      const tools = await session.listTools();
      const reversed = await session.callTool('reverse_text', { text: 'stressed' });
      const me = await session.callTool('whoami', {});
      const note = await session.readResource('example://notes/welcome');
      const prompt = await session.getPrompt('summarize', { text: 'a long story' });
      await session.close();

      // Assess
      expect(tools).toEqual(['purge_cache', 'reverse_text', 'whoami']);
      expect(reversed.structuredContent).toEqual({ reversed: 'desserts' });
      expect(me.structuredContent).toEqual({
        kind: 'machine',
        sub: 'client-1',
        client_id: 'client-1',
        scopes: ['mcp:tools', 'mcp:resources'],
      });
      expect(note).toMatchObject({
        contents: [{ uri: 'example://notes/welcome', text: 'Hello from the SDK server.' }],
      });
      expect(prompt).toMatchObject({ messages: [{ content: { text: 'Summarize: a long story' } }] });
    },
  );

  it.each([
    // The v1 client reports the 403's body; the v2 client reads the challenge's scope for step-up.
    ['v1', /"error":"insufficient_scope"/],
    ['v2', 'Insufficient scope: required "mcp:tools mcp:admin mcp:resources"'],
  ] as const)(
    'refuses the %s SDK client a tool whose scope the token lacks, with 403',
    async (client, message) => {
      const session = await connect(client, running.mcpUrl, await accessToken());
      await expect(session.callTool('purge_cache', {})).rejects.toThrow(message);
      await session.close();
    },
  );

  it.each(CLIENTS)('runs that tool for the %s SDK client once the token has the scope', async (client) => {
    const session = await connect(
      client,
      running.mcpUrl,
      await accessToken({ scope: 'mcp:tools mcp:admin' }),
    );
    const result = await session.callTool('purge_cache', {});
    await session.close();
    expect(result.content).toEqual([{ type: 'text', text: 'purged' }]);
  });

  it('starts discovery as the built-in server does: 401 with the challenge, then the metadata', async () => {
    // Act
    const probe = await fetch(running.mcpUrl, { method: 'GET' });
    const metadata = await fetch(new URL('/.well-known/oauth-protected-resource/mcp', running.mcpUrl));

    // Assess
    expect(probe.status).toBe(401);
    expect(probe.headers.get('www-authenticate')).toContain(
      `resource_metadata="${ISSUER}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(await metadata.json()).toMatchObject({
      resource: `${ISSUER}/mcp`,
      authorization_servers: [ISSUER],
    });
  });
});
