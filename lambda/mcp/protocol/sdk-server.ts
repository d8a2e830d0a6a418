/**
 * Serving `/mcp` with an MCP SDK server a team already has (tools, prompts, resources written
 * against `McpServer` of the v2 `@modelcontextprotocol/server` or the v1 `@modelcontextprotocol/sdk`)
 * instead of this project's built-in tools, behind this project's front: `createMcpApp` still
 * checks the Origin and verifies the token (401 with the discovery challenge); this module then
 * bounds and parses the body as the built-in path does, applies per-method and per-tool scopes
 * with the built-in path's 403 `insufficient_scope` answer, and hands the request, the parsed body
 * and the verified caller (as the SDK's `authInfo`) to the SDK.
 *
 * app.ts imports only this module's types, so the default bundle holds none of it, and it imports
 * no SDK code itself: the SDK comes with the adapter an entry point chooses (`sdk-server-v2.ts`,
 * `sdk-server-v1.ts`); see `examples/sdk-server.ts` and doc/adding-tools.md.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import { PlainResponse, type HttpRequest } from '../../shared/http-message.js';
import { mediaType, PayloadTooLargeError, readText } from '../../shared/http.js';
import type { BusinessMetrics } from '../../shared/metrics.js';
import { insufficientScopeResponse } from '../auth/bearer-challenge.js';
import { hasScopes, type Caller } from '../auth/caller.js';
import { parseJsonBody } from './json-body.js';
import { ErrorCode, PROTOCOL_VERSION_META_KEY, RpcError } from './protocol.js';

/** Which scopes a request needs. Methods not listed need none; a tool or resource not listed needs its method's. */
export interface ScopeRules {
  /** Per method (`tools/list`, `resources/read`, `prompts/get`, ...). */
  methods: Readonly<Record<string, readonly string[]>>;
  /** Per tool name: what `tools/call` of that tool needs instead of `methods['tools/call']`. */
  tools?: Readonly<Record<string, readonly string[]>>;
  /** Per resource URI: what `resources/read` of it needs instead of `methods['resources/read']`. */
  resources?: Readonly<Record<string, readonly string[]>>;
  /** Per prompt name: what `prompts/get` of it needs instead of `methods['prompts/get']`. */
  prompts?: Readonly<Record<string, readonly string[]>>;
}

/** The built-in path's method scopes (dispatcher.ts); test/lambda/mcp/protocol/sdk-server.test.ts holds the two equal. */
export const DEFAULT_METHOD_SCOPES: ScopeRules['methods'] = {
  'tools/list': ['mcp:tools'],
  'tools/call': ['mcp:tools'],
  'resources/list': ['mcp:resources'],
  'resources/templates/list': ['mcp:resources'],
  'resources/read': ['mcp:resources'],
};

/**
 * Methods the front answers itself with "method not found": `subscriptions/listen` holds an
 * SSE stream open, which a buffered Lambda response behind API Gateway can never deliver.
 */
const UNSERVED_METHODS = new Set(['subscriptions/listen']);

/** What `createMcpApp` hands the front for one authenticated POST. */
export interface SdkPostContext {
  caller: Caller;
  /** The protected resource metadata URL, for the 403 challenge and the SDK's own challenges. */
  metadataUrl: string;
  /** This server's resource identifier (`<issuer>/mcp`). */
  resource: string;
  maxBodyBytes: number;
  /** The time the request may still take, asked when the SDK is called (`toolTimeLimit`). */
  timeLimitMs: () => number;
  /** The business metrics, as the built-in path counts them; absent locally and in most tests. */
  metrics?: BusinessMetrics;
}

/** What an SDK adapter is handed: a web request (without the Authorization header) and the rest. */
export interface SdkExchangeInput {
  request: Request;
  parsedBody: unknown;
  authInfo: AuthInfo;
}

/** Serves one exchange with the SDK and returns its buffered answer. */
export type SdkExchange = (input: SdkExchangeInput) => Promise<PlainResponse>;

/** What `createMcpApp({ sdkServer })` takes: the front, ready for requests. */
export interface SdkServerFront {
  handlePost(request: HttpRequest, context: SdkPostContext): Promise<PlainResponse>;
}

export interface SdkServerOptions {
  /** Defaults to {@link DEFAULT_METHOD_SCOPES} with no per-tool rules. */
  scopes?: ScopeRules;
  /** The clock the front's listing retries go by (epoch ms); tests set it. */
  now?: () => number;
}

