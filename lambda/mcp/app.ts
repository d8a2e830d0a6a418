/**
 * The MCP resource server: `/mcp` (stateless Streamable HTTP, both protocol eras) behind bearer
 * token verification, and its protected resource metadata. Created once per process: the
 * verifier, its caches and the dispatcher live as long as the Lambda execution environment, so
 * a warm request makes no network call and builds no server.
 */
import { isBlockedClient } from '../shared/blocked-clients.js';
import { PlainResponse, type HttpRequest } from '../shared/http-message.js';
import type { RequestId } from '@modelcontextprotocol/server';
import type { Config } from '../shared/config.js';
import {
  BEARER_AUTHORIZATION,
  isAllowedOrigin,
  mediaType,
  PayloadTooLargeError,
  readText,
} from '../shared/http.js';
import { classifyDependencyFault } from '../shared/dependency-fault.js';
import type { Logger } from '../shared/logger.js';
import type { BusinessMetrics } from '../shared/metrics.js';
import { SigningKeysUnavailableError, type VerificationKeys } from '../shared/signing-keys.js';
import { createAccessTokenVerifier } from './auth/access-token-verifier.js';
import {
  insufficientScopeResponse,
  invalidTokenResponse,
  missingTokenResponse,
  verificationUnavailableResponse,
} from './auth/bearer-challenge.js';
import { hasScopes, type Caller } from './auth/caller.js';
import { Dispatcher, rpcError, type JsonRpcReply, type Prepared } from './protocol/dispatcher.js';
import { parseJsonBody } from './protocol/json-body.js';
import { InvalidTokenError } from './auth/jwt.js';
import {
  PRM_MCP_PATH,
  PRM_PATH,
  protectedResourceMetadata,
  resourceMetadataUrl,
} from './auth/protected-resource-metadata.js';
import {
  classify,
  classifyMessage,
  ErrorCode,
  mcpHeaders,
  RpcError,
  type McpHeaders,
  type Route,
} from './protocol/protocol.js';
import { MAX_RESPONSE_BYTES, ReplyWriter } from './protocol/reply-writer.js';
import { RESOURCES } from './resources/registry.js';
import type { SdkServerFront } from './protocol/sdk-server.js';
import { TOOLS } from './tools/registry.js';
import { toolTimeLimit, type InvocationClock } from './tools/tool.js';
import { RevocationListUnavailableError, type RevocationList } from './auth/revocation-list.js';
import { TrustedIssuerUnavailableError, type TrustedIssuer } from './auth/trusted-issuers.js';

export interface McpAppDeps {
  config: Config;
  /** Public keys only: the resource server verifies tokens and never signs. */
  keys: VerificationKeys;
  logger: Logger;
  /** The business metrics (lambda/shared/metrics.ts); the local server and most tests count nothing. */
  metrics?: BusinessMetrics;
  trustedIssuers?: TrustedIssuer[];
  now?: () => number;
  /** Remote JWKS fetch for trusted issuers (tests inject one). */
  fetch?: typeof fetch;
  /**
   * What the oauth function revoked (deleted clients, revoked grants and tokens), checked for this
   * server's own tokens after verification. Every deployment has one; tests may leave it out.
   */
  revocations?: RevocationList;
  /** Largest response body; defaults to {@link MAX_RESPONSE_BYTES}. */
  maxResponseBytes?: number;
  /**
   * How long a tool may run when the handler is called without a Lambda context (locally);
   * defaults to `DEFAULT_TOOL_TIME_LIMIT_MS` (tools/tool.ts).
   */
  toolTimeLimitMs?: number;
  /**
   * Serve `/mcp` POSTs with an MCP SDK server instead of the built-in tools: `sdkV2Server`
   * (sdk-server-v2.ts) or `sdkV1Server` (sdk-server-v1.ts). Origin checks, token verification,
   * discovery and CORS stay this app's; see doc/adding-tools.md.
   */
  sdkServer?: SdkServerFront;
  /**
   * The longest lifetime of this server's own access tokens; defaults to the configured access
   * token lifetime (`ACCESS_TOKEN_TTL_SECONDS`), which the oauth function issues them with.
   */
  maxTokenLifetimeSeconds?: number;
}

