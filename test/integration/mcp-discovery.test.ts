/**
 * The discovery walk an MCP client performs, step by step over real HTTP, with oauth4webapi
 * validating each document strictly: 401 → `resource_metadata` → protected resource metadata
 * (RFC 9728) → authorization server metadata (RFC 8414) → a token that `/mcp` accepts.
 */
import * as oauth from 'oauth4webapi';
import { TOOLS } from '../../lambda/mcp/tools/registry.js';
import type { LocalServer } from '../../lib/local/server.js';
import { registerMachineClient, startTestServer } from '../support/local-server.js';

let server: LocalServer;
const insecure = { [oauth.allowInsecureRequests]: true };
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const toolsList = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** The auth-params of a Bearer challenge, as clients parse them. */
function challengeParams(header: string): Record<string, string> {
  expect(header).toMatch(/^Bearer /);
  return Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

it('walks from a bare 401 to a token that /mcp accepts', async () => {
  const mcpUrl = `${server.issuer}/mcp`;

  // 1. No token: the challenge names the resource metadata and the scopes.
  const unauthorized = await fetch(mcpUrl, { method: 'POST', headers: mcpHeaders, body: toolsList });
  expect(unauthorized.status).toBe(401);
  const challenge = challengeParams(unauthorized.headers.get('www-authenticate')!);
  expect(challenge).not.toHaveProperty('error');
  expect(challenge.scope).toBe('mcp:tools mcp:resources');
  expect(challenge.resource_metadata).toBe(`${server.issuer}/.well-known/oauth-protected-resource/mcp`);

  // 2. Protected resource metadata, validated by oauth4webapi against the URL the client used.
  const resource = await oauth.processResourceDiscoveryResponse(
    new URL(mcpUrl),
    await oauth.resourceDiscoveryRequest(new URL(mcpUrl), insecure),
  );
  expect(resource.resource).toBe(mcpUrl);
  expect(resource.bearer_methods_supported).toEqual(['header']);
  expect(resource.scopes_supported).toEqual(['mcp:tools', 'mcp:resources']);
  const [issuer] = resource.authorization_servers!;
  expect(issuer).toBe(server.issuer);

  // 3. Authorization server metadata at the issuer the resource named.
  const as = await oauth.processDiscoveryResponse(
    new URL(issuer!),
    await oauth.discoveryRequest(new URL(issuer!), { algorithm: 'oauth2', ...insecure }),
  );

  // 4. A token for that resource, and the call that was refused in step 1.
  const { clientId, clientSecret } = await registerMachineClient(as.issuer);
  const client: oauth.Client = { client_id: clientId };
  const tokens = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(clientSecret),
      { resource: resource.resource },
      insecure,
    ),
  );
  const authorized = await fetch(mcpUrl, {
    method: 'POST',
    headers: { ...mcpHeaders, authorization: `Bearer ${tokens.access_token}` },
    body: toolsList,
  });
  expect(authorized.status).toBe(200);
  expect(((await authorized.json()) as { result: { tools: unknown[] } }).result.tools.length).toBe(
    TOOLS.length,
  );
});

it('serves the same metadata at the root well-known URL, for clients that fall back to it', async () => {
  const pathInserted = await (
    await fetch(`${server.issuer}/.well-known/oauth-protected-resource/mcp`)
  ).json();
  const root = await (await fetch(`${server.issuer}/.well-known/oauth-protected-resource`)).json();
  expect(root).toEqual(pathInserted);
});

it('adds error="invalid_token" to the challenge when the token is bad', async () => {
  const response = await fetch(`${server.issuer}/mcp`, {
    method: 'POST',
    headers: { ...mcpHeaders, authorization: 'Bearer not.a.token' },
    body: toolsList,
  });
  expect(response.status).toBe(401);
  const challenge = challengeParams(response.headers.get('www-authenticate')!);
  expect(challenge.error).toBe('invalid_token');
  expect(challenge.resource_metadata).toBe(`${server.issuer}/.well-known/oauth-protected-resource/mcp`);
});
