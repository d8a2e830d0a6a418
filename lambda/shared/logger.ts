/**
 * One structured JSON logger for every function. Callers pass identifiers, never secrets; where a
 * token must be identified, log a prefix of its SHA-256 (`sha256()` in `crypto.ts`).
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'silent', number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: Infinity,
};

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return String(error);
  return { name: error.name, message: error.message, stack: error.stack, cause: serializeError(error.cause) };
}

export function createLogger(
  service: string,
  options: { level?: string; write?: (line: string) => void } = {},
): Logger {
  const threshold =
    ORDER[(options.level ?? process.env.LOG_LEVEL ?? 'info') as Level | 'silent'] ?? ORDER.info;
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const log = (level: Level, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < threshold) return;
    const entry: Record<string, unknown> = { level, time: new Date().toISOString(), service, message };
    for (const [key, value] of Object.entries(fields ?? {})) {
      entry[key] = key === 'error' || value instanceof Error ? serializeError(value) : value;
    }
    write(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}
