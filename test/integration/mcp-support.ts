/**
 * Helpers for the MCP end-to-end tests: a local server on a free port, and machine credentials
 * and tokens obtained from its real `/register` and `/token` endpoints.
 */
import { startLocalServer } from '../../lib/local/server.js';

export interface RunningServer {
  issuer: string;
  mcpUrl: string;
  close(): Promise<void>;
}

export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startLocalServer({ port: 0, inMemory: true, logLevel: 'error', env });
  return { issuer: server.issuer, mcpUrl: `${server.issuer}/mcp`, close: () => server.close() };
}

export interface MachineClient {
  clientId: string;
  clientSecret: string;
}

/** Registers a confidential client for `client_credentials` (RFC 7591). */
export async function registerMachineClient(
  issuer: string,
  scope = 'mcp:tools mcp:resources',
): Promise<MachineClient> {
  const response = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'e2e agent',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope,
    }),
  });
  if (response.status !== 201)
    throw new Error(`registration failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { client_id: string; client_secret: string };
  return { clientId: body.client_id, clientSecret: body.client_secret };
}

/** A `client_credentials` access token from the server's own `/token`. */
export async function machineToken(issuer: string, client: MachineClient, scope?: string): Promise<string> {
  const basic = Buffer.from(
    `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
  ).toString('base64');
  const form = new URLSearchParams({ grant_type: 'client_credentials', ...(scope && { scope }) });
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  if (response.status !== 200)
    throw new Error(`token request failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}
