import fc from 'fast-check';
import { validateClientMetadata } from '../../../../lambda/oauth/clients/client-metadata.js';
import { InvalidRedirectUriError } from '../../../../lambda/oauth/errors.js';
import { redirectUriMatches, redirectUriProblem } from '../../../../lambda/oauth/clients/redirect-uris.js';
import { SYSTEM_SCHEME_PREFIXES, SYSTEM_SCHEMES } from '../../../../lambda/oauth/clients/system-schemes.js';

describe('redirectUriProblem', () => {
  it.each([
    'https://claude.ai/api/mcp/auth_callback',
    'cursor://anysphere.cursor-mcp/oauth/callback',
    'com.example.app:/oauth2redirect',
    'vscode://vscode.github-authentication/did-authenticate',
    'http://localhost/callback',
    'http://127.0.0.1:33418/',
    'http://[::1]:9000/cb',
  ])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeUndefined();
  });

  it.each([
    ['javascript:alert(1)', 'scheme "javascript"'],
    ['data:text/html,x', 'scheme "data"'],
    ['file:///etc/passwd', 'scheme "file"'],
    ['ms-msdt:/id', 'scheme "ms-msdt"'],
    ['search-ms:query=x', 'scheme "search-ms"'],
    ['intent://x#Intent;end', 'fragment'],
    ['view-source:https://example.com/', 'scheme "view-source"'],
    ['jar:https://example.com/x.jar!/', 'scheme "jar"'],
    ['mailto:a@example.com', 'scheme "mailto"'],
    ['myapp://callback', 'reverse-DNS'],
    ['https://example.com/a b', 'canonical'],
    ['https:example.com/cb', 'canonical'],
    ['https://example.com\\cb', 'canonical'],
    ['https://EXAMPLE.com/cb', 'canonical'],
    ['http://127.0.0.1:33418', 'canonical'],
    [' https://example.com/cb', 'canonical'],
    ['http://example.com/cb', 'not loopback'],
    ['http://localhost.evil.example/cb', 'not loopback'],
    ['https://example.com/cb#x', 'fragment'],
    ['callback', 'absolute'],
    [`https://example.com/${'a'.repeat(2100)}`, 'longer'],
  ])('refuses %s', (uri, reason) => {
    expect(redirectUriProblem(uri)).toContain(reason);
  });
});

describe('redirectUriMatches', () => {
  it('matches registered URIs exactly', () => {
    expect(redirectUriMatches('https://a.example/cb', 'https://a.example/cb')).toBe(true);
    expect(redirectUriMatches('https://a.example/cb', 'https://a.example/cb/')).toBe(false);
    expect(redirectUriMatches('https://a.example/cb', 'https://a.example:8443/cb')).toBe(false);
  });

  it('lets loopback redirect URIs use any port (RFC 8252 §7.3)', () => {
    expect(redirectUriMatches('http://localhost/callback', 'http://localhost:53127/callback')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:33418/', 'http://127.0.0.1:40000/')).toBe(true);
  });

  it('still compares host, path and query of loopback URIs', () => {
    expect(redirectUriMatches('http://localhost/callback', 'http://127.0.0.1:5000/callback')).toBe(false);
    expect(redirectUriMatches('http://localhost/callback', 'http://localhost:5000/other')).toBe(false);
    expect(redirectUriMatches('http://localhost/cb?a=1', 'http://localhost:5000/cb?a=2')).toBe(false);
  });
});

describe('schemes the operating system or browser handles', () => {
  // Both case variants: the scheme a browser reads is case-insensitive.
  const variants = (scheme: string) => [
    scheme,
    scheme.toUpperCase(),
    scheme[0]!.toUpperCase() + scheme.slice(1),
  ];

  it.each([
    'x-apple.systempreferences:com.apple.preference.security',
    'microsoft.windows.camera:',
    'ms-settings.app:/privacy',
    'ms-settings:privacy-webcam',
    'com.apple.systempreferences:/x',
    'search-ms:query=invoice',
    'intent:/x',
  ])('refuses %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeDefined();
  });

  it('refuses every scheme of the refusal list, in any case, as an invalid_redirect_uri', () => {
    const scheme = fc.oneof(
      fc.constantFrom(...SYSTEM_SCHEMES),
      fc
        .tuple(
          fc.constantFrom(...SYSTEM_SCHEME_PREFIXES),
          fc.stringMatching(/^[a-z0-9]{0,8}(\.[a-z0-9]{1,8}){0,2}$/),
        )
        .map(([prefix, rest]) => prefix + rest)
        .filter((s) => /^[a-z][a-z0-9+.-]*$/.test(s) && !s.endsWith('.') && !s.endsWith('-')),
    );
    const rest = fc.constantFrom('', '/', '//host/path', '/callback?x=1', 'value');
    fc.assert(
      fc.property(scheme, fc.nat(2), rest, (name, variant, tail) => {
        const uri = `${variants(name)[variant]}:${tail}`;
        expect(redirectUriProblem(uri)).toBeDefined();
        expect(() =>
          validateClientMetadata({ redirect_uris: [uri], token_endpoint_auth_method: 'none' }, ['mcp:tools']),
        ).toThrow(InvalidRedirectUriError);
      }),
      { numRuns: 500 },
    );
  });

  it('reads a reverse-DNS scheme only when its first label is shaped like a top-level domain', () => {
    expect(redirectUriProblem('x-example.app:/cb')).toContain('reverse-DNS');
    expect(redirectUriProblem('c0m.example:/cb')).toContain('reverse-DNS');
    expect(redirectUriProblem('com.googleusercontent.apps.123-abc:/oauth2redirect')).toBeUndefined();
    expect(redirectUriProblem('xn--80ak6aa92e.app:/cb')).toBeUndefined();
  });
});
