/**
 * What a tool is: a name, a description, an input schema, the scopes a caller needs, and a
 * handler that receives validated arguments and the verified caller. Schemas are `zod/mini`
 * (the light build of zod), turned into JSON Schema once, when `tools/list` first asks.
 */
import type { CallToolResult, Tool as ToolDescriptor, ToolAnnotations } from '@modelcontextprotocol/server';
import * as z from 'zod/mini';
import type { Caller } from '../auth/caller.js';
import { describeIssues } from '../protocol/schema-issues.js';

/**
 * How long a tool may run, counted from the request, when the app is called without a Lambda
 * context (the local server, tests, and any entry that does not pass the context on): the
 * deployed function's 10 s timeout (`HTTP_FUNCTION_TIMEOUT` in lib/constructs/function.ts) less
 * {@link DEADLINE_MARGIN_MS}, so that in Lambda it ends about where the remaining time would.
 */
export const DEFAULT_TOOL_TIME_LIMIT_MS = 9_500;
/**
 * Kept back from a Lambda invocation's remaining time: a tool that runs out of time is answered
 * with a tool error, and that answer must still leave before Lambda stops the function.
 */
export const DEADLINE_MARGIN_MS = 500;

/** What bounds an invocation in time: the Lambda context has this method. */
export interface InvocationClock {
  getRemainingTimeInMillis(): number;
}

/**
 * The time a tool may still take, asked when the tool starts: the invocation's remaining time
 * less {@link DEADLINE_MARGIN_MS}, or, without an invocation (locally), `defaultMs` counted from
 * this call.
 */
export function toolTimeLimit(
  invocation: InvocationClock | undefined,
  defaultMs = DEFAULT_TOOL_TIME_LIMIT_MS,
): () => number {
  // A context without the clock (middy's `{}` when a test calls the handler bare) counts as none.
  if (typeof invocation?.getRemainingTimeInMillis === 'function')
    return () => invocation.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
  const end = Date.now() + defaultMs;
  return () => end - Date.now();
}

export interface ToolContext {
  caller: Caller;
  /** The current time in epoch milliseconds (injectable for tests). */
  now: () => number;
  /**
   * Aborted, with a {@link ToolTimeoutError}, when the tool runs out of time (the function's
   * remaining time less a margin). Pass it to `fetch` and other I/O so that work stops when its
   * answer could no longer be sent. Created when first read.
   */
  readonly signal: AbortSignal;
}

/** What the dispatcher hands a tool for one call. */
export interface ToolInvocation {
  caller: Caller;
  now: () => number;
  /** Milliseconds the handler may run; {@link DEFAULT_TOOL_TIME_LIMIT_MS} when left out. */
  timeLimitMs?: number;
}

export interface ToolDefinition<Input extends z.ZodMiniObject, Output extends z.ZodMiniObject | undefined> {
  name: string;
  title?: string;
  description: string;
  inputSchema: Input;
  /**
   * When set, results must carry `structuredContent` of this shape (MCP 2025-06-18 structured
   * output); a result that does not is refused as a {@link ToolOutputError}.
   */
  outputSchema?: Output;
  /** Every scope a caller must hold; a caller without them gets 403 `insufficient_scope`. */
  requiredScopes: readonly string[];
  annotations?: ToolAnnotations;
  handler: (args: z.output<Input>, context: ToolContext) => CallToolResult | Promise<CallToolResult>;
}

/** A definition with its types erased (what a registry or an SDK adapter reads). */
export type AnyToolDefinition = ToolDefinition<z.ZodMiniObject, z.ZodMiniObject | undefined>;

/** A tool with its types erased, as the registry holds it. */
export interface Tool {
  readonly name: string;
  readonly requiredScopes: readonly string[];
  /** What `defineTool` was given. */
  readonly definition: AnyToolDefinition;
  /** The `tools/list` entry (computed once). */
  descriptor(): ToolDescriptor;
  /**
   * Validates `args` and runs the handler; invalid input is a tool error (`isError: true`). A
   * result that breaks the tool's own output schema throws {@link ToolOutputError}; a handler
   * that is still running when its time limit passes throws {@link ToolTimeoutError}.
   */
  call(args: unknown, invocation: ToolInvocation): Promise<CallToolResult>;
}

/** Thrown by a handler for an error the model should see and may correct (a tool error). */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

/**
 * Thrown when a handler's result breaks its tool's `outputSchema` (MCP: servers MUST return
 * structured results that conform to it): a bug in the tool, which the caller sees as a tool
 * error and the operator in the log.
 */
export class ToolOutputError extends Error {
  readonly code = 'ERR_TOOL_OUTPUT';
  constructor(
    toolName: string,
    /** What is wrong, by field. */
    readonly problem: string,
  ) {
    super(`Output validation error: Invalid structured content for tool ${toolName}: ${problem}`);
    this.name = 'ToolOutputError';
  }
}