/** The `authInfo` the SDK's handlers see as `extra.authInfo` (v1) or `ctx.http.authInfo` (v2). */
export function authInfoFor(
  caller: Caller,
  context: Pick<SdkPostContext, 'metadataUrl' | 'resource'>,
): AuthInfo {
  return {
    // The token itself never reaches tool code: tokens must not be passed on upstream.
    token: '',
    clientId: caller.clientId,
    scopes: [...caller.scopes],
    expiresAt: caller.expiresAt,
    resource: new URL(context.resource),
    resourceMetadataUrl: context.metadataUrl,
    extra: { caller: { ...caller } },
  };
}

/** The verified caller, from the `authInfo` an SDK handler received. */
export function callerOf(authInfo: { extra?: Record<string, unknown> } | undefined): Caller | undefined {
  return authInfo?.extra?.caller as Caller | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a message claims the 2026-07-28 era in its `_meta` envelope. */
function isModern(message: Record<string, unknown>): boolean {
  const meta = isObject(message.params) ? message.params._meta : undefined;
  return isObject(meta) && PROTOCOL_VERSION_META_KEY in meta;
}

/** The scopes one message needs: requests by method (and tool, resource or prompt), others none. */
export function requiredScopes(rules: ScopeRules, message: unknown): readonly string[] {
  if (!isObject(message) || typeof message.method !== 'string' || !('id' in message)) return [];
  const params = isObject(message.params) ? message.params : {};
  const byMethod = Object.hasOwn(rules.methods, message.method) ? rules.methods[message.method]! : [];
  const named = (table: ScopeRules['tools'], key: unknown) =>
    table && typeof key === 'string' && Object.hasOwn(table, key) ? table[key]! : byMethod;
  switch (message.method) {
    case 'tools/call':
      return named(rules.tools, params.name);
    case 'resources/read':
      return named(rules.resources, params.uri);
    case 'prompts/get':
      return named(rules.prompts, params.name);
    default:
      return byMethod;
  }
}

function rpcErrorResponse(status: number, id: unknown, error: RpcError): PlainResponse {
  const body = {
    jsonrpc: '2.0',
    id: typeof id === 'string' || typeof id === 'number' ? id : null,
    error: { code: error.code, message: error.message },
  };
  return new PlainResponse(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
}

/** Both request types the app sees (`PlainRequest`, a web `Request`) can list their headers. */
interface ListableHeaders {
  forEach(callback: (value: string, name: string) => void): void;
}

/** The request headers the SDK sees: everything but credentials, which tool code must not read. */
function forwardedHeaders(request: HttpRequest): Headers {
  const headers = new Headers();
  (request.headers as unknown as ListableHeaders).forEach((value, name) => {
    if (name !== 'authorization' && name !== 'cookie') headers.set(name, value);
  });
  return headers;
}

/** A buffered copy of an SDK answer: Lambda behind API Gateway sends whole responses only. */
export async function toPlainResponse(response: Response): Promise<PlainResponse> {
  const text = await response.text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    // Stateless: there is no session for a client to come back to.
    if (name !== 'mcp-session-id') headers[name] = value;
  });
  headers['cache-control'] = 'no-store';
  return new PlainResponse(response.status === 202 || text === '' ? null : text, {
    status: response.status,
    headers,
  });
}

/** The error that stands in for an SDK exchange that did not finish within the time limit. */
export class SdkTimeoutError extends Error {
  readonly code = 'ERR_SDK_TIMEOUT';
  constructor(readonly limitMs: number) {
    super(`the MCP SDK server did not answer within ${Math.max(0, Math.round(limitMs))} ms`);
    this.name = 'SdkTimeoutError';
  }
}

