/**
 * Turns Node HTTP requests into API Gateway HTTP API (payload 2.0) events and Lambda results back
 * into responses, the way API Gateway does, so the local server runs the deployed Lambda
 * handlers, adapter included.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

/** API Gateway's own payload cap; each handler applies its own, smaller one. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export class PayloadTooLargeForGatewayError extends Error {}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) throw new PayloadTooLargeForGatewayError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function toEvent(
  req: IncomingMessage,
  body: Buffer,
  route: { path: string; params: Record<string, string> },
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    if (name === 'cookie') {
      cookies = [...(cookies ?? []), ...value.split(/;\s*/).filter(Boolean)];
      continue;
    }
    // Repeated headers arrive comma-joined, as API Gateway delivers them.
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const now = Date.now();
  const rawQueryString = url.search.slice(1);
  const queryStringParameters: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    queryStringParameters[k] =
      queryStringParameters[k] === undefined ? v : `${queryStringParameters[k]},${v}`;
  }
  headers['x-forwarded-proto'] ??= 'http';
  return {
    version: '2.0',
    routeKey: `${method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(rawQueryString ? { queryStringParameters } : {}),
    ...(Object.keys(route.params).length ? { pathParameters: route.params } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${method} ${route.path}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    // API Gateway base64-encodes bodies it does not recognise as text; base64 is always correct.
    ...(body.length ? { body: body.toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
  };
}

export function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>) };
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : undefined);
}
