import { redirectUriMatches, redirectUriProblem } from '../../../lambda/oauth/redirect-uris.js';

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
