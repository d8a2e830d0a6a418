import { ConfigError, loadConfig, type Config } from '../../../lambda/shared/config.js';

const ISSUER = 'https://as.example';
const HOUR = 3600;
const DAY = 24 * HOUR;

const UPSTREAM = {
  UPSTREAM_ISSUER: 'https://idp.example',
  UPSTREAM_CLIENT_ID: 'upstream-client',
  UPSTREAM_CLIENT_SECRET: 'upstream-secret',
};

const TOGETHER =
  'UPSTREAM_ISSUER, UPSTREAM_CLIENT_ID and UPSTREAM_CLIENT_SECRET (or UPSTREAM_CLIENT_SECRET_ARN) go together';

/** The error `loadConfig` throws for `env`, checked to be a ConfigError. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig({ ISSUER, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('ERR_CONFIG');
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** Each bounded integer setting: its variable, its field, minimum and maximum. */
const INTEGERS: Array<[string, keyof Config, number, number]> = [
  ['REFRESH_TOKEN_REUSE_GRACE_SECONDS', 'refreshTokenReuseGraceSeconds', 0, 600],
  ['REFRESH_TOKEN_IDLE_TTL_SECONDS', 'refreshTokenIdleTtlSeconds', HOUR, 365 * DAY],
  ['REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS', 'refreshTokenAbsoluteTtlSeconds', HOUR, 365 * DAY],
  ['CLIENT_LOGIN_DEADLINE_SECONDS', 'clientLoginDeadlineSeconds', 600, 30 * DAY],
  ['CLIENT_IDLE_TTL_SECONDS', 'clientIdleTtlSeconds', DAY, 365 * DAY],
];

/** Keeps the absolute refresh lifetime at least the idle one while a single bound is probed. */
const consistentWith = (name: string, value: number): Record<string, string> =>
  name === 'REFRESH_TOKEN_IDLE_TTL_SECONDS'
    ? { REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS: String(365 * DAY) }
    : name === 'REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS'
      ? { REFRESH_TOKEN_IDLE_TTL_SECONDS: String(Math.min(value, 30 * DAY)) }
      : {};

