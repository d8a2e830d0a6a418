/**
 * An MCP server a team already has, written against the SDK, served behind this project's front
 * (`createMcpApp({ sdkServer })`): the same tools, a resource and a prompt, once for the v2 SDK
 * (`@modelcontextprotocol/server`) and once for the v1 SDK (`@modelcontextprotocol/sdk`). The
 * handlers read the verified caller with `callerOf`; the scope rules add a per-tool scope.
 * doc/adding-tools.md shows the entry point that serves one of them.
 *
 * The end-to-end tests (test/integration/mcp-sdk-server.test.ts) run both with the SDK clients.
 */
import { McpServer as V1McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { callerOf, DEFAULT_METHOD_SCOPES, type ScopeRules } from '../protocol/sdk-server.js';
import { sdkV1Server } from '../protocol/sdk-server-v1.js';
import { sdkV2Server } from '../protocol/sdk-server-v2.js';

/** The built-in scopes, and `mcp:admin` for one tool (a scope the authorization server must issue). */
export const EXAMPLE_SCOPES: ScopeRules = {
  methods: DEFAULT_METHOD_SCOPES,
  tools: { purge_cache: ['mcp:tools', 'mcp:admin'] },
};

const NOTE_URI = 'example://notes/welcome';

const whoami = (authInfo: Parameters<typeof callerOf>[0]) => {
  const caller = callerOf(authInfo);
  // A subject means nothing without its kind: a client's `sub` and a user's share one namespace.
  const info = {
    kind: caller?.kind ?? '',
    sub: caller?.sub ?? '',
    client_id: caller?.clientId ?? '',
    scopes: caller?.scopes ?? [],
  };
  return { content: [{ type: 'text' as const, text: JSON.stringify(info) }], structuredContent: info };
};

/** The v2 way: a factory `createMcpHandler` calls for every request. */
export function buildExampleV2Server(): McpServer {
  const server = new McpServer({ name: 'example-sdk-server', version: '1.0.0' });
  server.registerTool(
    'reverse_text',
    {
      description: 'Returns the text with its characters in reverse order.',
      inputSchema: z.object({ text: z.string().max(10_000) }),
      outputSchema: z.object({ reversed: z.string() }),
    },
    ({ text }) => {
      const reversed = [...text].reverse().join('');
      return { content: [{ type: 'text', text: reversed }], structuredContent: { reversed } };
    },
  );
  server.registerTool(
    'whoami',
    {
      description: 'Returns the verified caller.',
      inputSchema: z.object({}),
      outputSchema: z.object({
        kind: z.string(),
        sub: z.string(),
        client_id: z.string(),
        scopes: z.array(z.string()),
      }),
    },
    (_args, ctx) => whoami(ctx.http?.authInfo),
  );
  server.registerTool(
    'purge_cache',
    { description: 'Needs the mcp:admin scope (EXAMPLE_SCOPES).', inputSchema: z.object({}) },
    () => ({ content: [{ type: 'text', text: 'purged' }] }),
  );
  server.registerResource('welcome-note', NOTE_URI, { title: 'Welcome', mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Hello from the SDK server.' }],
  }));
  server.registerPrompt(
    'summarize',
    { description: 'Asks for a summary.', argsSchema: z.object({ text: z.string() }) },
    ({ text }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Summarize: ${text}` } }] }),
  );
  return server;
}

/** The v1 way: the same server, with the v1 `McpServer` and raw-shape schemas. */
export function buildExampleV1Server(): V1McpServer {
  const server = new V1McpServer({ name: 'example-sdk-server', version: '1.0.0' });
  server.registerTool(
    'reverse_text',
    {
      description: 'Returns the text with its characters in reverse order.',
      inputSchema: { text: z.string().max(10_000) },
      outputSchema: { reversed: z.string() },
    },
    ({ text }) => {
      const reversed = [...text].reverse().join('');
      return { content: [{ type: 'text', text: reversed }], structuredContent: { reversed } };
    },
  );
  server.registerTool(
    'whoami',
    {
      description: 'Returns the verified caller.',
      inputSchema: {},
      outputSchema: {
        kind: z.string(),
        sub: z.string(),
        client_id: z.string(),
        scopes: z.array(z.string()),
      },
    },
    (_args, extra) => whoami(extra.authInfo),
  );
  server.registerTool(
    'purge_cache',
    { description: 'Needs the mcp:admin scope (EXAMPLE_SCOPES).', inputSchema: {} },
    () => ({ content: [{ type: 'text', text: 'purged' }] }),
  );
  server.registerResource('welcome-note', NOTE_URI, { title: 'Welcome', mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Hello from the SDK server.' }],
  }));
  server.registerPrompt(
    'summarize',
    { description: 'Asks for a summary.', argsSchema: { text: z.string() } },
    ({ text }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Summarize: ${text}` } }] }),
  );
  return server;
}

/** What an entry point passes as `createMcpApp({ sdkServer })`, v2. */
export const exampleV2Front = () => sdkV2Server(buildExampleV2Server, { scopes: EXAMPLE_SCOPES });

/** The same with the v1 SDK. */
export const exampleV1Front = () => sdkV1Server(buildExampleV1Server, { scopes: EXAMPLE_SCOPES });
