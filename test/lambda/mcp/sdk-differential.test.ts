/**
 * The hand-written protocol layer (protocol.ts, dispatcher.ts, app.ts) held to the MCP SDK, request
 * by request. Every request of the corpus goes to `createMcpApp` and to the v2 SDK's own stateless
 * entry, `createMcpHandler`, serving the same tools and resources (registered here from `TOOLS` and
 * `RESOURCES` through `McpServer`'s public API) behind the SDK's `requireBearerAuth`. The two
 * answers are compared on status, content type, `MCP-Protocol-Version`, `Allow`, the presence of
 * `WWW-Authenticate`, and the JSON body (an SSE body read as the messages it carries; a batch
 * answer in id order; OAuth `error_description` texts left out, since two verifiers word them
 * differently).
 *
 * Where this server answers differently on purpose, the difference is in DELIBERATE with its
 * reason, and the cases it applies to name it. A case passes when, with its listed differences
 * set aside, the answers are equal, and when each listed difference is still needed: the test
 * fails on an unlisted difference and on a listed one that has disappeared.
 */
import {
  createMcpHandler,
  McpServer,
  OAuthError,
  OAuthErrorCode,
  requireBearerAuth,
  requireScopes,
  type AuthInfo,
  type StandardSchemaWithJSON,
} from '@modelcontextprotocol/server';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod/mini';
import type { Caller } from '../../../lambda/mcp/auth/caller.js';
import { RESOURCES } from '../../../lambda/mcp/resources/registry.js';
import { SERVER_NAME, SERVER_VERSION } from '../../../lambda/mcp/protocol/server-info.js';
import { TOOLS } from '../../../lambda/mcp/tools/registry.js';
import { toPublicKeySet } from '../../../lambda/shared/key-set.js';
import {
  accessToken,
  currentKey,
  INIT,
  ISSUER,
  MODERN_META,
  NOW,
  NOW_MS,
  PRM_URL,
  RESOURCE,
  rpc,
  testApp,
  testConfig,
} from './mcp-test-kit.js';

/** Large enough for a batch of 101 pings, so that the batch length is what is refused. */
const ENV = { MAX_BODY_BYTES: '16384' };
const config = testConfig(ENV);

// ---------------------------------------------------------------------------------------------
// The reference: the SDK's stateless handler with the same tools and resources.

/** A `zod/mini` schema as the SDK's `StandardSchemaWithJSON`, converted as McpServer itself would. */
function withJsonSchema(schema: z.ZodMiniType): StandardSchemaWithJSON {
  const std = (schema as unknown as { '~standard': object })['~standard'];
  return {
    '~standard': {
      ...std,
      jsonSchema: {
        input: ({ target }: { target: string }) =>
          z.toJSONSchema(schema, { target: target as 'draft-2020-12', io: 'input' }),
        output: ({ target }: { target: string }) =>
          z.toJSONSchema(schema, { target: target as 'draft-2020-12', io: 'output' }),
      },
    },
  } as unknown as StandardSchemaWithJSON;
}

const challenge = (scopes: readonly string[]) =>
  scopes.length > 0 ? { scopeChallenge: requireScopes(...(scopes as [string, ...string[]])) } : {};

const callerOf = (authInfo: AuthInfo | undefined) => authInfo?.extra?.caller as Caller;

function referenceServer(): McpServer {
  const server = new McpServer({ name: SERVER_NAME, title: config.resourceName, version: SERVER_VERSION });
  for (const tool of TOOLS) {
    const { definition } = tool;
    server.registerTool(
      definition.name,
      {
        ...(definition.title && { title: definition.title }),
        description: definition.description,
        inputSchema: withJsonSchema(definition.inputSchema),
        ...(definition.outputSchema && { outputSchema: withJsonSchema(definition.outputSchema) }),
        ...(definition.annotations && { annotations: definition.annotations }),
        ...challenge(tool.requiredScopes),
      },
      (args: unknown, ctx) =>
        definition.handler(args as never, {
          caller: callerOf(ctx.http?.authInfo),
          now: () => NOW_MS,
          signal: ctx.mcpReq.signal,
        }),
    );
  }
  for (const resource of RESOURCES) {
    const { uri, name, ...metadata } = resource.descriptor;
    server.registerResource(name, uri, { ...metadata, ...challenge(resource.requiredScopes) }, (_, ctx) =>
      resource.read({ caller: callerOf(ctx.http?.authInfo), config }),
    );
  }
  return server;
}

