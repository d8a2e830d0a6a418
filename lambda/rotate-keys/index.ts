/**
 * The `rotate-keys` function: Secrets Manager calls it four times per rotation of the signing
 * key secret (createSecret, setSecret, testSecret, finishSecret). Keys roll next → current →
 * previous, so a key is published before it signs and stays published while its tokens live.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerRotationEvent } from 'aws-lambda';
import { createLogger } from '../shared/logger.js';
import { rotateSecret } from './rotation-steps.js';

// Created once per execution environment, reused across the four invocations of a rotation.
const client = new SecretsManagerClient({});
const logger = createLogger('rotate-keys');

export async function handler(event: SecretsManagerRotationEvent): Promise<void> {
  try {
    await rotateSecret(event, { client, logger });
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
