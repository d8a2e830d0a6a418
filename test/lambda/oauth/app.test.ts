/**
 * Failure behaviour of the authorization server that real HTTP tests cannot easily provoke:
 * missing signing keys, storage failures, and what reaches the logs.
 */
import { createOAuthApp } from '../../../lambda/oauth/app.js';
import { ClientResolver } from '../../../lambda/oauth/clients/client-resolver.js';
import type { ClientStore, StoredClient } from '../../../lambda/oauth/stores/client-store.js';
import type { GrantStore } from '../../../lambda/oauth/stores/grant-store.js';
import { loadConfig } from '../../../lambda/shared/config.js';
import { createLogger } from '../../../lambda/shared/logger.js';
import { rotateSigningKeySet } from '../../../lambda/shared/key-set.js';
import { CachedSigningKeys } from '../../../lambda/shared/signing-keys.js';

class MemoryClientStore implements ClientStore {
  readonly clients = new Map<string, StoredClient>();
  failWith: Error | undefined;
  async create(client: StoredClient) {
    if (this.failWith) throw this.failWith;
    this.clients.set(client.clientId, client);
  }
  async get(id: string) {
    if (this.failWith) throw this.failWith;
    return this.clients.get(id);
  }
  async updateMetadata() {
    return false;
  }
  async delete(id: string) {
    return this.clients.delete(id);
  }
  async extend() {}
  async recordLogin() {}
}

/** These tests never reach the login endpoints; any use of the grant store is a test bug. */
const unusedGrants = new Proxy({} as GrantStore, {
  get: (_target, name) => () => Promise.reject(new Error(`grant store used: ${String(name)}`)),
});

const config = loadConfig({ ISSUER: 'https://as.example' });

function setup(keySet: Parameters<typeof rotateSigningKeySet>[0] | 'generate' = 'generate') {
  const lines: string[] = [];
  const clients = new MemoryClientStore();
  const keys = new CachedSigningKeys({
    load: async () => (keySet === 'generate' ? rotateSigningKeySet({}) : keySet),
  });
  const app = createOAuthApp({
    config,
    clients,
    clientResolver: new ClientResolver(clients),
    grants: unusedGrants,
    revocations: { revoke: async () => {}, notBefore: async () => undefined },
    keys,
    logger: createLogger('oauth', { write: (l) => lines.push(l) }),
  });
  return { app, clients, lines };
}

const register = (app: ReturnType<typeof setup>['app']) =>
  app(
    new Request('https://as.example/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_types: ['client_credentials'] }),
    }),
  );

const tokenRequest = (id: string, secret: string) =>
  new Request('https://as.example/token', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });

describe('createOAuthApp', () => {
  it('answers 503 temporarily_unavailable while no signing key exists yet', async () => {
    // Prepare: the secret still holds the empty placeholder of a fresh deployment
    const { app } = setup({});
    const client = (await (await register(app)).json()) as { client_id: string; client_secret: string };
    // Act
    const token = await app(tokenRequest(client.client_id, client.client_secret));
    const jwks = await app(new Request('https://as.example/.well-known/jwks.json'));
    // Assess
    expect(token.status).toBe(503);
    expect(token.headers.get('retry-after')).toBe('30');
    expect(((await token.json()) as { error: string }).error).toBe('temporarily_unavailable');
    expect(jwks.status).toBe(503);
  });

  it('answers a storage failure with server_error and no internals', async () => {
    const { app, clients, lines } = setup();
    clients.failWith = new Error('connect ECONNREFUSED 10.0.0.1:443');
    const response = await register(app);
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(JSON.parse(text)).toEqual({
      error: 'server_error',
      error_description: 'an internal error occurred',
    });
    expect(text).not.toContain('ECONNREFUSED');
    expect(lines.join('\n')).toContain('ECONNREFUSED');
  });

  it('answers storage throttling with 503 so clients retry', async () => {
    const { app, clients } = setup();
    clients.failWith = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    const response = await register(app);
    expect(response.status).toBe(503);
  });

  it('never writes secrets or tokens to the logs', async () => {
    const { app, lines } = setup();
    const client = (await (await register(app)).json()) as Record<string, string>;
    const token = (await (
      await app(tokenRequest(client.client_id!, client.client_secret!))
    ).json()) as Record<string, string>;
    await app(tokenRequest(client.client_id!, 'wrong-secret-value'));
    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of [
      client.client_secret!,
      client.registration_access_token!,
      token.access_token!,
      'wrong-secret-value',
    ]) {
      expect(log).not.toContain(secret);
    }
  });

  it('answers preflight requests for browser clients', async () => {
    const { app } = setup();
    const response = await app(
      new Request('https://as.example/token', {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST' },
      }),
    );
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toContain('Authorization');
  });

  it('answers an unsupported method with 405 and the allowed ones', async () => {
    const { app } = setup();
    const response = await app(new Request('https://as.example/clients/abc', { method: 'POST' }));
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, PUT, DELETE');
  });
});
