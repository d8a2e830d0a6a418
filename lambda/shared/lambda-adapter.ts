/**
 * The one place where API Gateway HTTP API (payload format 2.0) events become requests and
 * responses become Lambda results. Every endpoint is written as
 * `(request: HttpRequest) => Promise<PlainResponse>` on the Fetch-shaped types of
 * `http-message.ts`, and tested with a web `Request`, which satisfies `HttpRequest`.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { PlainRequest, type HttpRequest, type HttpResponse } from './http-message.js';
import type { Logger } from './logger.js';
import type { BusinessMetrics } from './metrics.js';
import { withOriginSecret, type OriginSecretSource } from './origin-secret.js';

/** An app; on Lambda it also gets the invocation's context (the mcp app bounds tools by its remaining time). */
export type FetchHandler = (request: HttpRequest, invocation?: Context) => Promise<HttpResponse>;
export type LambdaHttpHandler = (
  event: APIGatewayProxyEventV2,
  context?: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export function toRequest(event: APIGatewayProxyEventV2): PlainRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    // API Gateway already joins repeated headers with commas, which is also how Headers stores them.
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  // Payload 2.0 moves cookies out of the headers into their own array.
  if (event.cookies?.length) headers.cookie = event.cookies.join('; ');
  // Path and query are what the gateway routed (rawPath, rawQueryString). Client headers
  // (Host, X-Forwarded-Proto) never shape the URL: a crafted X-Forwarded-Proto such as
  // `http://x/register#` would otherwise change the path an app dispatches on. Handlers build
  // public URLs from the configured issuer, never from this origin.
  const domain = event.requestContext.domainName;
  // The pattern alone lets through names a URL cannot hold (`1.2.3.256` is read as an IPv4
  // address and refused, as is port 65536); the apps parse this URL, so it must parse.
  const host =
    /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/.test(domain ?? '') && URL.canParse(`https://${domain}/`)
      ? domain
      : 'invalid.localhost';
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  const method = event.requestContext.http.method.toUpperCase();
  const hasBody = method !== 'GET' && method !== 'HEAD' && event.body !== undefined && event.body !== null;
  const body = hasBody ? Buffer.from(event.body!, event.isBase64Encoded ? 'base64' : 'utf8') : undefined;
  return new PlainRequest(`https://${host}${event.rawPath}${query}`, {
    method,
    headers,
    ...(body ? { body } : {}),
  });
}

const TEXT_TYPE = /^(text\/|application\/([\w.+-]*\+)?(json|xml|x-www-form-urlencoded|javascript))/i;

export async function toResult(response: HttpResponse): Promise<APIGatewayProxyStructuredResultV2> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  const bytes = Buffer.from(await response.arrayBuffer());
  const contentType = response.headers.get('content-type') ?? '';
  const isText = bytes.length === 0 || TEXT_TYPE.test(contentType);
  return {
    statusCode: response.status,
    headers,
    ...(cookies.length ? { cookies } : {}),
    body: isText ? bytes.toString('utf8') : bytes.toString('base64'),
    isBase64Encoded: !isText,
  };
}

/**
 * Wraps a fetch-style handler as a Lambda handler. Handlers catch their own errors; this is the
 * last line, so that even a bug answers a bare 500 without internals. With `originSecret` (the
 * stack puts CloudFront in front), a request without CloudFront's origin secret is answered 403
 * before `handler` sees it (`origin-secret.ts`).
 *
 * With `metrics`, every 5xx answer, whether a handler returned it or this catch did, is counted as
 * `ServerErrors` of the version that answered (`AWS_LAMBDA_FUNCTION_VERSION`: the number the
 * `live` alias runs, or `$LATEST`). An error answered is not a failed invocation, so Lambda's
 * `Errors` never sees it; this count is what the safe-rollout alarms watch
 * (lib/constructs/safe-rollout.ts). It is flushed with the invocation's other business metrics by
 * `logMetrics`, which runs after this handler returns, as it always does.
 */
export function lambdaHandler(
  handler: FetchHandler,
  logger?: Logger,
  originSecret?: OriginSecretSource,
  metrics?: BusinessMetrics,
): LambdaHttpHandler {
  const checked = withOriginSecret(handler, originSecret, logger);
  const version = process.env.AWS_LAMBDA_FUNCTION_VERSION || 'unknown';
  const answer = async (event: APIGatewayProxyEventV2, context?: Context) => {
    try {
      return await toResult(await checked(toRequest(event), context));
    } catch (error) {
      logger?.error('unhandled error', { error });
      return {
        statusCode: 500,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        body: JSON.stringify({ error: 'server_error' }),
      };
    }
  };
  return async (event, context) => {
    const result = await answer(event, context);
    if ((result.statusCode ?? 200) >= 500) metrics?.count('ServerErrors', version);
    return result;
  };
}
