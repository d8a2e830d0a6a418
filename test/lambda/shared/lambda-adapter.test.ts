import { jest } from '@jest/globals';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { lambdaHandler, toRequest, toResult } from '../../../lambda/shared/lambda-adapter.js';
import { createBusinessMetrics } from '../../../lambda/shared/metrics.js';

/** An event shaped like what API Gateway HTTP API sends with payload format 2.0. */
function apiGatewayEvent(overrides: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /token',
    rawPath: '/token',
    rawQueryString: '',
    headers: {
      accept: '*/*',
      'content-length': '29',
      'content-type': 'application/x-www-form-urlencoded',
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      'user-agent': 'curl/8.5.0',
      'x-amzn-trace-id': 'Root=1-66f0c1e2-0123456789abcdef01234567',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method: 'POST',
        path: '/token',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'curl/8.5.0',
      },
      requestId: 'Fh3kfjJ0joEEPxw=',
      routeKey: 'POST /token',
      stage: '$default',
      time: '22/Nov/2026:10:00:00 +0000',
      timeEpoch: 1795428000000,
    },
    body: 'Z3JhbnRfdHlwZT1jbGllbnRfY3JlZGVudGlhbHM=',
    isBase64Encoded: true,
    ...overrides,
  };
}

describe('toRequest', () => {
  it('decodes a base64 body', async () => {
    // Prepare
    const event = apiGatewayEvent();
    // Act
    const request = toRequest(event);
    // Assess
    expect(request.method).toBe('POST');
    expect(await request.text()).toBe('grant_type=client_credentials');
  });

  it('passes a plain text body through unchanged', async () => {
    const event = apiGatewayEvent({ body: '{"client_name":"é"}', isBase64Encoded: false });
    const request = toRequest(event);
    expect(await request.text()).toBe('{"client_name":"é"}');
  });

  it.each([
    ['X-Forwarded-Proto', { 'x-forwarded-proto': 'http://x/register#' }],
    ['Host', { host: 'evil.example/register#' }],
    ['a malformed Host', { host: 'a b\u0000' }],
  ])('takes the path from the route, never from %s', (_case, headers) => {
    // Prepare
    const event = apiGatewayEvent();
    Object.assign(event.headers, headers);

    // Act
    const url = new URL(toRequest(event).url);

    // Assess
    expect(url.pathname).toBe('/token');
    expect(url.host).toBe('abc123.execute-api.eu-west-1.amazonaws.com');
  });

  it('builds the URL from the gateway domain name, the raw path and the raw query string', () => {
    const event = apiGatewayEvent({ rawPath: '/authorize', rawQueryString: 'scope=a&resource=x&resource=y' });
    const url = new URL(toRequest(event).url);
    expect(url.origin).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/authorize');
    expect(url.searchParams.getAll('resource')).toEqual(['x', 'y']);
  });

  it('restores the cookies array as one Cookie header', () => {
    const event = apiGatewayEvent({ cookies: ['session=abc', 'theme=dark'] });
    expect(toRequest(event).headers.get('cookie')).toBe('session=abc; theme=dark');
  });

  it('keeps comma-joined repeated headers as one value', () => {
    const event = apiGatewayEvent();
    event.headers['accept'] = 'application/json,text/event-stream';
    expect(toRequest(event).headers.get('accept')).toBe('application/json,text/event-stream');
  });

  it('sends no body for a GET even when the event carries one', async () => {
    const event = apiGatewayEvent();
    event.requestContext.http.method = 'GET';
    const request = toRequest(event);
    expect(await request.text()).toBe('');
  });
});

describe('toResult', () => {
  it('returns JSON bodies as text with their headers', async () => {
    const response = new Response('{"ok":true}', {
      status: 201,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    });
    const result = await toResult(response);
    expect(result).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: '{"ok":true}',
      isBase64Encoded: false,
    });
  });

  it('moves Set-Cookie headers into the cookies array', async () => {
    const headers = new Headers({ 'content-type': 'text/html' });
    headers.append('set-cookie', 'a=1; HttpOnly');
    headers.append('set-cookie', 'b=2; Secure');
    const result = await toResult(new Response('<p>hi</p>', { headers }));
    expect(result.cookies).toEqual(['a=1; HttpOnly', 'b=2; Secure']);
    expect(result.headers).not.toHaveProperty('set-cookie');
  });

  it('base64-encodes binary bodies', async () => {
    const bytes = new Uint8Array([0, 255, 1, 254]);
    const result = await toResult(new Response(bytes, { headers: { 'content-type': 'image/png' } }));
    expect(result.isBase64Encoded).toBe(true);
    expect(Buffer.from(result.body!, 'base64')).toEqual(Buffer.from(bytes));
  });

  it('answers an empty body as empty text', async () => {
    const result = await toResult(new Response(null, { status: 204 }));
    expect(result).toMatchObject({ statusCode: 204, body: '', isBase64Encoded: false });
  });
});

