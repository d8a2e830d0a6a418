/**
 * The jwt-bearer grant's setting (`ENTERPRISE_IDPS`), who may register for it, and what the
 * metadata says of it. The grant itself runs against the real server in
 * `test/integration/enterprise-managed-authorization.test.ts`.
 */
import type { ClientStore, StoredClient } from '../../../../lambda/oauth/stores/client-store.js';
import { JWT_BEARER } from '../../../../lambda/oauth/clients/client-metadata.js';
import type { OAuthDeps } from '../../../../lambda/oauth/deps.js';
import { parseEnterpriseIdps } from '../../../../lambda/oauth/grants/enterprise-idps.js';
import { EnterpriseIdps } from '../../../../lambda/oauth/grants/jwt-bearer.js';
import { authorizationServerMetadata } from '../../../../lambda/oauth/endpoints/metadata.js';
import { registerClient } from '../../../../lambda/oauth/endpoints/register.js';
import { OAuthError } from '../../../../lambda/oauth/errors.js';
import { loadConfig } from '../../../../lambda/shared/config.js';
import { createLogger } from '../../../../lambda/shared/logger.js';

describe('parseEnterpriseIdps', () => {
  it('reads issuers with their optional keys URL and clients, and nothing when unset', () => {
    // Act
    const idps = parseEnterpriseIdps(
      '[{"issuer":"https://a.example.com","clientIds":["x","x"]},{"issuer":"https://b.example.com/t","jwksUri":"https://b.example.com/keys"}]',
    );

    // Assess
    expect(idps).toEqual([
      { issuer: 'https://a.example.com', clientIds: ['x'] },
      { issuer: 'https://b.example.com/t', jwksUri: 'https://b.example.com/keys' },
    ]);
    expect(parseEnterpriseIdps(undefined)).toEqual([]);
    expect(parseEnterpriseIdps(' ')).toEqual([]);
  });

  it('allows http on loopback hosts only, for the local stand-in', () => {
    // Act and assess
    expect(parseEnterpriseIdps('[{"issuer":"http://127.0.0.1:4100"}]')).toEqual([
      { issuer: 'http://127.0.0.1:4100' },
    ]);
    expect(() => parseEnterpriseIdps('[{"issuer":"http://idp.example.com"}]')).toThrow(
      'ENTERPRISE_IDPS[0].issuer must be an https URL without query, fragment or credentials',
    );
    expect(() => parseEnterpriseIdps('[{"issuer":"https://idp.example.com#x"}]')).toThrow(
      'ENTERPRISE_IDPS[0].issuer must be an https URL without query, fragment or credentials',
    );
  });
});

class MemoryClientStore implements Pick<ClientStore, 'create'> {
  readonly created: StoredClient[] = [];
  async create(client: StoredClient) {
    this.created.push(client);
  }
}

function registration(env: Record<string, string>) {
  const clients = new MemoryClientStore();
  const deps = {
    config: loadConfig({ ISSUER: 'https://as.example', ...env }),
    clients,
    clientResolver: { allowsHttpLoopback: false },
    logger: createLogger('oauth', { level: 'silent' }),
  } as unknown as OAuthDeps;
  const register = async (metadata: Record<string, unknown>) => {
    try {
      const response = await registerClient(
        new Request('https://as.example/register', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(metadata),
        }),
        deps,
      );
      return { status: response.status, body: JSON.parse(await response.text()) as Record<string, unknown> };
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return { status: error.status, body: error.toResponseObject() as Record<string, unknown> };
    }
  };
  return { clients, register };
}

const ENTERPRISE_CLIENT = {
  grant_types: [JWT_BEARER],
  token_endpoint_auth_method: 'client_secret_basic',
  redirect_uris: [],
};

describe('registering for the jwt-bearer grant', () => {
  it('follows registrationPolicy, as machine clients do, since no consent page stands before its tokens', async () => {
    // Prepare
    const closedMachines = registration({ REGISTRATION_POLICY: 'closed' });
    const closedInteractive = registration({ INTERACTIVE_REGISTRATION_POLICY: 'closed' });

    // Act
    const refused = await closedMachines.register(ENTERPRISE_CLIENT);
    const accepted = await closedInteractive.register(ENTERPRISE_CLIENT);

    // Assess
    expect(refused).toMatchObject({ status: 403, body: { error: 'access_denied' } });
    expect(closedMachines.clients.created).toEqual([]);
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({
      grant_types: [JWT_BEARER],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(typeof accepted.body.client_secret).toBe('string');
    // Like a machine client, it is not deleted for never completing a browser login.
    expect(closedInteractive.clients.created[0]!.expiresAt).toBeUndefined();
  });

  it('refuses a public client', async () => {
    // Prepare
    const { clients, register } = registration({});

    // Act
    const result = await register({ ...ENTERPRISE_CLIENT, token_endpoint_auth_method: 'none' });

    // Assess
    expect(result).toMatchObject({
      status: 400,
      body: {
        error: 'invalid_client_metadata',
        error_description: `a public client ("none") cannot use the "${JWT_BEARER}" grant`,
      },
    });
    expect(clients.created).toEqual([]);
  });
});

describe('the authorization server metadata', () => {
  it('lists the jwt-bearer grant only when enterprise identity providers are configured', () => {
    // Prepare
    const config = loadConfig({ ISSUER: 'https://as.example' });
    const idps = new EnterpriseIdps([{ issuer: 'https://idp.example.com' }]);

    // Act
    const without = authorizationServerMetadata(config, true, false);
    const withIdps = authorizationServerMetadata(config, true, idps.size > 0);

    // Assess
    expect(without.grant_types_supported).not.toContain(JWT_BEARER);
    expect(withIdps.grant_types_supported).toEqual([
      'authorization_code',
      'refresh_token',
      'client_credentials',
      JWT_BEARER,
    ]);
  });
});
