/**
 * Runs MCP methods for one classified request: the methods this server offers in each era, the
 * scopes each needs, and the era's result encoding (2026 results carry `resultType`, cache fields
 * on cacheable results, and `serverInfo` in `_meta`). One instance per process: nothing here is
 * rebuilt per request.
 */
import type { CallToolResult, JSONRPCRequest, RequestId } from '@modelcontextprotocol/server';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import type { Caller } from './caller.js';
import {
  ErrorCode,
  LEGACY_PROTOCOL_VERSIONS,
  MODERN_PROTOCOL_VERSIONS,
  RpcError,
  SERVER_INFO_META_KEY,
  type Era,
} from './protocol.js';
import type { Resource } from './resources/resource.js';
import { serverInfo, type ServerInfo } from './server-info.js';
import type { Tool } from './tools/tool.js';

export interface DispatchContext {
  caller: Caller;
  era: Era;
}

export interface DispatcherOptions {
  config: Config;
  tools: readonly Tool[];
  resources: readonly Resource[];
  logger: Logger;
  now: () => number;
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: RequestId;
  result: Record<string, unknown>;
}
export interface JsonRpcFailure {
  jsonrpc: '2.0';
  id: RequestId | null;
  error: { code: number; message: string; data?: unknown };
}
export type JsonRpcReply = JsonRpcSuccess | JsonRpcFailure;

type Params = Record<string, unknown> | undefined;
type MethodHandler = (
  params: Params,
  context: DispatchContext,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** Methods whose 2026 results carry `ttlMs` and `cacheScope` (the SDK's `CACHEABLE_RESULT_METHODS`). */
const CACHEABLE = new Set([
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'server/discover',
]);

const CAPABILITIES = { tools: {}, resources: {} };

export function rpcError(id: RequestId | null, error: RpcError): JsonRpcFailure {
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: error.code,
      message: error.message,
      ...(error.data !== undefined && { data: error.data }),
    },
  };
}

export class Dispatcher {
  private readonly tools: Map<string, Tool>;
  private readonly resources: Map<string, Resource>;
  private readonly info: ServerInfo;
  private readonly shared: Record<string, MethodHandler>;
  private readonly legacy: Record<string, MethodHandler>;
  private readonly modern: Record<string, MethodHandler>;
  private readonly serverInfoMeta: Record<string, unknown>;

  constructor(private readonly options: DispatcherOptions) {
    this.tools = new Map(options.tools.map((t) => [t.name, t]));
    this.resources = new Map(options.resources.map((r) => [r.descriptor.uri, r]));
    this.info = serverInfo(options.config.resourceName);
    this.serverInfoMeta = { [SERVER_INFO_META_KEY]: this.info };
    this.shared = {
      'tools/list': () => ({ tools: options.tools.map((t) => t.descriptor()) }),
      'tools/call': (params, context) => this.callTool(params, context),
      'resources/list': () => ({ resources: options.resources.map((r) => r.descriptor) }),
      'resources/templates/list': () => ({ resourceTemplates: [] }),
      'resources/read': (params, context) => this.readResource(params, context),
    };
    this.legacy = {
      ...this.shared,
      initialize: (params) => this.initialize(params),
      ping: () => ({}),
    };
    this.modern = {
      ...this.shared,
      'server/discover': () => ({
        supportedVersions: [...MODERN_PROTOCOL_VERSIONS],
        capabilities: CAPABILITIES,
      }),
    };
  }

  /** The scopes a request needs before it may run (RFC 6750 §3.1 `insufficient_scope` otherwise). */
  requiredScopes(message: { method: string; params?: unknown }): readonly string[] {
    const params = message.params as Params;
    switch (message.method) {
      case 'tools/list':
        return ['mcp:tools'];
      case 'tools/call':
        return this.tools.get(String(params?.name))?.requiredScopes ?? ['mcp:tools'];
      case 'resources/list':
      case 'resources/templates/list':
        return ['mcp:resources'];
      case 'resources/read':
        return this.resources.get(String(params?.uri))?.requiredScopes ?? ['mcp:resources'];
      default:
        return [];
    }
  }