async function referenceHandler(): Promise<(request: Request) => Promise<Response>> {
  const jwks = createLocalJWKSet(toPublicKeySet({ current: await currentKey() }));
  const gate = requireBearerAuth({
    resourceMetadataUrl: PRM_URL,
    verifier: {
      async verifyAccessToken(token) {
        let payload;
        try {
          ({ payload } = await jwtVerify(token, jwks, {
            issuer: ISSUER,
            audience: RESOURCE,
            typ: 'at+jwt',
            currentDate: new Date(NOW_MS),
          }));
        } catch (error) {
          throw new OAuthError(OAuthErrorCode.InvalidToken, (error as Error).message);
        }
        const scopes = String(payload.scope ?? '').split(' ');
        const caller: Caller = {
          issuer: payload.iss!,
          kind: payload.sid === undefined ? 'machine' : 'user',
          sub: payload.sub!,
          clientId: String(payload.client_id),
          scopes,
          expiresAt: payload.exp!,
        };
        // The tokens live on the test's frozen clock; the SDK checks expiry against the real one.
        const expiresAt = payload.exp! - NOW + Date.now() / 1000;
        return { token, clientId: caller.clientId, scopes, expiresAt, extra: { caller } };
      },
    },
  });
  const handler = createMcpHandler(referenceServer, { maxRequestBodySize: config.maxBodyBytes });
  return async (request) => {
    const auth = await gate(request);
    return auth instanceof Response ? auth : handler.fetch(request, { authInfo: auth });
  };
}

// ---------------------------------------------------------------------------------------------
// What is compared.

interface Answer {
  status: number;
  contentType: string | null;
  protocolVersion: string | null;
  allow: string | null;
  wwwAuthenticate: boolean;
  body: unknown;
}

/** The JSON-RPC messages of an SSE body, in order. */
function sseMessages(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice(5)) as unknown);
}

const idOf = (message: unknown) => String((message as { id?: unknown }).id);

interface AnyResponse {
  status: number;
  headers: { get(name: string): string | null; has(name: string): boolean };
  text(): Promise<string>;
}

async function observe(response: AnyResponse) {
  const text = await response.text();
  const contentType = response.headers.get('content-type')?.split(';')[0]!.trim() ?? null;
  let body: unknown = null;
  if (contentType === 'text/event-stream') {
    body = sseMessages(text);
  } else if (text !== '') {
    body = JSON.parse(text);
  }
  if (Array.isArray(body)) body = [...body].sort((a, b) => idOf(a).localeCompare(idOf(b)));
  if (typeof body === 'object' && body !== null && 'error_description' in body) {
    delete (body as Record<string, unknown>).error_description;
  }
  return {
    status: response.status,
    contentType,
    protocolVersion: response.headers.get('mcp-protocol-version'),
    allow: response.headers.get('allow'),
    wwwAuthenticate: response.headers.has('www-authenticate'),
    body,
  } satisfies Answer;
}

// ---------------------------------------------------------------------------------------------
// Deliberate differences.

type Pair = [ours: Answer, sdk: Answer];

interface Deliberate {
  reason: string;
  /** Sets the difference aside: returns the pair with it removed, or unchanged when it is absent. */
  setAside(pair: Pair): Pair;
}

type Json = Record<string, unknown>;
const asRecord = (value: unknown): Json =>
  typeof value === 'object' && value !== null ? (value as Json) : {};
const errorOf = (answer: Answer) => asRecord(asRecord(answer.body).error);
const messages = (answer: Answer): Json[] =>
  (Array.isArray(answer.body) ? answer.body : [answer.body]).map(asRecord);

/** Both answers replaced by one marker when `matches` holds: a difference of the whole answer. */
function wholeAnswer(matches: (ours: Answer, sdk: Answer) => boolean) {
  return ([ours, sdk]: Pair): Pair => {
    if (!matches(ours, sdk)) return [ours, sdk];
    const marker = { ...ours, status: 0, body: 'set aside' };
    return [marker, { ...marker }];
  };
}

/** Applies `edit` to a deep copy of every message of both answers. */
function eachMessage(edit: (message: Json) => void) {
  return ([ours, sdk]: Pair): Pair => {
    const copy = (answer: Answer): Answer => {
      const body = structuredClone(answer.body);
      for (const message of Array.isArray(body) ? body : [body]) edit(asRecord(message));
      return { ...answer, body };
    };
    return [copy(ours), copy(sdk)];
  };
}

