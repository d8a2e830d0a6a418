/**
 * The signing key set: a Secrets Manager secret holding a private JWKS, the `rotate-keys`
 * function that Secrets Manager calls to roll it next → current → previous, and an SSM parameter
 * where that function publishes the public keys for verifiers that must not read the secret.
 *
 * The secret starts as the empty set `{}` and the rotation schedule rotates it as soon as it is
 * created (`RotateImmediatelyOnUpdate`), so the first keys exist seconds after the deployment
 * without a manual step. Until then, the functions answer 503.
 */
import { Aws, Duration, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { EMPTY_PUBLIC_KEY_SET } from '../../lambda/shared/public-key-set.js';
import { ssmEndpoint } from '../endpoints.js';
import { ServiceFunction } from './function.js';
import { SecretReaders } from './secret-readers.js';

export interface SigningKeysProps {
  readonly rotationDays: number;
  readonly logRetentionDays: number;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly tracing: boolean;
  readonly logLevel: string;
  /** Reach Parameter Store at its FIPS endpoint where the region has one. */
  readonly fipsEndpoints: boolean;
  /** A role that may read the private keys besides the signer and the rotation. */
  readonly breakGlassRoleArn?: string;
}

/** The value before the first rotation: a valid, empty key set (see `parseSigningKeySet`). */
export const EMPTY_KEY_SET = '{}';

/**
 * The rotation window. A scheduled rotation falls due on the day of the last rotation plus `N`
 * days and starts between midnight UTC and two hours later, rather than at any time that day:
 * scheduled rotations are `N` days apart give or take two hours. One that follows a rotation made
 * at another time of day (on creation, by hand) can still come `N − 1` days and a bit after it,
 * which is the worst case the settings check (`lib/settings.ts`).
 */
export const ROTATION_WINDOW = '2h';

/** What Secrets Manager records through CloudTrail when a rotation of this secret goes wrong. */
export const ROTATION_FAILURE_EVENTS = ['RotationFailed', 'RotationAbandoned'];

export class SigningKeys extends Construct {
  /** The private key set: only the signer (oauth) and the rotation may read it. */
  readonly secret: secretsmanager.Secret;
  /** The public key set the rotation publishes: what verifiers (mcp) read. */
  readonly publicKeys: ssm.StringParameter;
  /** The Systems Manager endpoint for the stack's partition and FIPS setting. */
  readonly ssmEndpoint: string;
  readonly rotation: ServiceFunction;
  readonly schedule: secretsmanager.CfnRotationSchedule;
  /** Who may read the private key set: the rotation, and the signer once granted. */
  readonly privateKeyReaders: SecretReaders;

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

    // CloudFormation writes `stringValue` back whenever a property of this resource changes
    // (value, description, tier, type, data type, allowed pattern, policies), which would wipe
    // the published keys until the next rotation: keep them fixed (the stack test pins them),
    // and rotate once after any deployment that changes them (doc/operations.md).
    this.publicKeys = new ssm.StringParameter(this, 'PublicKeys', {
      parameterName: `/${Stack.of(this).stackName}/signing-keys/public-jwks`,
      simpleName: false,
      description:
        'Public JWKS of the signing keys (current, next, previous); written by rotate-keys, read by mcp',
      // The empty set the first rotation replaces; the mcp function answers 503 until then.
      stringValue: EMPTY_PUBLIC_KEY_SET,
      // Standard: free, and 4 KB is three times what three RSA-2048 public keys take.
      tier: ssm.ParameterTier.STANDARD,
    });
    this.ssmEndpoint = ssmEndpoint(this, { fips: props.fipsEndpoints });

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
    this.privateKeyReaders = new SecretReaders(this.secret, props.breakGlassRoleArn);
    this.privateKeyReaders.grantRead(this.rotation.role);
    this.rotation.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: [this.secret.secretArn],
      }),
    );
    this.rotation.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ssm:PutParameter'], resources: [this.publicKeys.parameterArn] }),
    );
    this.rotation.fn.addEnvironment('PUBLIC_KEYS_PARAMETER_NAME', this.publicKeys.parameterName);
    this.rotation.fn.addEnvironment('SSM_ENDPOINT', this.ssmEndpoint);

    this.schedule = new secretsmanager.CfnRotationSchedule(this, 'Rotation', {
      secretId: this.secret.secretArn,
      rotationLambdaArn: this.rotation.fn.functionArn,
      rotationRules: { scheduleExpression: `rate(${props.rotationDays} days)`, duration: ROTATION_WINDOW },
      // Also rotates on creation: this is what makes the first key exist.
      rotateImmediatelyOnUpdate: true,
    });
    // The first rotation starts as soon as the schedule exists: the function must already be
    // invokable by Secrets Manager and allowed to write the secret and the public parameter.
    this.schedule.node.addDependency(invokePermission, this.rotation.role, this.rotation.fn, this.publicKeys);
  }

  /** Lets a function's role read the private key set (AWSCURRENT): for the function that signs, only. */
  grantReadPrivateKeys(role: iam.IRole): iam.Grant {
    return this.privateKeyReaders.grantRead(role);
  }

  /**
   * The CloudTrail events (EventBridge detail-type "AWS Service Event via CloudTrail") Secrets
   * Manager records when a rotation of this secret fails or is abandoned (a value put by hand
   * while a rotation was pending). The secret is named in `additionalEventData.SecretId`.
   */
  get rotationFailureEvents(): events.EventPattern {
    return {
      source: ['aws.secretsmanager'],
      detailType: ['AWS Service Event via CloudTrail'],
      detail: {
        eventSource: ['secretsmanager.amazonaws.com'],
        eventName: ROTATION_FAILURE_EVENTS,
        additionalEventData: { SecretId: [this.secret.secretArn] },
      },
    };
  }

  /** Lets a function read the published public key set, and nothing else: for verifiers. */
  grantReadPublicKeys(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:GetParameter'],
      resourceArns: [this.publicKeys.parameterArn],
    });
  }
}
