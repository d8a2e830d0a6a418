/**
 * An in-memory SSM parameter wired into an aws-sdk-client-mock: `PutParameter` with `Overwrite`
 * replaces the value and adds a version, as Parameter Store does, and refuses a Standard value
 * over 4 KB. `onPut` lets a test look at the rest of the world right after a write.
 */
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClientStub } from 'aws-sdk-client-mock';

export const PARAMETER_NAME = '/McpOAuth/signing-keys/public-jwks';

export class FakeParameter {
  readonly versions: string[] = [];
  onPut: (() => void) | undefined;

  constructor(public value: string) {
    this.versions.push(value);
  }

  wire(mock: AwsClientStub<SSMClient>): void {
    mock.on(PutParameterCommand).callsFake((input: { Name: string; Value: string; Tier?: string }) => {
      if (input.Name !== PARAMETER_NAME) throw new Error(`unexpected parameter ${input.Name}`);
      if (input.Tier === 'Standard' && Buffer.byteLength(input.Value) > 4096) {
        throw new Error('Standard tier parameters support a maximum parameter value of 4096 characters');
      }
      this.value = input.Value;
      this.versions.push(input.Value);
      this.onPut?.();
      return { Version: this.versions.length, Tier: 'Standard' };
    });
  }
}
