/**
 * Tells a dependency fault (DynamoDB, Secrets Manager or Systems Manager busy, failing, slow or
 * unreachable) from every other error, so that both functions answer it 503 with `Retry-After`
 * rather than 500: the request was fine, and the same request will succeed once the dependency
 * recovers. Depends on no SDK: the mcp bundle has none, and the SDK's own classifier
 * (`@smithy/core` service-error-classification) would pull in most of it.
 *
 * How AWS SDK v3 surfaces faults, once its retries are spent:
 * - a service error is an exception whose `name` is the service's error type
 *   (`ProvisionedThroughputExceededException`), with `$fault` and `$metadata.httpStatusCode`;
 * - a timeout of `@smithy/node-http-handler` is an `Error` named `TimeoutError` (its `code` is
 *   `ETIMEDOUT` for the request timeout);
 * - a refused or dropped connection is Node's own error with `code` `ECONNREFUSED`, or
 *   `ECONNRESET`/`EPIPE` renamed `TimeoutError` by the handler (`socket hang up`).
 */

/** What went wrong with the dependency, for the log line. */
export type DependencyFault = 'throttled' | 'failed' | 'timeout' | 'unreachable';

const THROTTLED = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);
const FAILED = new Set([
  'InternalServerError',
  'InternalServiceError',
  'InternalServiceErrorException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: { throttling?: unknown };
}

function classifyOne(error: ErrorShape): DependencyFault | undefined {
  const name = typeof error.name === 'string' ? error.name : '';
  const code = typeof error.code === 'string' ? error.code : '';
  const status = error.$metadata?.httpStatusCode;
  if (THROTTLED.has(name) || status === 429 || error.$retryable?.throttling === true) return 'throttled';
  // Checked before the timeout names: the handler renames a reset connection `TimeoutError`.
  if (UNREACHABLE_CODES.has(code) || error.message === 'socket hang up') return 'unreachable';
  if (TIMEOUT_NAMES.has(name) || code === 'ETIMEDOUT') return 'timeout';
  if (FAILED.has(name) || (typeof status === 'number' && status >= 500) || error.$fault === 'server')
    return 'failed';
  return undefined;
}

/**
 * The kind of dependency fault `error` is (looking through up to five `cause`s, since key
 * sources wrap what they could not read), or undefined for any other error.
 */
export function classifyDependencyFault(error: unknown): DependencyFault | undefined {
  let current: unknown = error;
  for (let depth = 0; depth <= 5 && typeof current === 'object' && current !== null; depth++) {
    const fault = classifyOne(current as ErrorShape);
    if (fault) return fault;
    current = (current as ErrorShape).cause;
  }
  return undefined;
}

/** True when `error` means a dependency is briefly unavailable: answer 503, not 500. */
export function isDependencyFault(error: unknown): boolean {
  return classifyDependencyFault(error) !== undefined;
}

/**
 * `Retry-After` for a dependency fault, in seconds: long enough for the SDK's own retries and a
 * key cache's backoff to have passed, short enough that a client's retry is not the slow part.
 */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;
