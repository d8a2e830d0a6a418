/**
 * An in-memory Secrets Manager secret with versions and staging labels, wired into an
 * aws-sdk-client-mock. It follows the documented behaviour the rotation protocol relies on, so
 * retried and repeated steps can be tested as sequences rather than as single mocked calls.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { AwsClientStub } from 'aws-sdk-client-mock';

export const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SigningKeys-AbCdEf';

interface Version {
  value?: string;
  stages: Set<string>;
}

export class FakeSecret {
  rotationEnabled = true;
  readonly versions = new Map<string, Version>();
  /** Errors the next `UpdateSecretVersionStage` calls throw, changing nothing (a throttle, a timeout). */
  readonly stageUpdateFailures: Error[] = [];

  constructor(initialValue: string) {
    this.versions.set('initial-version', { value: initialValue, stages: new Set(['AWSCURRENT']) });
  }

  /** What Secrets Manager does when a rotation starts: stage a version id AWSPENDING, with no value yet. */
  startRotation(token: string): void {
    this.removeStage('AWSPENDING');
    this.versions.set(token, { stages: new Set(['AWSPENDING']) });
  }

  /** The value staged `stage`, or undefined. */
  valueAt(stage: string): string | undefined {
    return [...this.versions.values()].find((v) => v.stages.has(stage))?.value;
  }

  wire(mock: AwsClientStub<SecretsManagerClient>): void {
    mock.on(DescribeSecretCommand).callsFake(() => ({
      ARN: SECRET_ARN,
      RotationEnabled: this.rotationEnabled,
      VersionIdsToStages: Object.fromEntries([...this.versions].map(([id, v]) => [id, [...v.stages]])),
    }));
    mock.on(GetSecretValueCommand).callsFake((input: { VersionId?: string; VersionStage?: string }) => {
      const stage = input.VersionStage ?? (input.VersionId ? undefined : 'AWSCURRENT');
      const entry = [...this.versions].find(
        ([id, v]) => (!input.VersionId || id === input.VersionId) && (!stage || v.stages.has(stage)),
      );
      if (!entry || entry[1].value === undefined) {
        throw new ResourceNotFoundException({
          message: "Secrets Manager can't find the specified secret value",
          $metadata: {},
        });
      }
      return {
        ARN: SECRET_ARN,
        VersionId: entry[0],
        SecretString: entry[1].value,
        VersionStages: [...entry[1].stages],
      };
    });
    mock
      .on(PutSecretValueCommand)
      .callsFake((input: { ClientRequestToken: string; SecretString: string; VersionStages: string[] }) => {
        const existing = this.versions.get(input.ClientRequestToken);
        if (existing?.value !== undefined && existing.value !== input.SecretString) {
          throw new ResourceExistsException({
            message: 'a version with this token has a different value',
            $metadata: {},
          });
        }
        for (const stage of input.VersionStages) this.removeStage(stage);
        this.versions.set(input.ClientRequestToken, {
          value: input.SecretString,
          stages: new Set(input.VersionStages),
        });
        return { ARN: SECRET_ARN, VersionId: input.ClientRequestToken, VersionStages: input.VersionStages };
      });
    mock
      .on(UpdateSecretVersionStageCommand)
      .callsFake((input: { VersionStage: string; MoveToVersionId: string; RemoveFromVersionId?: string }) => {
        const failure = this.stageUpdateFailures.shift();
        if (failure) throw failure;
        const holder = [...this.versions].find(([, v]) => v.stages.has(input.VersionStage));
        if (holder && holder[0] !== input.MoveToVersionId && holder[0] !== input.RemoveFromVersionId) {
          throw new InvalidParameterException({
            message: `${input.VersionStage} is attached to ${holder[0]}, which RemoveFromVersionId does not name`,
            $metadata: {},
          });
        }
        const target = this.versions.get(input.MoveToVersionId);
        if (!target) throw new ResourceNotFoundException({ message: 'no such version', $metadata: {} });
        this.removeStage(input.VersionStage);
        target.stages.add(input.VersionStage);
        if (input.VersionStage === 'AWSCURRENT' && holder && holder[0] !== input.MoveToVersionId) {
          // Secrets Manager moves AWSPREVIOUS to the version that lost AWSCURRENT.
          this.removeStage('AWSPREVIOUS');
          holder[1].stages.add('AWSPREVIOUS');
        }
        return { ARN: SECRET_ARN };
      });
  }

  private removeStage(stage: string): void {
    for (const version of this.versions.values()) version.stages.delete(stage);
  }
}
