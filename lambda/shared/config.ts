/**
 * Settings shared by the functions, read from environment variables that the CDK stack (in AWS)
 * or the local server sets. Invalid settings fail at start with a message naming the variable.
 */
import {
  brokenSettingRule,
  INTEGER_SETTINGS,
  POLICY_SETTINGS,
  REGISTRATION_POLICIES,
  type IntegerSettingKey,
  type RegistrationPolicy,
} from './function-settings.js';
import { parseBlockedClients, type BlockedClients } from './blocked-clients.js';
import { parseScopePolicy, type ScopePolicy } from './scope-policy.js';

export type { RegistrationPolicy };

export interface Config {
  /** The authorization server's issuer: a bare origin such as `https://abc.execute-api.eu-west-1.amazonaws.com`. */
  issuer: string;
  /** The MCP resource identifier, `<issuer>/mcp` (RFC 8707, RFC 9728 `resource`). */
  mcpResource: string;
  accessTokenTtlSeconds: number;
  /** Every scope this server knows; the default for clients that register none. */
  scopesSupported: string[];
  registrationPolicy: RegistrationPolicy;
  /** Browser origins allowed to call `/mcp` and the OAuth endpoints. */
  allowedOrigins: string[];
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Human-readable name of the resource (RFC 9728 `resource_name`). */
  resourceName: string;
  /**
   * Who may register clients that use neither `client_credentials` nor the jwt-bearer grant
   * (desktop and web clients that log a user in). `registrationPolicy` governs those that do.
   */
  interactiveRegistrationPolicy: RegistrationPolicy;
  /** How long a rotated-out refresh token stays usable, for clients that refresh in parallel. */
  refreshTokenReuseGraceSeconds: number;
  /** A refresh token unused this long expires. */
  refreshTokenIdleTtlSeconds: number;
  /** No refresh token of a grant outlives this, counted from the login. */
  refreshTokenAbsoluteTtlSeconds: number;
  /** An interactive client that completes no login within this time after registering expires. */
  clientLoginDeadlineSeconds: number;
  /** An interactive client unused this long expires. */
  clientIdleTtlSeconds: number;
  /**
   * The bound on how late a revocation (a deleted client, a revoked grant or token) takes effect
   * at `/mcp`: the oldest copy of the revocation list it may answer from.
   */
  revocationMaxAgeSeconds: number;
  /** How often `/mcp` re-reads the revocation list: how late a revocation normally takes effect. */
  revocationRefreshSeconds: number;
  /** Client ID metadata documents the operator has blocked (`lambda/shared/blocked-clients.ts`). */
  blockedClients: BlockedClients;
  /** The upstream OpenID provider users log in with; absent when login is not configured. */
  upstream?: UpstreamConfig;
  /**
   * How often a grant is checked again at the upstream provider (its refresh token), when the
   * client refreshes: how late a user disabled upstream loses access.
   */
  upstreamRecheckSeconds: number;
  /** While the upstream cannot be reached, refreshes go on this long after the last successful check. */
  upstreamOutageGraceSeconds: number;
  /** A grant whose upstream issued no refresh token cannot be re-checked: it ends this long after the login. */
  upstreamSessionMaxSeconds: number;
  /** Which upstream groups may hold which scopes (`SCOPE_POLICY`); absent: every scope is open to every user. */
  scopePolicy?: ScopePolicy;
}

export interface UpstreamConfig {
  issuer: string;
  clientId: string;
  /** The client secret itself (local mode) ... */
  clientSecret?: string;
  /** ... or the Secrets Manager secret that holds it (deployed). */
  clientSecretArn?: string;
  scopes: string;
}

export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_SCOPES = ['mcp:tools', 'mcp:resources'];

