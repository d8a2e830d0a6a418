import * as z from 'zod/mini';
import { defineTool } from './tool.js';

/** The verified caller, as the access token describes it. */
export const getUserInfoTool = defineTool({
  name: 'get_user_info',
  title: 'Who am I',
  description:
    'Returns the verified caller: whether it is a user or a machine client, subject, client, granted scopes, token expiry, and the user name and email when a user logged in.',
  inputSchema: z.strictObject({}),
  outputSchema: z.object({
    kind: z.enum(['user', 'machine']),
    sub: z.string(),
    client_id: z.string(),
    issuer: z.string(),
    scopes: z.array(z.string()),
    expires_at: z.string(),
    name: z.optional(z.string()),
    email: z.optional(z.string()),
  }),
  requiredScopes: ['mcp:tools'],
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: (_args, { caller }) => {
    const info = {
      kind: caller.kind,
      sub: caller.sub,
      client_id: caller.clientId,
      issuer: caller.issuer,
      scopes: [...caller.scopes],
      expires_at: new Date(caller.expiresAt * 1000).toISOString(),
      ...(caller.name !== undefined && { name: caller.name }),
      ...(caller.email !== undefined && { email: caller.email }),
    };
    return { content: [{ type: 'text', text: JSON.stringify(info) }], structuredContent: info };
  },
});
