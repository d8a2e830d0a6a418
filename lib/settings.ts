/**
 * The deployment's settings. Each can be given as a stack prop (for apps that build the stack in
 * code) or as CDK context (`cdk deploy -c registrationPolicy=open`, or `cdk.json`), and has a
 * default. Props win over context. Invalid values fail synthesis with a message naming the key.
 */
import type { Node } from 'constructs';
import { parseBlockedClients } from '../lambda/shared/blocked-clients.js';
import { parseDocumentOverrides } from '../lambda/oauth/clients/document-overrides.js';
import {
  checkMappedScopes,
  parseTrustedIssuers,
  type TrustedIssuer,
} from '../lambda/mcp/auth/trusted-issuers.js';
import { parseEnterpriseIdps, type EnterpriseIdp } from '../lambda/oauth/grants/enterprise-idps.js';
import { DEFAULT_SCOPES } from '../lambda/shared/config.js';
import {
  COGNITO_GROUPS_CLAIM,
  DEFAULT_GROUPS_CLAIM,
  parseScopePolicy,
  type ScopePolicy,
} from '../lambda/shared/scope-policy.js';
import {
  brokenSettingRule,
  INTEGER_SETTINGS,
  REGISTRATION_POLICIES,
  type RegistrationPolicy,
} from '../lambda/shared/function-settings.js';

export type { ScopePolicy, TrustedIssuer };

/** `scopePolicy` as given; once resolved, `claim` is always set (`checkScopePolicy`). */
export interface ScopePolicySetting {
  readonly claim?: string;
  readonly scopes: Readonly<Record<string, readonly string[]>>;
}

