/**
 * Starts the real local server (embedded DynamoDB, in-memory keys) on a free loopback port,
 * serving the built-in tools whatever `lambda/mcp/served-server.ts` names (tests call `add`).
 */
import { startLocalServer, type LocalServer, type LocalServerOptions } from '../../lib/local/server.js';

export async function startTestServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  return startLocalServer({ port: 0, inMemory: true, logLevel: 'silent', mcpServer: 'built-in', ...options });
}

export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  registration_access_token: string;
  registration_client_uri: string;
  [field: string]: unknown;
}

/** Registers a client through the real `/register` endpoint. */
export async function registerClient(
  issuer: string,
  metadata: Record<string, unknown>,
): Promise<RegisteredClient> {
  const response = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  });
  if (response.status !== 201)
    throw new Error(`registration failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as RegisteredClient;
}

export interface MachineClient {
  clientId: string;
  clientSecret: string;
}

/** Registers a confidential `client_credentials` client (HTTP Basic) through the real `/register`. */
export async function registerMachineClient(
  issuer: string,
  scope = 'mcp:tools mcp:resources',
): Promise<MachineClient> {
  const client = await registerClient(issuer, {
    client_name: 'test agent',
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope,
  });
  return { clientId: client.client_id, clientSecret: client.client_secret! };
}

/** A `client_credentials` access token from the server's own `/token`. */
export async function machineToken(issuer: string, client: MachineClient, scope?: string): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(client.clientId, client.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope && { scope }) }),
  });
  if (response.status !== 200) throw new Error(`token failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** RFC 6749 §2.3.1: form-urlencode each part, then base64 the pair. */
export function basicAuth(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/** The fetch options of an authenticated `tools/call` on `/mcp` (2025-06-18); `add(40, 2)` unless told. */
export function toolCallInit(
  token: string,
  args: Record<string, unknown> = { a: 40, b: 2 },
  name = 'add',
): RequestInit {
  return {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name, arguments: args },
    }),
  };
}
