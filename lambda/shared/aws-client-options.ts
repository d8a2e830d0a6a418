/**
 * Time limits and retries of the functions' AWS SDK clients (DynamoDB, Secrets Manager, SSM).
 * The SDK's defaults have no connection or request timeout at all, so a dependency that stops
 * answering would hold a request until the function times out (10 s) and the client would see
 * API Gateway's 500, not a 503 it could retry.
 *
 * Worst case of one call: 3 attempts of at most 2 s each, plus the SDK's backoff between them
 * (at most 0.05 s + 0.1 s after a timeout or a 5xx, 1 s + 2 s after throttling, which answers
 * fast) ≈ 6.2 s: inside the function's 10 s and API Gateway's 30 s, with room for the rest of
 * the request, which stops at the first call that fails. The SDK's retry quota (a token bucket
 * per client) also stops retrying altogether while a dependency keeps failing.
 */
import type { NodeHttpHandlerOptions } from '@smithy/types';

/** TCP connect; a refused or unroutable endpoint fails here. */
export const CONNECTION_TIMEOUT_MS = 1_000;
/** One whole attempt, from the request being sent to the last byte of the answer. */
export const REQUEST_TIMEOUT_MS = 2_000;
/** The first attempt and two retries. */
export const MAX_ATTEMPTS = 3;

/** Options for any AWS SDK v3 client constructor: `new DynamoDBClient(awsClientOptions())`. */
export function awsClientOptions<Extra extends object>(
  extra: Extra = {} as Extra,
): Extra & { maxAttempts: number; requestHandler: NodeHttpHandlerOptions } {
  return {
    ...extra,
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // Without it, @smithy/node-http-handler only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
    },
  };
}