export type RemovalChoice = 'retain' | 'destroy';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface DeploymentSettings {
  /** Lifetime of issued access tokens. */
  readonly accessTokenTtlSeconds: number;
  /**
   * Who may register clients that ask for the `client_credentials` grant (machine clients, which
   * act without a user) or the jwt-bearer grant (enterprise-managed clients, which get a user's
   * token with no consent page here): `open` (anyone), `token` (an initial access token the stack
   * generates, RFC 7591 §3) or `closed`. `token` by default: such a client gets tool access with
   * no user logging in here, so open registration would hand it to anyone on the internet.
   */
  readonly registrationPolicy: RegistrationPolicy;
  /**
   * Who may register clients that use neither of those grants (Claude, Cursor, VS Code, which
   * register themselves and cannot present an initial access token): `open`, `token` or `closed`.
   * `open` by default: such a client gets nothing until a user logs in upstream and consents.
   */
  readonly interactiveRegistrationPolicy: RegistrationPolicy;
  /** How long a rotated-out refresh token stays usable, for clients that refresh in parallel. */
  readonly refreshTokenReuseGraceSeconds: number;
  /** A refresh token unused this long expires. */
  readonly refreshTokenIdleTtlSeconds: number;
  /** No refresh token of a login outlives this, however often it is used. At least the idle TTL. */
  readonly refreshTokenAbsoluteTtlSeconds: number;
  /** A registered interactive client that completes no login within this time is deleted. */
  readonly clientLoginDeadlineSeconds: number;
  /** An interactive client unused this long expires. */
  readonly clientIdleTtlSeconds: number;
  /**
   * How often `/mcp` re-reads the revocation list: how late a revoked token normally stops
   * working there. At most `revocationMaxAgeSeconds`.
   */
  readonly revocationRefreshSeconds: number;
  /** The bound on how late a revocation takes effect at `/mcp`, even when the list cannot be read. */
  readonly revocationMaxAgeSeconds: number;
  /**
   * The upstream OpenID provider users log in with, instead of the Cognito user pool the stack
   * creates: its issuer (`https://...`, exactly as its `iss` claim reads). Needs
   * `upstreamClientId` and `upstreamClientSecretArn`.
   */
  readonly upstreamIssuer?: string;
  /** This server's client id at `upstreamIssuer`. */
  readonly upstreamClientId?: string;
  /**
   * The complete ARN of a Secrets Manager secret whose value is the plain client secret at
   * `upstreamIssuer`. The oauth function may read this secret and no other.
   */
  readonly upstreamClientSecretArn?: string;
  /** Scopes requested at the upstream provider; must include `openid`. */
  readonly upstreamScopes: readonly string[];
  /**
   * How often a grant is checked again at the upstream provider with its refresh token, at the
   * client's next refresh: a user disabled upstream gets no new access token after at most this.
   * `0` checks at every refresh.
   */
  readonly upstreamRecheckSeconds: number;
  /**
   * While the upstream provider cannot be reached (or answers 5xx), refreshes go on for this long
   * after the grant's last successful check; after it, they are answered 503 with `Retry-After`.
   */
  readonly upstreamOutageGraceSeconds: number;
  /**
   * A grant whose upstream provider issued no refresh token cannot be checked again: it ends this
   * long after the login, and the user logs in again.
   */
  readonly upstreamSessionMaxSeconds: number;
  /**
   * Which upstream groups may hold which scopes: `{"claim"?: string, "scopes": {"<scope>":
   * ["<group>", ...]}}`. A scope not listed is open to every user; `claim` defaults to
   * `cognito:groups` with the stack's user pool (which then gets one group per name) and to
   * `groups` otherwise. Applied at login and at every upstream re-check; never to machine clients.
   */
  readonly scopePolicy?: ScopePolicySetting;
  /**
   * Prefix of the Cognito hosted login domain (`<prefix>.auth.<region>.amazoncognito.com`), which
   * must be unique in the region across all AWS accounts. Default: the stack name and the account
   * id (see `lib/constructs/user-pool.ts`). Only with the Cognito user pool the stack creates.
   */
  readonly cognitoDomainPrefix?: string;
  /**
   * Adds to the stack's Cognito user pool a resource server and an app client for the
   * client credentials grant (machine-to-machine), and trusts that client's access tokens on
   * `/mcp` (their scope `mcp/tools` grants `mcp:tools`). Cognito bills M2M app clients monthly
   * and each token it issues. Only with the Cognito user pool the stack creates.
   */
  readonly cognitoMachineClient: boolean;
  /** Browser origins allowed to call the API (MCP Inspector, web clients). */
  readonly allowedOrigins: readonly string[];
  /**
   * Client ID metadata documents refused at `/authorize`, `/token` and `/mcp`: document URLs or
   * host names (`lambda/shared/blocked-clients.ts`).
   */
  readonly blockedClientMetadataDocuments: readonly string[];
  /**
   * Client ID metadata documents the operator supplies, by URL (a JSON object from document URL
   * to the document), for documents the oauth function cannot fetch: each is validated as a
   * fetched one is, and used instead of fetching (`lambda/oauth/clients/document-overrides.ts`).
   */
  readonly clientMetadataDocuments: Readonly<Record<string, unknown>>;
  /** Every scope the server knows. */
  readonly scopes: readonly string[];
  /**
   * External issuers `/mcp` accepts tokens from, each with the rules its tokens must meet and
   * how its scopes map to this server's (`scopeMap`).
   */
  readonly trustedIssuers: readonly TrustedIssuer[];
  /**
   * Company identity providers whose ID-JAGs (enterprise-managed authorization) the jwt-bearer
   * grant at `/token` redeems for a user's token: `[{issuer, jwksUri?, clientIds?}]`.
   */
  readonly enterpriseIdps: readonly EnterpriseIdp[];
  /** Custom domain (e.g. `mcp.example.com`); the issuer follows it. Needs `customDomainCertificateArn`. */
  readonly customDomainName?: string;
  /** ACM certificate for the custom domain, in the stack's region. */
  readonly customDomainCertificateArn?: string;
  /**
   * Email address subscribed to the alarm topic (confirm the subscription email once). This or
   * `alarmTopicArn` is required for every stage but `dev`.
   */
  readonly alarmEmail?: string;
  /**
   * An IAM role (its complete ARN, path included) that may also read the stack's secrets, for an
   * operator in an emergency or to hand out the initial access token. Every other principal but
   * the stack's own roles is denied `GetSecretValue` by the secrets' resource policies.
   */
  readonly breakGlassRoleArn?: string;
  /**
   * Monthly AWS Budgets cost budget, in whole US dollars, that notifies the alarm topic at 80 %
   * of actual and 100 % of forecast spend. It covers the whole account. `0` creates no budget.
   */
  readonly monthlyBudgetUsd: number;
  /** Value of the `project` tag on every resource. */
  readonly project: string;
  /**
   * Value of the `stage` tag. Every stage but `dev` gets stack termination protection, and needs
   * `alarmEmail` or `alarmTopicArn` and a canary.
   */
  readonly stage: string;
  /** Value of the `owner` tag (a team, an email address); no tag when absent. */
  readonly owner?: string;
  /**
   * What `cdk destroy` does to the table and log groups: `retain` keeps them (the table with
   * deletion protection); `destroy` deletes them (development stacks).
   */
  readonly removalPolicy: RemovalChoice;
  /**
   * Days between signing key rotations. A `rate(N days)` rotation can land anywhere in its
   * window, so two rotations can be `N − 1` days apart; that must outlive an access token plus
   * the signer's key cache and clock skew (see `ROTATION_SPACING_MARGIN_SECONDS`).
   */
  readonly signingKeyRotationDays: number;
  /** Memory of the `mcp` function, in MB (see doc/performance.md). */
  readonly mcpMemorySize: number;
  /** Memory of the `oauth` function, in MB (see doc/performance.md). */
  readonly oauthMemorySize: number;
  /**
   * Concurrent executions reserved for the `oauth` function, so that a flood of `/mcp` calls
   * cannot take the account's whole concurrency and leave token and login requests throttled.
   * `0`: none reserved (the default). Lambda keeps at least 100 of an account's concurrency
   * unreserved, so any reservation fails the deployment in an account whose limit is below
   * 100 + the reservations (new accounts may have a limit of 10); check
   * `aws lambda get-account-settings` first (doc/operations.md, "Reserved concurrency").
   */
  readonly oauthReservedConcurrency: number;
  /**
   * The most concurrent executions the `mcp` function may use (Lambda reserved concurrency, which
   * is a cap as well as a reservation): what is left of the account's concurrency stays for the
   * oauth and rotation functions and everything else in the account. `0`: no cap (the default);
   * the same account limit applies as for `oauthReservedConcurrency`.
   */
  readonly mcpReservedConcurrency: number;
  /** Retention of function logs and API access logs, in days. */
  readonly logRetentionDays: number;
  /**
   * Steady-state requests per second API Gateway accepts on EACH route (the stage's default
   * route throttle applies to every route separately, not to all routes together), shared by
   * all callers of that route: 27 routes at 200 allow 5,400 requests/s in all. See
   * doc/operations.md for the cost ceiling it implies.
   */
  readonly throttleRateLimit: number;
  /** Burst of requests each route accepts above its steady rate. */
  readonly throttleBurstLimit: number;
  /** Steady-state requests per second for `POST /register` and for `POST /dcr`, each (burst twice that). */
  readonly registrationRateLimit: number;
  /** p99 latency of `POST /mcp`, in milliseconds, above which the latency alarm fires. */
  readonly mcpLatencyP99AlarmMs: number;
  /** Log level of the functions. */
  readonly logLevel: LogLevel;
  /** RFC 9728 `resource_name` of the MCP server. */
  readonly resourceName: string;
  /**
   * AWS X-Ray active tracing on the functions. Off by default: no code is instrumented and HTTP
   * APIs send no segments, so traces would hold little more than the REPORT line, at a cost.
   */
  readonly tracing: boolean;
  /**
   * Reach Systems Manager Parameter Store (the public signing keys: the mcp function reads them,
   * the rotation writes them) at its FIPS endpoint, `ssm-fips.<region>.<URL suffix>`, in the
   * regions that have one; elsewhere the standard endpoint. See doc/operations.md.
   */
  readonly fipsEndpoints: boolean;

  // Production options (issue 11): the edge, the canary, where alarms go, rollouts.

  /**
   * Put a CloudFront distribution with an AWS WAF web ACL in front of the API: the issuer becomes
   * the distribution's domain (or `customDomainName`), and the functions answer 403 to requests
   * that lack the origin secret CloudFront adds, so the API cannot be reached around the WAF. The
   * web ACL must live in us-east-1, so the stack must too (doc/architecture.md).
   */
  readonly cloudFrontWaf: boolean;
  /**
   * Part of the distribution's comment: raising it makes CloudFormation update the distribution,
   * and so read the origin secret's current value again (the rotation in doc/operations.md).
   */
  readonly originSecretRevision: number;
  /**
   * Minutes between runs of the synthetic canary (metadata, token, `tools/call`). `0` creates no
   * canary, which only the `dev` stage may do; unset, 15, or 0 for the `dev` stage.
   */
  readonly canaryIntervalMinutes: number;
  /**
   * An existing SNS topic (its ARN, in the stack's account and region) that receives every alarm,
   * event and budget notification too, besides the stack's own topic. Its policy must let
   * CloudWatch, EventBridge and AWS Budgets publish (doc/operations.md).
   */
  readonly alarmTopicArn?: string;
  /**
   * Lambda aliases (`live`) for the oauth and mcp functions, shifted by CodeDeploy 10 % for
   * 10 minutes and rolled back when an alarm on the new version fires. The API routes then call
   * the aliases.
   */
  readonly safeRollouts: boolean;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

export const DEFAULT_SETTINGS: DeploymentSettings = {
  accessTokenTtlSeconds: INTEGER_SETTINGS.accessTokenTtlSeconds.default,
  registrationPolicy: 'token',
  interactiveRegistrationPolicy: 'open',
  refreshTokenReuseGraceSeconds: INTEGER_SETTINGS.refreshTokenReuseGraceSeconds.default,
  refreshTokenIdleTtlSeconds: INTEGER_SETTINGS.refreshTokenIdleTtlSeconds.default,
  refreshTokenAbsoluteTtlSeconds: INTEGER_SETTINGS.refreshTokenAbsoluteTtlSeconds.default,
  clientLoginDeadlineSeconds: INTEGER_SETTINGS.clientLoginDeadlineSeconds.default,
  clientIdleTtlSeconds: INTEGER_SETTINGS.clientIdleTtlSeconds.default,
  revocationRefreshSeconds: INTEGER_SETTINGS.revocationRefreshSeconds.default,
  revocationMaxAgeSeconds: INTEGER_SETTINGS.revocationMaxAgeSeconds.default,
  upstreamScopes: ['openid', 'email', 'profile'],
  upstreamRecheckSeconds: INTEGER_SETTINGS.upstreamRecheckSeconds.default,
  upstreamOutageGraceSeconds: INTEGER_SETTINGS.upstreamOutageGraceSeconds.default,
  upstreamSessionMaxSeconds: INTEGER_SETTINGS.upstreamSessionMaxSeconds.default,
  allowedOrigins: [],
  blockedClientMetadataDocuments: [],
  clientMetadataDocuments: {},
  scopes: DEFAULT_SCOPES,
  trustedIssuers: [],
  enterpriseIdps: [],
  cognitoMachineClient: false,
  removalPolicy: 'retain',
  signingKeyRotationDays: 30,
  mcpMemorySize: 1024,
  oauthMemorySize: 1024,
  // None by default: a new account's limit can be 10, and Lambda refuses any reservation that
  // leaves fewer than 100 unreserved.
  oauthReservedConcurrency: 0,
  mcpReservedConcurrency: 0,
  logRetentionDays: 30,
  throttleRateLimit: 200,
  throttleBurstLimit: 400,
  registrationRateLimit: 5,
  mcpLatencyP99AlarmMs: 1000,
  logLevel: 'info',
  resourceName: 'MCP server',
  tracing: false,
  fipsEndpoints: false,
  cloudFrontWaf: false,
  originSecretRevision: 1,
  canaryIntervalMinutes: 15,
  safeRollouts: false,
  monthlyBudgetUsd: 10,
  project: 'mcp-oauth',
  stage: 'dev',
};

/**
 * What a key must outlive once it stops signing, besides the tokens it signed: the functions'
 * key cache (they re-read the key set at most every 5 minutes, so the signer can keep using the
 * old key that long) and clock skew between issuer and verifiers.
 */
export const KEY_CACHE_SECONDS = 300;
export const CLOCK_SKEW_SECONDS = 60;
export const ROTATION_SPACING_MARGIN_SECONDS = KEY_CACHE_SECONDS + CLOCK_SKEW_SECONDS;

export class SettingsError extends Error {
  readonly code = 'ERR_SETTINGS';
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** CloudWatch Logs accepts only these retention periods. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * A setting's parser. `describe` says in a few words what it accepts (type and range): the
 * settings reference (`npm run docs` writes doc/reference/settings.md) prints it with the
 * setting's JSDoc and default, so the reference comes from what validates the settings.
 */
type Parser<T> = ((value: unknown, key: string) => T) & { readonly describe?: string };

/** `parse`, with the words the settings reference shows for what it accepts. */
const described = <T>(describe: string, parse: (value: unknown, key: string) => T): Parser<T> =>
  Object.assign((value: unknown, key: string) => parse(value, key), { describe });

const integer = (min: number, max: number): Parser<number> =>
  described(`integer, ${min} to ${max}`, (value, key) => {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new SettingsError(
        `"${key}" must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  });

/** A setting the functions read too: its range is theirs (`lambda/shared/function-settings.ts`). */
const integerSetting = (key: keyof typeof INTEGER_SETTINGS): Parser<number> =>
  integer(INTEGER_SETTINGS[key].min, INTEGER_SETTINGS[key].max);

const oneOf = <T extends string>(...allowed: T[]): Parser<T> =>
  described(`one of ${allowed.map((a) => `\`${a}\``).join(', ')}`, (value, key) => {
    if (typeof value !== 'string' || !allowed.includes(value as T)) {
      throw new SettingsError(`"${key}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    }
    return value as T;
  });

const text: Parser<string> = described('text', (value, key) => {
  if (typeof value !== 'string' || value.trim() === '')
    throw new SettingsError(`"${key}" must be a non-empty string`);
  return value.trim();
});

const bool: Parser<boolean> = described('`true` or `false`', (value, key) => {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new SettingsError(`"${key}" must be true or false, got ${JSON.stringify(value)}`);
});

/** A list given as an array, or as a string split on `separator` (how `-c key=a,b` arrives). */
const list =
  (separator: RegExp): Parser<string[]> =>
  (value, key) => {
    const items = typeof value === 'string' ? value.split(separator) : value;
    if (!Array.isArray(items) || items.some((i) => typeof i !== 'string')) {
      throw new SettingsError(`"${key}" must be a list of strings`);
    }
    return items.map((i: string) => i.trim()).filter(Boolean);
  };

const origins: Parser<string[]> = (value, key) =>
  list(/,/)(value, key).map((origin) => {
    if (origin === '*') return origin;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new SettingsError(
        `"${key}" has "${origin}", which is not an origin such as https://app.example.com`,
      );
    }
    if (url.origin !== origin.replace(/\/$/, '')) {
      throw new SettingsError(`"${key}" has "${origin}", which is not a bare origin (no path)`);
    }
    return url.origin;
  });

const blockedDocuments: Parser<string[]> = (value, key) => {
  const entries = list(/,/)(value, key);
  try {
    parseBlockedClients(entries.join(','), `"${key}"`);
  } catch (error) {
    throw new SettingsError((error as Error).message);
  }
  return entries;
};

/**
 * Documents by URL, as JSON text (`-c`, an environment variable) or an object (a stage file, a
 * stack prop). Each document is checked against `scopes` in `resolveSettings`, as the oauth
 * function checks it at start.
 */
const clientMetadataDocuments: Parser<Record<string, unknown>> = (value, key) => {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new SettingsError(`"${key}" must be a JSON object from document URL to document`);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new SettingsError(`"${key}" must be a JSON object from document URL to document`);
  return parsed as Record<string, unknown>;
};

const scopes: Parser<string[]> = (value, key) => {
  const parsed = list(/\s+|,/)(value, key);
  for (const scope of parsed) {
    if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope))
      throw new SettingsError(`"${key}" has an invalid scope "${scope}"`);
  }
  if (parsed.length === 0) throw new SettingsError(`"${key}" must name at least one scope`);
  return parsed;
};

