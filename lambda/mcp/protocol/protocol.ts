/**
 * MCP over Streamable HTTP, stateless, for both protocol eras, as the v2 TypeScript SDK defines
 * them (its `classifyInboundRequest` and `createMcpHandler` are the reference). The v1 and v2 SDK
 * clients, the MCP conformance suite and `test/lambda/mcp/protocol-versions.test.ts` check this
 * module against it, and `test/lambda/mcp/sdk-differential.test.ts` sends the same requests to
 * this server and to `createMcpHandler` serving the same tools, and fails on any difference that
 * its table of deliberate ones does not list:
 *
 * - 2025 era (2024-10-07 … 2025-11-25): `initialize` negotiates a version; later requests may
 *   carry `MCP-Protocol-Version` (absent → 2025-03-26; unsupported → 400).
 * - 2026-07-28 era: no `initialize`; every request carries the per-request `_meta` envelope
 *   (protocol version, client capabilities) and the `MCP-Protocol-Version`, `Mcp-Method` and, for
 *   named operations, `Mcp-Name` headers, which must agree with the body.
 *
 * This module decides which era a request belongs to and refuses malformed ones; it runs no method.
 */
import type { JSONRPCNotification, JSONRPCRequest, RequestId } from '@modelcontextprotocol/server';
import { initializeParams } from './request-schemas.js';

/** 2025-era versions, newest first (the SDK's `SUPPORTED_PROTOCOL_VERSIONS`). */
export const LEGACY_PROTOCOL_VERSIONS = [
  '2025-11-25',
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
  '2024-10-07',
] as const;
/** Per-request (2026-07-28+) versions served. */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const;
/** What a 2025-era request without `MCP-Protocol-Version` is assumed to speak. */
export const DEFAULT_LEGACY_VERSION = '2025-03-26';
/** Most messages in one JSON-RPC batch (the SDK's `MAX_BATCH_SIZE`). */
export const MAX_BATCH_MESSAGES = 100;

export const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion';
export const CLIENT_INFO_META_KEY = 'io.modelcontextprotocol/clientInfo';
export const CLIENT_CAPABILITIES_META_KEY = 'io.modelcontextprotocol/clientCapabilities';
export const SERVER_INFO_META_KEY = 'io.modelcontextprotocol/serverInfo';

/** JSON-RPC and MCP error codes. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Transport-level refusals of the Streamable HTTP binding. */
  ServerError: -32000,
  /** 2026: headers and body disagree. */
  HeaderMismatch: -32020,
  /** 2026: unsupported protocol version. */
  UnsupportedProtocolVersion: -32022,
} as const;

/** A refusal, with the HTTP status it is answered with. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly httpStatus = 200,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/**
 * A refusal of the 2025-era transport itself (an unsupported `MCP-Protocol-Version`), made before
 * the body is taken as a request: answered with a null id, as the SDK's transport answers it.
 */
export class TransportRefusal extends RpcError {
  constructor(code: number, message: string, httpStatus: number) {
    super(code, message, httpStatus);
    this.name = 'TransportRefusal';
  }
}

export type Era = 'legacy' | 'modern';

export type Route =
  | { kind: 'request'; era: Era; message: JSONRPCRequest; version: string }
  | { kind: 'notification'; era: Era; message: JSONRPCNotification }
  | { kind: 'batch'; messages: readonly unknown[] }
  | { kind: 'response' };

export interface McpHeaders {
  protocolVersion: string | undefined;
  method: string | undefined;
  name: string | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
}

const trimOws = (value: string | null) =>
  value === null ? undefined : value.replace(/^[ \t]+|[ \t]+$/g, '');

export function mcpHeaders(headers: { get(name: string): string | null }): McpHeaders {
  return {
    protocolVersion: trimOws(headers.get('mcp-protocol-version')),
    method: trimOws(headers.get('mcp-method')),
    name: trimOws(headers.get('mcp-name')),
  };
}

/** A protocol revision identifier: a calendar date, `YYYY-MM-DD`. */
const REVISION = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/**
 * Whether `version` names a revision of the 2026-07-28 era or later. Only a well-formed revision
 * identifier can: two of them compare by date, but any other string compared as text would be
 * "later" (`"9"`, `"2026-07-28x"`, `"zz"`) and send a request down the wrong era's rules.
 * Whether a version is served is decided separately, by exact membership in the version lists.
 */
