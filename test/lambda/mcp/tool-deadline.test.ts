/**
 * A tool's time limit: its handler gets a signal that aborts when the function's remaining time
 * (less a margin) runs out, or, without a Lambda context, when the configured default does; a
 * handler still running then is answered as a tool error and logged, without waiting for it.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import * as z from 'zod/mini';
import type { Caller } from '../../../lambda/mcp/auth/caller.js';
import { Dispatcher } from '../../../lambda/mcp/protocol/dispatcher.js';
import {
  DEADLINE_MARGIN_MS,
  DEFAULT_TOOL_TIME_LIMIT_MS,
  defineTool,
  toolTimeLimit,
  ToolTimeoutError,
  type ToolContext,
} from '../../../lambda/mcp/tools/tool.js';
import { createLogger } from '../../../lambda/shared/logger.js';
import { HTTP_FUNCTION_TIMEOUT } from '../../../lib/constructs/function.js';
import { accessToken, mcpPost, NOW_MS, rpc, testApp, testConfig } from './mcp-test-kit.js';

const caller: Caller = {
  issuer: 'i',
  kind: 'machine',
  sub: 's',
  clientId: 'c',
  scopes: ['mcp:tools'],
  expiresAt: 0,
};
const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });

/** A tool whose handler is `handler`, and what its context was. */
function toolWith(handler: (context: ToolContext) => CallToolResult | Promise<CallToolResult>) {
  const seen: { context?: ToolContext } = {};
  const tool = defineTool({
    name: 'probe',
    description: 'test tool',
    inputSchema: z.strictObject({}),
    requiredScopes: ['mcp:tools'],
    handler: (_args, context) => {
      seen.context = context;
      return handler(context);
    },
  });
  return { tool, seen };
}

/** Resolves when `signal` aborts, never otherwise. */
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

describe('a tool handler and its time limit', () => {
  it('gets a signal that aborts with ToolTimeoutError when the limit passes, and the call stops waiting', async () => {
    // Prepare
    const { tool, seen } = toolWith((context) => untilAborted(context.signal));

    // Act
    const call = tool.call({}, { caller, now: () => NOW_MS, timeLimitMs: 30 });

    // Assess
    await expect(call).rejects.toThrow(new ToolTimeoutError('probe', 30));
    await expect(call).rejects.toMatchObject({ code: 'ERR_TOOL_TIMEOUT', limitMs: 30 });
    expect(seen.context!.signal.aborted).toBe(true);
    expect(seen.context!.signal.reason).toBeInstanceOf(ToolTimeoutError);
  });

  it('stops waiting for a handler that ignores its signal', async () => {
    const { tool } = toolWith(() => new Promise<never>(() => {}));
    const started = Date.now();
    await expect(tool.call({}, { caller, now: () => NOW_MS, timeLimitMs: 30 })).rejects.toThrow(
      'Tool probe did not finish within 30 ms',
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('leaves the signal alone when the handler finishes in time', async () => {
    const { tool, seen } = toolWith(async (context) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return text(String(context.signal.aborted));
    });
    await expect(tool.call({}, { caller, now: () => NOW_MS, timeLimitMs: 1000 })).resolves.toEqual(
      text('false'),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.context!.signal.aborted).toBe(false);
  });

  it('hands a handler an aborted signal when no time is left', async () => {
    const { tool } = toolWith((context) => text(String(context.signal.aborted)));
    await expect(tool.call({}, { caller, now: () => NOW_MS, timeLimitMs: 0 })).resolves.toEqual(text('true'));
  });

  it('gives the default limit when none is set', async () => {
    const { tool } = toolWith(() => text('ok'));
    await expect(tool.call({}, { caller, now: () => NOW_MS })).resolves.toEqual(text('ok'));
    expect(DEFAULT_TOOL_TIME_LIMIT_MS).toBe(9_500);
  });
});

describe('the time a tool may take', () => {
  it('is what a Lambda invocation has left, less the margin, asked when the tool starts', () => {
    let remaining = 3_000;
    const limit = toolTimeLimit({ getRemainingTimeInMillis: () => remaining });
    remaining = 2_000;
    expect(limit()).toBe(2_000 - DEADLINE_MARGIN_MS);
  });

  it('is the configured default when the context has no clock (a handler called bare through middy gets {})', () => {
    expect(toolTimeLimit({} as never, 4_000)()).toBeGreaterThan(3_900);
    expect(toolTimeLimit({} as never, 4_000)()).toBeLessThanOrEqual(4_000);
  });

  it('is the configured default without an invocation', () => {
    expect(toolTimeLimit(undefined, 4_000)()).toBeGreaterThan(3_900);
    expect(toolTimeLimit(undefined, 4_000)()).toBeLessThanOrEqual(4_000);
  });

  it("matches the deployed function's timeout, so that locally a tool gets what it would get in Lambda", () => {
    expect(DEFAULT_TOOL_TIME_LIMIT_MS + DEADLINE_MARGIN_MS).toBe(HTTP_FUNCTION_TIMEOUT.toMilliseconds());
  });
});

describe('a tool that runs out of time, through the dispatcher', () => {
  it('is answered as a tool error and logged as a warning', async () => {
    // Prepare
    const logs: string[] = [];
    const { tool } = toolWith(() => new Promise<never>(() => {}));
    const dispatcher = new Dispatcher({
      config: testConfig(),
      tools: [tool],
      resources: [],
      logger: createLogger('mcp', { level: 'debug', write: (line) => logs.push(line) }),
      now: () => NOW_MS,
    });
    const prepared = dispatcher.prepare(
      rpc('tools/call', { name: 'probe', arguments: {} }) as never,
      'legacy',
    );
    if (prepared.kind !== 'call') throw new Error('not prepared');

    // Act
    const { status, reply } = await dispatcher.run(prepared, caller, () => 25);

    // Assess
    expect(status).toBe(200);
    expect(reply).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { content: [{ type: 'text', text: 'Tool probe did not finish within 25 ms' }], isError: true },
    });
    expect(logs.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ level: 'WARN', message: 'tool ran out of time', tool: 'probe', limitMs: 25 }),
    );
  });
});

describe("the app and a Lambda invocation's remaining time", () => {
  it('asks the invocation for its remaining time when a tool runs, and not otherwise', async () => {
    // Prepare
    const app = await testApp();
    const token = await accessToken();
    let asked = 0;
    const invocation = {
      getRemainingTimeInMillis: () => {
        asked++;
        return 5_000;
      },
    };

    // Act
    await app(mcpPost(rpc('ping'), { token }), invocation);
    const askedForPing = asked;
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }), { token }),
      invocation,
    );

    // Assess
    expect(response.status).toBe(200);
    expect(askedForPing).toBe(0);
    expect(asked).toBe(1);
  });
});