/** Races the exchange against the time limit, aborting the web request's signal when it passes. */
async function withinLimit(
  limitMs: number,
  run: (signal: AbortSignal) => Promise<PlainResponse>,
): Promise<PlainResponse> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        const error = new SdkTimeoutError(limitMs);
        controller.abort(error);
        reject(error);
      },
      Math.max(0, limitMs),
    );
  });
  try {
    return await Promise.race([run(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The built-in path's answer to a tool that ran out of time, or a -32603 for anything else. */
function timedOut(body: unknown, error: SdkTimeoutError): PlainResponse {
  if (isObject(body) && 'id' in body && body.method === 'tools/call') {
    const name = isObject(body.params) && typeof body.params.name === 'string' ? body.params.name : '';
    const result = {
      content: [{ type: 'text', text: `Tool ${name} did not finish within ${Math.round(error.limitMs)} ms` }],
      isError: true,
      // 2026-07-28 results say whether they are complete.
      ...(isModern(body) && { resultType: 'complete' }),
    };
    return new PlainResponse(JSON.stringify({ jsonrpc: '2.0', id: body.id, result }), {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    });
  }
  const id = isObject(body) ? body.id : null;
  return rpcErrorResponse(
    isObject(body) ? 200 : 500,
    id,
    new RpcError(ErrorCode.InternalError, error.message),
  );
}

/** The `tools/call` requests of a body that expect an answer: their id, and the tool named. */
function toolCallsOf(messages: unknown[]): Map<unknown, string> {
  const calls = new Map<unknown, string>();
  for (const message of messages) {
    if (!isObject(message) || !('id' in message) || message.method !== 'tools/call') continue;
    if (isObject(message.params) && typeof message.params.name === 'string')
      calls.set(message.id, message.params.name);
  }
  return calls;
}

/** The JSON-RPC messages of a buffered SDK answer: one JSON value, or server-sent events' data. */
function answerMessages(text: string): unknown[] {
  const values = /^\s*[[{]/.test(text)
    ? [JSON.parse(text) as unknown]
    : text
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => JSON.parse(line.slice(5)) as unknown);
  return values.flat();
}

/** The protocol version the front lists a 2025-era server's tools with when a call names none. */
const LISTING_PROTOCOL_VERSION = '2025-06-18';
/** The most a listing may take; it waits on a request's answer, within the request's own limit. */
const LISTING_TIME_LIMIT_MS = 1_000;
/** How long after a failed listing the front lists again; meanwhile nothing is counted. */
const LISTING_RETRY_MS = 60_000;

/**
 * The tool names the server lists (`tools/list`, its first page), asked through `exchange` with
 * the caller's authorization and in the protocol era of `call` (a server may serve one era only);
 * undefined when the list cannot be had within `limitMs`. What `ToolCalls` may be counted under:
 * the v1 SDK answers a call of a tool it does not have with a result too (`isError`), so only a
 * listed name may become a dimension value, never a name as sent. A server that lists tools per
 * caller is counted under what it listed for the first caller.
 */
async function listToolNames(
  exchange: SdkExchange,
  request: HttpRequest,
  call: Record<string, unknown>,
  authInfo: AuthInfo,
  limitMs: number,
): Promise<ReadonlySet<string> | undefined> {
  const meta = isModern(call) ? (call.params as { _meta: Record<string, unknown> })._meta : undefined;
  const version = meta?.[PROTOCOL_VERSION_META_KEY];
  const body = {
    jsonrpc: '2.0',
    id: 'tool-names',
    method: 'tools/list',
    ...(meta && { params: { _meta: meta } }),
  };
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version':
      typeof version === 'string'
        ? version
        : (request.headers.get('mcp-protocol-version') ?? LISTING_PROTOCOL_VERSION),
    ...(meta && { 'mcp-method': 'tools/list' }),
  };
  try {
    const response = await withinLimit(limitMs, (signal) =>
      exchange({
        request: new Request(request.url, { method: 'POST', headers, body: JSON.stringify(body), signal }),
        parsedBody: body,
        authInfo,
      }),
    );
    for (const answer of answerMessages(await response.text())) {
      const tools = isObject(answer) && isObject(answer.result) ? answer.result.tools : undefined;
      if (!Array.isArray(tools)) continue;
      return new Set(
        tools.flatMap((tool) => (isObject(tool) && typeof tool.name === 'string' ? [tool.name] : [])),
      );
    }
  } catch {
    // not listed this time: counted from the next listing on
  }
  return undefined;
}

/**
 * Counts `ToolCalls` for each call of a listed tool that the SDK answered with a result, as the
 * built-in path counts a call of a registered tool (a tool error is a result too). An answer that
 * cannot be read counts nothing; it is the client's to read, not this count's.
 */
async function countToolCalls(
  response: PlainResponse,
  calls: Map<unknown, string>,
  listed: ReadonlySet<string>,
  metrics: BusinessMetrics,
): Promise<void> {
  let answers: unknown[];
  try {
    answers = answerMessages(await response.text());
  } catch {
    return;
  }
  for (const answer of answers) {
    if (!isObject(answer) || !('result' in answer)) continue;
    const name = calls.get(answer.id);
    if (name !== undefined && listed.has(name)) metrics.count('ToolCalls', name);
  }
}

/**
 * The front for one SDK adapter's exchange. Answers 415, 413, -32700 and -32600 (too deep)
 * exactly as the built-in path does, and 403 `insufficient_scope` when any request in the body
 * needs a scope the caller lacks, before the SDK sees anything.
 */
export function createSdkServerFront(exchange: SdkExchange, options: SdkServerOptions = {}): SdkServerFront {
  const rules = options.scopes ?? { methods: DEFAULT_METHOD_SCOPES };
  /** The server's tool names, listed once per execution environment, at the first counted call. */
  let listed: ReadonlySet<string> | undefined;
  let listing: Promise<ReadonlySet<string> | undefined> | undefined;
  let listAgainAt = 0;
  const now = options.now ?? Date.now;
  /** The listed names, listing them first if need be (bounded by `limitMs`); undefined if not to be had. */
  async function toolNames(
    request: HttpRequest,
    call: Record<string, unknown>,
    authInfo: AuthInfo,
    limitMs: number,
  ): Promise<ReadonlySet<string> | undefined> {
    if (listed) return listed;
    if (!listing) {
      if (now() < listAgainAt || limitMs <= 0) return undefined;
      listing = listToolNames(exchange, request, call, authInfo, limitMs).then((names) => {
        listing = undefined;
        if (names) listed = names;
        else listAgainAt = now() + LISTING_RETRY_MS;
        return names;
      });
    }
    return listing;
  }
  return {
    async handlePost(request, context) {
      if (mediaType(request) !== 'application/json') {
        const error = new RpcError(
          ErrorCode.ServerError,
          'Unsupported Media Type: Content-Type must be application/json',
          415,
        );
        return rpcErrorResponse(415, null, error);
      }
      let text: string;
      try {
        text = await readText(request, context.maxBodyBytes);
      } catch (error) {
        if (!(error instanceof PayloadTooLargeError)) throw error;
        const tooLarge = new RpcError(
          ErrorCode.ServerError,
          `Payload Too Large: Request body must not exceed ${context.maxBodyBytes} bytes`,
        );
        return rpcErrorResponse(413, null, tooLarge);
      }
      let body: unknown;
      try {
        body = parseJsonBody(text);
      } catch (error) {
        if (!(error instanceof RpcError)) throw error;
        return rpcErrorResponse(error.httpStatus, null, error);
      }
      const messages = Array.isArray(body) ? body : [body];
      for (const message of messages) {
        if (isObject(message) && 'id' in message && UNSERVED_METHODS.has(message.method as string)) {
          // As the built-in path answers an unknown method: 404 in the 2026 era, 200 before it.
          const notFound = new RpcError(ErrorCode.MethodNotFound, 'Method not found');
          return rpcErrorResponse(isModern(message) ? 404 : 200, message.id, notFound);
        }
      }
      const required = [...new Set(messages.flatMap((message) => [...requiredScopes(rules, message)]))];
      if (!hasScopes(context.caller, required)) {
        context.metrics?.count('Refusals', 'insufficient_scope');
        // As the built-in path: step-up asks for what the operation needs plus what the token has.
        return insufficientScopeResponse(context.metadataUrl, required, context.caller.scopes);
      }
      const authInfo = authInfoFor(context.caller, context);
      const limitMs = context.timeLimitMs();
      let response: PlainResponse;
      try {
        response = await withinLimit(limitMs, (signal) =>
          exchange({
            request: new Request(request.url, {
              method: 'POST',
              headers: forwardedHeaders(request),
              body: text,
              signal,
            }),
            parsedBody: body,
            authInfo,
          }),
        );
      } catch (error) {
        if (!(error instanceof SdkTimeoutError)) throw error;
        // A tool error, counted below (once the tools are listed) as the built-in path counts a
        // call that ran out of time.
        response = timedOut(body, error);
      }
      const calls = toolCallsOf(messages);
      if (context.metrics && calls.size > 0) {
        const call = messages.find((m) => isObject(m) && m.method === 'tools/call') as Record<
          string,
          unknown
        >;
        const limit = Math.min(LISTING_TIME_LIMIT_MS, context.timeLimitMs());
        const names = await toolNames(request, call, authInfo, limit);
        if (names) await countToolCalls(response, calls, names, context.metrics);
      }
      return response;
    },
  };
}
