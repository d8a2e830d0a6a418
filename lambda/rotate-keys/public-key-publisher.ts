/**
 * Where the rotation publishes the public key set for verifiers that must not read the private
 * one (the mcp function): an SSM Parameter Store parameter, Standard tier (free, 4 KB; three
 * RSA-2048 public keys take about 1.4 KB).
 */
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { serializePublicKeySet, type PublicKeySet } from '../shared/public-key-set.js';

export interface PublicKeyPublisher {
  /** Replaces the published set. Publishing the same set again changes nothing a reader sees. */
  publish(set: PublicKeySet): Promise<void>;
}

export class ParameterStorePublisher implements PublicKeyPublisher {
  constructor(
    private readonly client: SSMClient,
    private readonly parameterName: string,
  ) {}

  async publish(set: PublicKeySet): Promise<void> {
    await this.client.send(
      new PutParameterCommand({
        Name: this.parameterName,
        Value: serializePublicKeySet(set),
        Type: 'String',
        // Standard stays free: a value over 4 KB fails here instead of silently becoming an
        // Advanced parameter, which is billed.
        Tier: 'Standard',
        Overwrite: true,
      }),
    );
  }
}