const MCP_PATH = '/mcp';
const EXPOSED_HEADERS = 'WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version';
const ALLOWED_REQUEST_HEADERS =
  'Authorization, Content-Type, Accept, MCP-Protocol-Version, Mcp-Session-Id, Mcp-Method, Mcp-Name, Last-Event-ID';

type HeaderRecord = Record<string, string>;

function jsonResponse(status: number, text: string, headers: HeaderRecord): PlainResponse {
  return new PlainResponse(text, { status, headers: { ...headers, 'content-type': 'application/json' } });
}

/** A reply of the transport itself (small, never a method's result). */
function jsonRpcResponse(status: number, body: JsonRpcReply, headers: HeaderRecord): PlainResponse {
  return jsonResponse(status, JSON.stringify(body), headers);
}

/** The body as text, or undefined when it is larger than `limit` bytes (declared or actual). */
async function readBody(request: HttpRequest, limit: number): Promise<string | undefined> {
  try {
    return await readText(request, limit);
  } catch (error) {
    if (error instanceof PayloadTooLargeError) return undefined;
    throw error;
  }
}

/** The request id to echo in an error, when the body had a usable one. */
function echoableId(body: unknown): RequestId | null {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/** The app; on Lambda, called with the invocation's context, whose remaining time bounds tools. */
export type McpHandler = (request: HttpRequest, invocation?: InvocationClock) => Promise<PlainResponse>;

export function createMcpApp(deps: McpAppDeps): McpHandler {
  const { config, logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const maxResponseBytes = deps.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const verify = createAccessTokenVerifier({
    issuer: config.issuer,
    resource: config.mcpResource,
    keys: deps.keys,
    maxTokenLifetimeSeconds: deps.maxTokenLifetimeSeconds ?? config.accessTokenTtlSeconds,
    trustedIssuers: deps.trustedIssuers ?? [],
    remoteJwks: { ...(deps.fetch && { fetch: deps.fetch }), now },
    now,
  });
  const dispatcher = new Dispatcher({ config, tools: TOOLS, resources: RESOURCES, logger, metrics, now });
  const metadataUrl = resourceMetadataUrl(config);
  const metadataBody = JSON.stringify(protectedResourceMetadata(config));
  // The server's own origin is same-origin, never a rebinding attack.
  const allowedOrigins = [...config.allowedOrigins, config.issuer];

  /** CORS response headers for an allowed browser origin on `/mcp`. */
  function corsHeaders(origin: string | null): HeaderRecord {
    if (origin === null) return { 'cache-control': 'no-store' };
    return {
      'cache-control': 'no-store',
      'access-control-allow-origin': origin,
      'access-control-expose-headers': EXPOSED_HEADERS,
      vary: 'Origin',
    };
  }

  function withCors(response: PlainResponse, origin: string | null): PlainResponse {
    if (origin === null) return response;
    for (const [name, value] of Object.entries(corsHeaders(origin))) {
      if (name !== 'cache-control') response.headers.set(name, value);
    }
    return response;
  }

  function serveMetadata(request: HttpRequest): PlainResponse {
    // The metadata is public: any origin may read it, as browser-based clients must.
    const cors = { 'access-control-allow-origin': '*' };
    if (request.method === 'OPTIONS') {
      return new PlainResponse(null, {
        status: 204,
        headers: {
          ...cors,
          'access-control-allow-methods': 'GET, OPTIONS',
          'access-control-allow-headers':
            request.headers.get('access-control-request-headers') ?? 'MCP-Protocol-Version',
          'access-control-max-age': '600',
        },
      });
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new PlainResponse(null, { status: 405, headers: { ...cors, allow: 'GET, OPTIONS' } });
    }
    return new PlainResponse(metadataBody, {
      status: 200,
      headers: { ...cors, 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
    });
  }

  async function authenticate(request: HttpRequest): Promise<Caller | PlainResponse> {
    const header = request.headers.get('authorization');
    if (header === null || !/^bearer(\s|$)/i.test(header)) {
      metrics?.count('Refusals', 'missing_token');
      return missingTokenResponse(metadataUrl, config.scopesSupported);
    }
    const match = BEARER_AUTHORIZATION.exec(header);
    if (!match) {
      metrics?.count('Refusals', 'invalid_token');
      return invalidTokenResponse(
        metadataUrl,
        config.scopesSupported,
        'the Authorization header is malformed',
      );
    }
    try {
      const caller = await verify(match[1]!);
      if (caller.issuer === config.issuer && isBlockedClient(caller.clientId, config.blockedClients)) {
        throw new InvalidTokenError("the token's client has been blocked by this server's operator");
      }
      if (caller.issuer === config.issuer && (await deps.revocations?.isRevoked(caller))) {
        throw new InvalidTokenError('the token has been revoked');
      }
      return caller;
    } catch (error) {
      if (error instanceof InvalidTokenError) {
        logger.warn('access token refused', { reason: error.message });
        metrics?.count('Refusals', 'invalid_token');
        return invalidTokenResponse(metadataUrl, config.scopesSupported, error.message);
      }
      const fault = classifyDependencyFault(error);
      if (
        fault ||
        error instanceof SigningKeysUnavailableError ||
        error instanceof TrustedIssuerUnavailableError ||
        error instanceof RevocationListUnavailableError
      ) {
        logger.warn('access token cannot be verified', { fault: fault ?? 'failed', error });
        return verificationUnavailableResponse();
      }
      throw error;
    }
  }

  /** 403 `insufficient_scope`, counted as a refusal; step-up asks for `required` and what the token has. */
  function refuseScope(caller: Caller, required: readonly string[], origin: string | null): PlainResponse {
    metrics?.count('Refusals', 'insufficient_scope');
    return withCors(insufficientScopeResponse(metadataUrl, required, caller.scopes), origin);
  }

  async function servePost(
    request: HttpRequest,
    origin: string | null,
    invocation: InvocationClock | undefined,
  ): Promise<PlainResponse> {
    const auth = await authenticate(request);
    if (auth instanceof PlainResponse) return withCors(auth, origin);
    const caller = auth;
    const timeLimitMs = toolTimeLimit(invocation, deps.toolTimeLimitMs);
    if (deps.sdkServer) {
      const { mcpResource: resource, maxBodyBytes } = config;
      const context = {
        caller,
        metadataUrl,
        resource,
        maxBodyBytes,
        timeLimitMs,
        ...(metrics && { metrics }),
      };
      return withCors(await deps.sdkServer.handlePost(request, context), origin);
    }
    const headers = corsHeaders(origin);
    if (mediaType(request) !== 'application/json') {
      const error = new RpcError(
        ErrorCode.ServerError,
        'Unsupported Media Type: Content-Type must be application/json',
        415,
      );
      return jsonRpcResponse(415, rpcError(null, error), headers);
    }
    const text = await readBody(request, config.maxBodyBytes);
    if (text === undefined) {
      const tooLarge = new RpcError(
        ErrorCode.ServerError,
        `Payload Too Large: Request body must not exceed ${config.maxBodyBytes} bytes`,
      );
      return jsonRpcResponse(413, rpcError(null, tooLarge), headers);
    }
    const mcp = mcpHeaders(request.headers);
    let body: unknown;
    let route: Route;
    try {
      body = parseJsonBody(text);
      route = classify(body, mcp);
    } catch (error) {
      if (!(error instanceof RpcError)) throw error;
      return jsonRpcResponse(error.httpStatus, rpcError(echoableId(body), error), headers);
    }
    switch (route.kind) {
      case 'response':
      case 'notification':
        // Stateless: there is no session to cancel or initialize, and no request of ours to answer.
        return new PlainResponse(null, { status: 202, headers });
      case 'request': {
        const prepared = dispatcher.prepare(route.message, route.era);
        if (prepared.kind === 'reply') return jsonRpcResponse(prepared.status, prepared.reply, headers);
        if (!hasScopes(caller, prepared.requiredScopes))
          return refuseScope(caller, prepared.requiredScopes, origin);
        const { status, reply } = await dispatcher.run(prepared, caller, timeLimitMs);
        const out = new ReplyWriter(maxResponseBytes, logger);
        out.add(reply);
        return jsonResponse(status, out.single(), headers);
      }
      case 'batch':
        return serveBatch(route.messages, mcp, caller, origin, timeLimitMs);
    }
  }

  /** One batch member, classified and validated exactly as a single message would be. */
  function prepareMember(message: unknown, headers: McpHeaders): Prepared | undefined {
    let route: Route;
    try {
      route = classifyMessage(message, headers);
    } catch (error) {
      if (!(error instanceof RpcError)) throw error;
      // In a batch the error travels in the member's reply; the batch itself is answered 200.
      return { kind: 'reply', status: 200, reply: rpcError(echoableId(message), error) };
    }
    return route.kind === 'request' ? dispatcher.prepare(route.message, route.era) : undefined;
  }

  /** 2025-03-26 batches: every request must be valid and allowed before any of them runs. */
  async function serveBatch(
    messages: readonly unknown[],
    mcp: McpHeaders,
    caller: Caller,
    origin: string | null,
    timeLimitMs: () => number,
  ): Promise<PlainResponse> {
    const headers = corsHeaders(origin);
    const members = messages.map((message) => prepareMember(message, mcp));
    const required = [...new Set(members.flatMap((m) => (m?.kind === 'call' ? [...m.requiredScopes] : [])))];
    if (!hasScopes(caller, required)) return refuseScope(caller, required, origin);
    const out = new ReplyWriter(maxResponseBytes, logger);
    for (const member of members) {
      if (member === undefined) continue;
      if (member.kind === 'reply') out.add(member.reply);
      else if (out.full) out.add(out.tooLarge(member.id));
      else out.add((await dispatcher.run(member, caller, timeLimitMs)).reply);
    }
    if (out.count === 0) return new PlainResponse(null, { status: 202, headers });
    return jsonResponse(200, out.batch(), headers);
  }

  function preflight(request: HttpRequest, origin: string | null): PlainResponse {
    const headers = {
      ...corsHeaders(origin),
      'access-control-allow-methods': 'POST, GET, DELETE, OPTIONS',
      'access-control-allow-headers':
        request.headers.get('access-control-request-headers') ?? ALLOWED_REQUEST_HEADERS,
      'access-control-max-age': '600',
    };
    return new PlainResponse(null, { status: 204, headers });
  }

  async function serveMcp(request: HttpRequest, invocation?: InvocationClock): Promise<PlainResponse> {
    const origin = request.headers.get('origin');
    if (origin !== null && !isAllowedOrigin(origin, allowedOrigins)) {
      logger.warn('origin refused', { origin });
      metrics?.count('Refusals', 'origin_not_allowed');
      const error = new RpcError(ErrorCode.ServerError, 'Forbidden: Origin not allowed');
      return jsonRpcResponse(403, rpcError(null, error), { 'cache-control': 'no-store' });
    }
    switch (request.method) {
      case 'POST':
        return servePost(request, origin, invocation);
      case 'OPTIONS':
        return preflight(request, origin);
      default: {
        // Authenticate first: clients such as mcp-remote probe with an unauthenticated GET and
        // prepare their login only when it answers 401.
        const auth = await authenticate(request);
        if (auth instanceof PlainResponse) return withCors(auth, origin);
        // Stateless: no standalone SSE stream (GET) and no session to end (DELETE).
        const headers = { ...corsHeaders(origin), allow: 'POST' };
        const error = new RpcError(ErrorCode.ServerError, 'Method not allowed.');
        return jsonRpcResponse(405, rpcError(null, error), headers);
      }
    }
  }

  return async (request, invocation) => {
    try {
      const { pathname } = new URL(request.url);
      if (pathname === MCP_PATH) return await serveMcp(request, invocation);
      if (pathname === PRM_MCP_PATH || pathname === PRM_PATH) return serveMetadata(request);
      return new PlainResponse(JSON.stringify({ error: 'not_found' }), {
        status: 404,
        headers: { 'content-type': 'application/json' },
      });
    } catch (error) {
      const fault = classifyDependencyFault(error);
      if (fault) {
        logger.warn('dependency unavailable', { fault, error });
        return verificationUnavailableResponse('Service Unavailable: retry shortly');
      }
      logger.error('unexpected error', { error });
      const internal = new RpcError(ErrorCode.InternalError, 'Internal error');
      return jsonRpcResponse(500, rpcError(null, internal), { 'cache-control': 'no-store' });
    }
  };
}
