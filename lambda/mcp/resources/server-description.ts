import { LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS } from '../protocol/protocol.js';
import { SERVER_NAME, SERVER_VERSION } from '../protocol/server-info.js';
import { TOOLS } from '../tools/registry.js';
import type { Resource } from './resource.js';

export const SERVER_DESCRIPTION_URI = 'mcp-oauth-aws://server/description';

/** Describes this server: what it is, where its authorization server is, what it offers. */
export const serverDescriptionResource: Resource = {
  descriptor: {
    uri: SERVER_DESCRIPTION_URI,
    name: 'server-description',
    title: 'About this server',
    description: 'What this MCP server is, its authorization server, scopes, tools and protocol versions.',
    mimeType: 'application/json',
  },
  requiredScopes: ['mcp:resources'],
  read: ({ config }) => ({
    contents: [
      {
        uri: SERVER_DESCRIPTION_URI,
        mimeType: 'application/json',
        text: JSON.stringify({
          name: SERVER_NAME,
          title: config.resourceName,
          version: SERVER_VERSION,
          resource: config.mcpResource,
          authorizationServer: config.issuer,
          scopesSupported: config.scopesSupported,
          tools: TOOLS.map((t) => t.name),
          protocolVersions: [...MODERN_PROTOCOL_VERSIONS, ...LEGACY_PROTOCOL_VERSIONS],
        }),
      },
    ],
  }),
};