const INPUT_ERROR = /^(Input validation error: Invalid arguments for tool [^:]+: ).+$/s;

const DELIBERATE = {
  'json-not-sse': {
    reason:
      'Requests are answered with one application/json body: a stateless server has nothing to ' +
      'stream, and the transport lets the server pick JSON, which clients must accept. The SDK ' +
      'answers 2025-era requests on an SSE stream; its messages are compared with the JSON body, ' +
      "one message with a single answer, all of them with a batch's.",
    setAside: ([ours, sdk]) => {
      if (ours.contentType !== 'application/json' || sdk.contentType !== 'text/event-stream')
        return [ours, sdk];
      const sent = sdk.body as unknown[];
      const body = Array.isArray(ours.body) || sent.length !== 1 ? sent : sent[0];
      return [ours, { ...sdk, contentType: 'application/json', body }];
    },
  },
  'no-list-changed': {
    reason:
      'Capabilities leave out `listChanged`: the lists never change while a server runs, and a ' +
      'stateless server has no stream to announce a change on. McpServer sets it as soon as a ' +
      'tool or resource is registered.',
    setAside: eachMessage((message) => {
      const capabilities = asRecord(asRecord(message.result).capabilities);
      for (const kind of ['tools', 'resources']) delete asRecord(capabilities[kind]).listChanged;
    }),
  },
  'lenient-accept': {
    reason:
      'A request whose Accept header names only application/json, only text/event-stream, `*/*` ' +
      'or nothing is served: several real clients send only part of the pair ' +
      "(streamable-http.test.ts pins it). The SDK's 2025-era leg answers 406.",
    setAside: wholeAnswer(
      (ours, sdk) =>
        ours.status === 200 &&
        sdk.status === 406 &&
        String(errorOf(sdk).message).startsWith('Not Acceptable: Client must accept both'),
    ),
  },
  'bounded-input-errors': {
    reason:
      'A tool input error names each field in one line of at most 5 issues of 200 characters ' +
      "(schema-issues.ts), where the SDK prints zod's messages unbounded. Both are `isError` " +
      'results with the same first words, which are compared.',
    setAside: eachMessage((message) => {
      const content = asRecord(message.result).content;
      if (!Array.isArray(content)) return;
      const first = asRecord(content[0]);
      const match = typeof first.text === 'string' ? INPUT_ERROR.exec(first.text) : null;
      if (match) first.text = match[1];
    }),
  },
  'bounded-params-errors': {
    reason:
      'Invalid `params` of tools/call are -32602 with one line naming each field ' +
      "(schema-issues.ts); the SDK's message is zod's issue list as JSON.",
    setAside: eachMessage((message) => {
      const error = asRecord(message.error);
      if (
        error.code === -32602 &&
        typeof error.message === 'string' &&
        /^(Invalid params for tools\/call: |Invalid tools\/call request: \[)/.test(error.message)
      ) {
        error.message = '(invalid tools/call params)';
      }
    }),
  },
  'invalid-params-code': {
    reason:
      'Invalid `params` of initialize and resources/read are -32602, the JSON-RPC code for them and ' +
      'what every other method here answers; the SDK answers these two with -32603 and zod’s issue ' +
      'list as the message.',
    setAside: ([ours, sdk]) => {
      const [oursEdited, sdkEdited] = [structuredClone(ours), structuredClone(sdk)];
      const pairs = messages(oursEdited).map((message, i) => [message, messages(sdkEdited)[i]] as const);
      for (const [mine, theirs] of pairs) {
        const [a, b] = [asRecord(mine.error), asRecord(asRecord(theirs).error)];
        if (
          a.code === -32602 &&
          /^Invalid params for (initialize|resources\/read): /.test(String(a.message)) &&
          b.code === -32603 &&
          String(b.message).startsWith('[')
        ) {
          for (const error of [a, b]) Object.assign(error, { code: 0, message: '(invalid params)' });
        }
      }
      return [oursEdited, sdkEdited];
    },
  },
  'strict-revision': {
    reason:
      'An MCP-Protocol-Version that is not a revision date (`zz`) is an unsupported 2025-era ' +
      'version, and is not checked on initialize; the SDK compares versions as text, so `zz` is ' +
      'later than 2026-07-28 to it (protocol.ts isModernVersion, protocol-versions.test.ts).',
    setAside: wholeAnswer((ours, sdk) => {
      const sdkError = errorOf(sdk);
      const sdkTakesItForModern =
        sdkError.code === -32020 ||
        sdkError.code === -32022 ||
        (sdkError.code === -32602 && /header names protocol revision zz/.test(String(sdkError.message)));
      const oursLegacy =
        (ours.status === 400 && /Unsupported protocol version: zz \(/.test(String(errorOf(ours).message))) ||
        (ours.status === 200 && messages(ours)[0]!.result !== undefined);
      return sdk.status === 400 && sdkTakesItForModern && oursLegacy;
    }),
  },
  'batch-members': {
    reason:
      'An invalid member of a 2025-03-26 batch gets its own error in the batch answer, the others ' +
      'are run (JSON-RPC 2.0 §6, request-bounds.test.ts); the SDK refuses the whole batch with 400.',
    setAside: wholeAnswer(
      (ours, sdk) =>
        ours.status === 200 &&
        Array.isArray(ours.body) &&
        messages(ours).some((m) => asRecord(m.error).code === -32600) &&
        sdk.status === 400 &&
        errorOf(sdk).message === 'Bad Request: JSON-RPC batch contains an invalid message',
    ),
  },
  'nesting-bound': {
    reason:
      'A body nesting deeper than 64 levels is refused with 400 -32600 before it is parsed ' +
      '(json-body.ts): what walks it afterwards recurses. The SDK parses and runs it.',
    setAside: wholeAnswer(
      (ours, sdk) =>
        ours.status === 400 &&
        errorOf(ours).code === -32600 &&
        /nests deeper/.test(String(errorOf(ours).message)) &&
        sdk.status === 200,
    ),
  },
  'origin-check': {
    reason:
      'A browser Origin that is not allowed is refused with 403 before anything else (DNS ' +
      'rebinding protection, doc/threat-model.md); createMcpHandler checks no Origin.',
    setAside: wholeAnswer((ours, sdk) => ours.status === 403 && !ours.wwwAuthenticate && sdk.status === 200),
  },
  'cors-preflight': {
    reason:
      'OPTIONS is answered as a CORS preflight, which browser-based clients (MCP Inspector) need; ' +
      'createMcpHandler answers 405.',
    setAside: wholeAnswer((ours, sdk) => ours.status === 204 && sdk.status === 405),
  },
  'missing-token-error': {
    reason:
      'A request without a token is answered 401 with no `error` code in its challenge (RFC 6750 ' +
      "§3.1) and `unauthorized` in its body; the SDK's requireBearerAuth says `invalid_token` in " +
      'both. Both challenges carry resource_metadata.',
    setAside: ([ours, sdk]) =>
      ours.status === 401 &&
      asRecord(ours.body).error === 'unauthorized' &&
      asRecord(sdk.body).error === 'invalid_token'
        ? [ours, { ...sdk, body: ours.body }]
        : [ours, sdk],
  },
  'list-scopes': {
    reason:
      'Listing needs the scope of what is listed (tools/list mcp:tools, resources/list ' +
      "mcp:resources), as calling and reading do; McpServer's scope challenges gate only calls " +
      'and reads.',
    setAside: wholeAnswer(
      (ours, sdk) =>
        ours.status === 403 &&
        ours.wwwAuthenticate &&
        asRecord(ours.body).error === 'insufficient_scope' &&
        sdk.status === 200,
    ),
  },
} satisfies Record<string, Deliberate>;

type DifferenceName = keyof typeof DELIBERATE;

// ---------------------------------------------------------------------------------------------
// The corpus.

interface Case {
  name: string;
  method?: string;
  body?: unknown;
  raw?: string;
  /** Request headers; an empty string removes a default. */
  headers?: Record<string, string>;
  /** A token with other claims, or none. */
  token?: Record<string, unknown> | 'none' | 'forged';
  differences?: DifferenceName[];
}

const CALL_ADD = { name: 'add', arguments: { a: 1, b: 2 } };
const DESCRIPTION_URI = 'mcp-oauth-aws://server/description';

/** A 2026-07-28 request: the `_meta` envelope and the headers that mirror it. */
function modern(method: string, params: Json = {}, headers: Record<string, string> = {}) {
  const name =
    typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : undefined;
  return {
    body: rpc(method, { ...params, _meta: MODERN_META }),
    headers: {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(name !== undefined && { 'mcp-name': name }),
      ...headers,
    },
  };
}

const legacy = (version: string) => ({ 'mcp-protocol-version': version });
const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)]);
const initialize = (protocolVersion: string) => ({ ...INIT, params: { ...INIT.params, protocolVersion } });
const SSE: DifferenceName[] = ['json-not-sse'];