export const isModernVersion = (version: string) =>
  REVISION.test(version) && version >= MODERN_PROTOCOL_VERSIONS[0];

function metaOf(params: unknown): Record<string, unknown> | undefined {
  return isObject(params) && isObject(params._meta) ? params._meta : undefined;
}

function mismatch(body: string, header: string): RpcError {
  return new RpcError(
    ErrorCode.HeaderMismatch,
    `Bad Request: the request headers and body disagree: ${body}`,
    400,
    {
      mismatch: { header, body },
    },
  );
}

function envelopeIssue(meta: Record<string, unknown>): { key: string; problem: string } | undefined {
  for (const key of [PROTOCOL_VERSION_META_KEY, CLIENT_CAPABILITIES_META_KEY]) {
    if (!(key in meta)) return { key, problem: 'missing' };
  }
  if (typeof meta[PROTOCOL_VERSION_META_KEY] !== 'string')
    return { key: PROTOCOL_VERSION_META_KEY, problem: 'expected string' };
  if (!isObject(meta[CLIENT_CAPABILITIES_META_KEY]))
    return { key: CLIENT_CAPABILITIES_META_KEY, problem: 'expected object' };
  const info = meta[CLIENT_INFO_META_KEY];
  if (
    info !== undefined &&
    !(isObject(info) && typeof info.name === 'string' && typeof info.version === 'string')
  ) {
    return { key: CLIENT_INFO_META_KEY, problem: 'expected an object with string "name" and "version"' };
  }
  return undefined;
}

function invalidEnvelope(issue: { key: string; problem: string }): RpcError {
  return new RpcError(
    ErrorCode.InvalidParams,
    `Invalid _meta envelope for protocol revision ${MODERN_PROTOCOL_VERSIONS[0]}: ${issue.key}: ${issue.problem}`,
    400,
    { envelope: issue },
  );
}

/** The body field the `Mcp-Name` header mirrors, per method. */
const NAME_SOURCE: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** `Mcp-Name` values that are not plain ASCII travel as `=?base64?…?=`. */
function decodeHeaderValue(value: string): string | undefined {
  if (!(value.startsWith('=?base64?') && value.endsWith('?='))) return value;
  const b64 = value.slice(9, -2);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) return undefined;
  const bytes = Buffer.from(b64, 'base64');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function checkModernRequestHeaders(message: JSONRPCRequest, version: string, headers: McpHeaders): void {
  if (headers.protocolVersion === undefined) {
    throw mismatch(
      `the body envelope names protocol version ${version} but the required MCP-Protocol-Version header is absent`,
      '(missing)',
    );
  }
  if (headers.method === undefined) {
    throw mismatch(
      `the body names method ${message.method} but the required Mcp-Method header is absent`,
      '(missing)',
    );
  }
  const field = NAME_SOURCE[message.method];
  if (!field) return;
  const raw = (message.params as Record<string, unknown> | undefined)?.[field];
  const bodyValue = typeof raw === 'string' ? raw : undefined;
  if (headers.name === undefined) {
    if (bodyValue !== undefined) {
      throw mismatch(
        `the body carries params.${field}="${bodyValue}" but the required Mcp-Name header is absent`,
        '(missing)',
      );
    }
    return;
  }
  const decoded = decodeHeaderValue(headers.name);
  if (decoded === undefined)
    throw mismatch('the Mcp-Name header carries an invalid Base64 sentinel value', headers.name);
  if (bodyValue !== undefined && decoded !== bodyValue) {
    throw mismatch(
      `the body carries params.${field}="${bodyValue}" but the Mcp-Name header names "${decoded}"`,
      headers.name,
    );
  }
}

function unsupportedLegacyVersion(version: string): RpcError {
  return new TransportRefusal(
    ErrorCode.ServerError,
    `Bad Request: Unsupported protocol version: ${version} (supported versions: ${LEGACY_PROTOCOL_VERSIONS.join(', ')})`,
    400,
  );
}

