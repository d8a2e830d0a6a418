/**
 * What a tool is: a name, a description, an input schema, the scopes a caller needs, and a
 * handler that receives validated arguments and the verified caller. Schemas are `zod/mini`
 * (the light build of zod), turned into JSON Schema once, when `tools/list` first asks.
 */
import type { CallToolResult, Tool as ToolDescriptor, ToolAnnotations } from '@modelcontextprotocol/server';
import * as z from 'zod/mini';
import type { Caller } from '../caller.js';
import { describeIssues } from '../schema-issues.js';

export interface ToolContext {
  caller: Caller;
  /** The current time in epoch milliseconds (injectable for tests). */
  now: () => number;
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

/** A tool with its types erased, as the registry holds it. */
export interface Tool {
  readonly name: string;
  readonly requiredScopes: readonly string[];
  /** The `tools/list` entry (computed once). */
  descriptor(): ToolDescriptor;
  /**
   * Validates `args` and runs the handler; invalid input is a tool error (`isError: true`). A
   * result that breaks the tool's own output schema throws {@link ToolOutputError}.
   */
  call(args: unknown, context: ToolContext): Promise<CallToolResult>;
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

/** A tool error result (MCP: errors inside a tool are results with `isError: true`). */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

function toJsonSchema(schema: z.ZodMiniType): ToolDescriptor['inputSchema'] {
  const json = z.toJSONSchema(schema) as Record<string, unknown>;
  delete json.$schema;
  return json as ToolDescriptor['inputSchema'];
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
    async call(args, context) {
      const parsed = definition.inputSchema.safeParse(args ?? {});
      if (!parsed.success) {
        const details = describeIssues(parsed.error.issues);
        return toolError(`Input validation error: Invalid arguments for tool ${definition.name}: ${details}`);
      }
      let result: CallToolResult;
      try {
        result = await definition.handler(parsed.data, context);
      } catch (error) {
        if (error instanceof ToolError) return toolError(error.message);
        throw error;
      }
      if (definition.outputSchema && !result.isError)
        checkOutput(definition.name, definition.outputSchema, result);
      return result;
    },
  };
}
