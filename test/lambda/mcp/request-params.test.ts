/**
 * Wrong types inside valid JSON-RPC, generated from the dispatcher itself: for every method it
 * serves in each era, every parameter its schema names (nested ones too) is given every JSON
 * value of a type that parameter does not allow. Each such request must be answered -32602 with
 * HTTP 200, never 500, and the SDK's own request schema must refuse the same params, so the
 * `zod/mini` copies stay as strict as the reference and no stricter.
 */
import { specTypeSchemas, type SpecTypeName } from '@modelcontextprotocol/server';
import * as z from 'zod/mini';
import { Dispatcher } from '../../../lambda/mcp/protocol/dispatcher.js';
import type { Era } from '../../../lambda/mcp/protocol/protocol.js';
import { RESOURCES } from '../../../lambda/mcp/resources/registry.js';
import { SERVER_DESCRIPTION_URI } from '../../../lambda/mcp/resources/server-description.js';
import { TOOLS } from '../../../lambda/mcp/tools/registry.js';
import { createLogger } from '../../../lambda/shared/logger.js';
import { accessToken, INIT, MODERN_META, mcpPost, rpc, testApp, testConfig } from './mcp-test-kit.js';

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
}

type Path = Array<string | number>;
type Reply = { error?: { code: number; message: string }; result?: unknown };

/** One value of every JSON type, and the shapes that break code which trusts a type. */
const SAMPLES: unknown[] = [
  'text',
  '',
  7,
  1.5,
  2 ** 60,
  true,
  null,
  {},
  { toString: null, valueOf: null },
  [],
  ['text'],
];

/** A valid `params` for every method the dispatcher serves (undefined: the method takes none). */
const VALID_PARAMS: Record<string, Record<string, unknown> | undefined> = {
  initialize: INIT.params,
  ping: undefined,
  'server/discover': undefined,
  'tools/list': {},
  'tools/call': { name: 'add', arguments: { a: 1, b: 2 } },
  'resources/list': {},
  'resources/templates/list': {},
  'resources/read': { uri: SERVER_DESCRIPTION_URI },
};

/** The SDK's schema for each method's request (`specTypeSchemas`). */
const SDK_REQUEST: Record<string, SpecTypeName> = {
  initialize: 'InitializeRequest',
  ping: 'PingRequest',
  'server/discover': 'DiscoverRequest',
  'tools/list': 'ListToolsRequest',
  'tools/call': 'CallToolRequest',
  'resources/list': 'ListResourcesRequest',
  'resources/templates/list': 'ListResourceTemplatesRequest',
  'resources/read': 'ReadResourceRequest',
};

function accepts(node: JsonSchema, value: unknown): boolean {
  if (node.anyOf) return node.anyOf.some((n) => accepts(n, value));
  if (node.enum) return node.enum.includes(value);
  switch (node.type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    default:
      return true;
  }
}

/** Every parameter a schema names: properties, array items and record values, at any depth. */
function* parameters(node: JsonSchema, path: Path = []): Generator<{ path: Path; node: JsonSchema }> {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    yield { path: [...path, key], node: child };
    yield* parameters(child, [...path, key]);
  }
  if (node.items) {
    yield { path: [...path, 0], node: node.items };
    yield* parameters(node.items, [...path, 0]);
  }
  if (typeof node.additionalProperties === 'object' && Object.keys(node.additionalProperties).length > 0) {
    yield { path: [...path, 'key'], node: node.additionalProperties };
    yield* parameters(node.additionalProperties, [...path, 'key']);
  }
}

/** The smallest value a schema node accepts, to stand in for a missing parent of a parameter. */
function minimal(node: JsonSchema): unknown {
  if (node.anyOf) return minimal(node.anyOf[0]!);
  if (node.enum) return node.enum[0];
  switch (node.type) {
    case 'string':
      return 'x';
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return Object.fromEntries((node.required ?? []).map((k) => [k, minimal(node.properties![k]!)]));
    default:
      return null;
  }
}

function childNode(node: JsonSchema, segment: string | number): JsonSchema {
  if (typeof segment === 'number') return node.items!;
  return node.properties?.[segment] ?? (node.additionalProperties as JsonSchema);
}

/** `base` with `value` at `path`, any missing parent filled with its smallest valid value. */
function withValueAt(base: Record<string, unknown>, root: JsonSchema, path: Path, value: unknown) {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let target = copy;
  let node = root;
  for (const segment of path.slice(0, -1)) {
    node = childNode(node, segment);
    target[segment] ??= typeof segment === 'string' || node.type !== 'array' ? minimal(node) : [];
    if (Array.isArray(target[segment]) && (target[segment] as unknown[]).length === 0)
      (target[segment] as unknown[]).push(minimal(node.items!));
    target = target[segment] as Record<string | number, unknown>;
  }
  target[path.at(-1)!] = value;
  return copy as Record<string, unknown>;
}