describe('lambdaHandler', () => {
  it('round-trips a request through a handler', async () => {
    const handler = lambdaHandler(async (request) =>
      Response.json({ method: request.method, body: await request.text() }),
    );
    const result = await handler(apiGatewayEvent());
    expect(JSON.parse(result.body!)).toEqual({ method: 'POST', body: 'grant_type=client_credentials' });
  });

  it('hands the invocation context to the handler, so an app can bound work by the remaining time', async () => {
    // Prepare
    const context = { getRemainingTimeInMillis: () => 4321 } as unknown as import('aws-lambda').Context;
    const handler = lambdaHandler(async (_request, invocation) =>
      Response.json({ remaining: invocation?.getRemainingTimeInMillis() }),
    );

    // Act
    const result = await handler(apiGatewayEvent(), context);

    // Assess
    expect(JSON.parse(result.body!)).toEqual({ remaining: 4321 });
  });

  it('answers a bare 500 without internals when the handler throws', async () => {
    const lines: string[] = [];
    const logger = (await import('../../../lambda/shared/logger.js')).createLogger('test', {
      write: (l) => lines.push(l),
    });
    const handler = lambdaHandler(async () => {
      throw new Error('secret detail');
    }, logger);
    const result = await handler(apiGatewayEvent());
    expect(result.statusCode).toBe(500);
    expect(result.body).toBe('{"error":"server_error"}');
    expect(lines.join()).toContain('secret detail');
  });
});

describe('lambdaHandler with business metrics: the per-version count of 5xx answers', () => {
  const env = { ...process.env };
  afterEach(() => {
    process.env = { ...env };
  });

  /**
   * One invocation as Lambda runs it (middy with Powertools' `logMetrics`, as the entries do) of
   * an app that answers `answer`: the EMF lines it writes, as (dimensions, values).
   */
  async function emfLinesOf(answer: () => Promise<Response>) {
    process.env.AWS_LAMBDA_FUNCTION_VERSION = '7';
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'McpOAuth/McpOAuth';
    const metrics = createBusinessMetrics('mcp');
    const handler = middy(lambdaHandler(answer, undefined, undefined, metrics)).use(logMetrics(metrics));
    const written: string[] = [];
    const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    let statusCode: number | undefined;
    try {
      statusCode = (await handler(apiGatewayEvent(), {} as Context)).statusCode;
    } finally {
      out.mockRestore();
    }
    const lines = written
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>)
      .filter((l) => '_aws' in l)
      .map((l) => {
        const [directive] = l._aws.CloudWatchMetrics;
        return {
          namespace: directive.Namespace,
          dimensions: directive.Dimensions,
          values: { service: l.service, version: l.version, ServerErrors: l.ServerErrors },
        };
      });
    return { statusCode, lines };
  }

  it.each([500, 502, 503])(
    'counts a %s the handler answered without throwing, under the version that answered',
    async (status) => {
      // Act
      const { statusCode, lines } = await emfLinesOf(async () => new Response('', { status }));

      // Assess
      expect(statusCode).toBe(status);
      expect(lines).toEqual([
        {
          namespace: 'McpOAuth/McpOAuth',
          dimensions: [['service', 'version']],
          values: { service: 'mcp', version: '7', ServerErrors: 1 },
        },
      ]);
    },
  );

  it('counts the bare 500 it answers when the handler throws', async () => {
    // Act
    const { statusCode, lines } = await emfLinesOf(async () => {
      throw new Error('a bug');
    });

    // Assess
    expect(statusCode).toBe(500);
    expect(lines.map((l) => l.values)).toEqual([{ service: 'mcp', version: '7', ServerErrors: 1 }]);
  });

  it.each([200, 400, 401, 404, 429])('counts nothing for a %s', async (status) => {
    // Act
    const { statusCode, lines } = await emfLinesOf(async () => new Response('', { status }));

    // Assess
    expect(statusCode).toBe(status);
    expect(lines).toEqual([]);
  });
});