  /**
   * Answers one request. Method-level failures are JSON-RPC errors in the body; in the 2026 era
   * an unknown method is also HTTP 404, as the SDK's per-request transport answers it.
   */
  async dispatch(
    message: JSONRPCRequest,
    context: DispatchContext,
  ): Promise<{ status: number; reply: JsonRpcReply }> {
    const handlers = context.era === 'modern' ? this.modern : this.legacy;
    const handler = Object.hasOwn(handlers, message.method) ? handlers[message.method] : undefined;
    if (!handler) {
      return {
        status: context.era === 'modern' ? 404 : 200,
        reply: rpcError(message.id, new RpcError(ErrorCode.MethodNotFound, 'Method not found')),
      };
    }
    try {
      const result = await handler(message.params as Params, context);
      return {
        status: 200,
        reply: {
          jsonrpc: '2.0',
          id: message.id,
          result: context.era === 'modern' ? this.encodeModern(message.method, result) : result,
        },
      };
    } catch (error) {
      if (error instanceof RpcError) return { status: 200, reply: rpcError(message.id, error) };
      this.options.logger.error('method failed', { method: message.method, error });
      return {
        status: 200,
        reply: rpcError(message.id, new RpcError(ErrorCode.InternalError, 'Internal error')),
      };
    }
  }

  private encodeModern(method: string, result: Record<string, unknown>): Record<string, unknown> {
    const encoded: Record<string, unknown> = { ...result, resultType: 'complete' };
    if (CACHEABLE.has(method)) {
      encoded.ttlMs = 0;
      encoded.cacheScope = 'private';
    }
    encoded._meta = this.serverInfoMeta;
    return encoded;
  }

  private initialize(params: Params): Record<string, unknown> {
    if (
      typeof params?.protocolVersion !== 'string' ||
      typeof params.capabilities !== 'object' ||
      typeof params.clientInfo !== 'object'
    ) {
      throw new RpcError(
        ErrorCode.InvalidParams,
        'Invalid initialize request: "protocolVersion", "capabilities" and "clientInfo" are required',
      );
    }
    const requested = params.protocolVersion;
    // Version negotiation (MCP lifecycle): echo a supported version, else offer our latest.
    const protocolVersion = (LEGACY_PROTOCOL_VERSIONS as readonly string[]).includes(requested)
      ? requested
      : LEGACY_PROTOCOL_VERSIONS[0];
    return { protocolVersion, capabilities: CAPABILITIES, serverInfo: this.info };
  }

  private async callTool(
    params: Params,
    context: DispatchContext,
  ): Promise<CallToolResult & Record<string, unknown>> {
    const name = params?.name;
    if (typeof name !== 'string')
      throw new RpcError(ErrorCode.InvalidParams, 'Invalid tools/call request: "name" must be a string');
    const tool = this.tools.get(name);
    if (!tool) throw new RpcError(ErrorCode.InvalidParams, `Tool ${name} not found`);
    return tool.call(params?.arguments, { caller: context.caller, now: this.options.now });
  }

  private async readResource(params: Params, context: DispatchContext): Promise<Record<string, unknown>> {
    const uri = params?.uri;
    if (typeof uri !== 'string')
      throw new RpcError(ErrorCode.InvalidParams, 'Invalid resources/read request: "uri" must be a string');
    const resource = this.resources.get(uri);
    // -32002 is the 2025 "resource not found" code; the 2026 revision folds it into -32602.
    if (!resource)
      throw new RpcError(
        context.era === 'modern' ? ErrorCode.InvalidParams : -32002,
        `Resource ${uri} not found`,
      );
    return { ...(await resource.read({ caller: context.caller, config: this.options.config })) };
  }
}
