/** What this server takes from a verified upstream ID token. */
import { identityFromClaims, UpstreamLoginError } from '../../../../lambda/oauth/login/identity-provider.js';

describe('identityFromClaims', () => {
  it('takes sub, name and email', () => {
    expect(identityFromClaims({ sub: 'u1', name: 'Ada Lovelace', email: 'ada@example.com' })).toEqual({
      sub: 'u1',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
    });
  });

  it("uses preferred_username when there is no name, and never Cognito's generated username", () => {
    // Prepare: a Cognito ID token of a pool where users sign in with their email.
    const cognito = {
      sub: '0f1e2d3c-0000-4000-8000-000000000000',
      'cognito:username': '0f1e2d3c-0000-4000-8000-000000000000',
      email: 'ada@example.com',
      email_verified: true,
    };

    // Act
    const identity = identityFromClaims(cognito);
    const withPreferred = identityFromClaims({ sub: 'u2', preferred_username: 'ada' });

    // Assess
    expect(identity).toEqual({ sub: cognito.sub, email: 'ada@example.com' });
    expect(withPreferred).toEqual({ sub: 'u2', name: 'ada' });
  });

  it.each([
    ['no sub', {}],
    ['an empty sub', { sub: '' }],
    ['a sub that is not a string', { sub: 42 }],
    ['an oversized sub', { sub: 'x'.repeat(256) }],
  ])('refuses %s', (_case, claims) => {
    expect(() => identityFromClaims(claims)).toThrow(UpstreamLoginError);
  });

  it.each([false, 'false'])(
    'leaves out an email the provider marks unverified (email_verified: %p)',
    (flag) => {
      expect(identityFromClaims({ sub: 'u4', email: 'mallory@example.com', email_verified: flag })).toEqual({
        sub: 'u4',
      });
    },
  );

  it('drops claims that are not short strings', () => {
    expect(identityFromClaims({ sub: 'u3', name: { first: 'Ada' }, email: 'e'.repeat(400) })).toEqual({
      sub: 'u3',
    });
  });
});
