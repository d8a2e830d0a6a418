/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for the MCP endpoint. MCP clients find it
 * through the `resource_metadata` parameter of a 401 challenge, or at the well-known paths
 * (path-inserted `/.well-known/oauth-protected-resource/mcp` first, then the root one).
 */
import type { Config } from '../../shared/config.js';

export const PRM_PATH = '/.well-known/oauth-protected-resource';
export const PRM_MCP_PATH = '/.well-known/oauth-protected-resource/mcp';

/** The URL clients are told about in `WWW-Authenticate: Bearer resource_metadata="…"`. */
export function resourceMetadataUrl(config: Config): string {
  return `${config.issuer}${PRM_MCP_PATH}`;
}

/** RFC 9728 §2. `resource` must equal the URL the client used, exactly (no trailing slash). */
export function protectedResourceMetadata(config: Config): Record<string, unknown> {
  return {
    resource: config.mcpResource,
    authorization_servers: [config.issuer],
    scopes_supported: config.scopesSupported,
    bearer_methods_supported: ['header'],
    resource_name: config.resourceName,
  };
}
