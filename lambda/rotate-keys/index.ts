/**
 * The `rotate-keys` function: Secrets Manager calls it four times per rotation of the signing
 * key secret (createSecret, setSecret, testSecret, finishSecret). Keys roll next → current →
 * previous, so a key is published before it signs and stays published while its tokens live.
 * `finishSecret` also publishes the public key set where the mcp function, which may read no
 * private key, reads it: an item of the table (`TablePublisher`), and the SSM parameter an mcp
 * function of the earlier layout reads.
 *
 * Wrapped as the HTTP functions are (middy, Powertools' `injectLambdaContext` and `logMetrics`);
 * each line's `correlation_id` is the rotation's `ClientRequestToken` (the new version's id, no
 * secret), the same in all four steps of one rotation.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { SecretsManagerRotationEvent } from 'aws-lambda';
import { awsClientOptions } from '../shared/aws-client-options.js';
import { ConfigError } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { createBusinessMetrics } from '../shared/metrics.js';
import { ParameterStorePublisher, Publishers, TablePublisher } from './public-key-publisher.js';
import { rotateSecret } from './rotation-steps.js';

const parameterName = process.env.PUBLIC_KEYS_PARAMETER_NAME;
if (!parameterName) throw new ConfigError('PUBLIC_KEYS_PARAMETER_NAME is required');
// The stack's endpoint for the partition and the FIPS setting, as the mcp function reads it.
const ssmEndpoint = process.env.SSM_ENDPOINT;

// Created once per execution environment, reused across the four invocations of a rotation.
// Bounded time and retries: Secrets Manager retries a failed step, so a stuck call need not wait.
const client = new SecretsManagerClient(awsClientOptions());
const tableName = process.env.TABLE_NAME;
if (!tableName) throw new ConfigError('TABLE_NAME is required');
// The table first: the mcp function reads the keys there, with the revocation markers; the SSM
// parameter still, for an mcp function of the earlier layout during an upgrade.
const publisher = new Publishers([
  new TablePublisher(
    DynamoDBDocumentClient.from(new DynamoDBClient(awsClientOptions()), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    tableName,
  ),
  new ParameterStorePublisher(
    new SSMClient(awsClientOptions(ssmEndpoint ? { endpoint: ssmEndpoint } : {})),
    parameterName,
  ),
]);
const logger = createLogger('rotate-keys');
// Counts nothing yet; there so that a metric added here is flushed like the other functions'.
const metrics = createBusinessMetrics('rotate-keys', logger);

async function rotate(event: SecretsManagerRotationEvent): Promise<void> {
  try {
    await rotateSecret(event, { client, publisher, logger });
  } catch (error) {
    logger.error('rotation step failed', {
      step: event.Step,
      secretId: event.SecretId,
      version: event.ClientRequestToken,
      error,
    });
    throw error;
  }
}

export const handler = middy(rotate)
  .use(
    injectLambdaContext(logger.powertools, {
      correlationIdPath: 'ClientRequestToken',
      resetKeys: true,
      logEvent: false,
    }),
  )
  .use(logMetrics(metrics));
