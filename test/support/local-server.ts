/** Starts the real local server (embedded DynamoDB, in-memory keys) on a free loopback port. */
import { startLocalServer, type LocalServer, type LocalServerOptions } from '../../lib/local/server.js';

export async function startTestServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  return startLocalServer({ port: 0, inMemory: true, logLevel: 'silent', ...options });
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

/** Registers a machine client and gets an access token with `client_credentials`. */
export async function machineToken(
  issuer: string,
  options: { scope?: string; registerScope?: string } = {},
): Promise<{ client: RegisteredClient; accessToken: string }> {
  const client = await registerClient(issuer, {
    client_name: 'test agent',
    grant_types: ['client_credentials'],
    ...(options.registerScope ? { scope: options.registerScope } : {}),
  });
  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  if (options.scope) body.set('scope', options.scope);
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basicAuth(client.client_id, client.client_secret!),
    },
    body,
  });
  if (response.status !== 200) throw new Error(`token failed: ${response.status} ${await response.text()}`);
  return { client, accessToken: ((await response.json()) as { access_token: string }).access_token };
}

/** RFC 6749 §2.3.1: form-urlencode each part, then base64 the pair. */
export function basicAuth(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}
