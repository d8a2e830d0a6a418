/**
 * The whole system in one stack: an OAuth 2.1 authorization server (`oauth`) and an MCP
 * resource server (`mcp`) behind one HTTP API, a DynamoDB table, a signing key set in Secrets
 * Manager rotated by `rotate-keys` (which publishes its public half to an SSM parameter), the
 * upstream OpenID provider users log in at (a Cognito user pool unless another is configured),
 * alarms and a cost budget. See doc/architecture.md.
 */
import { Aws, CfnOutput, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { Alarms } from './constructs/alarms.js';
import { Api } from './constructs/api.js';
import { CostBudget } from './constructs/cost-budget.js';
import { HTTP_FUNCTION_TIMEOUT, ServiceFunction } from './constructs/function.js';
import { InitialAccessToken } from './constructs/initial-access-token.js';
import { SigningKeys } from './constructs/signing-keys.js';
import { Storage } from './constructs/storage.js';
import { UpstreamUserPool } from './constructs/user-pool.js';
import { hasExternalUpstream, resolveSettings, type DeploymentSettings } from './settings.js';

/**
 * Every setting of `DeploymentSettings` can be given here (or as CDK context). Users log in at
 * the Cognito user pool the stack creates, unless `upstreamIssuer`, `upstreamClientId` and
 * `upstreamClientSecretArn` name another OpenID provider.
 */
export interface McpOAuthStackProps extends StackProps, Partial<DeploymentSettings> {}

/** The upstream OpenID provider as the oauth function sees it. */
interface Upstream {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecretArn: string;
}

export class McpOAuthStack extends Stack {
  readonly settings: DeploymentSettings;
  readonly api: Api;
  readonly storage: Storage;
  readonly signingKeys: SigningKeys;
  readonly oauth: ServiceFunction;
  readonly mcp: ServiceFunction;
  readonly initialAccessToken?: InitialAccessToken;
  /** The user pool users log in at; absent when `upstreamIssuer` names another provider. */
  readonly userPool?: UpstreamUserPool;
  readonly alarms: Alarms;
  /** Absent when `monthlyBudgetUsd` is 0. */
  readonly budget?: CostBudget;

  constructor(scope: Construct, id: string, props: McpOAuthStackProps = {}) {
    super(scope, id, props);
    const settings = (this.settings = resolveSettings(props, this.node));
    // Deleting a stage other than dev takes a deliberate step (turning this off) first.
    if (props.terminationProtection === undefined) this.terminationProtection = settings.stage !== 'dev';
    for (const [key, value] of Object.entries({
      project: settings.project,
      stage: settings.stage,
      owner: settings.owner,
    })) {
      if (value !== undefined) Tags.of(this).add(key, value);
    }
    const breakGlass = settings.breakGlassRoleArn ? { breakGlassRoleArn: settings.breakGlassRoleArn } : {};
    const removalPolicy = settings.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const common = {
      logRetentionDays: settings.logRetentionDays,
      tracing: settings.tracing,
      logLevel: settings.logLevel,
    };

    this.storage = new Storage(this, 'Storage', { removalPolicy });
    this.signingKeys = new SigningKeys(this, 'SigningKeys', {
      ...common,
      rotationDays: settings.signingKeyRotationDays,
      logRemovalPolicy: removalPolicy,
      fipsEndpoints: settings.fipsEndpoints,
      ...breakGlass,
    });
    if (settings.registrationPolicy === 'token' || settings.interactiveRegistrationPolicy === 'token') {
      this.initialAccessToken = new InitialAccessToken(this, 'InitialAccessToken');
    }

    // Memory: CPU grows with memory, and cold-start import and RSA work are CPU-bound, while a
    // warm call bills a few milliseconds either way. Measured in doc/performance.md.
    this.oauth = new ServiceFunction(this, 'OAuth', {
      ...common,
      name: 'oauth',
      description: 'OAuth 2.1 authorization server: discovery, registration, client management, token',
      memorySize: settings.oauthMemorySize,
      timeout: HTTP_FUNCTION_TIMEOUT,
      removalPolicy,
    });
    this.mcp = new ServiceFunction(this, 'Mcp', {
      ...common,
      name: 'mcp',
      description: 'MCP resource server (stateless Streamable HTTP) and its protected resource metadata',
      memorySize: settings.mcpMemorySize,
      timeout: HTTP_FUNCTION_TIMEOUT,
      removalPolicy,
    });

    this.api = new Api(this, 'Api', {
      functions: { oauth: this.oauth.fn, mcp: this.mcp.fn },
      rateLimit: settings.throttleRateLimit,
      burstLimit: settings.throttleBurstLimit,
      registrationRateLimit: settings.registrationRateLimit,
      logRetentionDays: settings.logRetentionDays,
      logRemovalPolicy: removalPolicy,
      ...(settings.customDomainName && settings.customDomainCertificateArn
        ? {
            customDomain: {
              domainName: settings.customDomainName,
              certificateArn: settings.customDomainCertificateArn,
            },
          }
        : {}),
    });
    const issuer = this.api.url;
    const callbackUrl = `${issuer}/callback`;

    // The app client's callback URL needs the API's URL, and the oauth function's environment
    // needs the app client: pool after API, environment after pool (the API's integration
    // depends on the function, not on its environment, so there is no cycle).
    let upstream: Upstream;
    if (hasExternalUpstream(settings)) {
      upstream = {
        issuer: settings.upstreamIssuer!,
        clientId: settings.upstreamClientId!,
        clientSecretArn: settings.upstreamClientSecretArn!,
      };
    } else {
      this.userPool = new UpstreamUserPool(this, 'Users', {
        callbackUrl,
        scopes: settings.upstreamScopes,
        removalPolicy,
        ...(settings.cognitoDomainPrefix ? { domainPrefix: settings.cognitoDomainPrefix } : {}),
        ...breakGlass,
      });
      upstream = {
        issuer: this.userPool.issuer,
        clientId: this.userPool.client.userPoolClientId,
        clientSecretArn: this.userPool.clientSecret.secretArn,
      };
    }

    const shared = {
      ISSUER: issuer,
      SCOPES: settings.scopes.join(' '),
      ALLOWED_ORIGINS: settings.allowedOrigins.join(','),
    };
    for (const [name, value] of Object.entries({
      ...shared,
      TABLE_NAME: this.storage.table.tableName,
      SIGNING_KEYS_SECRET_ARN: this.signingKeys.secret.secretArn,
      ACCESS_TOKEN_TTL_SECONDS: String(settings.accessTokenTtlSeconds),
      REGISTRATION_POLICY: settings.registrationPolicy,
      INTERACTIVE_REGISTRATION_POLICY: settings.interactiveRegistrationPolicy,
      REFRESH_TOKEN_REUSE_GRACE_SECONDS: String(settings.refreshTokenReuseGraceSeconds),
      REFRESH_TOKEN_IDLE_TTL_SECONDS: String(settings.refreshTokenIdleTtlSeconds),
      REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS: String(settings.refreshTokenAbsoluteTtlSeconds),
      CLIENT_LOGIN_DEADLINE_SECONDS: String(settings.clientLoginDeadlineSeconds),
      CLIENT_IDLE_TTL_SECONDS: String(settings.clientIdleTtlSeconds),
      UPSTREAM_ISSUER: upstream.issuer,
      UPSTREAM_CLIENT_ID: upstream.clientId,
      UPSTREAM_CLIENT_SECRET_ARN: upstream.clientSecretArn,
      UPSTREAM_SCOPES: settings.upstreamScopes.join(' '),
      ...(this.initialAccessToken
        ? { INITIAL_ACCESS_TOKEN_SECRET_ARN: this.initialAccessToken.secret.secretArn }
        : {}),
    })) {
      this.oauth.fn.addEnvironment(name, value);
    }
    for (const [name, value] of Object.entries({
      ...shared,
      PUBLIC_KEYS_PARAMETER_NAME: this.signingKeys.publicKeys.parameterName,
      SSM_ENDPOINT: this.signingKeys.ssmEndpoint,
      // The verifier refuses tokens of this server that claim to live longer than this.
      ACCESS_TOKEN_TTL_SECONDS: String(settings.accessTokenTtlSeconds),
      RESOURCE_NAME: settings.resourceName,
      ...(settings.trustedIssuers.length ? { TRUSTED_ISSUERS: JSON.stringify(settings.trustedIssuers) } : {}),
    })) {
      this.mcp.fn.addEnvironment(name, value);
    }

    // Least privilege: oauth reads and writes the table and reads the private keys, the initial
    // access token and its client secret at the upstream provider (that exact ARN, whether the
    // secret is the stack's or the operator's); mcp reads the public keys only, so a compromised
    // tool or dependency there can verify tokens but never mint one. The stack's secrets also
    // deny reads to every role they do not grant (`SecretReaders`).
    this.storage.grantItemReadWrite(this.oauth.fn);
    this.signingKeys.grantReadPrivateKeys(this.oauth.role);
    this.initialAccessToken?.grantRead(this.oauth.role);
    if (this.userPool) {
      this.userPool.clientSecretReaders.grantRead(this.oauth.role);
    } else {
      // The operator's secret: its resource policy is theirs to write (doc/operations.md).
      iam.Grant.addToPrincipal({
        grantee: this.oauth.fn,
        actions: ['secretsmanager:GetSecretValue'],
        resourceArns: [upstream.clientSecretArn],
      });
    }
    this.signingKeys.grantReadPublicKeys(this.mcp.fn);

    this.alarms = new Alarms(this, 'Alarms', {
      functions: { oauth: this.oauth.fn, mcp: this.mcp.fn, 'rotate-keys': this.signingKeys.rotation.fn },
      httpApi: this.api.httpApi,
      accessLogs: this.api.accessLogs,
      mcpLatencyP99AlarmMs: settings.mcpLatencyP99AlarmMs,
      ...(settings.alarmEmail ? { alarmEmail: settings.alarmEmail } : {}),
    });
    this.alarms.alertOnEvents('SigningKeyRotationFailed', {
      description:
        'A rotation of the signing key secret failed or was abandoned (CloudTrail, via EventBridge)',
      eventPattern: this.signingKeys.rotationFailureEvents,
      message: events.RuleTargetInput.fromText(
        `${this.stackName}: signing key rotation ${events.EventField.fromPath('$.detail.eventName')} ` +
          `at ${events.EventField.time} for ${events.EventField.fromPath('$.detail.additionalEventData.SecretId')}. ` +
          'See "If a rotation fails" in doc/operations.md.',
      ),
    });
    if (settings.monthlyBudgetUsd > 0) {
      this.budget = new CostBudget(this, 'CostBudget', {
        monthlyLimitUsd: settings.monthlyBudgetUsd,
        topic: this.alarms.topic,
      });
    }

    new CfnOutput(this, 'McpUrl', { value: `${issuer}/mcp`, description: 'Point MCP clients here' });
    new CfnOutput(this, 'Issuer', { value: issuer, description: 'OAuth issuer (bare origin)' });
    new CfnOutput(this, 'RegistrationEndpoint', {
      value: `${issuer}/register`,
      description:
        `Client registration (RFC 7591); policy: ${settings.interactiveRegistrationPolicy} for interactive ` +
        `clients, ${settings.registrationPolicy} for client_credentials`,
    });
    new CfnOutput(this, 'UpstreamCallbackUrl', {
      value: callbackUrl,
      description: 'The redirect URI registered at the upstream OpenID provider',
    });
    new CfnOutput(this, 'TokenEndpoint', { value: `${issuer}/token` });
    new CfnOutput(this, 'SigningKeysSecretArn', { value: this.signingKeys.secret.secretArn });
    new CfnOutput(this, 'PublicSigningKeysParameter', {
      value: this.signingKeys.publicKeys.parameterName,
      description:
        'The public keys the rotation publishes for the mcp function (aws ssm get-parameter --name <this>)',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    if (this.initialAccessToken) {
      new CfnOutput(this, 'InitialAccessTokenSecretArn', {
        value: this.initialAccessToken.secret.secretArn,
        description:
          'aws secretsmanager get-secret-value --secret-id <this> --query SecretString --output text',
      });
    }
    if (this.userPool) {
      new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPool.userPoolId });
      new CfnOutput(this, 'CognitoLoginUrl', {
        value: this.userPool.loginUrl,
        description: 'Cognito hosted sign-in pages (managed login) where users log in',
      });
      new CfnOutput(this, 'CreateFirstUser', {
        value:
          `aws cognito-idp admin-create-user --region ${Aws.REGION} --user-pool-id ${this.userPool.userPool.userPoolId}` +
          ' --username you@example.com --user-attributes Name=email,Value=you@example.com' +
          ' Name=email_verified,Value=true --desired-delivery-mediums EMAIL',
        description: 'Creates a user, who gets a temporary password by email (replace you@example.com twice)',
      });
    }
    if (this.api.domainName) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: this.api.domainName.regionalDomainName,
        description: `Point a CNAME (or alias) record for ${settings.customDomainName} here`,
      });
    }
  }
}
