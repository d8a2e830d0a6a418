/**
 * The responses of the resource server's authorization gate: RFC 6750 §3 challenges with the
 * RFC 9728 `resource_metadata` parameter that starts an MCP client's discovery.
 */
import { DEPENDENCY_RETRY_AFTER_SECONDS } from '../../shared/dependency-fault.js';
import { PlainResponse } from '../../shared/http-message.js';

export interface ChallengeOptions {
  resourceMetadata: string;
  /** The scopes to ask for (all supported ones on 401; what the operation needs on 403). */
  scope: readonly string[];
  error?: 'invalid_token' | 'insufficient_scope';
  description?: string;
}

/** Quoted-string value (RFC 9110 §5.6.4): backslash-escape `"` and `\`, drop control characters. */
function quote(value: string): string {
  return `"${value.replace(/[\x00-\x1f\x7f]/g, '').replace(/["\\]/g, '\\$&')}"`;
}

export function bearerChallenge(options: ChallengeOptions): string {
  const params: string[] = [];
  if (options.error) params.push(`error=${quote(options.error)}`);
  if (options.description) params.push(`error_description=${quote(options.description)}`);
  params.push(`resource_metadata=${quote(options.resourceMetadata)}`);
  if (options.scope.length > 0) params.push(`scope=${quote(options.scope.join(' '))}`);
  return `Bearer ${params.join(', ')}`;
}

function challengeResponse(
  status: number,
  options: ChallengeOptions,
  body: Record<string, string>,
): PlainResponse {
  return new PlainResponse(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'www-authenticate': bearerChallenge(options),
    },
  });
}

/** 401 for a request without a bearer token: no `error` code (RFC 6750 §3.1). */
export function missingTokenResponse(resourceMetadata: string, scope: readonly string[]): PlainResponse {
  return challengeResponse(
    401,
    { resourceMetadata, scope },
    {
      error: 'unauthorized',
      error_description: 'a Bearer access token is required in the Authorization header',
    },
  );
}

/** 401 `invalid_token`: the token is malformed, forged, expired or not for this resource. */
export function invalidTokenResponse(
  resourceMetadata: string,
  scope: readonly string[],
  description: string,
): PlainResponse {
  return challengeResponse(
    401,
    { resourceMetadata, scope, error: 'invalid_token', description },
    { error: 'invalid_token', error_description: description },
  );
}

/**
 * 403 `insufficient_scope`. The description names what the operation needs (`required`); the
 * challenge's `scope` is that plus what the token already holds (`held`), the scopes to request
 * for step-up authorization, so that the new token loses nothing the old one had.
 */
export function insufficientScopeResponse(
  resourceMetadata: string,
  required: readonly string[],
  held: readonly string[] = [],
): PlainResponse {
  const scope = [...new Set([...required, ...held])];
  const description = `this operation requires the scope(s): ${required.join(' ')}`;
  return challengeResponse(
    403,
    { resourceMetadata, scope, error: 'insufficient_scope', description },
    { error: 'insufficient_scope', error_description: description },
  );
}

/**
 * 503 when tokens cannot be checked right now (no signing keys yet, their store or an external
 * issuer down). The body is JSON-RPC's, as every other answer on `/mcp`: -32603 with no id, since
 * the request was never read; `Retry-After` tells the client when to send it again.
 */
export function verificationUnavailableResponse(
  message = 'Service Unavailable: access tokens cannot be verified right now; retry shortly',
  retryAfterSeconds = DEPENDENCY_RETRY_AFTER_SECONDS,
): PlainResponse {
  return new PlainResponse(
    JSON.stringify({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32603, message },
    }),
    {
      status: 503,
      headers: {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'retry-after': String(retryAfterSeconds),
      },
    },
  );
}
