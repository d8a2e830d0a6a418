/** This server's MCP identity (`serverInfo` in 2025 `initialize`, `_meta` serverInfo in 2026). */
export const SERVER_NAME = 'mcp-oauth-aws';
export const SERVER_VERSION = '0.1.0';

export interface ServerInfo {
  name: string;
  title?: string;
  version: string;
}

export function serverInfo(title: string): ServerInfo {
  return { name: SERVER_NAME, title, version: SERVER_VERSION };
}
