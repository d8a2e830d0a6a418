/**
 * The whole system in one stack: an OAuth 2.1 authorization server (`oauth`) and an MCP
 * resource server (`mcp`) behind one HTTP API, a DynamoDB table, a signing key set in Secrets
 * Manager rotated by `rotate-keys`, and alarms. See doc/architecture.md.
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Alarms } from './constructs/alarms.js';
import { Api } from './constructs/api.js';
import { HTTP_FUNCTION_TIMEOUT, ServiceFunction } from './constructs/function.js';
import { InitialAccessToken } from './constructs/initial-access-token.js';
import { SigningKeys } from './constructs/signing-keys.js';
import { Storage } from './constructs/storage.js';
import { resolveSettings, SettingsError, type DeploymentSettings } from './settings.js';

/**
 * The upstream OpenID provider users will log in with (authorization code grant). Reserved:
 * interactive login arrives in a later issue; this prop is where it will be configured.
 */
export interface UpstreamIdentityProviderProps {
  /** `cognito` creates a user pool in the stack; `oidc` uses any OpenID issuer. */
  readonly kind: 'cognito' | 'oidc';
  readonly issuer?: string;
  readonly clientId?: string;
  /** A Secrets Manager secret holding the client secret at the upstream provider. */
  readonly clientSecretArn?: string;
}

export interface McpOAuthStackProps extends StackProps, Partial<DeploymentSettings> {
  /** Not supported yet (see `UpstreamIdentityProviderProps`); setting it fails synthesis. */
  readonly upstreamIdentityProvider?: UpstreamIdentityProviderProps;
}

export class McpOAuthStack extends Stack {
  readonly settings: DeploymentSettings;
  readonly api: Api;
  readonly storage: Storage;
  readonly signingKeys: SigningKeys;
  readonly oauth: ServiceFunction;
  readonly mcp: ServiceFunction;
  readonly initialAccessToken?: InitialAccessToken;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: McpOAuthStackProps = {}) {
    super(scope, id, props);
    if (props.upstreamIdentityProvider) {
      throw new SettingsError(
        'upstreamIdentityProvider is not supported yet: interactive login is a later issue',
      );
    }
    const settings = (this.settings = resolveSettings(props, this.node));
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
    });
    if (settings.registrationPolicy === 'token') {
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

    const shared = {
      ISSUER: issuer,
      SIGNING_KEYS_SECRET_ARN: this.signingKeys.secret.secretArn,
      SCOPES: settings.scopes.join(' '),
      ALLOWED_ORIGINS: settings.allowedOrigins.join(','),
    };
    for (const [name, value] of Object.entries({
      ...shared,
      TABLE_NAME: this.storage.table.tableName,
      ACCESS_TOKEN_TTL_SECONDS: String(settings.accessTokenTtlSeconds),
      REGISTRATION_POLICY: settings.registrationPolicy,
      ...(this.initialAccessToken
        ? { INITIAL_ACCESS_TOKEN_SECRET_ARN: this.initialAccessToken.secret.secretArn }
        : {}),
    })) {
      this.oauth.fn.addEnvironment(name, value);
    }
    for (const [name, value] of Object.entries({
      ...shared,
      RESOURCE_NAME: settings.resourceName,
      ...(settings.trustedIssuers.length ? { TRUSTED_ISSUERS: JSON.stringify(settings.trustedIssuers) } : {}),
    })) {
      this.mcp.fn.addEnvironment(name, value);
    }

    // Least privilege: oauth reads and writes the table and reads the keys; mcp reads the keys only.
    this.storage.grantItemReadWrite(this.oauth.fn);
    this.signingKeys.grantRead(this.oauth.fn);
    this.initialAccessToken?.grantRead(this.oauth.fn);
    this.signingKeys.grantRead(this.mcp.fn);

    this.alarms = new Alarms(this, 'Alarms', {
      functions: { oauth: this.oauth.fn, mcp: this.mcp.fn, 'rotate-keys': this.signingKeys.rotation.fn },
      httpApi: this.api.httpApi,
      accessLogs: this.api.accessLogs,
      mcpLatencyP99AlarmMs: settings.mcpLatencyP99AlarmMs,
      ...(settings.alarmEmail ? { alarmEmail: settings.alarmEmail } : {}),
    });

    new CfnOutput(this, 'McpUrl', { value: `${issuer}/mcp`, description: 'Point MCP clients here' });
    new CfnOutput(this, 'Issuer', { value: issuer, description: 'OAuth issuer (bare origin)' });
    new CfnOutput(this, 'RegistrationEndpoint', {
      value: `${issuer}/register`,
      description: `Client registration (RFC 7591); policy: ${settings.registrationPolicy}`,
    });
    new CfnOutput(this, 'TokenEndpoint', { value: `${issuer}/token` });
    new CfnOutput(this, 'SigningKeysSecretArn', { value: this.signingKeys.secret.secretArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    if (this.initialAccessToken) {
      new CfnOutput(this, 'InitialAccessTokenSecretArn', {
        value: this.initialAccessToken.secret.secretArn,
        description:
          'aws secretsmanager get-secret-value --secret-id <this> --query SecretString --output text',
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