/**
 * External issuers, as the mcp function reads them (`TRUSTED_ISSUERS`, parsed by its own
 * `parseTrustedIssuers`, so a setting that would stop the function from starting fails synth
 * instead; `resolveSettings` then checks the scopes a `scopeMap` grants against `scopes` with
 * the function's `checkMappedScopes`). `audience` (one string) is accepted as a shorthand for
 * `audiences`.
 */
const trustedIssuers: Parser<TrustedIssuer[]> = (value, key) => {
  let items: unknown = value;
  if (typeof value === 'string') {
    try {
      items = JSON.parse(value);
    } catch {
      throw new SettingsError(
        `"${key}" must be a JSON array of {issuer, clientIds?, audiences?, scopeMap?, requiredScopes?}`,
      );
    }
  }
  if (!Array.isArray(items)) throw new SettingsError(`"${key}" must be an array`);
  const normalized = items.map((item: unknown) => {
    if (typeof item !== 'object' || item === null || !('audience' in item)) return item;
    const { audience, ...rest } = item as Record<string, unknown>;
    return { ...rest, audiences: [audience] };
  });
  try {
    return parseTrustedIssuers(JSON.stringify(normalized));
  } catch (error) {
    throw new SettingsError(`"${key}": ${(error as Error).message.replaceAll('TRUSTED_ISSUERS', key)}`);
  }
};

