/** What a client ID metadata document may say, checked before it stands for a client. */
import { validateMetadataDocument } from '../../../lambda/oauth/client-resolver.js';

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
