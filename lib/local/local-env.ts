/**
 * The local server's environment variables, checked before anything starts. Those that carry a
 * stack setting go through the stack's parser (`lib/settings.ts`), so `SCOPES=a,b` means what
 * `-c scopes=a,b` means and a bad value gets the same message; then they are handed to the
 * functions in the form the stack sets them (`lib/mcp-oauth-stack.ts`).
 */
import { parseSetting, SettingsError } from '../settings.js';

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
