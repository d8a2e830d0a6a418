/**
 * What `/mcp` serves behind this project's front (Origin checks, token verification, discovery,
 * per-method and per-tool scopes): `undefined` serves the built-in tools and resources
 * (`tools/registry.ts`, `resources/registry.ts`), the default and the fast path; an MCP SDK server
 * of your own is set here with `sdkV2Server` or `sdkV1Server` (doc/adding-tools.md, "Bringing an
 * MCP SDK server you already have"). The Lambda entry (`index.ts`) and `npm start`
 * (`lib/local/server.ts`) both serve what this names. The tests of the front build and start
 * the built-in tools in its place (`test/support/built-in-server.ts`), so they hold whichever
 * server is set here.
 */
import type { SdkServerFront } from './protocol/sdk-server.js';

export const SDK_SERVER: SdkServerFront | undefined = undefined;