/**
 * Enterprise identity providers, as the oauth function reads them (`ENTERPRISE_IDPS`, parsed by
 * its own `parseEnterpriseIdps`, so a setting that would stop the function from starting fails
 * synth instead). Deployed, every URL is https: the loopback http the local server allows for
 * its stand-in provider is refused here.
 */
const enterpriseIdps: Parser<EnterpriseIdp[]> = (value, key) => {
  let idps: EnterpriseIdp[];
  try {
    idps = parseEnterpriseIdps(typeof value === 'string' ? value : JSON.stringify(value), key);
  } catch (error) {
    throw new SettingsError(`"${key}": ${(error as Error).message}`);
  }
  idps.forEach((idp, i) => {
    for (const [field, url] of [
      ['issuer', idp.issuer],
      ['jwksUri', idp.jwksUri],
    ] as const) {
      if (url !== undefined && !url.startsWith('https://')) {
        throw new SettingsError(`"${key}": ${key}[${i}].${field} must be an https URL`);
      }
    }
  });
  return idps;
};

/**
 * An upstream OpenID issuer, kept exactly as given: it must equal the provider's `iss` claim
 * (OpenID Connect Discovery §4.3), so a trailing slash is part of it where the provider has one.
 */
const issuerUrl: Parser<string> = (value, key) => {
  const s = text(value, key);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new SettingsError(`"${key}" must be an https URL, got ${JSON.stringify(s)}`);
  }
  if (url.protocol !== 'https:')
    throw new SettingsError(`"${key}" must be an https URL, got ${JSON.stringify(s)}`);
  if (url.search || url.hash || url.username || url.password) {
    throw new SettingsError(`"${key}" must be an https URL without query, fragment or credentials`);
  }
  return s;
};

