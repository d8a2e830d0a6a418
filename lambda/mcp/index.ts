/**
 * Lambda entry of the mcp function. Everything is built at module scope, once per execution
 * environment; a warm invocation only verifies the token (from memory) and runs the method.
 * The function verifies tokens and never signs, so it reads only the public key set the
 * rotation publishes to an SSM parameter, with a small SigV4 client rather than the AWS SDK,
 * which would otherwise be most of this bundle and of its cold start (see doc/performance.md).
 * Those reads start first, in `environment.ts`, imported before everything else.
 * The handler is wrapped as the oauth function's is: middy with Powertools' `injectLambdaContext`
 * and `logMetrics`.
 */
// First of all: starts the reads this environment needs (see environment.ts).
import { config, keys, logger, maxTokenLifetimeSeconds, revocations } from './aws/environment.js';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { lambdaHandler } from '../shared/lambda-adapter.js';
import { HTTP_LOG_CONTEXT } from '../shared/logger.js';
import { createBusinessMetrics } from '../shared/metrics.js';
import { createMcpApp } from './app.js';
import { originSecretSourceFromEnvironment } from './aws/origin-secret-source.js';
import { SDK_SERVER } from './served-server.js';
import { parseTrustedIssuers } from './auth/trusted-issuers.js';

const metrics = createBusinessMetrics('mcp', logger);

const app = lambdaHandler(
  createMcpApp({
    config,
    keys,
    logger,
    metrics,
    maxTokenLifetimeSeconds,
    revocations,
    trustedIssuers: parseTrustedIssuers(process.env.TRUSTED_ISSUERS, config.scopesSupported),
    // The built-in tools, or the MCP SDK server set in served-server.ts.
    ...(SDK_SERVER && { sdkServer: SDK_SERVER }),
  }),
  logger,
  // Behind CloudFront (cloudFrontWaf), requests without its origin secret are answered 403.
  originSecretSourceFromEnvironment(process.env),
  // Every 5xx answer, counted by version for the safe-rollout alarms.
  metrics,
);

export const handler = middy(app)
  .use(injectLambdaContext(logger.powertools, HTTP_LOG_CONTEXT))
  .use(logMetrics(metrics));