const CORPUS: Case[] = [
  // 2025 era: the handshake, each version, and what may follow it.
  ...['2025-03-26', '2025-06-18', '2025-11-25', '2024-11-05'].map((version) => ({
    name: `initialize ${version}`,
    body: initialize(version),
    differences: [...SSE, 'no-list-changed'] satisfies DifferenceName[],
  })),
  {
    name: 'initialize with an unsupported version',
    body: initialize('1999-01-01'),
    differences: [...SSE, 'no-list-changed'],
  },
  {
    name: 'initialize without clientInfo',
    body: rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {} }),
    differences: [...SSE, 'invalid-params-code'],
  },
  {
    name: 'initialize with a 2025 header',
    body: INIT,
    headers: legacy('2025-06-18'),
    differences: [...SSE, 'no-list-changed'],
  },
  { name: 'initialize with a 2026 header', body: INIT, headers: legacy('2026-07-28') },
  {
    name: 'initialize with a header that is no date',
    body: INIT,
    headers: legacy('zz'),
    differences: ['strict-revision'],
  },
  { name: 'ping', body: rpc('ping'), differences: SSE },
  { name: 'ping with a string id', body: rpc('ping', undefined, 'abc'), differences: SSE },
  { name: 'ping with extra params', body: rpc('ping', { extra: 1 }), differences: SSE },
  { name: 'tools/list', body: rpc('tools/list'), headers: legacy('2025-06-18'), differences: SSE },
  { name: 'tools/list with a cursor', body: rpc('tools/list', { cursor: 'abc' }), differences: SSE },
  { name: 'tools/call add', body: rpc('tools/call', CALL_ADD), differences: SSE },
  {
    name: 'tools/call get_user_info',
    body: rpc('tools/call', { name: 'get_user_info', arguments: {} }),
    differences: SSE,
  },
  {
    name: 'tools/call get_time without arguments',
    body: rpc('tools/call', { name: 'get_time' }),
    differences: SSE,
  },
  {
    name: 'tools/call of an unknown tool',
    body: rpc('tools/call', { name: 'nope', arguments: {} }),
    differences: SSE,
  },
  {
    name: 'tools/call with arguments of the wrong type',
    body: rpc('tools/call', { name: 'add', arguments: { a: 'x' } }),
    differences: [...SSE, 'bounded-input-errors'],
  },
  {
    name: 'tools/call with an unknown argument',
    body: rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2, c: 3 } }),
    differences: [...SSE, 'bounded-input-errors'],
  },
  {
    name: 'tools/call that the tool answers with an error',
    body: rpc('tools/call', { name: 'get_time', arguments: { timeZone: 'Nowhere/None' } }),
    differences: SSE,
  },
  {
    name: 'tools/call without a name',
    body: rpc('tools/call', { arguments: {} }),
    differences: [...SSE, 'bounded-params-errors'],
  },
  {
    name: 'tools/call with arguments that are no object',
    body: rpc('tools/call', { name: 'add', arguments: 5 }),
    differences: [...SSE, 'bounded-params-errors'],
  },
  { name: 'resources/list', body: rpc('resources/list'), differences: SSE },
  { name: 'resources/read', body: rpc('resources/read', { uri: DESCRIPTION_URI }), differences: SSE },
  {
    name: 'resources/read of an unknown resource',
    body: rpc('resources/read', { uri: 'x://nope' }),
    differences: SSE,
  },
  {
    name: 'resources/read without a uri',
    body: rpc('resources/read', {}),
    differences: [...SSE, 'invalid-params-code'],
  },
  { name: 'resources/templates/list', body: rpc('resources/templates/list'), differences: SSE },
  {
    name: 'resources/subscribe (not offered)',
    body: rpc('resources/subscribe', { uri: DESCRIPTION_URI }),
    differences: SSE,
  },
  { name: 'prompts/list (not served)', body: rpc('prompts/list'), differences: SSE },
  {
    name: 'completion/complete (not served)',
    body: rpc('completion/complete', {
      ref: { type: 'ref/resource', uri: 'x://y' },
      argument: { name: 'a', value: 'b' },
    }),
    differences: SSE,
  },
  {
    name: 'logging/setLevel (not served)',
    body: rpc('logging/setLevel', { level: 'info' }),
    differences: SSE,
  },
  { name: 'server/discover without the envelope', body: rpc('server/discover'), differences: SSE },
  { name: 'an unknown method', body: rpc('foo/bar'), differences: SSE },
  { name: 'a notification', body: { jsonrpc: '2.0', method: 'notifications/initialized' } },
  { name: 'a posted response', body: { jsonrpc: '2.0', id: 5, result: {} } },
  {
    name: 'a posted response with a 2026 header',
    body: { jsonrpc: '2.0', id: 5, result: {} },
    headers: legacy('2026-07-28'),
  },

  // MCP-Protocol-Version.
  {
    name: 'a 2025-03-26 header',
    body: rpc('tools/call', CALL_ADD),
    headers: legacy('2025-03-26'),
    differences: SSE,
  },
  { name: 'a 2024-11-05 header', body: rpc('ping'), headers: legacy('2024-11-05'), differences: SSE },
  { name: 'a 2025-11-25 header', body: rpc('ping'), headers: legacy('2025-11-25'), differences: SSE },
  { name: 'an unsupported version header', body: rpc('ping'), headers: legacy('1999-01-01') },
  {
    name: 'a header that is no date',
    body: rpc('ping'),
    headers: legacy('zz'),
    differences: ['strict-revision'],
  },
  {
    name: 'a notification with an unsupported version header',
    body: { jsonrpc: '2.0', method: 'notifications/initialized' },
    headers: legacy('1999-01-01'),
  },
  {
    name: 'a notification with a header that is no date',
    body: { jsonrpc: '2.0', method: 'notifications/initialized' },
    headers: legacy('zz'),
    differences: ['strict-revision'],
  },
  {
    name: 'a 2026 header without the envelope',
    body: rpc('tools/list'),
    headers: { ...legacy('2026-07-28'), 'mcp-method': 'tools/list' },
  },

  // Batches (2025-03-26).
  {
    name: 'a batch',
    body: [rpc('ping', undefined, 1), rpc('tools/list', undefined, 2)],
    headers: legacy('2025-03-26'),
    differences: SSE,
  },
  {
    name: 'a batch with a notification',
    body: [rpc('ping', undefined, 1), { jsonrpc: '2.0', method: 'notifications/initialized' }],
    differences: SSE,
  },
  { name: 'a batch of notifications', body: [{ jsonrpc: '2.0', method: 'notifications/initialized' }] },
  { name: 'a batch of responses', body: [{ jsonrpc: '2.0', id: 1, result: {} }] },
  {
    name: 'a batch calling a tool and reading an unknown resource',
    body: [rpc('tools/call', CALL_ADD, 1), rpc('resources/read', { uri: 'x://nope' }, 2)],
    differences: SSE,
  },
  { name: 'a batch holding initialize alone', body: [INIT], differences: [...SSE, 'no-list-changed'] },
  { name: 'a batch holding initialize and more', body: [INIT, rpc('ping', undefined, 2)] },
  {
    name: 'a batch with an invalid member',
    body: [rpc('ping', undefined, 1), { foo: 1 }],
    differences: ['batch-members'],
  },
  { name: 'an empty batch', body: [] },
  { name: 'a batch of 101 messages', body: Array.from({ length: 101 }, (_, i) => rpc('ping', undefined, i)) },
  { name: 'a batch with an unsupported version header', body: [rpc('ping')], headers: legacy('1999-01-01') },
  { name: 'a batch with a 2026 header', body: [rpc('ping')], headers: legacy('2026-07-28') },
  { name: 'a batch of 2026 requests', body: [modern('ping').body], headers: legacy('2026-07-28') },

  // 2026-07-28: no initialize, the envelope and its headers on every request.
  { name: '2026 tools/list', ...modern('tools/list') },
  { name: '2026 tools/call', ...modern('tools/call', CALL_ADD) },
  {
    name: '2026 tools/call with a Base64 Mcp-Name',
    ...modern('tools/call', CALL_ADD, { 'mcp-name': '=?base64?YWRk?=' }),
  },
  { name: '2026 tools/call of an unknown tool', ...modern('tools/call', { name: 'nope', arguments: {} }) },
  {
    name: '2026 tools/call with bad arguments',
    ...modern('tools/call', { name: 'add', arguments: { a: 'x', b: 2 } }),
    differences: ['bounded-input-errors'],
  },
  {
    name: '2026 tools/call that the tool answers with an error',
    ...modern('tools/call', { name: 'get_time', arguments: { timeZone: 'Nowhere/None' } }),
  },
  {
    name: '2026 tools/call without a name',
    ...modern('tools/call', { arguments: {} }),
    differences: ['bounded-params-errors'],
  },
  { name: '2026 resources/list', ...modern('resources/list') },
  { name: '2026 resources/read', ...modern('resources/read', { uri: DESCRIPTION_URI }) },
  { name: '2026 resources/read of an unknown resource', ...modern('resources/read', { uri: 'x://nope' }) },
  {
    name: '2026 resources/read without a uri',
    ...modern('resources/read', {}),
    differences: ['invalid-params-code'],
  },
  { name: '2026 resources/templates/list', ...modern('resources/templates/list') },
  { name: '2026 server/discover', ...modern('server/discover'), differences: ['no-list-changed'] },
  { name: '2026 prompts/list (not served)', ...modern('prompts/list') },
  {
    name: '2026 completion/complete (not served)',
    ...modern('completion/complete', {
      ref: { type: 'ref/resource', uri: 'x://y' },
      argument: { name: 'a', value: 'b' },
    }),
  },
  { name: '2026 logging/setLevel (not served)', ...modern('logging/setLevel', { level: 'info' }) },
  { name: '2026 ping (gone in 2026)', ...modern('ping') },
  { name: '2026 initialize (gone in 2026)', ...modern('initialize', INIT.params) },
  { name: '2026 unknown method', ...modern('foo/bar') },
  {
    name: '2026 notification',
    body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: MODERN_META } },
    headers: { ...legacy('2026-07-28'), 'mcp-method': 'notifications/cancelled' },
  },
  { name: '2026 Mcp-Method that disagrees', ...modern('tools/list', {}, { 'mcp-method': 'tools/call' }) },
  { name: '2026 without Mcp-Method', ...modern('tools/list', {}, { 'mcp-method': '' }) },
  { name: '2026 without MCP-Protocol-Version', ...modern('tools/list', {}, { 'mcp-protocol-version': '' }) },
  { name: '2026 MCP-Protocol-Version that disagrees', ...modern('tools/list', {}, legacy('2025-06-18')) },
  { name: '2026 Mcp-Name that disagrees', ...modern('tools/call', CALL_ADD, { 'mcp-name': 'other' }) },
  { name: '2026 without Mcp-Name', ...modern('tools/call', CALL_ADD, { 'mcp-name': '' }) },
  {
    name: '2026 unsupported revision',
    body: rpc('tools/list', {
      _meta: { ...MODERN_META, 'io.modelcontextprotocol/protocolVersion': '2027-01-01' },
    }),
    headers: { ...legacy('2027-01-01'), 'mcp-method': 'tools/list' },
  },
  {
    name: '2026 envelope without clientCapabilities',
    body: rpc('tools/list', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }),
    headers: { ...legacy('2026-07-28'), 'mcp-method': 'tools/list' },
  },
  { name: '2026 with Accept: application/json', ...modern('tools/list', {}, { accept: 'application/json' }) },
  { name: '2026 with a wrong content type', ...modern('tools/list', {}, { 'content-type': 'text/plain' }) },
  { name: '2026 malformed JSON', raw: '{', headers: { ...legacy('2026-07-28'), 'mcp-method': 'tools/list' } },

  // Bodies and framing.
  { name: 'malformed JSON', raw: '{not json' },
  { name: 'an empty body', raw: '' },
  { name: 'null', raw: 'null' },
  { name: 'a JSON string', raw: '"x"' },
  { name: 'an object that is no JSON-RPC', body: { hello: 1 } },
  { name: 'a null id', body: { jsonrpc: '2.0', id: null, method: 'ping' } },
  { name: 'params that are an array', body: { jsonrpc: '2.0', id: 1, method: 'ping', params: [] } },
  {
    name: 'a body too large',
    body: rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2, pad: 'x'.repeat(17_000) } }),
  },
  {
    name: 'a body nested 70 levels',
    body: rpc('tools/call', { name: 'add', arguments: { a: nested(70), b: 1 } }),
    differences: ['nesting-bound'],
  },
  { name: 'a wrong content type', body: rpc('ping'), headers: { 'content-type': 'text/plain' } },
  { name: 'no content type', body: rpc('ping'), headers: { 'content-type': '' } },
  {
    name: 'a content type with a charset',
    body: rpc('ping'),
    headers: { 'content-type': 'application/json; charset=utf-8' },
    differences: SSE,
  },
  {
    name: 'Accept: application/json',
    body: rpc('ping'),
    headers: { accept: 'application/json' },
    differences: ['lenient-accept'],
  },
  {
    name: 'Accept: text/event-stream',
    body: rpc('ping'),
    headers: { accept: 'text/event-stream' },
    differences: ['lenient-accept'],
  },
  { name: 'Accept: */*', body: rpc('ping'), headers: { accept: '*/*' }, differences: ['lenient-accept'] },
  { name: 'no Accept', body: rpc('ping'), headers: { accept: '' }, differences: ['lenient-accept'] },
  {
    name: 'an allowed Origin',
    body: rpc('ping'),
    headers: { origin: 'https://app.example.com' },
    differences: SSE,
  },
  {
    name: 'an Origin not allowed',
    body: rpc('ping'),
    headers: { origin: 'https://evil.example' },
    differences: ['origin-check'],
  },

  // HTTP methods.
  { name: 'GET', method: 'GET' },
  { name: 'GET for an SSE stream', method: 'GET', headers: { accept: 'text/event-stream' } },
  { name: 'DELETE', method: 'DELETE' },
  { name: 'PUT', method: 'PUT' },
  {
    name: 'OPTIONS',
    method: 'OPTIONS',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    differences: ['cors-preflight'],
  },

  // Tokens and scopes.
  { name: 'no token', body: rpc('ping'), token: 'none', differences: ['missing-token-error'] },
  { name: 'GET without a token', method: 'GET', token: 'none', differences: ['missing-token-error'] },
  { name: 'a forged token', body: rpc('ping'), token: 'forged' },
  { name: 'an expired token', body: rpc('ping'), token: { exp: NOW - 60 } },
  { name: 'a token for another resource', body: rpc('ping'), token: { aud: 'https://other.example/mcp' } },
  {
    name: 'tools/call without the tool scope',
    body: rpc('tools/call', CALL_ADD),
    token: { scope: 'mcp:resources' },
  },
  {
    name: 'resources/read without the resource scope',
    body: rpc('resources/read', { uri: DESCRIPTION_URI }),
    token: { scope: 'mcp:tools' },
  },
  {
    name: 'tools/list without the tool scope',
    body: rpc('tools/list'),
    token: { scope: 'mcp:resources' },
    differences: ['list-scopes'],
  },
  { name: 'ping with no scope at all', body: rpc('ping'), token: { scope: '' }, differences: SSE },
];

