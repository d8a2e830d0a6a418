/**
 * The upstream OpenID provider the stack creates when no other is configured: a Cognito user
 * pool with its hosted sign-in pages (managed login), and one app client, which is the oauth
 * function. MCP clients never see Cognito: they register with our authorization server, and it
 * sends the user here to log in (see doc/architecture.md).
 *
 * The app client's secret goes from Cognito to Secrets Manager inside CloudFormation
 * (`Fn::GetAtt ClientSecret`), so it appears in no template, output or log, and no custom
 * resource function is needed to read it.
 *
 * With `machineClient`, the pool also issues client-credentials tokens (machine-to-machine) that
 * the mcp function accepts as a trusted issuer's: a resource server with one scope, and an app
 * client allowed only that grant and that scope. Its secret stays in Cognito, where the operator
 * reads it (`aws cognito-idp describe-user-pool-client`), since no function of the stack needs it.
 */
import { Aws, Duration, Fn, RemovalPolicy, SecretValue, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { TrustedIssuer } from '../../lambda/mcp/auth/trusted-issuers.js';
import { COGNITO_MACHINE_SCOPE, COGNITO_RESERVED_WORDS } from '../settings.js';
import { SecretReaders } from './secret-readers.js';

export interface UpstreamUserPoolProps {
  /** `<issuer>/callback`: the one redirect URI the app client allows. */
  readonly callbackUrl: string;
  /** Scopes the oauth function requests (`upstreamScopes`); the app client allows exactly these. */
  readonly scopes: readonly string[];
  /** Prefix of the hosted login domain; `defaultDomainPrefix` when absent. */
  readonly domainPrefix?: string;
  /** `RETAIN` also turns on deletion protection: the pool holds the users. */
  readonly removalPolicy: RemovalPolicy;
  /** A role that may read the client secret besides the oauth function. */
  readonly breakGlassRoleArn?: string;
  /** Adds the resource server and the client-credentials app client (`cognitoMachineClient`). */
  readonly machineClient?: boolean;
  /**
   * How long Cognito's refresh token lives: as long as a grant of ours (`refreshTokenAbsoluteTtlSeconds`),
   * since the oauth function re-checks the grant with it (`lambda/oauth/login/upstream-recheck.ts`).
   */
  readonly refreshTokenValidity: Duration;
  /** The groups `scopePolicy` names: one Cognito group each, whose members its scopes are granted to. */
  readonly groups?: readonly string[];
}

/** How long the machine client's access tokens live (Cognito's default). */
const MACHINE_TOKEN_VALIDITY = Duration.hours(1);

/** Longest stack-name part of the default prefix: 63 characters minus `-` and a 12-digit account id. */
const MAX_NAME_PART = 50;

/**
 * The default domain prefix: `<stack name>-<account id>`, e.g. `mcpoauth-123456789012`.
 *
 * A prefix must be unique in the region across every AWS account, and this stack is
 * environment-agnostic, so nothing unique is known at synth time and no hash of a deploy-time
 * value can be taken. A name from the construct path alone (`Names.uniqueResourceName`) would
 * be the same for everyone who deploys this app, so it would collide between accounts. The
 * account id (a CloudFormation pseudo-parameter, resolved at deploy time) makes the prefix
 * unique across accounts, and the stack name across stacks of one account and region. Account
 * ids are not secret (AWS says so), but the prefix is public: set `cognitoDomainPrefix` to show
 * another.
 */
export function defaultDomainPrefix(stackName: string): string {
  let name = Token.isUnresolved(stackName) ? '' : stackName.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  // Removing one reserved word can join the letters around it into another ("awamazons").
  for (let before = ''; before !== name;) {
    before = name;
    for (const word of COGNITO_RESERVED_WORDS) name = name.replaceAll(word, '');
  }
  name = name.replace(/-+/g, '-').slice(0, MAX_NAME_PART).replace(/^-|-$/g, '') || 'mcp';
  return Fn.join('-', [name, Aws.ACCOUNT_ID]);
}

export class UpstreamUserPool extends Construct {
  readonly userPool: cognito.UserPool;
  readonly domain: cognito.UserPoolDomain;
  readonly client: cognito.UserPoolClient;
  /** Holds the app client's secret as plain text, as `UPSTREAM_CLIENT_SECRET_ARN` expects. */
  readonly clientSecret: secretsmanager.Secret;
  /** Who may read the client secret (`clientSecretReaders.grantRead`): the oauth function. */
  readonly clientSecretReaders: SecretReaders;
  /** The OpenID issuer: `https://cognito-idp.<region>.<suffix>/<user pool id>`. */
  readonly issuer: string;
  /** The hosted sign-in pages: `https://<prefix>.auth.<region>.amazoncognito.com`. */
  readonly loginUrl: string;
  /** The client-credentials app client, with `machineClient`. */
  readonly machineClient?: cognito.UserPoolClient;
  /** The scope the machine client asks for, as Cognito writes it: `mcp/tools`. */
  readonly machineScope?: string;

  constructor(scope: Construct, id: string, props: UpstreamUserPoolProps) {
    super(scope, id);

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      // Users are created by an administrator (`admin-create-user`), never by themselves: a
      // user who logs in can consent to any client that registered, so who is a user is the
      // access decision.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      // A changed email address takes effect only once verified, so a typo cannot lock a user out.
      keepOriginal: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        passwordHistorySize: 5,
        tempPasswordValidity: Duration.days(7),
      },
      // Required, not optional: managed login enrolls an authenticator app at the first sign-in
      // when MFA is required, but offers no page to opt in when it is optional, so optional MFA
      // would in practice mean none. TOTP only: SMS needs an SNS role, a sandbox exit and money.
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      // Essentials is the lowest plan with the managed login pages (v2) and password history.
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      userInvitation: {
        emailSubject: 'Your account for the MCP server',
        emailBody:
          'An account was created for you. Username: {username} Temporary password: {####} ' +
          'When your MCP client (Claude, Cursor, VS Code, ...) first connects, it opens the sign-in page: ' +
          'sign in, choose a new password and set up an authenticator app. The temporary password expires in 7 days.',
      },
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        'The Plus plan bills every monthly active user with no free tier, for threat protection that matters most ' +
        'where anyone may sign up. Here users are created by an administrator only and MFA (TOTP) is required at ' +
        'every sign-in, so a leaked password alone does not log in. Raise featurePlan to PLUS where policy asks for it.',
    });

    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? defaultDomainPrefix(Stack.of(this).stackName) },
      managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });

    this.client = this.userPool.addClient('Client', {
      // A confidential client: the oauth function authenticates to the token endpoint.
      generateSecret: true,
      // SRP only: the managed login pages sign users in; nothing calls InitiateAuth directly.
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: props.scopes.map((scope) => cognito.OAuthScope.custom(scope)),
        callbackUrls: [props.callbackUrl],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      // The oauth function reads the ID token at /callback and at each re-check of a grant, and
      // issues its own tokens; Cognito's access and ID tokens get the shortest lifetimes Cognito
      // allows. Its refresh token is what a re-check asks with, so it lives as long as our grants.
      idTokenValidity: Duration.minutes(5),
      accessTokenValidity: Duration.minutes(5),
      refreshTokenValidity: props.refreshTokenValidity,
    });
    // `cognito:groups` in the ID token: what `scopePolicy` grants scopes by.
    (props.groups ?? []).forEach((groupName, index) => {
      new cognito.CfnUserPoolGroup(this, `Group${index}`, {
        userPoolId: this.userPool.userPoolId,
        groupName,
        description:
          'Named in the scopePolicy setting: its members may hold the scopes the policy lists for it',
      });
    });

    // Managed login (v2) serves an app client's pages only once the client has a branding
    // style; this assigns Cognito's default one.
    const branding = new cognito.CfnManagedLoginBranding(this, 'Branding', {
      userPoolId: this.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    });
    branding.node.addDependency(this.domain);

    const cfnClient = this.client.node.defaultChild as cognito.CfnUserPoolClient;
    this.clientSecret = new secretsmanager.Secret(this, 'ClientSecret', {
      description: 'Client secret of the oauth function at the Cognito user pool, as plain text',
      // Resolved by CloudFormation at deploy time; the template holds only the GetAtt.
      secretStringValue: SecretValue.resourceAttribute(cfnClient.attrClientSecret),
      // Worthless without the app client, which goes with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.clientSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The value is the app client secret that Cognito generates and CloudFormation copies here; a Secrets Manager ' +
        'rotation would change only the copy and break the login. It changes when the app client is replaced ' +
        '(doc/operations.md).',
    });
    this.clientSecretReaders = new SecretReaders(this.clientSecret, props.breakGlassRoleArn);

    this.issuer = this.userPool.userPoolProviderUrl;
    this.loginUrl = this.domain.baseUrl();

    if (props.machineClient) {
      const toolsScope = new cognito.ResourceServerScope({
        scopeName: COGNITO_MACHINE_SCOPE.scope,
        scopeDescription: 'Call the tools of the MCP server',
      });
      const resourceServer = this.userPool.addResourceServer('MachineResourceServer', {
        identifier: COGNITO_MACHINE_SCOPE.resourceServer,
        scopes: [toolsScope],
      });
      // The scope's name refers to the resource server, so the client is created after it.
      const scope = cognito.OAuthScope.resourceServer(resourceServer, toolsScope);
      this.machineScope = `${COGNITO_MACHINE_SCOPE.resourceServer}/${COGNITO_MACHINE_SCOPE.scope}`;
      this.machineClient = this.userPool.addClient('MachineClient', {
        generateSecret: true,
        // No sign-in flow: without a list Cognito would allow SRP and custom sign-in with this
        // client. CDK always adds ALLOW_REFRESH_TOKEN_AUTH, which client credentials never use.
        authFlows: { userSrp: false },
        oAuth: { flows: { clientCredentials: true }, scopes: [scope] },
        supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
        preventUserExistenceErrors: true,
        enableTokenRevocation: true,
        accessTokenValidity: MACHINE_TOKEN_VALIDITY,
      });
    }
  }

  /** The token endpoint of the managed login domain (client credentials). */
  get tokenEndpoint(): string {
    return `${this.loginUrl}/oauth2/token`;
  }

  /**
   * The pool as the mcp function trusts it, with `machineClient`: tokens of that client only
   * (Cognito's access tokens have no `aud`), its scope granting `mcp:tools`, and no lifetime longer
   * than the client issues.
   */
  machineTrustedIssuer(): TrustedIssuer | undefined {
    if (!this.machineClient || !this.machineScope) return undefined;
    return {
      issuer: this.issuer,
      clientIds: [this.machineClient.userPoolClientId],
      scopeMap: { [this.machineScope]: [...COGNITO_MACHINE_SCOPE.grants] },
      maxTokenLifetimeSeconds: MACHINE_TOKEN_VALIDITY.toSeconds(),
    };
  }
}
