/**
 * Lambda entry of the mcp function. Everything is built at module scope, once per execution
 * environment; a warm invocation only verifies the token (from memory) and runs the method.
 * The function verifies tokens and never signs, so it reads only the public key set the
 * rotation publishes to an SSM parameter, with a small SigV4 client rather than the AWS SDK,
 * which would otherwise be most of this bundle and of its cold start (see doc/performance.md).
 * The handler is wrapped as the oauth function's is: middy with Powertools' `injectLambdaContext`
 * and `logMetrics`.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { loadConfig } from '../shared/config.js';
import { lambdaHandler } from '../shared/lambda-adapter.js';
import { createLogger, HTTP_LOG_CONTEXT } from '../shared/logger.js';
import { createBusinessMetrics } from '../shared/metrics.js';
import { CachedPublicKeys } from '../shared/signing-keys.js';
import { createMcpApp } from './app.js';
import { DynamoDbRevocationSource, dynamoDbOptionsFromEnvironment } from './dynamodb-revocation-source.js';
import { originSecretSourceFromEnvironment } from './origin-secret-source.js';
import { RevocationList } from './revocation-list.js';
import { ssmOptionsFromEnvironment, SsmPublicKeySource } from './ssm-public-key-source.js';
import { parseTrustedIssuers } from './trusted-issuers.js';

/** The most `ACCESS_TOKEN_TTL_SECONDS` may be (`loadConfig`). */
const LONGEST_ACCESS_TOKEN_TTL_SECONDS = 86_400;

const logger = createLogger('mcp');
const metrics = createBusinessMetrics('mcp', logger);
const config = loadConfig(process.env);
const keys = new CachedPublicKeys(new SsmPublicKeySource(ssmOptionsFromEnvironment(process.env)));

// Tokens may live no longer than the oauth function issues them for. Where this function is not
// told that lifetime, it takes the longest the settings allow (ACCESS_TOKEN_TTL_SECONDS is at
// most a day), so that a deployment with a longer lifetime than the default is not locked out.
const maxTokenLifetimeSeconds = process.env.ACCESS_TOKEN_TTL_SECONDS
  ? config.accessTokenTtlSeconds
  : LONGEST_ACCESS_TOKEN_TTL_SECONDS;

const revocations = new RevocationList({
  source: new DynamoDbRevocationSource(dynamoDbOptionsFromEnvironment(process.env)),
  maxTokenLifetimeSeconds,
  maxAgeSeconds: config.revocationMaxAgeSeconds,
  refreshSeconds: config.revocationRefreshSeconds,
  onReadFailure: (error) => logger.warn('revocation list not read', { error }),
});

// Read the keys and the revocation list while the execution environment initializes, so the
// first invocation need not wait; a failure here is retried by the first request (`prime`).
keys
  .prime()
  .catch((error: unknown) => logger.warn('signing keys not loaded at start; will retry', { error }));
revocations.prime().catch(() => {});

const app = lambdaHandler(
  createMcpApp({
    config,
    keys,
    logger,
    metrics,
    maxTokenLifetimeSeconds,
    revocations,
    trustedIssuers: parseTrustedIssuers(process.env.TRUSTED_ISSUERS, config.scopesSupported),
  }),
  logger,
  // Behind CloudFront (cloudFrontWaf), requests without its origin secret are answered 403.
  originSecretSourceFromEnvironment(process.env),
);

export const handler = middy(app)
  .use(injectLambdaContext(logger.powertools, HTTP_LOG_CONTEXT))
  .use(logMetrics(metrics));
