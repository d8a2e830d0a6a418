/**
 * The numeric and choice settings both functions read, in one table: their environment variable
 * (what `loadConfig` in `config.ts` reads) and stack setting (what `lib/settings.ts` resolves and
 * the stack passes on as that variable), with one range and one default. Both parsers take
 * their bounds from here, so a value the stack accepts is a value the functions accept, and the
 * cross-setting rules below are checked by both.
 */
export type RegistrationPolicy = 'open' | 'token' | 'closed';

interface IntegerSetting {
  env: string;
  min: number;
  max: number;
  default: number;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

export const INTEGER_SETTINGS = {
  accessTokenTtlSeconds: { env: 'ACCESS_TOKEN_TTL_SECONDS', min: 60, max: DAY, default: HOUR },
  // Real hosts refresh one token in parallel bursts spread over up to 76 s (doc/threat-model.md).
  refreshTokenReuseGraceSeconds: { env: 'REFRESH_TOKEN_REUSE_GRACE_SECONDS', min: 0, max: 600, default: 120 },
  refreshTokenIdleTtlSeconds: {
    env: 'REFRESH_TOKEN_IDLE_TTL_SECONDS',
    min: HOUR,
    max: 365 * DAY,
    default: 30 * DAY,
  },
  refreshTokenAbsoluteTtlSeconds: {
    env: 'REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS',
    min: HOUR,
    max: 365 * DAY,
    default: 90 * DAY,
  },
  clientLoginDeadlineSeconds: { env: 'CLIENT_LOGIN_DEADLINE_SECONDS', min: 600, max: 30 * DAY, default: DAY },
  clientIdleTtlSeconds: { env: 'CLIENT_IDLE_TTL_SECONDS', min: DAY, max: 365 * DAY, default: 90 * DAY },
  revocationRefreshSeconds: { env: 'REVOCATION_REFRESH_SECONDS', min: 1, max: HOUR, default: 60 },
  revocationMaxAgeSeconds: { env: 'REVOCATION_MAX_AGE_SECONDS', min: 10, max: HOUR, default: 300 },
  // The upstream provider's say over a grant (lambda/oauth/login/upstream-recheck.ts); 0: every refresh.
  upstreamRecheckSeconds: { env: 'UPSTREAM_RECHECK_SECONDS', min: 0, max: DAY, default: 900 },
  upstreamOutageGraceSeconds: { env: 'UPSTREAM_OUTAGE_GRACE_SECONDS', min: 0, max: 7 * DAY, default: HOUR },
  upstreamSessionMaxSeconds: {
    env: 'UPSTREAM_SESSION_MAX_SECONDS',
    min: 300,
    max: 365 * DAY,
    default: 12 * HOUR,
  },
  /** The functions' only: the stack leaves it at its default. */
  maxBodyBytes: { env: 'MAX_BODY_BYTES', min: 1024, max: 6 * 1024 * 1024, default: 256 * 1024 },
} as const satisfies Record<string, IntegerSetting>;

export type IntegerSettingKey = keyof typeof INTEGER_SETTINGS;

export const REGISTRATION_POLICIES: readonly RegistrationPolicy[] = ['open', 'token', 'closed'];

/**
 * The registration policies: their variable, and what the functions (and so `npm start`) use when
 * it is unset. The stack always sets both, with its own defaults (`DEFAULT_SETTINGS`).
 */
export const POLICY_SETTINGS = {
  registrationPolicy: { env: 'REGISTRATION_POLICY', default: 'open' },
  interactiveRegistrationPolicy: { env: 'INTERACTIVE_REGISTRATION_POLICY', default: 'open' },
} as const satisfies Record<string, { env: string; default: RegistrationPolicy }>;

type Named<K extends string> = (key: K) => string;

/**
 * The rules between settings; answers the first one broken, with the settings named by `name`
 * (the environment variable for the functions, the stack setting for the stack).
 */
export function brokenSettingRule(
  values: Record<IntegerSettingKey, number>,
  name: Named<IntegerSettingKey>,
): string | undefined {
  if (values.refreshTokenAbsoluteTtlSeconds < values.refreshTokenIdleTtlSeconds) {
    return `${name('refreshTokenAbsoluteTtlSeconds')} must be at least ${name('refreshTokenIdleTtlSeconds')}`;
  }
  if (values.revocationRefreshSeconds > values.revocationMaxAgeSeconds) {
    return `${name('revocationRefreshSeconds')} must be at most ${name('revocationMaxAgeSeconds')}`;
  }
  return undefined;
}
