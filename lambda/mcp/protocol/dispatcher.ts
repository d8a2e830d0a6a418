/**
 * Runs MCP methods for one classified request: the methods this server offers in each era, the
 * schema of each one's `params`, the scopes each needs, and the era's result encoding (2026
 * results carry `resultType`, cache fields on cacheable results, and `serverInfo` in `_meta`).
 * One instance per process: nothing here is rebuilt per request.
 *
 * A request is first prepared (method found, `params` validated against its schema, scopes
 * computed from the validated params), then run: no handler and no scope check ever reads
 * `params` that did not pass the method's schema.
 */
import type { CallToolResult, JSONRPCRequest, RequestId } from '@modelcontextprotocol/server';
import type * as z from 'zod/mini';
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import type { BusinessMetrics } from '../../shared/metrics.js';
import type { Caller } from '../auth/caller.js';
import {
  ErrorCode,
  LEGACY_PROTOCOL_VERSIONS,
  MODERN_PROTOCOL_VERSIONS,
  RpcError,
  SERVER_INFO_META_KEY,
  TransportRefusal,
  type Era,
} from './protocol.js';
import {
  callToolParams,
  emptyParams,
  initializeParams,
  listParams,
  readResourceParams,
} from './request-schemas.js';
import type { Resource } from '../resources/resource.js';
import { describeIssues } from './schema-issues.js';
import { serverInfo, type ServerInfo } from './server-info.js';
import { toolError, ToolOutputError, ToolTimeoutError, type Tool } from '../tools/tool.js';

export interface DispatchContext {
  caller: Caller;
  era: Era;
  /** The time a tool may still take, asked when it starts (`toolTimeLimit` in tools/tool.ts). */
  timeLimitMs?: () => number;
}

