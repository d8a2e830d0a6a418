/**
 * Lambda entry of the mcp function. Everything is built at module scope, once per execution
 * environment; a warm invocation only verifies the token (from memory) and runs the method.
 * The signing keys are read with a small SigV4 client rather than the AWS SDK, which would
 * otherwise be most of this bundle and of its cold start (see doc/performance.md).
 */
import { ConfigError, loadConfig } from '../shared/config.js';
import { lambdaHandler } from '../shared/lambda-adapter.js';
import { createLogger } from '../shared/logger.js';
import { CachedSigningKeys } from '../shared/signing-keys.js';
import { createMcpApp } from './app.js';
import { optionsFromEnvironment, SecretsManagerHttpKeySource } from './secrets-manager-http-key-source.js';
import { parseTrustedIssuers } from './trusted-issuers.js';

const logger = createLogger('mcp');
const config = loadConfig(process.env);
const secretArn = process.env.SIGNING_KEYS_SECRET_ARN;
if (!secretArn) throw new ConfigError('SIGNING_KEYS_SECRET_ARN is required');
const keys = new CachedSigningKeys(
  new SecretsManagerHttpKeySource(optionsFromEnvironment(process.env, secretArn)),
);

// Read the keys while the execution environment initializes, so the first invocation need not wait.
keys
  .publicJwks()
  .catch((error: unknown) => logger.warn('signing keys not loaded at start; will retry', { error }));

export const handler = lambdaHandler(
  createMcpApp({ config, keys, logger, trustedIssuers: parseTrustedIssuers(process.env.TRUSTED_ISSUERS) }),
  logger,
);
