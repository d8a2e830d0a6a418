/**
 * The local server's environment variables, checked before anything starts. Those that carry a
 * stack setting go through the stack's parser (`lib/settings.ts`), so `SCOPES=a,b` means what
 * `-c scopes=a,b` means and a bad value gets the same message; then they are handed to the
 * functions in the form the stack sets them (`lib/mcp-oauth-stack.ts`).
 */
import { type DeploymentSettings, parseSetting, SettingsError } from '../settings.js';

/**
 * One environment variable of `npm start`, for the settings reference (`npm run docs`). Those
 * that carry a stack setting name it (`setting`): the reference takes their type and range from
 * the stack's parser, which also checks them here. The integer and policy variables the
 * functions read (`INTEGER_SETTINGS`, `POLICY_SETTINGS` in lambda/shared/function-settings.ts)
 * are listed from there and need no entry.
 */
export interface LocalVariable {
  readonly name: string;
  /** The stack setting it carries, if any. */
  readonly setting?: keyof DeploymentSettings;
  /** What applies when it is unset, in words. */
  readonly default: string;
  readonly meaning: string;
}

/** Every other variable `npm start` reads. A new one is one entry here. */
export const LOCAL_VARIABLES: readonly LocalVariable[] = [
  { name: 'PORT', default: '`3000`', meaning: 'port to listen on (0 to 65535; 0 picks a free one)' },
  { name: 'HOST', default: '`127.0.0.1`', meaning: 'interface to bind' },
  {
    name: 'ISSUER',
    default: '`http://localhost:$PORT`',
    meaning: 'public origin, for use behind a proxy or tunnel; the MCP resource is `$ISSUER/mcp`',
  },
  { name: 'DATA_DIR', default: '`.local`', meaning: 'where the table and the signing keys live' },
  {
    name: 'IN_MEMORY',
    default: 'unset',
    meaning:
      '`1`, `true` or `yes` keeps nothing on disk (the same as `--in-memory`); `0`, `false` or `no` keeps it',
  },
  {
    name: 'LOG_LEVEL',
    default: '`info`',
    meaning: '`debug`, `info`, `warn`, `error` or `silent`; logs are JSON lines',
  },
  {
    name: 'SCOPES',
    setting: 'scopes',
    default: '`mcp:tools mcp:resources`',
    meaning: 'scopes the server knows; clients that register none get all',
  },
  {
    name: 'ALLOWED_ORIGINS',
    setting: 'allowedOrigins',
    default: "MCP Inspector's `http://localhost:6274`",
    meaning: 'browser origins allowed on `/mcp`',
  },
  {
    name: 'UPSTREAM_ISSUER',
    default: 'the local OpenID provider',
    meaning:
      'log in at another OpenID provider instead (its callback: `$ISSUER/callback`), with `UPSTREAM_CLIENT_ID` and `UPSTREAM_CLIENT_SECRET`',
  },
  { name: 'UPSTREAM_CLIENT_ID', default: 'the local provider', meaning: "this server's client id there" },
  {
    name: 'UPSTREAM_CLIENT_SECRET',
    default: 'the local provider',
    meaning: 'its client secret there, as plain text (the stack reads it from a secret instead)',
  },
  {
    name: 'UPSTREAM_SCOPES',
    setting: 'upstreamScopes',
    default: '`openid email profile`',
    meaning: 'scopes asked of the upstream provider',
  },
  { name: 'UPSTREAM_PORT', default: 'any free port', meaning: 'port of the local OpenID provider' },
  {
    name: 'SCOPE_POLICY',
    setting: 'scopePolicy',
    default: 'none',
    meaning:
      'which upstream groups may hold which scopes (JSON); the local provider sets groups on its `/users` page',
  },
  {
    name: 'INITIAL_ACCESS_TOKEN',
    default: 'generated and printed',
    meaning: 'the initial access token under the `token` registration policy',
  },
  {
    name: 'TRUSTED_ISSUERS',
    setting: 'trustedIssuers',
    default: 'none',
    meaning: 'external issuers whose access tokens `/mcp` also accepts',
  },
  {
    name: 'ENTERPRISE_IDPS',
    setting: 'enterpriseIdps',
    default: 'the local enterprise identity provider',
    meaning: 'identity providers whose ID-JAGs `/token` redeems (jwt-bearer grant); http allowed on loopback',
  },
  {
    name: 'ENTERPRISE_IDP_PORT',
    default: 'any free port',
    meaning: 'port of the local enterprise identity provider (when `ENTERPRISE_IDPS` is unset)',
  },
  {
    name: 'CLIENT_METADATA_DOCUMENTS',
    setting: 'clientMetadataDocuments',
    default: 'none',
    meaning: 'client ID metadata documents supplied by URL, used instead of fetching them',
  },
  {
    name: 'BLOCKED_CLIENT_METADATA_DOCUMENTS',
    setting: 'blockedClientMetadataDocuments',
    default: 'none',
    meaning: 'client ID metadata documents to stop',
  },
  {
    name: 'RESOURCE_NAME',
    setting: 'resourceName',
    default: '`MCP server`',
    meaning: '`resource_name` in the protected resource metadata',
  },
  {
    name: 'CIMD_ALLOW_HTTP_LOOPBACK',
    default: 'unset',
    meaning:
      '`1` also accepts client ID metadata documents at `http://localhost` and `http://127.0.0.1` (local only)',
  },
];

/**
 * The file in the data folder that names the running server's embedded DynamoDB endpoint and
 * table (`{"endpoint", "table", "pid"}`), for `npm run admin`; removed when the server stops.
 */
export const LOCAL_TABLE_FILE = 'local-table.json';

/** The functions' log levels, and `silent` for tests. */
export const LOCAL_LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

const TRUE = ['1', 'true', 'yes'];
const FALSE = ['0', 'false', 'no', ''];

/** `IN_MEMORY`: 1, true or yes; 0, false, no or unset. Anything else is refused, not read as "no". */
export function parseInMemory(raw: string | undefined): boolean {
  const value = (raw ?? '').trim().toLowerCase();
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new SettingsError(`"IN_MEMORY" must be 1, true or yes (or 0, false, no), got ${JSON.stringify(raw)}`);
}

/** `LOG_LEVEL`, in any case; the message has the stack's `logLevel` form, with `silent` added. */
export function parseLogLevel(raw: string | undefined, name = 'LOG_LEVEL'): string {
  if (raw === undefined || raw === '') return 'info';
  const value = raw.trim().toLowerCase();
  if (!(LOCAL_LOG_LEVELS as readonly string[]).includes(value)) {
    throw new SettingsError(
      `"${name}" must be one of ${LOCAL_LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/**
 * The environment with each stack setting parsed and rewritten as the stack writes it: scopes
 * space-separated, origins comma-separated. Unset or empty variables are left as they are.
 */
export function normalizeLocalEnv(
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const out = { ...env };
  const given = (name: string) => env[name] !== undefined && env[name]!.trim() !== '';
  if (given('SCOPES')) out.SCOPES = parseSetting('scopes', env.SCOPES, 'SCOPES').join(' ');
  if (given('UPSTREAM_SCOPES')) {
    out.UPSTREAM_SCOPES = parseSetting('upstreamScopes', env.UPSTREAM_SCOPES, 'UPSTREAM_SCOPES').join(' ');
  }
  if (given('ALLOWED_ORIGINS')) {
    out.ALLOWED_ORIGINS = parseSetting('allowedOrigins', env.ALLOWED_ORIGINS, 'ALLOWED_ORIGINS').join(',');
  }
  return out;
}
