/**
 * The `rotate-keys` function: Secrets Manager calls it four times per rotation of the signing
 * key secret (createSecret, setSecret, testSecret, finishSecret). Keys roll next → current →
 * previous, so a key is published before it signs and stays published while its tokens live.
 * `finishSecret` also publishes the public key set to an SSM parameter, the only key store the
 * mcp function may read.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { SecretsManagerRotationEvent } from 'aws-lambda';
import { awsClientOptions } from '../shared/aws-client-options.js';
import { ConfigError } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { ParameterStorePublisher } from './public-key-publisher.js';
import { rotateSecret } from './rotation-steps.js';

const parameterName = process.env.PUBLIC_KEYS_PARAMETER_NAME;
if (!parameterName) throw new ConfigError('PUBLIC_KEYS_PARAMETER_NAME is required');
// The stack's endpoint for the partition and the FIPS setting, as the mcp function reads it.
const ssmEndpoint = process.env.SSM_ENDPOINT;

// Created once per execution environment, reused across the four invocations of a rotation.
// Bounded time and retries: Secrets Manager retries a failed step, so a stuck call need not wait.
const client = new SecretsManagerClient(awsClientOptions());
const publisher = new ParameterStorePublisher(
  new SSMClient(awsClientOptions(ssmEndpoint ? { endpoint: ssmEndpoint } : {})),
  parameterName,
);
const logger = createLogger('rotate-keys');

export async function handler(event: SecretsManagerRotationEvent): Promise<void> {
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