/**
 * Thrown when a handler has not finished within its time limit. The handler's signal is aborted
 * with it; the call is answered without waiting for the handler any longer.
 */
export class ToolTimeoutError extends Error {
  readonly code = 'ERR_TOOL_TIMEOUT';
  constructor(
    toolName: string,
    /** The limit the handler was given, in milliseconds. */
    readonly limitMs: number,
  ) {
    super(`Tool ${toolName} did not finish within ${Math.max(0, Math.round(limitMs))} ms`);
    this.name = 'ToolTimeoutError';
  }
}

/**
 * One call's time limit: a timer while an asynchronous handler runs, and the signal, built only
 * if the handler reads it. A handler that answers synchronously and never reads its signal (most
 * do) gets neither.
 */
class Deadline {
  private controller: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private expired: boolean;

  constructor(
    private readonly toolName: string,
    private readonly limitMs: number,
  ) {
    this.expired = limitMs <= 0;
  }

  /** Built on expiry only: an error's stack trace is not free, and most calls never need one. */
  private get error(): ToolTimeoutError {
    return new ToolTimeoutError(this.toolName, this.limitMs);
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.expired && !this.controller.signal.aborted) this.controller.abort(this.error);
    return this.controller.signal;
  }

  /** The handler's result, or a rejection with the timeout error once the limit passes. */
  race(work: PromiseLike<CallToolResult>): Promise<CallToolResult> {
    return new Promise((resolve, reject) => {
      this.timer = setTimeout(
        () => {
          this.expired = true;
          const error = this.error;
          this.controller?.abort(error);
          reject(error);
        },
        Math.max(0, this.limitMs),
      );
      // A pending limit must not keep a local process alive; Lambda ends the invocation anyway.
      this.timer.unref?.();
      work.then(resolve, reject);
    });
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function';
}

/** A tool error result (MCP: errors inside a tool are results with `isError: true`). */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/** JSON Schema 2020-12, `$schema` included, as the MCP SDK's `McpServer` publishes it. */
function toJsonSchema(schema: z.ZodMiniType): ToolDescriptor['inputSchema'] {
  return z.toJSONSchema(schema) as ToolDescriptor['inputSchema'];
}

/**
 * Holds a result to its tool's output schema. zod refuses `Infinity` and `NaN` as numbers, which
 * `JSON.stringify` would otherwise send as `null` without a word.
 */
function checkOutput(toolName: string, schema: z.ZodMiniObject, result: CallToolResult): void {
  if (result.structuredContent === undefined)
    throw new ToolOutputError(toolName, 'the tool has an output schema but returned no structured content');
  const parsed = schema.safeParse(result.structuredContent);
  if (!parsed.success) throw new ToolOutputError(toolName, describeIssues(parsed.error.issues));
}

/** Erases a tool definition's types and precomputes nothing until it is first used. */
export function defineTool<
  Input extends z.ZodMiniObject,
  Output extends z.ZodMiniObject | undefined = undefined,
>(definition: ToolDefinition<Input, Output>): Tool {
  let descriptor: ToolDescriptor | undefined;
  return {
    definition: definition as unknown as AnyToolDefinition,
    name: definition.name,
    requiredScopes: definition.requiredScopes,
    descriptor() {
      descriptor ??= {
        name: definition.name,
        ...(definition.title && { title: definition.title }),
        description: definition.description,
        inputSchema: toJsonSchema(definition.inputSchema),
        ...(definition.outputSchema && { outputSchema: toJsonSchema(definition.outputSchema) }),
        ...(definition.annotations && { annotations: definition.annotations }),
      };
      return descriptor;
    },
    async call(args, { caller, now, timeLimitMs = DEFAULT_TOOL_TIME_LIMIT_MS }) {
      const parsed = definition.inputSchema.safeParse(args ?? {});
      if (!parsed.success) {
        const details = describeIssues(parsed.error.issues);
        return toolError(`Input validation error: Invalid arguments for tool ${definition.name}: ${details}`);
      }
      // Built only for a handler that reads its signal or answers asynchronously.
      let deadline: Deadline | undefined;
      const context: ToolContext = {
        caller,
        now,
        get signal() {
          deadline ??= new Deadline(definition.name, timeLimitMs);
          return deadline.signal;
        },
      };
      let result: CallToolResult;
      try {
        const answer = definition.handler(parsed.data, context);
        result = isThenable(answer)
          ? await (deadline ??= new Deadline(definition.name, timeLimitMs)).race(answer)
          : answer;
      } catch (error) {
        if (error instanceof ToolError) return toolError(error.message);
        throw error;
      } finally {
        deadline?.clear();
      }
      if (definition.outputSchema && !result.isError)
        checkOutput(definition.name, definition.outputSchema, result);
      return result;
    },
  };
}
