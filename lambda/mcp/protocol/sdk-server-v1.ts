/**
 * A v1 MCP SDK server (`McpServer` or `Server` from `@modelcontextprotocol/sdk`) behind this
 * project's front (`sdk-server.ts`), served as the v1 SDK's stateless pattern does: a fresh
 * server and a `WebStandardStreamableHTTPServerTransport` without sessions for every request,
 * answering JSON rather than an SSE stream. The v1 SDK speaks the 2025 protocol era only. The
 * verified caller reaches handlers as `extra.authInfo` (`callerOf` in sdk-server.ts reads it).
 *
 * Importing this module brings the v1 SDK into the bundle: only an entry point that serves an SDK
 * server should (see `examples/sdk-server.ts`).
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  createSdkServerFront,
  toPlainResponse,
  type SdkServerFront,
  type SdkServerOptions,
} from './sdk-server.js';

/** Builds the server for one request: what a team's existing setup code does. */
export type SdkV1ServerFactory = () => McpServer | Server | Promise<McpServer | Server>;

export interface SdkV1ServerOptions extends SdkServerOptions {
  /**
   * Answer with one JSON body (the default) rather than an SSE stream. Lambda behind API Gateway
   * buffers the stream anyway, so progress notifications sent mid-call would arrive only with
   * the result.
   */
  enableJsonResponse?: boolean;
}

/** Serves a fresh server from `factory` for every authenticated `/mcp` POST. */
export function sdkV1Server(factory: SdkV1ServerFactory, options: SdkV1ServerOptions = {}): SdkServerFront {
  const enableJsonResponse = options.enableJsonResponse ?? true;
  return createSdkServerFront(async ({ request, parsedBody, authInfo }) => {
    const server = await factory();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse,
    });
    const close = () => {
      void transport.close().catch(() => {});
      void server.close().catch(() => {});
    };
    // The front aborts the request when the time limit passes: stop the server's work too.
    request.signal.addEventListener('abort', close, { once: true });
    try {
      await server.connect(transport);
      // Read the whole answer before closing: closing ends an SSE stream mid-way.
      return await toPlainResponse(await transport.handleRequest(request, { authInfo, parsedBody }));
    } finally {
      request.signal.removeEventListener('abort', close);
      close();
    }
  }, options);
}
