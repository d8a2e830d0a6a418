/**
 * What a client ID metadata document may say, checked before it stands for a client; and how
 * fetch failures are counted by host.
 */
import {
  ClientResolver,
  validateMetadataDocument,
} from '../../../../lambda/oauth/clients/client-resolver.js';
import type { ClientStore } from '../../../../lambda/oauth/stores/client-store.js';
import type { CachedDocument } from '../../../../lambda/oauth/stores/metadata-document-cache.js';
import type { BusinessMetrics } from '../../../../lambda/shared/metrics.js';

const URL = 'https://app.example/oauth/client.json';
const SCOPES = ['mcp:tools', 'mcp:resources'];
const document = (fields: Record<string, unknown> = {}) => ({
  client_id: URL,
  client_name: 'Example',
  redirect_uris: ['https://app.example/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  ...fields,
});

describe('validateMetadataDocument', () => {
  it("accepts a document of ChatGPT's shape: private_key_jwt first, with a jwks_uri", () => {
    const metadata = validateMetadataDocument(
      URL,
      document({
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
        token_endpoint_auth_signing_alg: 'RS256',
        jwks_uri: 'https://app.example/oauth/jwks.json',
      }),
      SCOPES,
    );
    expect(metadata).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://app.example/oauth/jwks.json',
      token_endpoint_auth_signing_alg: 'RS256',
    });
  });

  it('accepts a public client whose client_id is its own URL', () => {
    const metadata = validateMetadataDocument(URL, document(), SCOPES);
    expect(metadata).toMatchObject({ token_endpoint_auth_method: 'none', scope: 'mcp:tools mcp:resources' });
  });

  it('leaves out scopes this server does not know instead of refusing the document', () => {
    expect(validateMetadataDocument(URL, document({ scope: 'openid mcp:tools profile' }), SCOPES).scope).toBe(
      'mcp:tools',
    );
    expect(validateMetadataDocument(URL, document({ scope: 'openid profile' }), SCOPES).scope).toBe(
      'mcp:tools mcp:resources',
    );
  });

  it.each([
    ['another client_id', { client_id: 'https://app.example/other.json' }, 'its own URL'],
    ['a client secret', { client_secret: 'x' }, 'no secret'],
    [
      'a secret auth method',
      { token_endpoint_auth_method: 'client_secret_basic' },
      'only "none" and "private_key_jwt"',
    ],
    ['private_key_jwt without keys', { token_endpoint_auth_method: 'private_key_jwt' }, 'requires "jwks"'],
    [
      'a jwks_uri that is not https',
      { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://app.example/keys' },
      '"jwks_uri" is not an https URL',
    ],
    [
      'the client_credentials grant with keys',
      {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: 'https://app.example/keys',
        grant_types: ['client_credentials'],
      },
      'anyone can publish one',
    ],
    ['a javascript: redirect URI', { redirect_uris: ['javascript:alert(1)'] }, 'not valid client metadata'],
  ])('refuses %s', (_case, fields, message) => {
    expect(() => validateMetadataDocument(URL, document(fields), SCOPES)).toThrow(message);
  });

  it.each([null, [], 'text', 42])('refuses a document that is not a JSON object (%p)', (value) => {
    expect(() => validateMetadataDocument(URL, value, SCOPES)).toThrow('not a JSON object');
  });
});

describe('ClientResolver fetch failure metric', () => {
  const counted: string[] = [];
  const metrics = { count: (_name: string, value?: string) => counted.push(value ?? '') } as BusinessMetrics;
  const good: CachedDocument = {
    metadata: validateMetadataDocument(
      'https://cached.example/c.json',
      { client_id: 'https://cached.example/c.json', redirect_uris: ['https://cached.example/cb'] },
      SCOPES,
    ),
    fetchedAt: 1,
    freshUntil: 2,
  };
  // Every host resolves to a private address: each fetch fails at once, before any connection.
  const resolver = new ClientResolver({ get: async () => undefined } as unknown as ClientStore, {
    cache: {
      get: async (url) => (url.startsWith('https://cached.example/') ? good : undefined),
      put: async () => {},
    },
    scopesSupported: SCOPES,
    metrics,
    fetch: { resolve: async () => [{ address: '10.0.0.1', family: 4 }] },
  });

  it('names known client hosts and hosts that served a good document, and counts any other as "other"', async () => {
    // Act
    for (const url of [
      'https://claude.ai/oauth/mcp-oauth-client-metadata',
      'https://chatgpt.com/oauth/app_1/client.json',
      'https://cached.example/c.json',
      'https://made-up-1.example/c.json',
      'https://made-up-2.example/c.json',
    ]) {
      await expect(resolver.get(url)).rejects.toThrow('the address is not allowed');
    }

    // Assess
    expect(counted).toEqual(['claude.ai', 'chatgpt.com', 'cached.example', 'other', 'other']);
  });
});
