/**
 * Lambda entry of the mcp function. Everything is built at module scope, once per execution
 * environment; a warm invocation only verifies the token (from memory) and runs the method.
 * The function verifies tokens and never signs, so it reads only the public key set the
 * rotation publishes to an SSM parameter, with a small SigV4 client rather than the AWS SDK,
 * which would otherwise be most of this bundle and of its cold start (see doc/performance.md).
 */
import { loadConfig } from '../shared/config.js';
import { lambdaHandler } from '../shared/lambda-adapter.js';
import { createLogger } from '../shared/logger.js';
import { CachedPublicKeys } from '../shared/signing-keys.js';
import { createMcpApp } from './app.js';
import { ssmOptionsFromEnvironment, SsmPublicKeySource } from './ssm-public-key-source.js';
import { parseTrustedIssuers } from './trusted-issuers.js';

/** The most `ACCESS_TOKEN_TTL_SECONDS` may be (`loadConfig`). */
const LONGEST_ACCESS_TOKEN_TTL_SECONDS = 86_400;

const logger = createLogger('mcp');
const config = loadConfig(process.env);
const keys = new CachedPublicKeys(new SsmPublicKeySource(ssmOptionsFromEnvironment(process.env)));

// Read the keys while the execution environment initializes, so the first invocation need not wait.
keys
  .publicJwks()
  .catch((error: unknown) => logger.warn('signing keys not loaded at start; will retry', { error }));

// Tokens may live no longer than the oauth function issues them for. Where this function is not
// told that lifetime, it takes the longest the settings allow (ACCESS_TOKEN_TTL_SECONDS is at
// most a day), so that a deployment with a longer lifetime than the default is not locked out.
const maxTokenLifetimeSeconds = process.env.ACCESS_TOKEN_TTL_SECONDS
  ? config.accessTokenTtlSeconds
  : LONGEST_ACCESS_TOKEN_TTL_SECONDS;

export const handler = lambdaHandler(
  createMcpApp({
    config,
    keys,
    logger,
    maxTokenLifetimeSeconds,
    trustedIssuers: parseTrustedIssuers(process.env.TRUSTED_ISSUERS),
  }),
  logger,
);
