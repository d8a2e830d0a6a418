/**
 * The `params` of every request method this server runs, as the MCP SDK's request schemas define
 * them (`InitializeRequestSchema`, `CallToolRequestSchema`, ... in `@modelcontextprotocol/core`),
 * rebuilt in `zod/mini`: importing the SDK's schemas would bring its full zod build and protocol
 * machinery into the bundle. Unknown keys are allowed, as the SDK allows them. A differential
 * test holds these to the SDK's `specTypeSchemas` (test/lambda/mcp/request-params.test.ts).
 *
 * `_meta` envelope keys of the 2026-07-28 revision are checked by `protocol.ts` before this;
 * here `_meta` is an object whose `progressToken` and related-task entries have the SDK's types.
 */
import * as z from 'zod/mini';

const RELATED_TASK_META_KEY = 'io.modelcontextprotocol/related-task';

/** A JSON object (the SDK's `JSONObjectSchema`); its values come from `JSON.parse`, so any is JSON. */
const jsonObject = z.record(z.string(), z.unknown());

const requestMeta = z.looseObject({
  progressToken: z.optional(z.union([z.string(), z.int()])),
  [RELATED_TASK_META_KEY]: z.optional(z.object({ taskId: z.string() })),
});

/** `BaseRequestParamsSchema`. */
const base = { _meta: z.optional(requestMeta) };

const icon = z.object({
  src: z.string(),
  mimeType: z.optional(z.string()),
  sizes: z.optional(z.array(z.string())),
  theme: z.optional(z.enum(['light', 'dark'])),
});

/** `ImplementationSchema` (`clientInfo`). */
const implementation = z.object({
  name: z.string(),
  title: z.optional(z.string()),
  icons: z.optional(z.array(icon)),
  version: z.string(),
  websiteUrl: z.optional(z.string()),
  description: z.optional(z.string()),
});

/** `ClientCapabilitiesSchema`. */
const clientCapabilities = z.object({
  experimental: z.optional(z.record(z.string(), jsonObject)),
  sampling: z.optional(z.object({ context: z.optional(jsonObject), tools: z.optional(jsonObject) })),
  elicitation: z.optional(
    z.looseObject({
      form: z.optional(z.looseObject({ applyDefaults: z.optional(z.boolean()) })),
      url: z.optional(jsonObject),
    }),
  ),
  roots: z.optional(z.object({ listChanged: z.optional(z.boolean()) })),
  tasks: z.optional(
    z.looseObject({
      list: z.optional(jsonObject),
      cancel: z.optional(jsonObject),
      requests: z.optional(
        z.looseObject({
          sampling: z.optional(z.looseObject({ createMessage: z.optional(jsonObject) })),
          elicitation: z.optional(z.looseObject({ create: z.optional(jsonObject) })),
        }),
      ),
    }),
  ),
  extensions: z.optional(z.record(z.string(), jsonObject)),
});

/** Requests with nothing but `_meta` (`ping`, `server/discover`): params may be left out. */
const noParams = z.optional(z.object(base));
/** `PaginatedRequestParamsSchema`: the list methods. */
const paginated = z.optional(z.object({ ...base, cursor: z.optional(z.string()) }));

export const initializeParams = z.object({
  ...base,
  protocolVersion: z.string(),
  capabilities: clientCapabilities,
  clientInfo: implementation,
});

export const callToolParams = z.object({
  ...base,
  task: z.optional(z.object({ ttl: z.optional(z.number()) })),
  name: z.string(),
  arguments: z.optional(z.record(z.string(), z.unknown())),
});

export const readResourceParams = z.object({ ...base, uri: z.string() });

export const listParams = paginated;
export const emptyParams = noParams;
