/**
 * The synthetic canary: a CloudWatch Synthetics canary that runs `lib/canary/mcp-check.cjs`
 * every `canaryIntervalMinutes` against the issuer (metadata, a `client_credentials` token with
 * the canary's own client, `tools/call` on `/mcp`), so a broken deployment is noticed with no
 * user traffic. Its alarm (`Alarms.alarmOnCanary`) fires on a failed run and on silence.
 *
 * The canary client's credentials live in a secret that starts as `{}`; `scripts/deploy.sh`
 * registers the client and puts them there once (doc/operations.md, "Synthetic canary"). Only the
 * canary's role (and `breakGlassRoleArn`) may read it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Aws, Duration, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as synthetics from 'aws-cdk-lib/aws-synthetics';
import { Construct } from 'constructs';
import { PROJECT_ROOT } from '../bundling.js';
import { SecretReaders } from './secret-readers.js';

/**
 * The newest Node.js Synthetics runtime in aws-cdk-lib 2.276. The script asks for no browser page; the
 * browserless `syn-nodejs-3.x` runtimes are documented for the multi-checks blueprint's JSON
 * configuration, not for a script like this one.
 */
export const CANARY_RUNTIME = synthetics.Runtime.SYNTHETICS_NODEJS_PUPPETEER_13_0;

/** The check the canary runs, inlined into the template (a few KB). */
export const CANARY_SCRIPT_PATH = join(PROJECT_ROOT, 'lib/canary/mcp-check.cjs');

export interface McpCanaryProps {
  /** The issuer the canary checks (and whose `/mcp` it calls). */
  readonly issuer: string;
  readonly intervalMinutes: number;
  /** False when registration of machine clients is closed: no canary client can exist. */
  readonly requireClient: boolean;
  /** Days the artifact bucket keeps run artifacts (reports and logs). */
  readonly artifactRetentionDays: number;
  readonly breakGlassRoleArn?: string;
}

/**
 * A canary name: lowercase letters, digits, `-` and `_`, at most 21 characters (Synthetics names
 * the canary's Lambda function `cwsyn-<name>-<id>`, within Lambda's 64). Unique per account and
 * region, so it comes from the stack name, shortened with a hash when too long.
 */
export function canaryName(stackName: string): string {
  const base = stackName.toLowerCase().replace(/[^0-9a-z_-]+/g, '-');
  const full = `${base}-canary`;
  if (full.length <= 21) return full;
  const hash = createHash('sha256').update(stackName).digest('hex').slice(0, 6);
  return `${base.slice(0, 14).replace(/-+$/, '')}-${hash}`;
}

export class McpCanary extends Construct {
  readonly canary: synthetics.Canary;
  readonly artifacts: s3.Bucket;
  readonly role: iam.Role;
  /** `{"client_id", "client_secret"}` of the canary's own client, once registered. */
  readonly clientSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: McpCanaryProps) {
    super(scope, id);
    const name = canaryName(Stack.of(this).stackName);

    this.artifacts = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [
        {
          expiration: Duration.days(props.artifactRetentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // Emptied by its lifecycle rule; CloudFormation cannot delete a bucket that still holds objects.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.artifacts).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the canary role writes here (run reports and logs that expire with the lifecycle rule); server access ' +
        'logs would need a second bucket to record one writer, whose writes CloudTrail already shows.',
    });

    this.clientSecret = new secretsmanager.Secret(this, 'ClientSecret', {
      description: 'client_id and client_secret of the canary client (JSON), put here once after deployment',
      // Not a secret: the placeholder the registration replaces.
      secretStringValue: SecretValue.unsafePlainText('{}'),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.clientSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The value is a client secret this server issued at registration; Secrets Manager cannot rotate it. It is ' +
        'replaced by registering a new canary client (doc/operations.md, "Synthetic canary").',
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'synthetic canary',
    });
    // What a Synthetics canary needs (the statements aws-synthetics' own default role holds),
    // written out; the wildcards are the service's, acknowledged below.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.artifacts.arnForObjects('*')] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [this.artifacts.bucketArn] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListAllMyBuckets'], resources: ['*'] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'CloudWatchSynthetics' } },
      }),
    );
    const logGroup = `/aws/lambda/cwsyn-${name}-*`;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${logGroup}`],
      }),
    );
    // cdk-nag names each wildcard resource in its finding, the bucket by its logical id.
    const bucketId = Stack.of(this).getLogicalId(this.artifacts.node.defaultChild as s3.CfnBucket);
    const wildcards: [string, string][] = [
      [
        '*',
        's3:ListAllMyBuckets and cloudwatch:PutMetricData support no resource (the metrics are limited to the ' +
          'CloudWatchSynthetics namespace by a condition)',
      ],
      [`<${bucketId}.Arn>/*`, "it writes each run's report and log as new objects in its own bucket"],
      [
        `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${logGroup}`,
        "Synthetics names the canary function's log group cwsyn-<canary name>-<generated id>",
      ],
    ];
    for (const [resource, why] of wildcards) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason: `The canary runtime needs this wildcard: ${why}.`,
      });
    }
    new SecretReaders(this.clientSecret, props.breakGlassRoleArn).grantRead(this.role);

    this.canary = new synthetics.Canary(this, 'Canary', {
      canaryName: name,
      runtime: CANARY_RUNTIME,
      test: synthetics.Test.custom({
        code: synthetics.Code.fromInline(readFileSync(CANARY_SCRIPT_PATH, 'utf8')),
        handler: 'index.handler',
      }),
      // Synthetics documents rate(1 minute) to rate(1 hour); 60 is written the documented way.
      schedule:
        props.intervalMinutes === 60
          ? synthetics.Schedule.expression('rate(1 hour)')
          : synthetics.Schedule.rate(Duration.minutes(props.intervalMinutes)),
      role: this.role,
      artifactsBucketLocation: { bucket: this.artifacts },
      artifactS3EncryptionMode: synthetics.ArtifactsEncryptionMode.S3_MANAGED,
      timeout: Duration.seconds(60),
      environmentVariables: {
        ISSUER: props.issuer,
        CLIENT_SECRET_ARN: this.clientSecret.secretArn,
        REQUIRE_CLIENT: String(props.requireClient),
      },
      successRetentionPeriod: Duration.days(7),
      failureRetentionPeriod: Duration.days(Math.min(props.artifactRetentionDays, 455)),
      // Deleting the canary deletes the Lambda function and layer Synthetics made for it.
      provisionedResourceCleanup: true,
    });
  }
}