export interface DispatcherOptions {
  config: Config;
  tools: readonly Tool[];
  resources: readonly Resource[];
  logger: Logger;
  /** Counts `ToolCalls` by tool, for calls of a registered tool. */
  metrics?: BusinessMetrics | undefined;
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

/** A reply and the HTTP status it travels with when it is the only one. */
export interface DispatchReply {
  status: number;
  reply: JsonRpcReply;
}

type Result = Record<string, unknown>;

/** One method: the schema its `params` must pass, the scopes it needs, and what it does. */
interface Method<P> {
  params: z.ZodMiniType<P>;
  scopes: (params: P) => readonly string[];
  run: (params: P, context: DispatchContext) => Result | Promise<Result>;
}

/** A request whose method exists and whose `params` passed that method's schema. */
export interface PreparedCall {
  readonly kind: 'call';
  readonly id: RequestId;
  readonly method: string;
  readonly era: Era;
  /** What the caller must hold; computed from the validated params. */
  readonly requiredScopes: readonly string[];
  readonly run: (context: DispatchContext) => Result | Promise<Result>;
}

export type Prepared = PreparedCall | ({ kind: 'reply' } & DispatchReply);

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

const none = () => [];

/** Erases a method's params type for the table, keeping its parts checked against each other. */
function method<P>(definition: Method<P>): Method<unknown> {
  return definition as Method<unknown>;
}

export function rpcError(id: RequestId | null, error: RpcError): JsonRpcFailure {
  return {
    jsonrpc: '2.0',
    id: error instanceof TransportRefusal ? null : id,
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
  private readonly legacy: Record<string, Method<unknown>>;
  private readonly modern: Record<string, Method<unknown>>;
  private readonly serverInfoMeta: Record<string, unknown>;

  constructor(private readonly options: DispatcherOptions) {
    this.tools = new Map(options.tools.map((t) => [t.name, t]));
    this.resources = new Map(options.resources.map((r) => [r.descriptor.uri, r]));
    this.info = serverInfo(options.config.resourceName);
    this.serverInfoMeta = { [SERVER_INFO_META_KEY]: this.info };
    const shared = {
      'tools/list': method({
        params: listParams,
        scopes: () => ['mcp:tools'],
        run: () => ({ tools: options.tools.map((t) => t.descriptor()) }),
      }),
      'tools/call': method({
        params: callToolParams,
        scopes: (params) => this.tools.get(params.name)?.requiredScopes ?? ['mcp:tools'],
        run: (params, context) => this.callTool(params, context),
      }),
      'resources/list': method({
        params: listParams,
        scopes: () => ['mcp:resources'],
        run: () => ({ resources: options.resources.map((r) => r.descriptor) }),
      }),
      'resources/templates/list': method({
        params: listParams,
        scopes: () => ['mcp:resources'],
        run: () => ({ resourceTemplates: [] }),
      }),
      'resources/read': method({
        params: readResourceParams,
        scopes: (params) => this.resources.get(params.uri)?.requiredScopes ?? ['mcp:resources'],
        run: (params, context) => this.readResource(params.uri, context),
      }),
    };
    this.legacy = {
      ...shared,
      initialize: method({
        params: initializeParams,
        scopes: none,
        run: (params) => this.initialize(params.protocolVersion),
      }),
      ping: method({ params: emptyParams, scopes: none, run: () => ({}) }),
    };
    this.modern = {
      ...shared,
      'server/discover': method({
        params: emptyParams,
        scopes: none,
        run: () => ({ supportedVersions: [...MODERN_PROTOCOL_VERSIONS], capabilities: CAPABILITIES }),
      }),
    };
  }

  /** The methods an era serves, with the schema of their params (the generated tests walk them). */
  methods(era: Era): ReadonlyMap<string, z.ZodMiniType> {
    const table = era === 'modern' ? this.modern : this.legacy;
    return new Map(Object.entries(table).map(([name, m]) => [name, m.params]));
  }

  /**
   * Finds the method and validates `params` against its schema. A method-level refusal is a
   * JSON-RPC error in the body: invalid params are -32602 with HTTP 200; in the 2026 era an
   * unknown method is also HTTP 404, as the SDK's per-request transport answers it.
   */
  prepare(message: JSONRPCRequest, era: Era): Prepared {
    const table = era === 'modern' ? this.modern : this.legacy;
    const definition = Object.hasOwn(table, message.method) ? table[message.method] : undefined;
    if (!definition) {
      const error = new RpcError(ErrorCode.MethodNotFound, 'Method not found');
      return { kind: 'reply', status: era === 'modern' ? 404 : 200, reply: rpcError(message.id, error) };
    }
    const parsed = definition.params.safeParse(message.params);
    if (!parsed.success) {
      const error = new RpcError(
        ErrorCode.InvalidParams,
        `Invalid params for ${message.method}: ${describeIssues(parsed.error.issues, 'params')}`,
      );
      return { kind: 'reply', status: 200, reply: rpcError(message.id, error) };
    }
    const params = parsed.data;
    return {
      kind: 'call',
      id: message.id,
      method: message.method,
      era,
      requiredScopes: definition.scopes(params),
      run: (context) => definition.run(params, context),
    };
  }

  /**
   * Runs a prepared request. Failures other than `RpcError` are logged and answered -32603.
   * `timeLimitMs` bounds a tool's run; without it a tool gets the default limit.
   */
  async run(call: PreparedCall, caller: Caller, timeLimitMs?: () => number): Promise<DispatchReply> {
    try {
      const result = await call.run({ caller, era: call.era, timeLimitMs });
      return {
        status: 200,
        reply: {
          jsonrpc: '2.0',
          id: call.id,
          result: call.era === 'modern' ? this.encodeModern(call.method, result) : result,
        },
      };
    } catch (error) {
      if (error instanceof RpcError) return { status: 200, reply: rpcError(call.id, error) };
      this.options.logger.error('method failed', { method: call.method, error });
      return {
        status: 200,
        reply: rpcError(call.id, new RpcError(ErrorCode.InternalError, 'Internal error')),
      };
    }
  }

  private encodeModern(method: string, result: Result): Result {
    const encoded: Result = { ...result, resultType: 'complete' };
    if (CACHEABLE.has(method)) {
      encoded.ttlMs = 0;
      encoded.cacheScope = 'private';
    }
    encoded._meta = this.serverInfoMeta;
    return encoded;
  }

  private initialize(requested: string): Result {
    // Version negotiation (MCP lifecycle): echo a supported version, else offer our latest.
    const protocolVersion = (LEGACY_PROTOCOL_VERSIONS as readonly string[]).includes(requested)
      ? requested
      : LEGACY_PROTOCOL_VERSIONS[0];
    return { protocolVersion, capabilities: CAPABILITIES, serverInfo: this.info };
  }

  private async callTool(
    params: z.output<typeof callToolParams>,
    context: DispatchContext,
  ): Promise<CallToolResult & Result> {
    const tool = this.tools.get(params.name);
    if (!tool) throw new RpcError(ErrorCode.InvalidParams, `Tool ${params.name} not found`);
    this.options.metrics?.count('ToolCalls', tool.name);
    try {
      const timeLimitMs = context.timeLimitMs?.();
      return await tool.call(params.arguments, {
        caller: context.caller,
        now: this.options.now,
        timeLimitMs,
      });
    } catch (error) {
      if (error instanceof ToolTimeoutError) {
        // The model may retry with less to do; the operator sees which tool ran out of time.
        this.options.logger.warn('tool ran out of time', { tool: params.name, limitMs: error.limitMs });
        return toolError(error.message);
      }
      if (!(error instanceof ToolOutputError)) throw error;
      // A server bug, not the caller's: the model gets a tool error, the operator a log line.
      this.options.logger.error('tool result breaks its output schema', {
        tool: params.name,
        problem: error.problem,
      });
      return toolError(error.message);
    }
  }

  private async readResource(uri: string, context: DispatchContext): Promise<Result> {
    const resource = this.resources.get(uri);
    // The 2026-07-28 revision requires -32602, with the URI in `data`, for an unknown resource,
    // and the SDK answers so in every era (its `ResourceNotFoundError`); -32002, the older code,
    // is one the specification asks clients to keep accepting.
    if (!resource) throw new RpcError(ErrorCode.InvalidParams, `Resource not found: ${uri}`, 200, { uri });
    return { ...(await resource.read({ caller: context.caller, config: this.options.config })) };
  }
}
