/**
 * A v2 MCP SDK server (`McpServer` or `Server` from `@modelcontextprotocol/server`) behind this
 * project's front (`sdk-server.ts`). The SDK's own stateless entry, `createMcpHandler`, serves both
 * protocol eras from the factory, which it calls once per request for a fresh server; the
 * verified caller reaches handlers as `ctx.http.authInfo` (`callerOf` in sdk-server.ts reads it).
 *
 * Importing this module brings the v2 SDK into the bundle: only an entry point that serves an SDK
 * server should (see `examples/sdk-server.ts`).
 */
import {
  createMcpHandler,
  type CreateMcpHandlerOptions,
  type McpServerFactory,
} from '@modelcontextprotocol/server';
import {
  createSdkServerFront,
  toPlainResponse,
  type SdkServerFront,
  type SdkServerOptions,
} from './sdk-server.js';

export interface SdkV2ServerOptions extends SdkServerOptions {
  /** Passed to `createMcpHandler` (`responseMode`, `legacy`, `onerror`, ...). */
  handler?: CreateMcpHandlerOptions;
}

/** Serves `factory`'s server for every authenticated `/mcp` POST. */
export function sdkV2Server(factory: McpServerFactory, options: SdkV2ServerOptions = {}): SdkServerFront {
  const handler = createMcpHandler(factory, options.handler);
  return createSdkServerFront(
    async ({ request, parsedBody, authInfo }) =>
      toPlainResponse(await handler.fetch(request, { authInfo, parsedBody })),
    options,
  );
}
