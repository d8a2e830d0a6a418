/**
 * Settings shared by the functions, read from environment variables that the CDK stack (in AWS)
 * or the local server sets. Invalid settings fail at start with a message naming the variable.
 */
export type RegistrationPolicy = 'open' | 'token' | 'closed';

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
}

export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_SCOPES = ['mcp:tools', 'mcp:resources'];

/** Validates an issuer: an https origin, or http on a loopback host for local use. */
export function normalizeIssuer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`ISSUER "${value}" is not a URL`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(`ISSUER "${value}" must use https (http is allowed only on loopback hosts)`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
    throw new ConfigError(`ISSUER "${value}" must be a bare origin, without path, query or fragment`);
  }
  return url.origin;
}

function integer(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
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
  const policy = (env.REGISTRATION_POLICY ?? 'open') as RegistrationPolicy;
  if (!['open', 'token', 'closed'].includes(policy)) {
    throw new ConfigError(`REGISTRATION_POLICY must be open, token or closed, got "${policy}"`);
  }
  const scopes = env.SCOPES ? list(env.SCOPES, /\s+/) : DEFAULT_SCOPES;
  for (const scope of scopes) {
    if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope))
      throw new ConfigError(`SCOPES has an invalid scope "${scope}"`);
  }
  return {
    issuer,
    mcpResource: `${issuer}/mcp`,
    accessTokenTtlSeconds: integer(env, 'ACCESS_TOKEN_TTL_SECONDS', 3600, 60, 86_400),
    scopesSupported: scopes,
    registrationPolicy: policy,
    allowedOrigins: list(env.ALLOWED_ORIGINS, /,/).map((o) => o.replace(/\/$/, '')),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 256 * 1024, 1024, 6 * 1024 * 1024),
    resourceName: env.RESOURCE_NAME || 'MCP server',
  };
}
