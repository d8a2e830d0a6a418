/**
 * The mcp function serving an SDK server of one's own (`createMcpApp({ sdkServer })`), as a Lambda
 * entry for the benchmark: this project's token verification and front, then the v2 SDK's
 * `createMcpHandler` with the baseline's tools (`buildBaselineServer`), a fresh server per request.
 * Settings, keys and logger are built as the mcp entry builds them (lambda/mcp/aws/environment.ts);
 * nothing else is passed.
 */
import { createMcpApp } from '../../lambda/mcp/app.js';
import { sdkV2Server } from '../../lambda/mcp/protocol/sdk-server-v2.js';
import { ssmOptionsFromEnvironment, SsmPublicKeySource } from '../../lambda/mcp/aws/ssm-public-key-source.js';
import { loadConfig } from '../../lambda/shared/config.js';
import { lambdaHandler } from '../../lambda/shared/lambda-adapter.js';
import { createLogger } from '../../lambda/shared/logger.js';
import { CachedPublicKeys } from '../../lambda/shared/signing-keys.js';
import { buildBaselineServer } from './baseline-mcp-handler.js';

const logger = createLogger('mcp');
const config = loadConfig(process.env);
const keys = new CachedPublicKeys(new SsmPublicKeySource(ssmOptionsFromEnvironment(process.env)));
keys.prime().catch((error: unknown) => logger.warn('signing keys not loaded at start', { error }));

export const handler = lambdaHandler(
  createMcpApp({
    config,
    keys,
    logger,
    sdkServer: sdkV2Server(() => buildBaselineServer('bench-sdk-server', '0.0.0')),
  }),
  logger,
);