/** Parses a setting that must be an https URL, or http on a loopback host for local use. */
function httpsOrLoopbackUrl(name: string, value: string): URL {
  // `localhost:3418` parses as a URL whose scheme is `localhost:`, and `127.0.0.1:3000` as none: say
  // what is missing.
  if (/^[^:/]+:\d+(\/|$)/.test(value)) {
    throw new ConfigError(
      `${name} "${value}" has no scheme: write https://${value} (or http://${value} on a loopback host)`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} "${value}" is not a URL`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(`${name} "${value}" must use https (http is allowed only on loopback hosts)`);
  }
  return url;
}

/** Validates an issuer: an https origin, or http on a loopback host for local use. */
export function normalizeIssuer(value: string): string {
  const url = httpsOrLoopbackUrl('ISSUER', value);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
    throw new ConfigError(`ISSUER "${value}" must be a bare origin, without path, query or fragment`);
  }
  return url.origin;
}

/** An integer setting of `function-settings.ts`: its variable, range and default. */
function integer(env: Record<string, string | undefined>, key: IntegerSettingKey): number {
  const { env: name, min, max, default: fallback } = INTEGER_SETTINGS[key];
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function policy(env: Record<string, string | undefined>, name: string, fallback: RegistrationPolicy) {
  const value = (env[name] || fallback) as RegistrationPolicy;
  if (!REGISTRATION_POLICIES.includes(value)) {
    throw new ConfigError(`${name} must be open, token or closed, got "${value}"`);
  }
  return value;
}

function upstream(env: Record<string, string | undefined>): UpstreamConfig | undefined {
  const { UPSTREAM_ISSUER: issuer, UPSTREAM_CLIENT_ID: clientId } = env;
  const secret = env.UPSTREAM_CLIENT_SECRET;
  const secretArn = env.UPSTREAM_CLIENT_SECRET_ARN;
  if (!issuer && !clientId && !secret && !secretArn) return undefined;
  if (!issuer || !clientId || (!secret && !secretArn)) {
    throw new ConfigError(
      'UPSTREAM_ISSUER, UPSTREAM_CLIENT_ID and UPSTREAM_CLIENT_SECRET (or UPSTREAM_CLIENT_SECRET_ARN) go together',
    );
  }
  httpsOrLoopbackUrl('UPSTREAM_ISSUER', issuer);
  const scopes = list(env.UPSTREAM_SCOPES || 'openid email profile', /\s+/);
  if (!scopes.includes('openid')) throw new ConfigError('UPSTREAM_SCOPES must include "openid"');
  return {
    issuer,
    clientId,
    ...(secret ? { clientSecret: secret } : { clientSecretArn: secretArn! }),
    scopes: scopes.join(' '),
  };
}

function blockedClients(env: Record<string, string | undefined>): BlockedClients {
  try {
    return parseBlockedClients(env.BLOCKED_CLIENT_METADATA_DOCUMENTS, 'BLOCKED_CLIENT_METADATA_DOCUMENTS');
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

function list(raw: string | undefined, separator: RegExp): string[] {
  return (raw ?? '')
    .split(separator)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  if (!env.ISSUER) throw new ConfigError('ISSUER is required');
  const issuer = normalizeIssuer(env.ISSUER);
  const scopes = env.SCOPES ? list(env.SCOPES, /\s+/) : DEFAULT_SCOPES;
  for (const scope of scopes) {
    if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope))
      throw new ConfigError(`SCOPES has an invalid scope "${scope}"`);
  }
  const config: Config = {
    issuer,
    mcpResource: `${issuer}/mcp`,
    accessTokenTtlSeconds: integer(env, 'accessTokenTtlSeconds'),
    scopesSupported: scopes,
    registrationPolicy: policy(env, 'REGISTRATION_POLICY', POLICY_SETTINGS.registrationPolicy.default),
    allowedOrigins: list(env.ALLOWED_ORIGINS, /,/).map((o) => o.replace(/\/$/, '')),
    maxBodyBytes: integer(env, 'maxBodyBytes'),
    resourceName: env.RESOURCE_NAME || 'MCP server',
    interactiveRegistrationPolicy: policy(
      env,
      'INTERACTIVE_REGISTRATION_POLICY',
      POLICY_SETTINGS.interactiveRegistrationPolicy.default,
    ),
    refreshTokenReuseGraceSeconds: integer(env, 'refreshTokenReuseGraceSeconds'),
    refreshTokenIdleTtlSeconds: integer(env, 'refreshTokenIdleTtlSeconds'),
    refreshTokenAbsoluteTtlSeconds: integer(env, 'refreshTokenAbsoluteTtlSeconds'),
    clientLoginDeadlineSeconds: integer(env, 'clientLoginDeadlineSeconds'),
    clientIdleTtlSeconds: integer(env, 'clientIdleTtlSeconds'),
    revocationMaxAgeSeconds: integer(env, 'revocationMaxAgeSeconds'),
    revocationRefreshSeconds: integer(env, 'revocationRefreshSeconds'),
    blockedClients: blockedClients(env),
    upstreamRecheckSeconds: integer(env, 'upstreamRecheckSeconds'),
    upstreamOutageGraceSeconds: integer(env, 'upstreamOutageGraceSeconds'),
    upstreamSessionMaxSeconds: integer(env, 'upstreamSessionMaxSeconds'),
  };
  if (env.SCOPE_POLICY) {
    try {
      config.scopePolicy = parseScopePolicy(env.SCOPE_POLICY, scopes, 'SCOPE_POLICY');
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }
  const broken = brokenSettingRule(config, (key) => INTEGER_SETTINGS[key].env);
  if (broken) throw new ConfigError(broken);
  const up = upstream(env);
  if (up) config.upstream = up;
  return config;
}
