/**
 * What a tool is: a name, a description, an input schema, the scopes a caller needs, and a
 * handler that receives validated arguments and the verified caller. Schemas are `zod/mini`
 * (the light build of zod), turned into JSON Schema once, when `tools/list` first asks.
 */
import type { CallToolResult, Tool as ToolDescriptor, ToolAnnotations } from '@modelcontextprotocol/server';
import * as z from 'zod/mini';
import type { Caller } from '../caller.js';

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
  /** When set, results must carry `structuredContent` of this shape (MCP 2025-06-18 structured output). */
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
  /** Validates `args` and runs the handler; invalid input is a tool error (`isError: true`). */
  call(args: unknown, context: ToolContext): Promise<CallToolResult>;
}

/** Thrown by a handler for an error the model should see and may correct (a tool error). */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

/** A tool error result (MCP: errors inside a tool are results with `isError: true`). */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  switch (issue.code) {
    case 'invalid_type':
      return `${path}: expected ${issue.expected}`;
    case 'unrecognized_keys':
      return `${path}: unknown keys ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'too_small':
      return `${path}: must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `${path}: must be at most ${String(issue.maximum)}`;
    default:
      return `${path}: ${issue.message}`;
  }
}

function toJsonSchema(schema: z.ZodMiniType): ToolDescriptor['inputSchema'] {
  const json = z.toJSONSchema(schema) as Record<string, unknown>;
  delete json.$schema;
  return json as ToolDescriptor['inputSchema'];
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
        const details = parsed.error.issues.map(describeIssue).join('; ');
        return toolError(`Input validation error: Invalid arguments for tool ${definition.name}: ${details}`);
      }
      try {
        return await definition.handler(parsed.data, context);
      } catch (error) {
        if (error instanceof ToolError) return toolError(error.message);
        throw error;
      }
    },
  };
}
