/**
 * The signing key set: a Secrets Manager secret holding a private JWKS, and the `rotate-keys`
 * function that Secrets Manager calls to roll it next → current → previous.
 *
 * The secret starts as the empty set `{}` and the rotation schedule rotates it as soon as it is
 * created (`RotateImmediatelyOnUpdate`), so the first keys exist seconds after the deployment
 * without a manual step. Until then, the functions answer 503.
 */
import { Aws, Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ServiceFunction } from './function.js';

export interface SigningKeysProps {
  readonly rotationDays: number;
  readonly logRetentionDays: number;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly tracing: boolean;
  readonly logLevel: string;
}

/** The value before the first rotation: a valid, empty key set (see `parseSigningKeySet`). */
export const EMPTY_KEY_SET = '{}';

export class SigningKeys extends Construct {
  readonly secret: secretsmanager.Secret;
  readonly rotation: ServiceFunction;
  readonly schedule: secretsmanager.CfnRotationSchedule;

  constructor(scope: Construct, id: string, props: SigningKeysProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        'Private JWKS that signs access tokens ({current, next, previous}); rotated by the rotate-keys function',
      // Not a secret: the empty placeholder the first rotation replaces.
      secretStringValue: SecretValue.unsafePlainText(EMPTY_KEY_SET),
      // Keys are worthless without the stack; a new deployment generates new ones.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.rotation = new ServiceFunction(this, 'RotateKeys', {
      name: 'rotate-keys',
      description: 'Rotates the signing key set (Secrets Manager rotation protocol)',
      // RSA key generation is CPU-bound; 1024 MB gets it done in well under a second.
      memorySize: 1024,
      timeout: Duration.minutes(1),
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.logRemovalPolicy,
      tracing: props.tracing,
      logLevel: props.logLevel,
    });

    // Written out rather than `secret.addRotationSchedule()`, which also grants
    // secretsmanager:GetRandomPassword on "*" and lets Secrets Manager invoke the function on
    // behalf of any secret in any account.
    const invokePermission = new lambda.CfnPermission(this, 'InvokedBySecretsManager', {
      action: 'lambda:InvokeFunction',
      functionName: this.rotation.fn.functionArn,
      principal: 'secretsmanager.amazonaws.com',
      sourceArn: this.secret.secretArn,
      sourceAccount: Aws.ACCOUNT_ID,
    });
    this.rotation.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: [this.secret.secretArn],
      }),
    );

    this.schedule = new secretsmanager.CfnRotationSchedule(this, 'Rotation', {
      secretId: this.secret.secretArn,
      rotationLambdaArn: this.rotation.fn.functionArn,
      rotationRules: { scheduleExpression: `rate(${props.rotationDays} days)` },
      // Also rotates on creation: this is what makes the first key exist.
      rotateImmediatelyOnUpdate: true,
    });
    // The first rotation starts as soon as the schedule exists: the function must already be
    // invokable by Secrets Manager and allowed to write the secret.
    this.schedule.node.addDependency(invokePermission, this.rotation.role, this.rotation.fn);
  }

  /** Lets a function read the key set (AWSCURRENT), and nothing else. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.secret.secretArn],
    });
  }
}