/**
 * The complete ARN, with the six characters Secrets Manager appends to the name: IAM matches a
 * grant against the complete ARN, so a partial one would leave the function unable to read it.
 */
const secretArn: Parser<string> = (value, key) => {
  const s = text(value, key);
  if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/.test(s)) {
    throw new SettingsError(
      `"${key}" must be the complete ARN of a Secrets Manager secret ` +
        '(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, as describe-secret prints it)',
    );
  }
  return s;
};

const upstreamScopes: Parser<string[]> = (value, key) => {
  const parsed = scopes(value, key);
  if (!parsed.includes('openid')) throw new SettingsError(`"${key}" must include "openid"`);
  return parsed;
};

/**
 * The policy's shape only (JSON text or object); its scopes are checked against `scopes`, and
 * its default claim filled in, by `resolveSettings` (`checkScopePolicy`), which knows both.
 */
const scopePolicy: Parser<ScopePolicySetting> = (value, key) => {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new SettingsError(
        `"${key}" is not valid JSON; write {"claim": "groups", "scopes": {"<scope>": ["<group>", ...]}}`,
      );
    }
  }
  try {
    // Every scope is accepted here; the real check is in checkScopePolicy.
    const named = (parsed as { scopes?: unknown } | null)?.scopes;
    const scopes = named && typeof named === 'object' ? Object.keys(named) : [];
    const policy = parseScopePolicy(parsed, scopes, `"${key}"`);
    return (parsed as { claim?: unknown }).claim === undefined ? { scopes: policy.scopes } : policy;
  } catch (error) {
    throw new SettingsError((error as Error).message);
  }
};

/**
 * What `cognitoMachineClient` adds to the stack's user pool: a resource server `mcp` with the
 * scope `tools`, which Cognito writes into access tokens as `mcp/tools`, and the scopes that
 * grants on `/mcp`.
 */
export const COGNITO_MACHINE_SCOPE = {
  resourceServer: 'mcp',
  scope: 'tools',
  grants: ['mcp:tools'],
} as const;

/** Cognito refuses a prefix domain that contains one of these. */
export const COGNITO_RESERVED_WORDS = ['aws', 'amazon', 'cognito'];

/** Scopes the app client of the stack's own user pool can be allowed without a resource server. */
export const COGNITO_STANDARD_SCOPES = ['openid', 'email', 'phone', 'profile'];

const cognitoDomainPrefix: Parser<string> = (value, key) => {
  const s = text(value, key);
  if (!/^(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(s)) {
    throw new SettingsError(
      `"${key}" must be 1 to 63 lowercase letters, digits and hyphens, not starting or ending with a hyphen`,
    );
  }
  const reserved = COGNITO_RESERVED_WORDS.find((word) => s.includes(word));
  if (reserved) throw new SettingsError(`"${key}" must not contain "${reserved}" (Cognito reserves it)`);
  return s;
};

const email: Parser<string> = (value, key) => {
  const s = text(value, key);
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(s)) throw new SettingsError(`"${key}" must be an email address`);
  return s;
};

/**
 * An IAM role ARN, as `aws:PrincipalArn` carries it for the role's sessions: the role, not an
 * `assumed-role` session, and no wildcard (the resource policies compare with ArnNotEquals).
 */
const roleArn: Parser<string> = (value, key) => {
  const s = text(value, key);
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/.test(s)) {
    throw new SettingsError(
      `"${key}" must be the ARN of an IAM role, path included (arn:aws:iam::<account>:role/<path/><name>, ` +
        `as aws iam get-role prints it), not a session or a pattern; got ${JSON.stringify(s)}`,
    );
  }
  return s;
};

/** A tag value AWS accepts everywhere: letters, digits, spaces and `_ . : / = + - @`, at most 256. */
const tagValue: Parser<string> = (value, key) => {
  const s = text(value, key);
  if (s.length > 256 || !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u.test(s)) {
    throw new SettingsError(
      `"${key}" must be at most 256 letters, digits, spaces and _ . : / = + - @ (an AWS tag value)`,
    );
  }
  return s;
};

