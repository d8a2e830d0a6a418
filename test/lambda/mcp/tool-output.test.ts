/**
 * A tool result that breaks the tool's own `outputSchema` is a tool error (`isError: true`),
 * logged for the operator, never a silent violation of the schema it advertised.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import * as z from 'zod/mini';
import type { Caller } from '../../../lambda/mcp/auth/caller.js';
import { Dispatcher } from '../../../lambda/mcp/protocol/dispatcher.js';
import { defineTool, ToolOutputError } from '../../../lambda/mcp/tools/tool.js';
import { createLogger } from '../../../lambda/shared/logger.js';
import { accessToken, mcpPost, NOW_MS, rpc, testApp, testConfig } from './mcp-test-kit.js';

const caller: Caller = {
  issuer: 'i',
  kind: 'machine',
  sub: 's',
  clientId: 'c',
  scopes: ['mcp:tools'],
  expiresAt: 0,
};

/** A tool that declares `{ n: number }` and returns whatever it is given. */
function returning(result: CallToolResult) {
  return defineTool({
    name: 'echo',
    description: 'returns a fixed result',
    inputSchema: z.strictObject({}),
    outputSchema: z.object({ n: z.number() }),
    requiredScopes: ['mcp:tools'],
    handler: () => result,
  });
}

const text = [{ type: 'text' as const, text: 'x' }];

describe('tool output held to its outputSchema', () => {
  it.each<[string, CallToolResult, string]>([
    ['a wrong type', { content: text, structuredContent: { n: 'one' } }, 'n: expected number'],
    [
      'Infinity, which JSON would send as null',
      { content: text, structuredContent: { n: Infinity } },
      'n: expected number',
    ],
    ['NaN', { content: text, structuredContent: { n: NaN } }, 'n: expected number'],
    ['a missing field', { content: text, structuredContent: {} }, 'n: expected number'],
    [
      'no structured content at all',
      { content: text },
      'the tool has an output schema but returned no structured content',
    ],
  ])('refuses a result with %s', async (_, result, problem) => {
    const call = returning(result).call({}, { caller, now: () => NOW_MS });
    await expect(call).rejects.toThrow(ToolOutputError);
    await expect(call).rejects.toThrow(
      `Output validation error: Invalid structured content for tool echo: ${problem}`,
    );
  });

  it.each<[string, CallToolResult]>([
    ['a conforming result', { content: text, structuredContent: { n: 1 } }],
    ['a tool error, which carries no structured content', { content: text, isError: true }],
  ])('passes %s through', async (_, result) => {
    await expect(returning(result).call({}, { caller, now: () => NOW_MS })).resolves.toEqual(result);
  });

  it('answers the violation as a tool error and logs it once', async () => {
    // Prepare
    const logs: string[] = [];
    const dispatcher = new Dispatcher({
      config: testConfig(),
      tools: [returning({ content: text, structuredContent: { n: 'one' } })],
      resources: [],
      logger: createLogger('mcp', { write: (line) => logs.push(line) }),
      now: () => NOW_MS,
    });
    const prepared = dispatcher.prepare(rpc('tools/call', { name: 'echo' }) as never, 'legacy');
    if (prepared.kind !== 'call') throw new Error('not prepared');

    // Act
    const { status, reply } = await dispatcher.run(prepared, caller);

    // Assess
    expect(status).toBe(200);
    expect(reply).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: {
        content: [
          {
            type: 'text',
            text: 'Output validation error: Invalid structured content for tool echo: n: expected number',
          },
        ],
        isError: true,
      },
    });
    expect(logs.filter((l) => l.includes('tool result breaks its output schema'))).toHaveLength(1);
  });

  it('add answers two huge numbers with a tool error, not sum: null', async () => {
    // Prepare
    const logs: string[] = [];
    const app = await testApp({ logs });

    // Act
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'add', arguments: { a: 1e308, b: 1e308 } }), {
        token: await accessToken(),
      }),
    );

    // Assess
    expect(response.status).toBe(200);
    const { result } = (await response.json()) as { result: CallToolResult };
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    expect(result.content).toEqual([
      {
        type: 'text',
        text: 'Output validation error: Invalid structured content for tool add: sum: expected number',
      },
    ]);
    expect(logs.some((l) => l.includes('tool result breaks its output schema'))).toBe(true);
  });
});