function sdkAccepts(method: string, params: unknown): boolean {
  const result = specTypeSchemas[SDK_REQUEST[method]!]['~standard'].validate({
    method,
    ...(params !== undefined && { params }),
  });
  return result.issues === undefined;
}

function request(era: Era, method: string, params: Record<string, unknown> | undefined, token: string) {
  if (era === 'legacy') return mcpPost(rpc(method, params), { token });
  const meta = { ...(params?._meta as object), ...MODERN_META };
  const name = params?.name ?? params?.uri;
  return mcpPost(rpc(method, { ...params, _meta: meta }), {
    token,
    headers: {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(typeof name === 'string' && { 'mcp-name': name }),
    },
  });
}

const dispatcher = new Dispatcher({
  config: testConfig(),
  tools: TOOLS,
  resources: RESOURCES,
  logger: createLogger('mcp', { write: () => {} }),
  now: Date.now,
});

const cases = (['legacy', 'modern'] as const).flatMap((era) =>
  [...dispatcher.methods(era)].map(([method, schema]) => ({ era, method, schema })),
);

describe('params of every method, validated at the dispatch edge', () => {
  it('has a valid example and an SDK schema for every method the dispatcher serves', () => {
    for (const { method } of cases) {
      expect(Object.hasOwn(VALID_PARAMS, method)).toBe(true);
      expect(SDK_REQUEST[method]).toBeDefined();
    }
  });

  it.each(cases)('$era $method: the valid example runs and the SDK accepts it', async ({ era, method }) => {
    // Prepare
    const app = await testApp();
    const params = VALID_PARAMS[method];

    // Act
    const response = await app(request(era, method, params, await accessToken()));

    // Assess
    expect(response.status).toBe(200);
    expect(((await response.json()) as Reply).result).toBeDefined();
    expect(sdkAccepts(method, params)).toBe(true);
  });

  it.each(cases)(
    '$era $method: a wrongly typed value at any parameter is -32602 with HTTP 200',
    async ({ era, method, schema }) => {
      // Prepare
      const app = await testApp();
      const token = await accessToken();
      const root = z.toJSONSchema(schema) as JsonSchema;
      const base = VALID_PARAMS[method] ?? {};
      const generated = [...parameters(root)]
        // In the 2026 era `_meta` carries the mandatory envelope: protocol.ts refuses it whole (400).
        .filter(({ path }) => !(era === 'modern' && path.length === 1 && path[0] === '_meta'))
        .flatMap(({ path, node }) =>
          SAMPLES.filter((value) => !accepts(node, value)).map((value) => ({ path, value })),
        );
      expect(generated.length).toBeGreaterThan(0);

      for (const { path, value } of generated) {
        const params = withValueAt(base, root, path, value);

        // Act
        const response = await app(request(era, method, params, token));

        // Assess
        const what = `${path.join('.')} = ${JSON.stringify(value)}`;
        expect([what, response.status]).toEqual([what, 200]);
        const error = ((await response.json()) as Reply).error;
        expect([what, error?.code]).toEqual([what, -32602]);
        expect(error!.message).toMatch(new RegExp(`^Invalid params for ${method}: params\\.`));
        expect([what, sdkAccepts(method, params)]).toEqual([what, false]);
      }
    },
  );

  it.each(cases)(
    '$era $method: params that are not an object are an invalid request (400 -32600), not a 500',
    async ({ era, method }) => {
      const app = await testApp();
      const token = await accessToken();
      for (const params of ['text', 7, true, [], ['text']]) {
        const headers: Record<string, string> =
          era === 'modern' ? { 'mcp-protocol-version': '2026-07-28', 'mcp-method': method } : {};
        const response = await app(mcpPost({ jsonrpc: '2.0', id: 1, method, params }, { token, headers }));
        expect(response.status).toBe(400);
        expect(((await response.json()) as Reply).error!.code).toBe(-32600);
      }
    },
  );

  it('checks scopes only on validated params: an object where the tool name goes is -32602, not 403 or 500', async () => {
    // Prepare: a token without mcp:tools, and a name whose String() conversion throws.
    const app = await testApp();
    const token = await accessToken({ scope: 'mcp:resources' });

    // Act
    const response = await app(
      mcpPost(rpc('tools/call', { name: { toString: null }, arguments: {} }), { token }),
    );

    // Assess
    expect(response.status).toBe(200);
    expect(((await response.json()) as Reply).error).toEqual({
      code: -32602,
      message: 'Invalid params for tools/call: params.name: expected string',
    });
  });
});