/** A stage name also decides termination protection, so it is kept to a plain identifier. */
const stage: Parser<string> = (value, key) => {
  const s = text(value, key);
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(s)) {
    throw new SettingsError(
      `"${key}" must be 1 to 32 lowercase letters, digits and hyphens, starting with a letter (dev, staging, prod)`,
    );
  }
  return s;
};

const retention: Parser<number> = (value, key) => {
  const n = integer(1, 3653)(value, key);
  if (!RETENTION_DAYS.includes(n)) {
    throw new SettingsError(
      `"${key}" must be one of ${RETENTION_DAYS.join(', ')} (CloudWatch Logs retention periods)`,
    );
  }
  return n;
};

/** An SNS topic ARN, as `aws sns list-topics` prints it. */
const topicArn: Parser<string> = (value, key) => {
  const s = text(value, key);
  if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(s)) {
    throw new SettingsError(
      `"${key}" must be the ARN of an SNS topic (arn:aws:sns:<region>:<account>:<name>), got ${JSON.stringify(s)}`,
    );
  }
  return s;
};

const PARSERS: { [K in keyof DeploymentSettings]-?: Parser<NonNullable<DeploymentSettings[K]>> } = {
  accessTokenTtlSeconds: integerSetting('accessTokenTtlSeconds'),
  registrationPolicy: oneOf(...REGISTRATION_POLICIES),
  interactiveRegistrationPolicy: oneOf(...REGISTRATION_POLICIES),
  refreshTokenReuseGraceSeconds: integerSetting('refreshTokenReuseGraceSeconds'),
  refreshTokenIdleTtlSeconds: integerSetting('refreshTokenIdleTtlSeconds'),
  refreshTokenAbsoluteTtlSeconds: integerSetting('refreshTokenAbsoluteTtlSeconds'),
  clientLoginDeadlineSeconds: integerSetting('clientLoginDeadlineSeconds'),
  clientIdleTtlSeconds: integerSetting('clientIdleTtlSeconds'),
  revocationRefreshSeconds: integerSetting('revocationRefreshSeconds'),
  revocationMaxAgeSeconds: integerSetting('revocationMaxAgeSeconds'),
  upstreamIssuer: described('https URL, exactly as the `iss` of the provider reads', issuerUrl),
  upstreamClientId: text,
  upstreamClientSecretArn: described('complete Secrets Manager secret ARN', secretArn),
  upstreamScopes: described('scopes, space- or comma-separated, with `openid`', upstreamScopes),
  upstreamRecheckSeconds: integerSetting('upstreamRecheckSeconds'),
  upstreamOutageGraceSeconds: integerSetting('upstreamOutageGraceSeconds'),
  upstreamSessionMaxSeconds: integerSetting('upstreamSessionMaxSeconds'),
  scopePolicy: described(
    'JSON `{"claim"?: "<claim>", "scopes": {"<scope>": ["<group>", ...]}}`',
    scopePolicy,
  ),
  cognitoDomainPrefix: described('1 to 63 lowercase letters, digits and hyphens', cognitoDomainPrefix),
  cognitoMachineClient: bool,
  allowedOrigins: described('origins (`https://app.example.com`), comma-separated', origins),
  blockedClientMetadataDocuments: described('document URLs or hosts, comma-separated', blockedDocuments),
  clientMetadataDocuments: described(
    'JSON object: a document URL to the document served there',
    clientMetadataDocuments,
  ),
  scopes: described('scopes, space- or comma-separated', scopes),
  trustedIssuers: described(
    'JSON array of `{issuer, clientIds?, audiences?, scopeMap?, requiredScopes?}`',
    trustedIssuers,
  ),
  enterpriseIdps: described('JSON array of `{issuer, jwksUri?, clientIds?}`', enterpriseIdps),
  customDomainName: described('domain name (`mcp.example.com`)', (value, key) => {
    const s = text(value, key).toLowerCase();
    if (!/^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/.test(s)) {
      throw new SettingsError(`"${key}" must be a domain name such as mcp.example.com`);
    }
    return s;
  }),
  customDomainCertificateArn: described('ACM certificate ARN', (value, key) => {
    const s = text(value, key);
    if (!/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/.test(s)) {
      throw new SettingsError(`"${key}" must be an ACM certificate ARN`);
    }
    return s;
  }),
  alarmEmail: described('email address', email),
  breakGlassRoleArn: described('IAM role ARN, path included', roleArn),
  monthlyBudgetUsd: integer(0, 1_000_000),
  project: described('AWS tag value, at most 256 characters', tagValue),
  stage: described('1 to 32 lowercase letters, digits and hyphens', stage),
  owner: described('AWS tag value, at most 256 characters', tagValue),
  removalPolicy: oneOf('retain', 'destroy'),
  signingKeyRotationDays: integer(1, 365),
  mcpMemorySize: integer(128, 10_240),
  oauthMemorySize: integer(128, 10_240),
  // 0 means none; Lambda checks the account's own limit at deployment.
  oauthReservedConcurrency: integer(0, 10_000),
  mcpReservedConcurrency: integer(0, 10_000),
  logRetentionDays: described(
    'days, a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, ...)',
    retention,
  ),
  throttleRateLimit: integer(1, 10_000),
  throttleBurstLimit: integer(1, 5_000),
  registrationRateLimit: integer(1, 10_000),
  mcpLatencyP99AlarmMs: integer(10, 30_000),
  logLevel: oneOf('debug', 'info', 'warn', 'error'),
  resourceName: text,
  tracing: bool,
  fipsEndpoints: bool,
  cloudFrontWaf: bool,
  originSecretRevision: integer(1, 1_000_000),
  // CloudWatch Synthetics schedules: rate(1 minute) to rate(1 hour).
  canaryIntervalMinutes: integer(0, 60),
  alarmTopicArn: described('SNS topic ARN', topicArn),
  safeRollouts: bool,
};

