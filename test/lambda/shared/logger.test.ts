/**
 * The functions' logger: Powertools' Logger behind the project's `Logger` interface. Lines are
 * JSON with Powertools' keys, levels keep LOG_LEVEL's meaning (silent included), errors are
 * written without the fields a library hangs on them, and inside a middy-wrapped invocation every
 * line carries the Lambda context and the API Gateway request id, never the event.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createLogger, HTTP_LOG_CONTEXT, searchPath } from '../../../lambda/shared/logger.js';

const env = { ...process.env };
afterEach(() => {
  process.env = { ...env };
});

function capture(options: { level?: string } = {}) {
  const lines: string[] = [];
  const logger = createLogger('oauth', { ...options, write: (line) => lines.push(line) });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, parsed };
}

const context = (awsRequestId: string): Context =>
  ({
    functionName: 'McpOAuth-OAuthFunction',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:McpOAuth-OAuthFunction',
    memoryLimitInMB: '1024',
    awsRequestId,
    getRemainingTimeInMillis: () => 10_000,
  }) as unknown as Context;

const event = (requestId: string, authorization: string) =>
  ({
    version: '2.0',
    rawPath: '/token',
    headers: { authorization },
    body: 'grant_type=client_credentials&client_secret=body-secret-value',
    requestContext: { requestId, http: { method: 'POST', path: '/token' } },
  }) as unknown as APIGatewayProxyEventV2;

describe('a line', () => {
  it('is one JSON object with level, message, service and timestamp, and the fields given', () => {
    // Prepare
    const { logger, lines, parsed } = capture();

    // Act
    logger.info('token issued', { clientId: 'c1', grantType: 'client_credentials' });

    // Assess
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(parsed()[0]).toEqual({
      level: 'INFO',
      message: 'token issued',
      service: 'oauth',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      sampling_rate: 0,
      clientId: 'c1',
      grantType: 'client_credentials',
    });
  });

  it('names an error, its code, stack and cause, and nothing else the error carries', () => {
    // Prepare
    const { logger, lines, parsed } = capture();
    const upstream = Object.assign(new Error('unexpected token response'), {
      code: 'OAUTH_RESPONSE_IS_NOT_CONFORM',
      response: { access_token: 'upstream-access-token-value' },
      cause: { body: { refresh_token: 'upstream-refresh-token-value' } },
    });
    const wrapped = new Error('login failed', { cause: upstream });

    // Act
    logger.warn('upstream login failed', { error: wrapped });

    // Assess
    expect(lines.join('\n')).not.toMatch(/upstream-(access|refresh)-token-value/);
    const error = parsed()[0]!.error as Record<string, unknown>;
    expect(error).toEqual({
      name: 'Error',
      message: 'login failed',
      stack: expect.stringContaining('login failed'),
      cause: {
        name: 'Error',
        message: 'unexpected token response',
        code: 'OAUTH_RESPONSE_IS_NOT_CONFORM',
        stack: expect.any(String),
        cause: 'object',
      },
    });
  });
});

describe('the level', () => {
  it.each([
    ['debug', ['DEBUG', 'INFO', 'WARN', 'ERROR']],
    ['INFO', ['INFO', 'WARN', 'ERROR']],
    ['warn', ['WARN', 'ERROR']],
    ['error', ['ERROR']],
    ['silent', []],
    ['loud', ['INFO', 'WARN', 'ERROR']],
  ])('%s lets through %j', (level, expected) => {
    // Prepare
    const { logger, parsed } = capture({ level });

    // Act
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');

    // Assess
    expect(parsed().map((l) => l.level)).toEqual(expected);
  });

  it('comes from LOG_LEVEL when not given, and POWERTOOLS_LOG_LEVEL wins over it', () => {
    // Prepare
    process.env.LOG_LEVEL = 'silent';
    const quiet = capture();
    process.env.POWERTOOLS_LOG_LEVEL = 'error';
    const errorsOnly = capture();

    // Act
    for (const { logger } of [quiet, errorsOnly]) {
      logger.warn('w');
      logger.error('e');
    }

    // Assess
    expect(quiet.lines).toEqual([]);
    expect(errorsOnly.parsed().map((l) => l.message)).toEqual(['e']);
  });
});

describe('inside a middy-wrapped invocation', () => {
  it('carries the request id, cold start, function name and API Gateway request id, then drops the correlation id', async () => {
    // Prepare: Lambda names an on-demand environment so; Powertools reports a cold start only then.
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    const { logger, parsed } = capture();
    const handler = middy(async () => {
      logger.info('in the handler');
    }).use(injectLambdaContext(logger.powertools, HTTP_LOG_CONTEXT));

    // Act
    await handler(event('apigw-1', 'Bearer a'), context('lambda-1'));
    await handler(event('apigw-2', 'Bearer b'), context('lambda-2'));
    logger.info('between invocations');

    // Assess
    expect(parsed()).toEqual([
      expect.objectContaining({
        message: 'in the handler',
        function_request_id: 'lambda-1',
        cold_start: true,
        function_name: 'McpOAuth-OAuthFunction',
        function_arn: 'arn:aws:lambda:eu-west-1:123456789012:function:McpOAuth-OAuthFunction',
        function_memory_size: '1024',
        correlation_id: 'apigw-1',
      }),
      expect.objectContaining({
        function_request_id: 'lambda-2',
        cold_start: false,
        correlation_id: 'apigw-2',
      }),
      expect.not.objectContaining({ correlation_id: expect.anything() }),
    ]);
  });

  it('never writes the event, even with POWERTOOLS_LOGGER_LOG_EVENT=true', async () => {
    // Prepare
    process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
    const { logger, lines } = capture({ level: 'debug' });
    const handler = middy(async () => {
      logger.debug('handled');
    }).use(injectLambdaContext(logger.powertools, HTTP_LOG_CONTEXT));

    // Act
    await handler(event('apigw-3', 'Bearer header-token-value'), context('lambda-3'));

    // Assess
    expect(lines).toHaveLength(1);
    expect(lines.join('\n')).not.toMatch(/header-token-value|body-secret-value/);
  });
});

describe('searchPath', () => {
  it('reads a dotted path, and nothing through a missing or inherited key', () => {
    const data = { requestContext: { requestId: 'r-1' } };
    expect(searchPath('requestContext.requestId', data)).toBe('r-1');
    expect(searchPath('requestContext.missing.requestId', data)).toBeUndefined();
    expect(searchPath('requestContext.constructor', data)).toBeUndefined();
    expect(searchPath('requestContext.requestId', undefined)).toBeUndefined();
  });
});
