/** The local server as the MCP end-to-end tests use it: its issuer and MCP URL. */
import { startTestServer } from '../support/local-server.js';

export { machineToken, registerMachineClient, type MachineClient } from '../support/local-server.js';

export interface RunningServer {
  issuer: string;
  mcpUrl: string;
  close(): Promise<void>;
}

export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startTestServer({ logLevel: 'error', env });
  return { issuer: server.issuer, mcpUrl: `${server.issuer}/mcp`, close: () => server.close() };
}