/**
 * The parser of one setting, for the local server's environment variables that carry the same
 * setting (`SCOPES`, `ALLOWED_ORIGINS`, ...): `name` is what its messages call it.
 */
export function parseSetting<K extends keyof DeploymentSettings>(
  key: K,
  value: unknown,
  name: string,
): NonNullable<DeploymentSettings[K]> {
  return PARSERS[key](value as never, name) as NonNullable<DeploymentSettings[K]>;
}

/** What a setting accepts, in the words of the settings reference (`npm run docs`). */
export function describeSetting(key: keyof DeploymentSettings): string | undefined {
  return PARSERS[key].describe;
}

/** The settings keys, which are also the CDK context keys. */
export const SETTING_KEYS = Object.keys(PARSERS) as (keyof DeploymentSettings)[];

/**
 * Resolves every setting from props, then CDK context, then the default, and checks the
 * settings that depend on each other.
 */
/** Whether a setting was given as a prop or in the CDK context. */
function isGiven(props: Partial<DeploymentSettings>, node: Node | undefined, key: keyof DeploymentSettings) {
  const given = props[key] ?? node?.tryGetContext(key);
  return given !== undefined && given !== null;
}

export function resolveSettings(props: Partial<DeploymentSettings>, node?: Node): DeploymentSettings {
  const resolved: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const given = props[key] ?? node?.tryGetContext(key);
    resolved[key] =
      given === undefined || given === null ? DEFAULT_SETTINGS[key] : PARSERS[key](given as never, key);
  }
  // The canary is what watches a stage nobody looks at; a dev stack runs without one unless asked,
  // so that an idle development deployment costs about a dollar a month (doc/operations.md).
  if (
    isGiven(props, node, 'canaryIntervalMinutes') === false &&
    (resolved as { stage: string }).stage === DEV_STAGE
  ) {
    resolved.canaryIntervalMinutes = 0;
  }
  const settings = resolved as unknown as DeploymentSettings;

  if (Boolean(settings.customDomainName) !== Boolean(settings.customDomainCertificateArn)) {
    throw new SettingsError('"customDomainName" and "customDomainCertificateArn" must be given together');
  }
  checkRotationSpacing(settings);
  if (settings.throttleBurstLimit < settings.throttleRateLimit) {
    throw new SettingsError('"throttleBurstLimit" must be at least "throttleRateLimit"');
  }
  const broken = brokenSettingRule(
    { ...settings, maxBodyBytes: INTEGER_SETTINGS.maxBodyBytes.default },
    (key) => `"${key}"`,
  );
  if (broken) throw new SettingsError(broken);
  checkUpstream(settings);
  checkScopePolicy(settings);
  checkTrustedIssuers(settings);
  checkClientMetadataDocuments(settings);
  checkProductionOptions(settings);
  return settings;
}

/**
 * A key stays published for one rotation period after it stops signing, and that period must
 * outlive the tokens it signed. Secrets Manager starts a `rate(N days)` rotation at any time in
 * its window on the day it falls due, computed from the day of the last rotation (and without a
 * window, any time that UTC day), so two rotations can be as close as `N − 1` days.
 */
function checkRotationSpacing(settings: DeploymentSettings): void {
  const days = settings.signingKeyRotationDays;
  const shortest = (days - 1) * 86_400;
  const needed = settings.accessTokenTtlSeconds + ROTATION_SPACING_MARGIN_SECONDS;
  if (shortest < needed) {
    throw new SettingsError(
      `"signingKeyRotationDays" ${days} is too short for "accessTokenTtlSeconds" ${settings.accessTokenTtlSeconds}: ` +
        `two rotations can land (${days} − 1) × 86400 = ${shortest} s apart, and a key must stay published for ` +
        `the token lifetime + ${KEY_CACHE_SECONDS} s key cache + ${CLOCK_SKEW_SECONDS} s clock skew = ${needed} s ` +
        'after it stops signing; raise "signingKeyRotationDays" or lower "accessTokenTtlSeconds"',
    );
  }
}

export const UPSTREAM_KEYS = ['upstreamIssuer', 'upstreamClientId', 'upstreamClientSecretArn'] as const;

/** True when users log in at an external OpenID provider, false when at the stack's own user pool. */
export function hasExternalUpstream(settings: DeploymentSettings): boolean {
  return UPSTREAM_KEYS.every((key) => settings[key] !== undefined);
}

function checkUpstream(settings: DeploymentSettings): void {
  const given = UPSTREAM_KEYS.filter((key) => settings[key] !== undefined);
  if (given.length > 0 && given.length < UPSTREAM_KEYS.length) {
    throw new SettingsError(
      `"upstreamIssuer", "upstreamClientId" and "upstreamClientSecretArn" must be given together ` +
        `(or none, for the Cognito user pool the stack creates); got only ${given.map((k) => `"${k}"`).join(', ')}`,
    );
  }
  if (hasExternalUpstream(settings)) {
    if (settings.cognitoDomainPrefix !== undefined) {
      throw new SettingsError(
        '"cognitoDomainPrefix" applies only to the Cognito user pool the stack creates, not with "upstreamIssuer"',
      );
    }
    return;
  }
  const unsupported = settings.upstreamScopes.filter((scope) => !COGNITO_STANDARD_SCOPES.includes(scope));
  if (unsupported.length) {
    throw new SettingsError(
      `"upstreamScopes" with the stack's Cognito user pool may only contain ${COGNITO_STANDARD_SCOPES.join(', ')}; ` +
        `got ${unsupported.map((s) => `"${s}"`).join(', ')}`,
    );
  }
}

