import * as z from 'zod/mini';
import { defineTool } from './tool.js';

/** Adds two numbers; the sum is returned as structured output and as text. */
export const addTool = defineTool({
  name: 'add',
  title: 'Add',
  description: 'Adds two numbers and returns their sum.',
  inputSchema: z.strictObject({ a: z.number(), b: z.number() }),
  outputSchema: z.object({ sum: z.number() }),
  requiredScopes: ['mcp:tools'],
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: ({ a, b }) => {
    const sum = a + b;
    return { content: [{ type: 'text', text: String(sum) }], structuredContent: { sum } };
  },
});