async function requestFor(c: Case): Promise<Request> {
  let token: string | undefined;
  if (c.token === 'forged') token = `${await accessToken()}x`;
  else if (c.token !== 'none') token = await accessToken(c.token ?? {});
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...(token !== undefined && { authorization: `Bearer ${token}` }),
    ...c.headers,
  };
  for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
  const method = c.method ?? 'POST';
  const body = method === 'POST' ? (c.raw ?? JSON.stringify(c.body)) : undefined;
  return new Request(RESOURCE, { method, headers, ...(body !== undefined && { body }) });
}

// ---------------------------------------------------------------------------------------------

let ours: Awaited<ReturnType<typeof testApp>>;
let sdk: (request: Request) => Promise<Response>;

beforeAll(async () => {
  ours = await testApp({ env: ENV });
  sdk = await referenceHandler();
});

function setAside(pair: Pair, names: readonly DifferenceName[]): Pair {
  return names.reduce((current, name) => DELIBERATE[name].setAside(current), pair);
}

describe('the protocol layer against the SDK (createMcpHandler)', () => {
  it.each(CORPUS.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    // Act
    const pair: Pair = [
      await observe(await ours(await requestFor(c))),
      await observe(await sdk(await requestFor(c))),
    ];

    // Assess: equal once the listed differences are set aside ...
    const listed = c.differences ?? [];
    const [oursSetAside, sdkSetAside] = setAside(pair, listed);
    expect(oursSetAside).toEqual(sdkSetAside);
    // ... and each listed difference still there.
    const stillNeeded = listed.filter((name) => {
      const others = listed.filter((other) => other !== name);
      return !isDeepStrictEqual(...setAside(pair, others));
    });
    expect(stillNeeded).toEqual(listed);
  });

  it('lists no deliberate difference that no case shows', () => {
    const used = new Set(CORPUS.flatMap((c) => c.differences ?? []));
    expect(Object.keys(DELIBERATE).filter((name) => !used.has(name as DifferenceName))).toEqual([]);
  });
});
