/**
 * One structured JSON logger for every function: Powertools for AWS Lambda's `Logger`, behind the
 * small `Logger` interface the handlers call. Lines carry Powertools' keys (`level`, `message`,
 * `service`, `timestamp`, and inside an invocation wrapped by its `injectLambdaContext` middleware
 * `function_request_id`, `cold_start`, `function_name`, ... and `correlation_id`).
 *
 * Callers pass identifiers, never secrets; where a token must be identified, log a prefix of its
 * SHA-256 (`sha256()` in `crypto.ts`). Errors are written as name, message, stack and cause, as
 * before Powertools, plus a string or numeric `code`: other enumerable fields of an error (a
 * library's response body, an upstream's token response) never reach a line.
 */
import { Logger as PowertoolsLogger, type LogItem } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  /** debug, info, warn, error or silent (any case); default `POWERTOOLS_LOG_LEVEL`, `LOG_LEVEL`, info. */
  level?: string;
  /** Where each line goes (one JSON object, no newline); default stdout. */
  write?: (line: string) => void;
}

const LEVELS = new Set(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']);

/** An unknown level is `INFO`, as it always was here (Powertools would fall through to its env). */
function levelOf(level: string | undefined): LogLevel {
  const upper = level?.toUpperCase();
  return (upper && LEVELS.has(upper) ? upper : 'INFO') as LogLevel;
}

const writeStdout = (line: string) => {
  process.stdout.write(line + '\n');
};

interface SafeError {
  name: string;
  message: string;
  code?: string | number;
  stack?: string;
  cause?: unknown;
}

function safeError(error: Error): SafeError {
  const code = (error as { code?: unknown }).code;
  const cause = error.cause;
  return {
    name: error.name,
    message: error.message,
    ...((typeof code === 'string' || typeof code === 'number') && { code }),
    ...(error.stack !== undefined && { stack: error.stack }),
    // A cause that is not an Error is a library's data (a response body, claims): its type only.
    ...(cause !== undefined && { cause: cause instanceof Error ? safeError(cause) : typeof cause }),
  };
}

/**
 * Replaces every Error, wherever it sits in a line's fields, before Powertools' own serializer
 * (which would copy every enumerable field of the error and a plain-object `cause` in full).
 */
function replaceErrors(_key: string, value: unknown): unknown {
  return value instanceof Error ? safeError(value) : value;
}

/** Where API Gateway's request id sits in a payload 2.0 event: each line's `correlation_id`. */
export const CORRELATION_ID_PATH = 'requestContext.requestId';

/**
 * Reads a dotted path (`requestContext.requestId`) from an event, for `correlationIdPath`.
 * Powertools' own `search` evaluates JMESPath and needs `@aws-lambda-powertools/jmespath`, which
 * this project does not depend on; a dotted path is all the functions use.
 */
export function searchPath(expression: string, data: unknown): unknown {
  let value: unknown = data;
  for (const key of expression.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * `injectLambdaContext` options of the HTTP functions: the API Gateway request id as
 * `correlation_id`, cleared after each invocation, and never the event itself, whatever
 * `POWERTOOLS_LOGGER_LOG_EVENT` says (an event carries bearer tokens, client secrets and codes).
 */
export const HTTP_LOG_CONTEXT = { correlationIdPath: CORRELATION_ID_PATH, resetKeys: true, logEvent: false };

/**
 * Powertools' Logger writing every line, whatever its level, compact, to one place: stdout
 * unless told otherwise. Powertools prints through a `Console` of its own, warnings and errors on
 * stderr; both reach CloudWatch in Lambda, but one stream keeps the tests' and the local
 * server's capture (and the line order) simple.
 */
class LineLogger extends PowertoolsLogger {
  // Set after Powertools' constructor, which may already print (a sampling notice): those lines
  // go to stdout.
  private readonly sink: ((line: string) => void) | undefined;

  constructor(service: string, options: LoggerOptions) {
    super({
      serviceName: service,
      logLevel: levelOf(options.level ?? process.env.POWERTOOLS_LOG_LEVEL ?? process.env.LOG_LEVEL),
      jsonReplacerFn: replaceErrors,
      correlationIdSearchFn: searchPath,
    });
    this.sink = options.write ?? writeStdout;
  }

  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    (this.sink ?? writeStdout)(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }
}

/**
 * A function's logger: the `Logger` the handlers call, and the Powertools instance behind it,
 * which `injectLambdaContext` fills with each invocation's context.
 */
export class ServiceLogger implements Logger {
  readonly powertools: PowertoolsLogger;

  constructor(service: string, options: LoggerOptions = {}) {
    this.powertools = new LineLogger(service, options);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    if (fields) this.powertools.debug(message, fields);
    else this.powertools.debug(message);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    if (fields) this.powertools.info(message, fields);
    else this.powertools.info(message);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    if (fields) this.powertools.warn(message, fields);
    else this.powertools.warn(message);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    if (fields) this.powertools.error(message, fields);
    else this.powertools.error(message);
  }
}

export function createLogger(service: string, options: LoggerOptions = {}): ServiceLogger {
  return new ServiceLogger(service, options);
}
