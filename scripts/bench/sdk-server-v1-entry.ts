/**
 * As scripts/bench/sdk-server-entry.ts, with a v1 SDK server (`@modelcontextprotocol/sdk`) through
 * `sdkV1Server`: the baseline's `add` tool on the v1 `McpServer`, a fresh server and transport per
 * request.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { createMcpApp } from '../../lambda/mcp/app.js';
import { sdkV1Server } from '../../lambda/mcp/protocol/sdk-server-v1.js';
import { ssmOptionsFromEnvironment, SsmPublicKeySource } from '../../lambda/mcp/aws/ssm-public-key-source.js';
import { loadConfig } from '../../lambda/shared/config.js';
import { lambdaHandler } from '../../lambda/shared/lambda-adapter.js';
import { createLogger } from '../../lambda/shared/logger.js';
import { CachedPublicKeys } from '../../lambda/shared/signing-keys.js';

const logger = createLogger('mcp');
const config = loadConfig(process.env);
const keys = new CachedPublicKeys(new SsmPublicKeySource(ssmOptionsFromEnvironment(process.env)));
keys.prime().catch((error: unknown) => logger.warn('signing keys not loaded at start', { error }));

function buildServer(): McpServer {
  const server = new McpServer({ name: 'bench-sdk-v1-server', version: '0.0.0' });
  server.registerTool(
    'add',
    {
      description: 'Adds two numbers.',
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    },
    async ({ a, b }) => ({
      content: [{ type: 'text', text: String(a + b) }],
      structuredContent: { sum: a + b },
    }),
  );
  return server;
}

export const handler = lambdaHandler(
  createMcpApp({ config, keys, logger, sdkServer: sdkV1Server(buildServer) }),
  logger,
);