function classifyRequest(message: JSONRPCRequest, headers: McpHeaders): Route {
  const meta = metaOf(message.params);
  const claimed = meta !== undefined && PROTOCOL_VERSION_META_KEY in meta;
  const headerModern = headers.protocolVersion !== undefined && isModernVersion(headers.protocolVersion);
  const claimedVersion =
    claimed && typeof meta[PROTOCOL_VERSION_META_KEY] === 'string'
      ? meta[PROTOCOL_VERSION_META_KEY]
      : undefined;
  const validModernClaim =
    claimedVersion !== undefined && isModernVersion(claimedVersion) && !envelopeIssue(meta!);

  if (message.method === 'initialize' && !validModernClaim) {
    if (headerModern) {
      throw mismatch(
        'an initialize request (legacy handshake) was sent with a modern MCP-Protocol-Version header',
        headers.protocolVersion!,
      );
    }
    // The handshake negotiates its version in the body; the header is not checked on it.
    return { kind: 'request', era: 'legacy', message, version: DEFAULT_LEGACY_VERSION };
  }
  if (claimed) {
    const issue = envelopeIssue(meta!);
    if (issue) throw invalidEnvelope(issue);
    const version = claimedVersion!;
    if (headers.protocolVersion !== undefined && headers.protocolVersion !== version) {
      throw mismatch(
        `the body envelope names protocol version ${version} but the MCP-Protocol-Version header names ${headers.protocolVersion}`,
        headers.protocolVersion,
      );
    }
    if (headers.method !== undefined && headers.method !== message.method) {
      throw mismatch(
        `the body names method ${message.method} but the Mcp-Method header names ${headers.method}`,
        headers.method,
      );
    }
    if (!(MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(version)) {
      throw new RpcError(
        ErrorCode.UnsupportedProtocolVersion,
        `Unsupported protocol version: ${version}`,
        400,
        {
          supported: [...MODERN_PROTOCOL_VERSIONS],
          requested: version,
        },
      );
    }
    checkModernRequestHeaders(message, version, headers);
    return { kind: 'request', era: 'modern', message, version };
  }
  if (headerModern) {
    const missing = meta === undefined ? ['_meta'] : [PROTOCOL_VERSION_META_KEY];
    throw new RpcError(
      ErrorCode.InvalidParams,
      `Invalid params: the MCP-Protocol-Version header names protocol revision ${headers.protocolVersion}, but the request is missing the required per-request envelope key(s): ${missing.join(', ')}`,
      400,
      { envelope: { missing } },
    );
  }
  const version = headers.protocolVersion ?? DEFAULT_LEGACY_VERSION;
  if (!(LEGACY_PROTOCOL_VERSIONS as readonly string[]).includes(version))
    throw unsupportedLegacyVersion(version);
  return { kind: 'request', era: 'legacy', message, version };
}

function classifyNotification(message: JSONRPCNotification, headers: McpHeaders): Route {
  const meta = metaOf(message.params);
  const headerModern = headers.protocolVersion !== undefined && isModernVersion(headers.protocolVersion);
  if (meta !== undefined && PROTOCOL_VERSION_META_KEY in meta) {
    const version = meta[PROTOCOL_VERSION_META_KEY];
    if (typeof version !== 'string')
      throw invalidEnvelope({ key: PROTOCOL_VERSION_META_KEY, problem: 'expected string' });
    if (headers.protocolVersion !== undefined && headers.protocolVersion !== version) {
      throw mismatch(
        `the notification envelope names protocol version ${version} but the MCP-Protocol-Version header names ${headers.protocolVersion}`,
        headers.protocolVersion,
      );
    }
    const modern = isModernVersion(version);
    if (modern && headers.method !== undefined && headers.method !== message.method) {
      throw mismatch(
        `the notification body names method ${message.method} but the Mcp-Method header names ${headers.method}`,
        headers.method,
      );
    }
    return { kind: 'notification', era: modern ? 'modern' : 'legacy', message };
  }
  if (headerModern && headers.method !== undefined && headers.method !== message.method) {
    throw mismatch(
      `the notification body names method ${message.method} but the Mcp-Method header names ${headers.method}`,
      headers.method,
    );
  }
  if (!headerModern && headers.protocolVersion !== undefined) {
    if (!(LEGACY_PROTOCOL_VERSIONS as readonly string[]).includes(headers.protocolVersion)) {
      throw unsupportedLegacyVersion(headers.protocolVersion);
    }
  }
  return { kind: 'notification', era: headerModern ? 'modern' : 'legacy', message };
}

const INVALID_MESSAGE = 'Bad Request: the request body is not a valid JSON-RPC message';

/**
 * Decides era and kind of one JSON-RPC message, or throws the `RpcError` to answer with. A
 * single POSTed message and every member of a batch go through this one function.
 */
export function classifyMessage(message: unknown, headers: McpHeaders): Route {
  if (!isObject(message) || message.jsonrpc !== '2.0')
    throw new RpcError(ErrorCode.InvalidRequest, INVALID_MESSAGE, 400);
  if (typeof message.method === 'string') {
    if (message.params !== undefined && !isObject(message.params))
      throw new RpcError(ErrorCode.InvalidRequest, INVALID_MESSAGE, 400);
    if ('id' in message) {
      if (!isRequestId(message.id)) throw new RpcError(ErrorCode.InvalidRequest, INVALID_MESSAGE, 400);
      return classifyRequest(message as unknown as JSONRPCRequest, headers);
    }
    return classifyNotification(message as unknown as JSONRPCNotification, headers);
  }
  if (isRequestId(message.id) && ('result' in message || 'error' in message)) {
    // Only the 2025 era has server-to-client requests to answer; the SDK holds a posted response
    // to that era's MCP-Protocol-Version check.
    if (
      headers.protocolVersion !== undefined &&
      !(LEGACY_PROTOCOL_VERSIONS as readonly string[]).includes(headers.protocolVersion)
    ) {
      throw unsupportedLegacyVersion(headers.protocolVersion);
    }
    return { kind: 'response' };
  }
  throw new RpcError(ErrorCode.InvalidRequest, INVALID_MESSAGE, 400);
}

/** A valid `initialize` request or notification, as the SDK's `isInitializeRequest` recognises one. */
function isInitialize(message: unknown): boolean {
  return (
    isObject(message) && message.method === 'initialize' && initializeParams.safeParse(message.params).success
  );
}

/**
 * Decides era and kind of a parsed POST body, or throws the `RpcError` to answer with. A batch
 * (2025-03-26) is refused as a whole when it is empty, longer than {@link MAX_BATCH_MESSAGES},
 * holds a 2026-era message, or holds `initialize` beside other messages; its members are
 * classified one by one with {@link classifyMessage}.
 */
export function classify(body: unknown, headers: McpHeaders): Route {
  if (!Array.isArray(body)) return classifyMessage(body, headers);
  if (body.length === 0)
    throw new RpcError(ErrorCode.InvalidRequest, 'Bad Request: empty JSON-RPC batch', 400);
  if (body.length > MAX_BATCH_MESSAGES) {
    throw new RpcError(
      ErrorCode.InvalidRequest,
      `Invalid Request: Batch must not exceed ${MAX_BATCH_MESSAGES} messages`,
      400,
    );
  }
  if (body.some((m) => isObject(m) && PROTOCOL_VERSION_META_KEY in (metaOf(m.params) ?? {}))) {
    throw new RpcError(
      ErrorCode.InvalidRequest,
      'Bad Request: JSON-RPC batches may not contain requests for protocol revision 2026-07-28 or later',
      400,
    );
  }
  if (
    headers.protocolVersion !== undefined &&
    !(LEGACY_PROTOCOL_VERSIONS as readonly string[]).includes(headers.protocolVersion)
  ) {
    throw unsupportedLegacyVersion(headers.protocolVersion);
  }
  // The 2025-03-26 lifecycle keeps initialize out of batches; like the SDK, a batch of one passes.
  if (body.length > 1 && body.some(isInitialize)) {
    throw new RpcError(
      ErrorCode.InvalidRequest,
      'Invalid Request: Only one initialization request is allowed',
      400,
    );
  }
  return { kind: 'batch', messages: body };
}
