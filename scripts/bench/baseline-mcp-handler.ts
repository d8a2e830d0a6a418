/**
 * The pattern users would otherwise pick, used as the benchmark's baseline: the v2 SDK's
 * documented stateless handler (`createMcpHandler` with a factory that builds a fresh `McpServer`
 * for every request) behind a `jose` `jwtVerify` against a JWKS. It serves two of the real
 * function's tools, `add` and `get_user_info`, written the SDK's way; `buildBaselineServer` also
 * serves the benchmark's own-SDK-server figures (scripts/bench/sdk-server-entry.ts). The protocol
 * reference of test/lambda/mcp/sdk-differential.test.ts is built there from the real tools.
 */
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import * as z from 'zod';

export interface BaselineOptions {
  issuer: string;
  resource: string;
  /** A JWKS, or the URL to fetch it from (cached by `jose` after the first fetch). */
  jwks: JSONWebKeySet | URL;
  serverName?: string;
  serverVersion?: string;
}

/** The baseline's tools on a fresh v2 `McpServer` (also what the bench serves through `sdkV2Server`). */
export function buildBaselineServer(name: string, version: string): McpServer {
  const server = new McpServer({ name, version });
  server.registerTool(
    'add',
    {
      description: 'Adds two numbers.',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      outputSchema: z.object({ sum: z.number() }),
    },
    async ({ a, b }) => ({
      content: [{ type: 'text', text: String(a + b) }],
      structuredContent: { sum: a + b },
    }),
  );
  server.registerTool(
    'get_user_info',
    { description: 'Returns the verified caller.', inputSchema: z.object({}) },
    async (_args, ctx) => {
      const auth = ctx.http?.authInfo;
      const info = {
        sub: auth?.extra?.sub,
        client_id: auth?.clientId,
        scopes: auth?.scopes,
        expires_at: auth?.expiresAt,
      };
      return { content: [{ type: 'text', text: JSON.stringify(info) }], structuredContent: info };
    },
  );
  return server;
}

export function createBaselineHandler(options: BaselineOptions): (request: Request) => Promise<Response> {
  const jwks =
    options.jwks instanceof URL ? createRemoteJWKSet(options.jwks) : createLocalJWKSet(options.jwks);
  const name = options.serverName ?? 'baseline';
  const version = options.serverVersion ?? '0.0.0';
  const handler = createMcpHandler(() => buildBaselineServer(name, version));
  return async (request) => {
    const header = request.headers.get('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: options.issuer,
        audience: options.resource,
        typ: 'at+jwt',
        algorithms: ['RS256'],
      });
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
      return await handler.fetch(request, {
        authInfo: {
          token,
          clientId: String(payload.client_id ?? ''),
          scopes,
          ...(payload.exp !== undefined && { expiresAt: payload.exp }),
          extra: { sub: payload.sub },
        },
      });
    } catch {
      return new Response(JSON.stringify({ error: 'invalid_token' }), {
        status: 401,
        headers: { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' },
      });
    }
  };
}