/**
 * The policy's scopes must be scopes the server knows, and its claim defaults to Cognito's groups
 * claim with the stack's user pool, to `groups` with an external provider.
 */
function checkScopePolicy(settings: DeploymentSettings): void {
  const { scopePolicy: policy } = settings;
  if (!policy) return;
  const claim = policy.claim ?? (hasExternalUpstream(settings) ? DEFAULT_GROUPS_CLAIM : COGNITO_GROUPS_CLAIM);
  try {
    (settings as { scopePolicy?: ScopePolicySetting }).scopePolicy = parseScopePolicy(
      { claim, scopes: policy.scopes },
      settings.scopes,
      '"scopePolicy"',
    );
  } catch (error) {
    throw new SettingsError((error as Error).message);
  }
}

/** The one stage that may run without a canary and without anyone receiving its alarms. */
export const DEV_STAGE = 'dev';

/** The region of an ACM certificate ARN (`arn:aws:acm:<region>:...`). */
export function certificateRegion(certificateArn: string): string {
  return certificateArn.split(':')[3]!;
}

/** The region CloudFront takes its certificates and web ACLs from. */
export const CLOUDFRONT_REGION = 'us-east-1';

/**
 * A stage other than dev must be watched: a canary that runs, and someone who receives the
 * alarms (an email address or an existing topic). A certificate for CloudFront must come from
 * us-east-1, whatever the stack's region.
 */
function checkProductionOptions(settings: DeploymentSettings): void {
  if (settings.stage !== DEV_STAGE) {
    if (settings.canaryIntervalMinutes === 0) {
      throw new SettingsError(
        `"canaryIntervalMinutes" 0 (no canary) is allowed only for the ${DEV_STAGE} stage; ` +
          `stage "${settings.stage}" needs a canary (1 to 60 minutes)`,
      );
    }
    if (!settings.alarmEmail && !settings.alarmTopicArn) {
      throw new SettingsError(
        `stage "${settings.stage}" needs someone to receive its alarms: set "alarmEmail" or "alarmTopicArn" ` +
          `(only the ${DEV_STAGE} stage may run without)`,
      );
    }
  }
  if (settings.cloudFrontWaf && settings.customDomainCertificateArn) {
    const region = certificateRegion(settings.customDomainCertificateArn);
    if (region !== CLOUDFRONT_REGION) {
      throw new SettingsError(
        `"customDomainCertificateArn" is in ${region}, but with "cloudFrontWaf" the certificate is CloudFront's, ` +
          `which must be in ${CLOUDFRONT_REGION}: request or import it there`,
      );
    }
  }
}

/**
 * Parses settings given as one object (a stage file, `lib/stages.ts`) with the same parsers as
 * props and context: an unknown key is refused rather than ignored, so a misspelt setting cannot
 * silently fall back to its default.
 */
export function parseSettings(values: Record<string, unknown>, source: string): Partial<DeploymentSettings> {
  const parsed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (!(SETTING_KEYS as string[]).includes(key)) {
      throw new SettingsError(`${source}: "${key}" is not a setting (see doc/reference/settings.md)`);
    }
    try {
      parsed[key] = PARSERS[key as keyof DeploymentSettings](value as never, key);
    } catch (error) {
      throw new SettingsError(`${source}: ${(error as Error).message}`);
    }
  }
  return parsed as Partial<DeploymentSettings>;
}

/** The supplied documents, held to what the oauth function will check at start. */
function checkClientMetadataDocuments(settings: DeploymentSettings): void {
  if (Object.keys(settings.clientMetadataDocuments).length === 0) return;
  try {
    parseDocumentOverrides(
      JSON.stringify(settings.clientMetadataDocuments),
      settings.scopes,
      '"clientMetadataDocuments"',
    );
  } catch (error) {
    throw new SettingsError((error as Error).message);
  }
}

/**
 * The scopes a trusted issuer's `scopeMap` grants, and the one `cognitoMachineClient` grants,
 * must be scopes this server knows (`scopes`): a typo would accept the tokens and then refuse
 * every call with `insufficient_scope`.
 */
function checkTrustedIssuers(settings: DeploymentSettings): void {
  try {
    checkMappedScopes(settings.trustedIssuers, settings.scopes, 'trustedIssuers');
  } catch (error) {
    throw new SettingsError(`"trustedIssuers": ${(error as Error).message}`);
  }
  if (!settings.cognitoMachineClient) return;
  if (hasExternalUpstream(settings)) {
    throw new SettingsError(
      '"cognitoMachineClient" applies only to the Cognito user pool the stack creates, not with "upstreamIssuer"',
    );
  }
  const missing = COGNITO_MACHINE_SCOPE.grants.filter((scope) => !settings.scopes.includes(scope));
  if (missing.length) {
    throw new SettingsError(
      `"cognitoMachineClient" grants ${missing.map((s) => `"${s}"`).join(', ')}, which "scopes" does not list`,
    );
  }
}
