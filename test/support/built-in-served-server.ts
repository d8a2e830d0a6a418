/**
 * `lambda/mcp/served-server.ts` as the project ships it: no SDK server, so `/mcp` serves the
 * built-in tools. `built-in-server.ts` puts this module in its place when a test builds the mcp
 * bundle to exercise the front with the built-in tools.
 */
export const SDK_SERVER = undefined;