describe('loadConfig login settings', () => {
  it('defaults the login settings when none is set', () => {
    // Act
    const config = loadConfig({ ISSUER });

    // Assess
    expect(config).toMatchObject({
      interactiveRegistrationPolicy: 'open',
      refreshTokenReuseGraceSeconds: 120,
      refreshTokenIdleTtlSeconds: 30 * DAY,
      refreshTokenAbsoluteTtlSeconds: 90 * DAY,
      clientLoginDeadlineSeconds: DAY,
      clientIdleTtlSeconds: 90 * DAY,
    });
    expect(config.upstream).toBeUndefined();
  });

  it('treats empty values as unset', () => {
    // Act
    const config = loadConfig({
      ISSUER,
      INTERACTIVE_REGISTRATION_POLICY: '',
      REFRESH_TOKEN_REUSE_GRACE_SECONDS: '',
      CLIENT_LOGIN_DEADLINE_SECONDS: '',
      UPSTREAM_ISSUER: '',
      UPSTREAM_CLIENT_ID: '',
      UPSTREAM_CLIENT_SECRET: '',
    });

    // Assess
    expect(config.interactiveRegistrationPolicy).toBe('open');
    expect(config.refreshTokenReuseGraceSeconds).toBe(120);
    expect(config.clientLoginDeadlineSeconds).toBe(DAY);
    expect(config.upstream).toBeUndefined();
  });

  it.each(INTEGERS)('accepts %s at its bounds as %s', (name, field, min, max) => {
    // Act
    const atMin = loadConfig({ ISSUER, [name]: String(min), ...consistentWith(name, min) });
    const atMax = loadConfig({ ISSUER, [name]: String(max), ...consistentWith(name, max) });

    // Assess
    expect(atMin[field]).toBe(min);
    expect(atMax[field]).toBe(max);
  });

  it.each(INTEGERS)('refuses %s out of bounds or not an integer, naming it', (name, _field, min, max) => {
    for (const raw of [String(min - 1), String(max + 1), '90.5', 'ten']) {
      // Act
      const error = configError({ [name]: raw, ...consistentWith(name, max) });

      // Assess
      expect(error.message).toBe(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    }
  });

  it('maps each setting to its field', () => {
    // Act
    const config = loadConfig({
      ISSUER,
      INTERACTIVE_REGISTRATION_POLICY: 'token',
      REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0',
      REFRESH_TOKEN_IDLE_TTL_SECONDS: String(7 * DAY),
      REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS: String(14 * DAY),
      CLIENT_LOGIN_DEADLINE_SECONDS: '600',
      CLIENT_IDLE_TTL_SECONDS: String(2 * DAY),
    });

    // Assess
    expect(config).toMatchObject({
      interactiveRegistrationPolicy: 'token',
      refreshTokenReuseGraceSeconds: 0,
      refreshTokenIdleTtlSeconds: 7 * DAY,
      refreshTokenAbsoluteTtlSeconds: 14 * DAY,
      clientLoginDeadlineSeconds: 600,
      clientIdleTtlSeconds: 2 * DAY,
    });
  });

  it('refuses an absolute refresh lifetime shorter than the idle one', () => {
    // Act
    const error = configError({
      REFRESH_TOKEN_IDLE_TTL_SECONDS: String(30 * DAY),
      REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS: String(30 * DAY - 1),
    });

    // Assess
    expect(error.message).toBe(
      'REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS must be at least REFRESH_TOKEN_IDLE_TTL_SECONDS',
    );
  });

  it('refuses an idle refresh lifetime above the default absolute one', () => {
    // Act
    const error = configError({ REFRESH_TOKEN_IDLE_TTL_SECONDS: String(91 * DAY) });

    // Assess
    expect(error.message).toMatch(/REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS/);
  });

  it('accepts equal idle and absolute refresh lifetimes', () => {
    // Act
    const config = loadConfig({
      ISSUER,
      REFRESH_TOKEN_IDLE_TTL_SECONDS: String(7 * DAY),
      REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS: String(7 * DAY),
    });

    // Assess
    expect(config.refreshTokenAbsoluteTtlSeconds).toBe(config.refreshTokenIdleTtlSeconds);
  });
});

describe('loadConfig registration policies', () => {
  it.each(['open', 'token', 'closed'] as const)('accepts INTERACTIVE_REGISTRATION_POLICY=%s', (value) => {
    // Act
    const config = loadConfig({ ISSUER, INTERACTIVE_REGISTRATION_POLICY: value });

    // Assess
    expect(config.interactiveRegistrationPolicy).toBe(value);
  });

  it.each(['OPEN', 'yes', 'none'])('refuses INTERACTIVE_REGISTRATION_POLICY=%s, naming it', (value) => {
    // Act
    const error = configError({ INTERACTIVE_REGISTRATION_POLICY: value });

    // Assess
    expect(error.message).toBe(
      `INTERACTIVE_REGISTRATION_POLICY must be open, token or closed, got "${value}"`,
    );
  });

  it('sets the interactive policy independently of the machine-client policy', () => {
    // Act
    const config = loadConfig({ ISSUER, REGISTRATION_POLICY: 'closed' });

    // Assess
    expect(config.registrationPolicy).toBe('closed');
    expect(config.interactiveRegistrationPolicy).toBe('open');
  });
});

describe('loadConfig upstream provider', () => {
  it('reads the upstream provider with its secret and the default scopes', () => {
    // Act
    const config = loadConfig({ ISSUER, ...UPSTREAM });

    // Assess
    expect(config.upstream).toEqual({
      issuer: 'https://idp.example',
      clientId: 'upstream-client',
      clientSecret: 'upstream-secret',
      scopes: 'openid email profile',
    });
  });

  it('reads the upstream secret from Secrets Manager when given an ARN instead', () => {
    // Prepare
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:upstream-AbCdEf';

    // Act
    const config = loadConfig({
      ISSUER,
      UPSTREAM_ISSUER: UPSTREAM.UPSTREAM_ISSUER,
      UPSTREAM_CLIENT_ID: UPSTREAM.UPSTREAM_CLIENT_ID,
      UPSTREAM_CLIENT_SECRET_ARN: arn,
    });

    // Assess
    expect(config.upstream).toEqual({
      issuer: 'https://idp.example',
      clientId: 'upstream-client',
      clientSecretArn: arn,
      scopes: 'openid email profile',
    });
  });

  it.each([
    ['only the issuer', { UPSTREAM_ISSUER: UPSTREAM.UPSTREAM_ISSUER }],
    ['only the client id', { UPSTREAM_CLIENT_ID: UPSTREAM.UPSTREAM_CLIENT_ID }],
    ['only the secret', { UPSTREAM_CLIENT_SECRET: UPSTREAM.UPSTREAM_CLIENT_SECRET }],
    ['only the secret ARN', { UPSTREAM_CLIENT_SECRET_ARN: 'arn:aws:secretsmanager:x' }],
    ['no secret', { ...UPSTREAM, UPSTREAM_CLIENT_SECRET: undefined }],
    ['no client id', { ...UPSTREAM, UPSTREAM_CLIENT_ID: '' }],
    ['no issuer', { ...UPSTREAM, UPSTREAM_ISSUER: undefined }],
  ])('refuses an upstream provider with %s', (_, env) => {
    // Act
    const error = configError(env);

    // Assess
    expect(error.message).toBe(TOGETHER);
  });

  it.each(['http://localhost:9000', 'http://127.0.0.1:9000', 'http://[::1]:9000'])(
    'allows an http upstream issuer on the loopback host %s',
    (issuer) => {
      // Act
      const config = loadConfig({ ISSUER, ...UPSTREAM, UPSTREAM_ISSUER: issuer });

      // Assess
      expect(config.upstream?.issuer).toBe(issuer);
    },
  );

  it.each(['http://idp.example', 'http://localhost.idp.example', 'ftp://idp.example'])(
    'refuses the non-https upstream issuer %s',
    (issuer) => {
      // Act
      const error = configError({ ...UPSTREAM, UPSTREAM_ISSUER: issuer });

      // Assess
      expect(error.message).toBe(
        `UPSTREAM_ISSUER "${issuer}" must use https (http is allowed only on loopback hosts)`,
      );
    },
  );

  it('refuses an upstream issuer that is not a URL', () => {
    // Act
    const error = configError({ ...UPSTREAM, UPSTREAM_ISSUER: 'idp.example' });

    // Assess
    expect(error.message).toBe('UPSTREAM_ISSUER "idp.example" is not a URL');
  });

  it.each([
    ['ISSUER', 'localhost:3418'],
    ['ISSUER', '127.0.0.1:3000'],
    ['UPSTREAM_ISSUER', 'idp.example:443/realm'],
  ])('says %s "%s" has no scheme, not that it must use https', (name, value) => {
    // Act
    const error = configError({ ...UPSTREAM, [name]: value });

    // Assess
    expect(error.message).toBe(
      `${name} "${value}" has no scheme: write https://${value} (or http://${value} on a loopback host)`,
    );
  });

  it('normalizes the whitespace of UPSTREAM_SCOPES', () => {
    // Act
    const config = loadConfig({ ISSUER, ...UPSTREAM, UPSTREAM_SCOPES: '  openid\temail  ' });

    // Assess
    expect(config.upstream?.scopes).toBe('openid email');
  });

  it.each(['email profile', 'openid_connect email', 'OpenID'])(
    'refuses UPSTREAM_SCOPES "%s" without openid',
    (scopes) => {
      // Act
      const error = configError({ ...UPSTREAM, UPSTREAM_SCOPES: scopes });

      // Assess
      expect(error.message).toBe('UPSTREAM_SCOPES must include "openid"');
    },
  );
});
