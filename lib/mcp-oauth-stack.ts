/**
 * The whole system in one stack: an OAuth 2.1 authorization server (`oauth`) and an MCP
 * resource server (`mcp`) behind one HTTP API, a DynamoDB table, a signing key set in Secrets
 * Manager rotated by `rotate-keys` (which publishes its public half to an SSM parameter), the
 * upstream OpenID provider users log in at (a Cognito user pool unless another is configured),
 * alarms, a dashboard and a cost budget. Options: CloudFront and AWS WAF in front
 * (`cloudFrontWaf`), a synthetic canary (`canaryIntervalMinutes`), CodeDeploy rollouts through
 * aliases (`safeRollouts`). See doc/architecture.md.
 */
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { Alarms } from './constructs/alarms.js';
import { Api } from './constructs/api.js';
import { McpCanary } from './constructs/canary.js';
import { CostBudget } from './constructs/cost-budget.js';
import { Dashboard } from './constructs/dashboard.js';
import { CLOUDFRONT_HOSTED_ZONE_ID, Edge } from './constructs/edge.js';
import { HTTP_FUNCTION_TIMEOUT, ServiceFunction } from './constructs/function.js';
import { InitialAccessToken } from './constructs/initial-access-token.js';
import { LIVE_ALIAS, SafeRollout } from './constructs/safe-rollout.js';
import { SigningKeys } from './constructs/signing-keys.js';
import { dynamoDbEndpoint } from './endpoints.js';
import { requireStackAccount, requireStackRegion } from './region-checks.js';
import { Storage } from './constructs/storage.js';
import { UpstreamUserPool } from './constructs/user-pool.js';
import { UpstreamTokenKey } from './constructs/upstream-token-key.js';
import { DEV_STAGE, hasExternalUpstream, resolveSettings, type DeploymentSettings } from './settings.js';

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
  /** The key of the upstream refresh tokens kept for the re-checks; the oauth role alone reads it. */
  readonly upstreamTokenKey: UpstreamTokenKey;
  /** The user pool users log in at; absent when `upstreamIssuer` names another provider. */
  readonly userPool?: UpstreamUserPool;
  readonly alarms: Alarms;
  /** Absent when `monthlyBudgetUsd` is 0. */
  readonly budget?: CostBudget;
  /** CloudFront, WAF and the origin secret; only with `cloudFrontWaf`. */
  readonly edge?: Edge;
  /** Only when `canaryIntervalMinutes` is above 0. */
  readonly canary?: McpCanary;
  /** Aliases and CodeDeploy; only with `safeRollouts`. */
  readonly rollout?: SafeRollout;
  readonly dashboard: Dashboard;
  /** The issuer: the API's, CloudFront's, or the custom domain's origin. */
  readonly issuer: string;

  constructor(scope: Construct, id: string, props: McpOAuthStackProps = {}) {
    super(scope, id, props);
    const settings = (this.settings = resolveSettings(props, this.node));
    // Deleting a stage other than dev takes a deliberate step (turning this off) first.
    if (props.terminationProtection === undefined) this.terminationProtection = settings.stage !== DEV_STAGE;
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
    this.upstreamTokenKey = new UpstreamTokenKey(this, 'UpstreamTokenKey', { ...breakGlass, removalPolicy });

    // Memory: CPU grows with memory, and cold-start import and RSA work are CPU-bound, while a
    // warm call bills a few milliseconds either way. Measured in doc/performance.md.
    this.oauth = new ServiceFunction(this, 'OAuth', {
      ...common,
      name: 'oauth',
      description: 'OAuth 2.1 authorization server: discovery, registration, client management, token',
      memorySize: settings.oauthMemorySize,
      timeout: HTTP_FUNCTION_TIMEOUT,
      // Optional: capacity a flood of /mcp calls cannot take (none by default, see settings.ts).
      reservedConcurrency: settings.oauthReservedConcurrency,
      removalPolicy,
    });
    this.mcp = new ServiceFunction(this, 'Mcp', {
      ...common,
      name: 'mcp',
      description: 'MCP resource server (stateless Streamable HTTP) and its protected resource metadata',
      memorySize: settings.mcpMemorySize,
      timeout: HTTP_FUNCTION_TIMEOUT,
      reservedConcurrency: settings.mcpReservedConcurrency,
      removalPolicy,
    });

    // With safe rollouts the routes call the `live` aliases, which CodeDeploy moves.
    if (settings.safeRollouts) {
      this.rollout = new SafeRollout(this, 'SafeRollout', {
        functions: { oauth: this.oauth.fn, mcp: this.mcp.fn },
      });
    }
    const customDomain =
      settings.customDomainName && settings.customDomainCertificateArn
        ? { domainName: settings.customDomainName, certificateArn: settings.customDomainCertificateArn }
        : undefined;
    this.api = new Api(this, 'Api', {
      functions: this.rollout?.aliases ?? { oauth: this.oauth.fn, mcp: this.mcp.fn },
      rateLimit: settings.throttleRateLimit,
      burstLimit: settings.throttleBurstLimit,
      registrationRateLimit: settings.registrationRateLimit,
      logRetentionDays: settings.logRetentionDays,
      logRemovalPolicy: removalPolicy,
      // With CloudFront in front, the custom domain is the distribution's.
      ...(customDomain && !settings.cloudFrontWaf ? { customDomain } : {}),
    });
    if (settings.cloudFrontWaf) {
      this.edge = new Edge(this, 'Edge', {
        originDomainName: this.api.executeApiDomain,
        originSecretRevision: settings.originSecretRevision,
        logRetentionDays: settings.logRetentionDays,
        logRemovalPolicy: removalPolicy,
        ...(customDomain ? { customDomain } : {}),
      });
    }
    const issuer = (this.issuer = this.edge?.url ?? this.api.url);
    const callbackUrl = `${issuer}/callback`;

    // The app client's callback URL needs the API's URL, and the oauth function's environment
    // needs the app client: pool after API, environment after pool (the API's integration
    // depends on the function, not on its environment, so there is no cycle).
    let upstream: Upstream;
    if (hasExternalUpstream(settings)) {
      this.requireUpstreamSecretBeside(settings.upstreamClientSecretArn!);
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
        ...(settings.cognitoMachineClient ? { machineClient: true } : {}),
        // Cognito counts it in whole minutes.
        refreshTokenValidity: Duration.minutes(Math.ceil(settings.refreshTokenAbsoluteTtlSeconds / 60)),
        groups: [...new Set(Object.values(settings.scopePolicy?.scopes ?? {}).flat())],
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
      ...(settings.blockedClientMetadataDocuments.length
        ? { BLOCKED_CLIENT_METADATA_DOCUMENTS: settings.blockedClientMetadataDocuments.join(',') }
        : {}),
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
      UPSTREAM_RECHECK_SECONDS: String(settings.upstreamRecheckSeconds),
      UPSTREAM_OUTAGE_GRACE_SECONDS: String(settings.upstreamOutageGraceSeconds),
      UPSTREAM_SESSION_MAX_SECONDS: String(settings.upstreamSessionMaxSeconds),
      UPSTREAM_TOKEN_KEY_SECRET_ARN: this.upstreamTokenKey.secret.secretArn,
      ...(settings.scopePolicy ? { SCOPE_POLICY: JSON.stringify(settings.scopePolicy) } : {}),
      ...(this.initialAccessToken
        ? { INITIAL_ACCESS_TOKEN_SECRET_ARN: this.initialAccessToken.secret.secretArn }
        : {}),
      ...(settings.enterpriseIdps.length > 0
        ? { ENTERPRISE_IDPS: JSON.stringify(settings.enterpriseIdps) }
        : {}),
      ...(Object.keys(settings.clientMetadataDocuments).length
        ? { CLIENT_METADATA_DOCUMENTS: JSON.stringify(settings.clientMetadataDocuments) }
        : {}),
    })) {
      this.oauth.fn.addEnvironment(name, value);
    }
    for (const [name, value] of Object.entries({
      ...shared,
      PUBLIC_KEYS_PARAMETER_NAME: this.signingKeys.publicKeys.parameterName,
      SSM_ENDPOINT: this.signingKeys.ssmEndpoint,
      // The revocation list, read with BatchGetItem on its own keys only.
      TABLE_NAME: this.storage.table.tableName,
      DYNAMODB_ENDPOINT: dynamoDbEndpoint(this, { fips: settings.fipsEndpoints }),
      REVOCATION_REFRESH_SECONDS: String(settings.revocationRefreshSeconds),
      REVOCATION_MAX_AGE_SECONDS: String(settings.revocationMaxAgeSeconds),
      // The verifier refuses tokens of this server that claim to live longer than this.
      ACCESS_TOKEN_TTL_SECONDS: String(settings.accessTokenTtlSeconds),
      RESOURCE_NAME: settings.resourceName,
      ...this.trustedIssuersEnvironment(settings),
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
    this.upstreamTokenKey.grantRead(this.oauth.role);
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
    // The mcp function reads the markers and the public keys with one Query of the table's
    // mcp-reads index; the SSM parameter and the earlier list only on a stack upgraded from the
    // earlier layout, until its next rotation publishes the keys to the table.
    this.storage.grantMcpReads(this.mcp.fn);
    this.signingKeys.grantReadPublicKeys(this.mcp.fn);
    this.storage.grantRevocationListRead(this.mcp.fn);
    this.signingKeys.rotation.fn.addEnvironment('TABLE_NAME', this.storage.table.tableName);
    this.storage.grantKeyPublication(this.signingKeys.rotation.fn);
    if (this.edge) this.requireOriginSecret(this.edge);

    this.alarms = new Alarms(this, 'Alarms', {
      functions: { oauth: this.oauth.fn, mcp: this.mcp.fn, 'rotate-keys': this.signingKeys.rotation.fn },
      httpApi: this.api.httpApi,
      accessLogs: this.api.accessLogs,
      mcpLatencyP99AlarmMs: settings.mcpLatencyP99AlarmMs,
      ...(settings.alarmEmail ? { alarmEmail: settings.alarmEmail } : {}),
      ...(settings.alarmTopicArn
        ? { extraTopic: sns.Topic.fromTopicArn(this, 'ExistingAlarmTopic', settings.alarmTopicArn) }
        : {}),
    });
    this.alarms.alarmOnRefusals(this.oauth.logGroup);
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
        ...(this.alarms.extraTopic ? { extraTopic: this.alarms.extraTopic } : {}),
        ...(settings.alarmEmail ? { alarmEmail: settings.alarmEmail } : {}),
        logRetentionDays: settings.logRetentionDays,
        logRemovalPolicy: removalPolicy,
      });
    }
    if (settings.canaryIntervalMinutes > 0) {
      this.canary = new McpCanary(this, 'Canary', {
        issuer,
        intervalMinutes: settings.canaryIntervalMinutes,
        // With machine registration closed no canary client can exist; the canary then checks less.
        requireClient: settings.registrationPolicy !== 'closed',
        artifactRetentionDays: settings.logRetentionDays,
        ...breakGlass,
      });
      this.alarms.alarmOnCanary(this.canary.canary, settings.canaryIntervalMinutes);
    }
    if (this.rollout) {
      // A new version that answers a 5xx, fails an invocation, or (mcp) runs slow is rolled back.
      // Only alarms on the new version decide: the API-wide ones need 10 to 15 minutes and count
      // every version, so they would judge the old version or a dependency, and too late.
      for (const [name, fn] of [
        ['oauth', this.oauth.fn],
        ['mcp', this.mcp.fn],
      ] as const) {
        this.rollout.rollBackOn(
          name,
          this.alarms.newVersionAlarms(name, {
            fn,
            version: fn.currentVersion,
            aliasName: LIVE_ALIAS,
            ...(name === 'mcp' ? { durationP99Ms: settings.mcpLatencyP99AlarmMs } : {}),
          }),
        );
      }
    }
    this.dashboard = new Dashboard(this, 'Dashboard', {
      httpApi: this.api.httpApi,
      functions: { oauth: this.oauth.fn, mcp: this.mcp.fn, 'rotate-keys': this.signingKeys.rotation.fn },
      alarms: this.alarms.alarms,
      mcpLatency: this.alarms.mcpLatency,
      ...(this.canary ? { canary: this.canary.canary } : {}),
    });

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
    new CfnOutput(this, 'TableName', {
      value: this.storage.table.tableName,
      description: 'The one DynamoDB table (clients, grants, revocation markers, the published public keys)',
    });
    new CfnOutput(this, 'AuditLogGroupName', {
      value: this.oauth.logGroup.logGroupName,
      description: "The oauth function's log group: its audit lines, and npm run admin's (doc/operations.md)",
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
      if (this.userPool.machineClient) this.machineClientOutputs(this.userPool);
    }
    if (this.api.domainName) {
      this.customDomainOutputs(
        this.api.domainName.regionalDomainName,
        this.api.domainName.regionalHostedZoneId,
      );
    }
    if (this.edge) {
      if (customDomain) {
        this.customDomainOutputs(this.edge.distribution.distributionDomainName, CLOUDFRONT_HOSTED_ZONE_ID);
      }
      new CfnOutput(this, 'DistributionId', { value: this.edge.distribution.distributionId });
      new CfnOutput(this, 'WebAclArn', { value: this.edge.webAcl.attrArn });
      new CfnOutput(this, 'WafLogGroupName', {
        value: this.edge.wafLogs.logGroupName,
        description:
          'Every request the web ACL saw, with its client IP (aws logs tail <this> --region us-east-1)',
      });
      new CfnOutput(this, 'OriginSecretArn', { value: this.edge.originSecret.secretArn });
    }
    if (this.canary) {
      new CfnOutput(this, 'CanaryName', { value: this.canary.canary.canaryName });
      new CfnOutput(this, 'CanaryClientSecretArn', {
        value: this.canary.clientSecret.secretArn,
        description:
          'Where the canary client goes: {"client_id","client_secret"} (scripts/deploy.sh puts it there)',
      });
    }
    if (this.budget) {
      new CfnOutput(this, 'BudgetName', {
        value: this.budget.budgetName,
        description: 'The AWS Budgets cost budget (aws budgets describe-budget --budget-name <this>)',
        condition: this.budget.condition,
      });
    }
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboard.dashboardName });
  }

  /**
   * The oauth function reads the upstream client secret with its own role, from its own region's
   * Secrets Manager endpoint: a secret in another region is not found there, and one in another
   * account would need a key policy and a resource policy this stack does not write. Both fail
   * only when the first user logs in, so they fail the synth (or the deployment, before any
   * change, for an environment-agnostic stack) instead.
   */
  private requireUpstreamSecretBeside(secretArn: string): void {
    const [, , , region, account] = secretArn.split(':');
    const reason = (where: string) =>
      `upstreamClientSecretArn is in ${where}, and the oauth function reads it from the stack's own`;
    requireStackRegion(this, 'UpstreamSecretRegion', region!, `${reason(region!)} region`);
    requireStackAccount(this, 'UpstreamSecretAccount', account!, `${reason(`account ${account}`)} account`);
  }

  /** The DNS record a custom domain needs: an alias (or CNAME) to `target` in zone `hostedZoneId`. */
  private customDomainOutputs(target: string, hostedZoneId: string): void {
    new CfnOutput(this, 'CustomDomainTarget', {
      value: target,
      description: `Point an alias record (or a CNAME) for ${this.settings.customDomainName} here`,
    });
    new CfnOutput(this, 'CustomDomainHostedZoneId', {
      value: hostedZoneId,
      description: 'The hosted zone id of CustomDomainTarget, for a Route 53 alias record',
    });
  }

  /**
   * Behind CloudFront both HTTP functions read the origin secret (at start, then every 5 minutes)
   * and answer 403 to a request without it. The mcp function reads it with its own signed call,
   * at the endpoint the stack gives it.
   */
  private requireOriginSecret(edge: Edge): void {
    for (const fn of [this.oauth, this.mcp]) {
      fn.fn.addEnvironment('ORIGIN_SECRET_ARN', edge.originSecret.secretArn);
      edge.grantReadOriginSecret(fn.role);
    }
    this.mcp.fn.addEnvironment('SECRETS_MANAGER_ENDPOINT', Edge.secretsManagerEndpoint());
  }

  /**
   * `TRUSTED_ISSUERS` for the mcp function: the `trustedIssuers` setting, and the stack's own user
   * pool with `cognitoMachineClient`, whose issuer and client id are known only at deploy time.
   */
  private trustedIssuersEnvironment(settings: DeploymentSettings): Record<string, string> {
    const own = this.userPool?.machineTrustedIssuer();
    const issuers = [...settings.trustedIssuers, ...(own ? [own] : [])];
    if (issuers.length === 0) return {};
    return { TRUSTED_ISSUERS: own ? this.toJsonString(issuers) : JSON.stringify(issuers) };
  }

  /** With `cognitoMachineClient`: how to get a client-credentials token from the user pool. */
  private machineClientOutputs(pool: UpstreamUserPool): void {
    const clientId = pool.machineClient!.userPoolClientId;
    new CfnOutput(this, 'MachineClientId', {
      value: clientId,
      description: 'The Cognito app client for the client credentials grant, whose tokens /mcp accepts',
    });
    new CfnOutput(this, 'MachineTokenEndpoint', {
      value: pool.tokenEndpoint,
      description: `Cognito token endpoint; ask for the scope ${pool.machineScope}`,
    });
    new CfnOutput(this, 'MachineClientSecretCommand', {
      value:
        `aws cognito-idp describe-user-pool-client --region ${Aws.REGION} --user-pool-id ${pool.userPool.userPoolId}` +
        ` --client-id ${clientId} --query UserPoolClient.ClientSecret --output text`,
      description: 'Prints the machine client secret: export MACHINE_CLIENT_SECRET=$(<this command>)',
    });
    new CfnOutput(this, 'MachineTokenCommand', {
      value:
        `curl -s -u "${clientId}:$MACHINE_CLIENT_SECRET" -d 'grant_type=client_credentials&scope=${pool.machineScope}'` +
        ` ${pool.tokenEndpoint}`,
      description: 'Gets an access token for /mcp (the JSON answer has access_token, valid one hour)',
    });
  }
}
