import { basicCredentials, bearerToken, parseForm } from '../../../../lambda/oauth/clients/credentials.js';
import { InvalidClientError, InvalidRequestError } from '../../../../lambda/oauth/errors.js';

const withAuth = (value: string) =>
  new Request('https://as.example/token', { headers: { authorization: value } });

describe('basicCredentials', () => {
  it('form-decodes the id and secret after base64 (RFC 6749 §2.3.1)', () => {
    // Prepare: "my client" / "p:a+ss%" form-encoded, then base64
    const header = `Basic ${Buffer.from('my+client:p%3Aa%2Bss%25').toString('base64')}`;
    // Act
    const credentials = basicCredentials(withAuth(header));
    // Assess
    expect(credentials).toEqual({ clientId: 'my client', clientSecret: 'p:a+ss%' });
  });

  it('splits at the first colon only', () => {
    const header = `Basic ${Buffer.from('id:se:cret').toString('base64')}`;
    expect(basicCredentials(withAuth(header))).toEqual({ clientId: 'id', clientSecret: 'se:cret' });
  });

  it('ignores other schemes', () => {
    expect(basicCredentials(withAuth('Bearer abc'))).toBeUndefined();
    expect(basicCredentials(new Request('https://as.example/token'))).toBeUndefined();
  });

  it.each([
    ['Basic'],
    ['Basic !!!'],
    [`Basic ${Buffer.from('no-colon').toString('base64')}`],
    [`Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}`],
  ])('refuses the malformed header "%s" with invalid_client', (header) => {
    expect(() => basicCredentials(withAuth(header))).toThrow(InvalidClientError);
  });
});

describe('bearerToken', () => {
  it('reads a bearer token case-insensitively', () => {
    expect(bearerToken(withAuth('bearer abc.def-ghi_~+/='))).toBe('abc.def-ghi_~+/=');
  });
  it('says undefined without a header and null for a malformed one', () => {
    expect(bearerToken(new Request('https://as.example/'))).toBeUndefined();
    expect(bearerToken(withAuth('Bearer a b'))).toBeNull();
    expect(bearerToken(withAuth('Basic abc'))).toBeNull();
  });
});

describe('parseForm', () => {
  it('allows resource to repeat (RFC 8707) but nothing else', () => {
    expect(parseForm('resource=a&resource=b').getAll('resource')).toEqual(['a', 'b']);
    expect(() => parseForm('scope=a&scope=b')).toThrow(InvalidRequestError);
  });
});
