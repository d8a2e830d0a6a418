import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_SETTINGS, resolveSettings, SettingsError } from '../../lib/settings.js';
import { parseEnterpriseIdps } from '../../lambda/oauth/grants/enterprise-idps.js';
import { applyStage, DEFAULT_STACK_NAME, loadStage, STAGES_DIR } from '../../lib/stages.js';
import {
  customResourceCall,
  logicalId,
  rolePermissions,
  serviceFunctions,
  synth,
  type Resources,
} from './synth.js';

function oauthEnvironment(template: Template): Record<string, any> {
  const functions = template.findResources('AWS::Lambda::Function') as Resources;
  return functions[logicalId(template, 'AWS::Lambda::Function', 'OAuthFunction')]!.Properties!.Environment
    .Variables;
}

const BREAK_GLASS_ROLE_ARN =
  'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef';
const UPSTREAM_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/upstream-client-AbC123';
const UPSTREAM = {
  upstreamIssuer: 'https://example.okta.com/oauth2/default',
  upstreamClientId: '0oa1b2c3d4',
  upstreamClientSecretArn: UPSTREAM_SECRET_ARN,
};

function contextNode(context: Record<string, unknown>) {
  return new Stack(new App({ context }), 'Settings').node;
}

describe('resolveSettings', () => {
  it('uses the defaults when neither props nor context set anything', () => {
    // Act
    const settings = resolveSettings({}, contextNode({}));

    // Assess: the default stage is dev, which runs without a canary unless one is asked for.
    expect(settings).toEqual({ ...DEFAULT_SETTINGS, canaryIntervalMinutes: 0 });
    expect(resolveSettings({ stage: 'prod', alarmEmail: 'ops@example.com' }, contextNode({}))).toMatchObject({
      canaryIntervalMinutes: DEFAULT_SETTINGS.canaryIntervalMinutes,
    });
    expect(settings).toMatchObject({
      registrationPolicy: 'token',
      interactiveRegistrationPolicy: 'open',
      refreshTokenReuseGraceSeconds: 120,
      refreshTokenIdleTtlSeconds: 2_592_000,
      refreshTokenAbsoluteTtlSeconds: 7_776_000,
      clientLoginDeadlineSeconds: 86_400,
      clientIdleTtlSeconds: 7_776_000,
      upstreamScopes: ['openid', 'email', 'profile'],
      upstreamRecheckSeconds: 900,
      upstreamOutageGraceSeconds: 3600,
      upstreamSessionMaxSeconds: 43_200,
      removalPolicy: 'retain',
      signingKeyRotationDays: 30,
      fipsEndpoints: false,
      tracing: false,
      monthlyBudgetUsd: 10,
      project: 'mcp-oauth',
      stage: 'dev',
      // None reserved: a new account's limit may be 10, below the 100 Lambda keeps unreserved.
      oauthReservedConcurrency: 0,
      mcpReservedConcurrency: 0,
    });
    expect(settings.upstreamIssuer).toBeUndefined();
    expect(settings.scopePolicy).toBeUndefined();
    expect(settings.cognitoDomainPrefix).toBeUndefined();
    expect(settings.breakGlassRoleArn).toBeUndefined();
    expect(settings.owner).toBeUndefined();
  });

  it('reads CDK context given as strings on the command line', () => {
    // Prepare
    const node = contextNode({
      accessTokenTtlSeconds: '900',
      registrationPolicy: 'open',
      allowedOrigins: 'http://localhost:6274, https://app.example.com/',
      scopes: 'mcp:tools mcp:admin',
      trustedIssuers:
        '[{"issuer":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc","clientIds":["agent"]}]',
      tracing: 'false',
      fipsEndpoints: 'true',
      mcpMemorySize: '512',
      interactiveRegistrationPolicy: 'token',
      refreshTokenIdleTtlSeconds: '86400',
      refreshTokenAbsoluteTtlSeconds: '604800',
      upstreamIssuer: 'https://login.microsoftonline.com/tenant-id/v2.0',
      upstreamClientId: 'mcp-server',
      upstreamClientSecretArn: UPSTREAM_SECRET_ARN,
      upstreamScopes: 'openid email offline_access',
      breakGlassRoleArn: BREAK_GLASS_ROLE_ARN,
      monthlyBudgetUsd: '0',
      project: 'payments-mcp',
      stage: 'prod',
      owner: 'platform-team@example.com',
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-alerts',
      canaryIntervalMinutes: '5',
      cloudFrontWaf: 'true',
      originSecretRevision: '2',
      safeRollouts: 'true',
      upstreamRecheckSeconds: '0',
      upstreamOutageGraceSeconds: '600',
      upstreamSessionMaxSeconds: '3600',
      scopePolicy: '{"scopes":{"mcp:admin":["admins"]}}',
    });

    // Act
    const settings = resolveSettings({}, node);

    // Assess
    expect(settings).toMatchObject({
      accessTokenTtlSeconds: 900,
      registrationPolicy: 'open',
      allowedOrigins: ['http://localhost:6274', 'https://app.example.com'],
      scopes: ['mcp:tools', 'mcp:admin'],
      trustedIssuers: [
        { issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc', clientIds: ['agent'] },
      ],
      tracing: false,
      fipsEndpoints: true,
      mcpMemorySize: 512,
      interactiveRegistrationPolicy: 'token',
      refreshTokenIdleTtlSeconds: 86_400,
      refreshTokenAbsoluteTtlSeconds: 604_800,
      upstreamIssuer: 'https://login.microsoftonline.com/tenant-id/v2.0',
      upstreamClientId: 'mcp-server',
      upstreamClientSecretArn: UPSTREAM_SECRET_ARN,
      upstreamScopes: ['openid', 'email', 'offline_access'],
      breakGlassRoleArn: BREAK_GLASS_ROLE_ARN,
      monthlyBudgetUsd: 0,
      project: 'payments-mcp',
      stage: 'prod',
      owner: 'platform-team@example.com',
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-alerts',
      canaryIntervalMinutes: 5,
      cloudFrontWaf: true,
      originSecretRevision: 2,
      safeRollouts: true,
      upstreamRecheckSeconds: 0,
      upstreamOutageGraceSeconds: 600,
      upstreamSessionMaxSeconds: 3600,
      // An external provider: the groups claim defaults to `groups`.
      scopePolicy: { claim: 'groups', scopes: { 'mcp:admin': ['admins'] } },
    });
  });

  it("defaults the scope policy's claim to cognito:groups with the stack's own user pool", () => {
    // Act
    const settings = resolveSettings({
      scopePolicy: { scopes: { 'mcp:tools': ['staff', 'staff'] } },
    });

    // Assess
    expect(settings.scopePolicy).toEqual({ claim: 'cognito:groups', scopes: { 'mcp:tools': ['staff'] } });
    expect(
      resolveSettings({}, contextNode({ scopePolicy: '{"claim":"roles","scopes":{"mcp:tools":["staff"]}}' }))
        .scopePolicy,
    ).toEqual({ claim: 'roles', scopes: { 'mcp:tools': ['staff'] } });
  });

  it('accepts the shortest rotation period that still outlives a token, the key cache and clock skew', () => {
    // Act: (2 − 1) × 86400 = 86400 = 86040 + 300 + 60
    const settings = resolveSettings({ signingKeyRotationDays: 2, accessTokenTtlSeconds: 86_040 });

    // Assess
    expect(settings.signingKeyRotationDays).toBe(2);
  });

  it('prefers props over context', () => {
    // Prepare
    const node = contextNode({ registrationPolicy: 'open', logRetentionDays: 7 });

    // Act
    const settings = resolveSettings({ registrationPolicy: 'closed' }, node);

    // Assess
    expect(settings.registrationPolicy).toBe('closed');
    expect(settings.logRetentionDays).toBe(7);
  });

  it('accepts a single audience as shorthand for audiences', () => {
    // Act
    const settings = resolveSettings({
      trustedIssuers: [
        { issuer: 'https://issuer.example.com', audience: 'https://mcp.example.com/mcp' } as never,
      ],
    });

    // Assess
    expect(settings.trustedIssuers).toEqual([
      { issuer: 'https://issuer.example.com', audiences: ['https://mcp.example.com/mcp'] },
    ]);
  });

  it.each([
    [
      { accessTokenTtlSeconds: '10' },
      '"accessTokenTtlSeconds" must be an integer from 60 to 86400, got "10"',
    ],
    [
      { registrationPolicy: 'anyone' },
      '"registrationPolicy" must be one of open, token, closed, got "anyone"',
    ],
    [
      { allowedOrigins: 'https://app.example.com/path' },
      '"allowedOrigins" has "https://app.example.com/path", which is not a bare origin (no path)',
    ],
    [{ logRetentionDays: '10' }, '"logRetentionDays" must be one of 1, 3, 5, 7, 14, 30'],
    [{ removalPolicy: 'snapshot' }, '"removalPolicy" must be one of retain, destroy, got "snapshot"'],
    [
      { oauthReservedConcurrency: '-1' },
      '"oauthReservedConcurrency" must be an integer from 0 to 10000, got "-1"',
    ],
    [
      { mcpReservedConcurrency: '2.5' },
      '"mcpReservedConcurrency" must be an integer from 0 to 10000, got "2.5"',
    ],
    [{ alarmEmail: 'ops' }, '"alarmEmail" must be an email address'],
    [
      { trustedIssuers: '[{"issuer":"http://insecure.example.com"}]' },
      '"trustedIssuers": trustedIssuers[0].issuer must be an https URL',
    ],
    [
      { trustedIssuers: '[{"issuer":"https://a.example.com"},{"issuer":"https://a.example.com"}]' },
      '"trustedIssuers": trustedIssuers[1].issuer repeats trustedIssuers[0].issuer',
    ],
    [
      { trustedIssuers: '[{"issuer":"https://a.example.com","scopeMap":{"mcp/tools":"mcp:tools"}}]' },
      '"trustedIssuers": trustedIssuers[0].scopeMap["mcp/tools"] must be a non-empty array of scopes, such as ["mcp:tools"]',
    ],
    [
      { trustedIssuers: '[{"issuer":"https://a.example.com","scopeMap":{"mcp/tools":["mcp:tool"]}}]' },
      `"trustedIssuers": trustedIssuers[0].scopeMap["mcp/tools"] grants "mcp:tool", which is not one of this server's scopes (mcp:tools mcp:resources)`,
    ],
    [
      { enterpriseIdps: '{"issuer":"https://idp.example.com"}' },
      '"enterpriseIdps": enterpriseIdps must be a JSON array of {"issuer": "<url>", "jwksUri"?, "clientIds"?}',
    ],
    [
      { enterpriseIdps: '[{"issuer":"http://127.0.0.1:9000"}]' },
      '"enterpriseIdps": enterpriseIdps[0].issuer must be an https URL',
    ],
    [
      { enterpriseIdps: '[{"issuer":"https://idp.example.com","jwksUri":"http://idp.example.com/keys"}]' },
      '"enterpriseIdps": enterpriseIdps[0].jwksUri must be an https URL without query, fragment or credentials',
    ],
    [
      { enterpriseIdps: '[{"issuer":"https://idp.example.com","clientIDs":["a"]}]' },
      '"enterpriseIdps": enterpriseIdps[0] has the unknown field "clientIDs" (issuer, jwksUri, clientIds)',
    ],
    [
      { enterpriseIdps: '[{"issuer":"https://idp.example.com","clientIds":[]}]' },
      '"enterpriseIdps": enterpriseIdps[0].clientIds must be a non-empty array of client ids',
    ],
    [
      { enterpriseIdps: '[{"issuer":"https://idp.example.com"},{"issuer":"https://idp.example.com"}]' },
      '"enterpriseIdps": enterpriseIdps[1].issuer repeats enterpriseIdps[0].issuer',
    ],
    [
      { customDomainName: 'mcp.example.com' },
      '"customDomainName" and "customDomainCertificateArn" must be given together',
    ],
    [
      { clientMetadataDocuments: '["https://claude.ai/oauth/mcp-oauth-client-metadata"]' },
      '"clientMetadataDocuments" must be a JSON object from document URL to document',
    ],
    [
      {
        clientMetadataDocuments: JSON.stringify({
          'https://app.example.com/client.json': { client_id: 'https://app.example.com/other.json' },
        }),
      },
      '"clientMetadataDocuments": the document for "https://app.example.com/client.json": the document\'s "client_id" is not its own URL',
    ],
    [
      {
        clientMetadataDocuments: JSON.stringify({
          'http://app.example.com/client.json': { client_id: 'http://app.example.com/client.json' },
        }),
      },
      'the client_id URL must use https',
    ],
    [
      { signingKeyRotationDays: 1 },
      '"signingKeyRotationDays" 1 is too short for "accessTokenTtlSeconds" 3600: two rotations can land ' +
        '(1 − 1) × 86400 = 0 s apart, and a key must stay published for the token lifetime + 300 s key cache + ' +
        '60 s clock skew = 3960 s after it stops signing; raise "signingKeyRotationDays" or lower "accessTokenTtlSeconds"',
    ],
    [
      { signingKeyRotationDays: 2, accessTokenTtlSeconds: 86_041 },
      '"signingKeyRotationDays" 2 is too short for "accessTokenTtlSeconds" 86041: two rotations can land ' +
        '(2 − 1) × 86400 = 86400 s apart',
    ],
    [
      { breakGlassRoleArn: 'arn:aws:sts::123456789012:assumed-role/Admin/alice' },
      '"breakGlassRoleArn" must be the ARN of an IAM role, path included',
    ],
    [
      { breakGlassRoleArn: 'arn:aws:iam::123456789012:role/Admin*' },
      '"breakGlassRoleArn" must be the ARN of an IAM role, path included',
    ],
    [
      { breakGlassRoleArn: 'arn:aws:iam::123456789012:user/alice' },
      '"breakGlassRoleArn" must be the ARN of an IAM role, path included',
    ],
    [
      { breakGlassRoleArn: 'BreakGlass' },
      '"breakGlassRoleArn" must be the ARN of an IAM role, path included',
    ],
    [{ monthlyBudgetUsd: '-1' }, '"monthlyBudgetUsd" must be an integer from 0 to 1000000, got "-1"'],
    [{ monthlyBudgetUsd: '9.5' }, '"monthlyBudgetUsd" must be an integer from 0 to 1000000, got "9.5"'],
    [
      { stage: 'Prod' },
      '"stage" must be 1 to 32 lowercase letters, digits and hyphens, starting with a letter',
    ],
    [{ stage: 'prod eu' }, '"stage" must be 1 to 32 lowercase letters, digits and hyphens'],
    [{ project: 'mcp<oauth>' }, '"project" must be at most 256 letters, digits, spaces and _ . : / = + - @'],
    [{ owner: 'a'.repeat(257) }, '"owner" must be at most 256 letters'],
    [
      { throttleRateLimit: 100, throttleBurstLimit: 50 },
      '"throttleBurstLimit" must be at least "throttleRateLimit"',
    ],
    [
      { interactiveRegistrationPolicy: 'anyone' },
      '"interactiveRegistrationPolicy" must be one of open, token, closed, got "anyone"',
    ],
    [
      { refreshTokenReuseGraceSeconds: '601' },
      '"refreshTokenReuseGraceSeconds" must be an integer from 0 to 600, got "601"',
    ],
    [
      { refreshTokenIdleTtlSeconds: '60' },
      '"refreshTokenIdleTtlSeconds" must be an integer from 3600 to 31536000, got "60"',
    ],
    [
      { refreshTokenAbsoluteTtlSeconds: '31536001' },
      '"refreshTokenAbsoluteTtlSeconds" must be an integer from 3600 to 31536000, got "31536001"',
    ],
    [
      { refreshTokenIdleTtlSeconds: 7_776_000, refreshTokenAbsoluteTtlSeconds: 2_592_000 },
      '"refreshTokenAbsoluteTtlSeconds" must be at least "refreshTokenIdleTtlSeconds"',
    ],
    [
      { clientLoginDeadlineSeconds: '599' },
      '"clientLoginDeadlineSeconds" must be an integer from 600 to 2592000, got "599"',
    ],
    [
      { clientIdleTtlSeconds: '3600' },
      '"clientIdleTtlSeconds" must be an integer from 86400 to 31536000, got "3600"',
    ],
    [
      { ...UPSTREAM, upstreamIssuer: 'http://idp.example.com' },
      '"upstreamIssuer" must be an https URL, got "http://idp.example.com"',
    ],
    [
      { ...UPSTREAM, upstreamIssuer: 'https://idp.example.com/?tenant=1' },
      '"upstreamIssuer" must be an https URL without query, fragment or credentials',
    ],
    [
      {
        ...UPSTREAM,
        upstreamClientSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:upstream',
      },
      '"upstreamClientSecretArn" must be the complete ARN of a Secrets Manager secret',
    ],
    [
      { ...UPSTREAM, upstreamClientSecretArn: 'arn:aws:ssm:eu-west-1:123456789012:parameter/client-secret' },
      '"upstreamClientSecretArn" must be the complete ARN of a Secrets Manager secret',
    ],
    [
      { upstreamIssuer: UPSTREAM.upstreamIssuer },
      '"upstreamIssuer", "upstreamClientId" and "upstreamClientSecretArn" must be given together ' +
        '(or none, for the Cognito user pool the stack creates); got only "upstreamIssuer"',
    ],
    [
      { upstreamClientId: 'a', upstreamClientSecretArn: UPSTREAM_SECRET_ARN },
      'got only "upstreamClientId", "upstreamClientSecretArn"',
    ],
    [{ upstreamScopes: 'email profile' }, '"upstreamScopes" must include "openid"'],
    [
      { upstreamRecheckSeconds: '86401' },
      '"upstreamRecheckSeconds" must be an integer from 0 to 86400, got "86401"',
    ],
    [
      { upstreamOutageGraceSeconds: '-1' },
      '"upstreamOutageGraceSeconds" must be an integer from 0 to 604800, got "-1"',
    ],
    [
      { upstreamSessionMaxSeconds: '60' },
      '"upstreamSessionMaxSeconds" must be an integer from 300 to 31536000, got "60"',
    ],
    [{ scopePolicy: '{"scopes":' }, '"scopePolicy" is not valid JSON'],
    [
      { scopePolicy: '{"scopes":{"mcp:tools":[]}}' },
      '"scopePolicy" scope "mcp:tools" must list at least one group',
    ],
    [
      { scopePolicy: '{"scopes":{"finance:tools":["finance"]}}' },
      '"scopePolicy" names the unknown scope "finance:tools"',
    ],
    [
      { scopePolicy: '{"scopes":{"mcp:tools":["a b"]}}' },
      '"scopePolicy" scope "mcp:tools" has an invalid group',
    ],
    [{ scopePolicy: '{"scope":{}}' }, '"scopePolicy" has an unknown field "scope"'],
    [
      { upstreamScopes: 'openid offline_access' },
      '"upstreamScopes" with the stack\'s Cognito user pool may only contain openid, email, phone, profile; got "offline_access"',
    ],
    [
      { ...UPSTREAM, cognitoDomainPrefix: 'team-login' },
      '"cognitoDomainPrefix" applies only to the Cognito user pool the stack creates',
    ],
    [
      { cognitoDomainPrefix: 'Team-Login' },
      '"cognitoDomainPrefix" must be 1 to 63 lowercase letters, digits and hyphens',
    ],
    [{ cognitoDomainPrefix: '-team' }, '"cognitoDomainPrefix" must be 1 to 63'],
    [{ cognitoDomainPrefix: 'team-' }, '"cognitoDomainPrefix" must be 1 to 63'],
    [{ cognitoDomainPrefix: 'team.login' }, '"cognitoDomainPrefix" must be 1 to 63'],
    [{ cognitoDomainPrefix: 'a'.repeat(64) }, '"cognitoDomainPrefix" must be 1 to 63'],
    [{ cognitoDomainPrefix: 'team-aws-login' }, '"cognitoDomainPrefix" must not contain "aws"'],
    [{ cognitoDomainPrefix: 'amazonians' }, '"cognitoDomainPrefix" must not contain "amazon"'],
    [{ cognitoDomainPrefix: 'mycognito' }, '"cognitoDomainPrefix" must not contain "cognito"'],
  ])('refuses %j, naming the setting', (context, message) => {
    // Act
    const act = () => resolveSettings({}, contextNode(context));

    // Assess
    expect(act).toThrow(SettingsError);
    expect(act).toThrow(message);
  });
});

describe('the stack under other settings', () => {
  it('issues from the custom domain and turns the execute-api endpoint off', () => {
    // Prepare
    const certificateArn =
      'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';

    // Act
    const { template } = synth(
      {},
      {
        bundle: false,
        context: { customDomainName: 'mcp.example.com', customDomainCertificateArn: certificateArn },
      },
    );

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'mcp.example.com',
      DomainNameConfigurations: [
        Match.objectLike({ CertificateArn: certificateArn, SecurityPolicy: 'TLS_1_2' }),
      ],
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { Stage: Match.anyValue() });
    const functions = Object.values(serviceFunctions(template));
    const issuers = functions.map((f) => f.Properties!.Environment.Variables.ISSUER).filter(Boolean);
    expect(issuers).toEqual(['https://mcp.example.com', 'https://mcp.example.com']);
    expect(template.toJSON().Outputs.McpUrl.Value).toBe('https://mcp.example.com/mcp');
  });

  it('creates no initial access token when neither registration policy is token', () => {
    // Act
    const { template } = synth({ registrationPolicy: 'open' }, { bundle: false });

    // Assess
    expect(Object.keys(template.findResources('AWS::SecretsManager::Secret')).sort()).toEqual(
      [
        logicalId(template, 'AWS::SecretsManager::Secret', 'SigningKeys'),
        logicalId(template, 'AWS::SecretsManager::Secret', 'UsersClientSecret'),
        logicalId(template, 'AWS::SecretsManager::Secret', 'UpstreamTokenKey'),
      ].sort(),
    );
    expect(oauthEnvironment(template)).toMatchObject({
      REGISTRATION_POLICY: 'open',
      INTERACTIVE_REGISTRATION_POLICY: 'open',
    });
    expect(oauthEnvironment(template).INITIAL_ACCESS_TOKEN_SECRET_ARN).toBeUndefined();
  });

  it('creates the initial access token when only interactive registration needs it', () => {
    // Act
    const { template } = synth(
      { registrationPolicy: 'closed', interactiveRegistrationPolicy: 'token' },
      { bundle: false },
    );

    // Assess
    const secretId = logicalId(template, 'AWS::SecretsManager::Secret', 'InitialAccessToken');
    expect(oauthEnvironment(template)).toMatchObject({
      REGISTRATION_POLICY: 'closed',
      INTERACTIVE_REGISTRATION_POLICY: 'token',
      INITIAL_ACCESS_TOKEN_SECRET_ARN: { Ref: secretId },
    });
  });

  it('passes the refresh token and client lifetimes to the oauth function', () => {
    // Act
    const { template } = synth(
      {
        refreshTokenReuseGraceSeconds: 0,
        refreshTokenIdleTtlSeconds: 3600,
        refreshTokenAbsoluteTtlSeconds: 86_400,
        clientLoginDeadlineSeconds: 600,
        clientIdleTtlSeconds: 86_400,
      },
      { bundle: false },
    );

    // Assess
    expect(oauthEnvironment(template)).toMatchObject({
      REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0',
      REFRESH_TOKEN_IDLE_TTL_SECONDS: '3600',
      REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS: '86400',
      CLIENT_LOGIN_DEADLINE_SECONDS: '600',
      CLIENT_IDLE_TTL_SECONDS: '86400',
    });
  });

  it('lets a development stack delete its table, user pool, upstream token key and logs', () => {
    // Act
    const { template } = synth({ removalPolicy: 'destroy' }, { bundle: false });

    // Assess
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    template.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtection: 'INACTIVE' }),
    });
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup') as Resources)) {
      expect(group.DeletionPolicy).toBe('Delete');
    }
    const [keyRing] = Object.entries(
      template.findResources('AWS::SecretsManager::Secret') as Resources,
    ).filter(([id]) => id.startsWith('UpstreamTokenKey'));
    expect(keyRing?.[1].DeletionPolicy).toBe('Delete');
  });

  it('subscribes the alarm email to the topic', () => {
    // Act
    const { template } = synth({ alarmEmail: 'ops@example.com' }, { bundle: false });

    // Assess
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('passes trusted issuers to the mcp function only, as the JSON it parses', () => {
    // Prepare
    const trustedIssuers = [
      { issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc', clientIds: ['agent'] },
    ];

    // Act
    const { template } = synth({ trustedIssuers }, { bundle: false });

    // Assess
    const functions = template.findResources('AWS::Lambda::Function') as Resources;
    const env = (prefix: string) =>
      functions[logicalId(template, 'AWS::Lambda::Function', prefix)]!.Properties!.Environment.Variables;
    expect(JSON.parse(env('McpFunction').TRUSTED_ISSUERS)).toEqual(trustedIssuers);
    expect(env('OAuthFunction').TRUSTED_ISSUERS).toBeUndefined();
  });

  it('passes enterprise identity providers to the oauth function only, as the JSON it parses', () => {
    // Prepare
    const enterpriseIdps = [
      { issuer: 'https://example.okta.com', clientIds: ['agent'] },
      { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/keys' },
    ];

    // Act
    const { template } = synth({ enterpriseIdps }, { bundle: false });

    // Assess
    const functions = template.findResources('AWS::Lambda::Function') as Resources;
    const env = (prefix: string) =>
      functions[logicalId(template, 'AWS::Lambda::Function', prefix)]!.Properties!.Environment.Variables;
    expect(parseEnterpriseIdps(env('OAuthFunction').ENTERPRISE_IDPS)).toEqual(enterpriseIdps);
    expect(env('McpFunction').ENTERPRISE_IDPS).toBeUndefined();
    expect(oauthEnvironment(synth({}, { bundle: false }).template).ENTERPRISE_IDPS).toBeUndefined();
  });

  it('passes supplied client metadata documents to the oauth function only, validated', () => {
    // Prepare
    const url = 'https://claude.ai/oauth/mcp-oauth-client-metadata';
    const clientMetadataDocuments = {
      [url]: {
        client_id: url,
        client_name: 'Claude',
        redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
        token_endpoint_auth_method: 'none',
      },
    };

    // Act
    const { template } = synth({ clientMetadataDocuments }, { bundle: false });

    // Assess
    const functions = template.findResources('AWS::Lambda::Function') as Resources;
    const env = (prefix: string) =>
      functions[logicalId(template, 'AWS::Lambda::Function', prefix)]!.Properties!.Environment.Variables;
    expect(JSON.parse(env('OAuthFunction').CLIENT_METADATA_DOCUMENTS)).toEqual(clientMetadataDocuments);
    expect(env('McpFunction').CLIENT_METADATA_DOCUMENTS).toBeUndefined();
  });

  it('rotates on the configured schedule and sizes the functions as configured', () => {
    // Act
    const { template } = synth(
      { signingKeyRotationDays: 7, mcpMemorySize: 512, tracing: false },
      { bundle: false },
    );

    // Assess
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(7 days)', Duration: '2h' },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^MCP resource'),
      MemorySize: 512,
      TracingConfig: Match.absent(),
    });
  });

  it('reserves concurrency for the oauth function and caps the mcp function as configured, and reserves none by default', () => {
    // Act
    const { template } = synth(
      { oauthReservedConcurrency: 20, mcpReservedConcurrency: 200 },
      { bundle: false },
    );
    const { template: plain } = synth({}, { bundle: false });
    const reserved = (t: typeof template) =>
      Object.fromEntries(
        Object.values(serviceFunctions(t)).map((f) => [
          f.Properties!.Environment.Variables.POWERTOOLS_SERVICE_NAME,
          f.Properties!.ReservedConcurrentExecutions,
        ]),
      );

    // Assess: 0 means none, never ReservedConcurrentExecutions 0 (which stops a function)
    expect(reserved(template)).toEqual({ oauth: 20, mcp: 200, 'rotate-keys': undefined });
    expect(reserved(plain)).toEqual({ oauth: undefined, mcp: undefined, 'rotate-keys': undefined });
  });

  it('creates no user pool when another OpenID provider is configured, and points the oauth function at it', () => {
    // Act
    const { template } = synth(
      { ...UPSTREAM, upstreamScopes: ['openid', 'email', 'offline_access'] },
      { bundle: false },
    );

    // Assess
    for (const type of [
      'AWS::Cognito::UserPool',
      'AWS::Cognito::UserPoolClient',
      'AWS::Cognito::UserPoolDomain',
      'AWS::Cognito::ManagedLoginBranding',
    ]) {
      template.resourceCountIs(type, 0);
    }
    expect(oauthEnvironment(template)).toMatchObject({
      UPSTREAM_ISSUER: 'https://example.okta.com/oauth2/default',
      UPSTREAM_CLIENT_ID: '0oa1b2c3d4',
      UPSTREAM_CLIENT_SECRET_ARN: UPSTREAM_SECRET_ARN,
      UPSTREAM_SCOPES: 'openid email offline_access',
    });
    const role = (id: string) => logicalId(template, 'AWS::IAM::Role', id);
    const statement = `Allow secretsmanager:GetSecretValue ${JSON.stringify(UPSTREAM_SECRET_ARN)}`;
    expect(rolePermissions(template, role('OAuthRole'))).toContain(statement);
    expect(rolePermissions(template, role('McpRole'))).not.toContain(statement);
    const outputs = template.toJSON().Outputs;
    expect(outputs.UserPoolId).toBeUndefined();
    expect(outputs.CreateFirstUser).toBeUndefined();
    expect(outputs.UpstreamCallbackUrl).toBeDefined();
  });

  it('reads the upstream provider from CDK context too', () => {
    // Act
    const { template } = synth({}, { bundle: false, context: UPSTREAM });

    // Assess
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    expect(oauthEnvironment(template).UPSTREAM_ISSUER).toBe(UPSTREAM.upstreamIssuer);
  });

  it('gives the hosted login domain the configured prefix, and the app client the configured scopes', () => {
    // Act
    const { template } = synth(
      { cognitoDomainPrefix: 'acme-mcp-login', upstreamScopes: ['openid', 'email'] },
      { bundle: false },
    );

    // Assess
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: 'acme-mcp-login',
      ManagedLoginVersion: 2,
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthScopes: ['openid', 'email'],
    });
    expect(oauthEnvironment(template).UPSTREAM_SCOPES).toBe('openid email');
  });

  it('registers <custom domain>/callback at the user pool when the issuer is a custom domain', () => {
    // Act
    const { template } = synth(
      {
        customDomainName: 'mcp.example.com',
        customDomainCertificateArn:
          'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666',
      },
      { bundle: false },
    );

    // Assess
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: ['https://mcp.example.com/callback'],
    });
  });

  it('exempts the break-glass role from the read deny of every secret the stack creates, granting it nothing', () => {
    // Act
    const { template } = synth(
      { breakGlassRoleArn: BREAK_GLASS_ROLE_ARN, canaryIntervalMinutes: 15 },
      { bundle: false },
    );

    // Assess
    const policies = Object.values(
      template.findResources('AWS::SecretsManager::ResourcePolicy') as Resources,
    );
    // The signing keys, the Cognito client secret, the upstream token key and the canary client.
    expect(policies).toHaveLength(4);
    for (const policy of policies) {
      const [statement] = policy.Properties!.ResourcePolicy.Statement;
      expect(statement).toMatchObject({ Effect: 'Deny', Action: 'secretsmanager:GetSecretValue' });
      expect(statement.Condition.ArnNotEquals['aws:PrincipalArn'][0]).toBe(BREAK_GLASS_ROLE_ARN);
    }
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain(BREAK_GLASS_ROLE_ARN);
  });

  it("leaves the resource policy of an operator's upstream client secret to the operator", () => {
    // Act
    const { template } = synth({ ...UPSTREAM, canaryIntervalMinutes: 15 }, { bundle: false });

    // Assess
    const secrets = Object.values(
      template.findResources('AWS::SecretsManager::ResourcePolicy') as Resources,
    ).map((p) => p.Properties!.SecretId.Ref);
    expect(secrets.sort()).toEqual(
      [
        logicalId(template, 'AWS::SecretsManager::Secret', 'SigningKeys'),
        logicalId(template, 'AWS::SecretsManager::Secret', 'CanaryClientSecret'),
        logicalId(template, 'AWS::SecretsManager::Secret', 'UpstreamTokenKey'),
      ].sort(),
    );
    // None names the operator's secret (by its ARN): each is a stack secret's, by Ref.
    expect(secrets.every((id) => typeof id === 'string')).toBe(true);
  });

  it('creates no budget, and lets AWS Budgets publish nothing, with monthlyBudgetUsd 0', () => {
    // Act
    const { template } = synth({}, { bundle: false, context: { monthlyBudgetUsd: '0' } });

    // Assess
    template.resourceCountIs('Custom::CostBudget', 0);
    expect(JSON.stringify(template.findResources('AWS::SNS::TopicPolicy'))).not.toContain(
      'budgets.amazonaws.com',
    );
  });

  it('budgets the configured amount', () => {
    // Act
    const { template } = synth({ monthlyBudgetUsd: 250 }, { bundle: false });

    // Assess
    const [budget] = Object.values(template.findResources('Custom::CostBudget') as Resources);
    expect(customResourceCall(budget!, 'Create').parameters.Budget.BudgetLimit).toEqual({
      Amount: '250',
      Unit: 'USD',
    });
  });

  it('protects a stage other than dev from termination, and tags it with its project, stage and owner', () => {
    // Act
    const { stack, template, assembly } = synth(
      {},
      {
        bundle: false,
        context: {
          stage: 'prod',
          project: 'payments-mcp',
          owner: 'platform-team@example.com',
          alarmEmail: 'ops@example.com',
        },
      },
    );

    // Assess
    expect(stack.terminationProtection).toBe(true);
    expect(assembly.getStackArtifact(stack.artifactId).terminationProtection).toBe(true);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      Tags: Match.arrayWith([
        { Key: 'owner', Value: 'platform-team@example.com' },
        { Key: 'project', Value: 'payments-mcp' },
        { Key: 'stage', Value: 'prod' },
      ]),
    });
  });

  it('lets an explicit terminationProtection prop win over the stage', () => {
    // Act
    const { stack } = synth(
      { stage: 'prod', alarmEmail: 'ops@example.com', terminationProtection: false },
      { bundle: false },
    );

    // Assess
    expect(stack.terminationProtection).toBe(false);
  });

  it('turns X-Ray on with tracing, with the two permissions it needs', () => {
    // Act
    const { template } = synth({ tracing: true }, { bundle: false });

    // Assess
    const functions = Object.values(serviceFunctions(template));
    expect(functions).toHaveLength(3);
    for (const fn of functions) expect(fn.Properties!.TracingConfig).toEqual({ Mode: 'Active' });
    const oauthRole = logicalId(template, 'AWS::IAM::Role', 'OAuthRole');
    expect(rolePermissions(template, oauthRole)).toEqual(
      expect.arrayContaining(['Allow xray:PutTelemetryRecords "*"', 'Allow xray:PutTraceSegments "*"']),
    );
  });
});

describe('production options', () => {
  const CLOUDFRONT_CERTIFICATE =
    'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';

  it('turns the edge and rollouts off, and runs the canary every 15 minutes outside the dev stage, by default', () => {
    // Act
    const settings = resolveSettings({ stage: 'prod', alarmEmail: 'ops@example.com' }, contextNode({}));

    // Assess
    expect(settings).toMatchObject({
      cloudFrontWaf: false,
      originSecretRevision: 1,
      canaryIntervalMinutes: 15,
      safeRollouts: false,
    });
    expect(settings.alarmTopicArn).toBeUndefined();
  });

  it.each<[Record<string, unknown>, string]>([
    [
      { stage: 'prod' },
      'stage "prod" needs someone to receive its alarms: set "alarmEmail" or "alarmTopicArn" (only the dev stage may run without)',
    ],
    [
      { stage: 'prod', alarmEmail: 'ops@example.com', canaryIntervalMinutes: '0' },
      '"canaryIntervalMinutes" 0 (no canary) is allowed only for the dev stage; stage "prod" needs a canary (1 to 60 minutes)',
    ],
    [{ canaryIntervalMinutes: '61' }, '"canaryIntervalMinutes" must be an integer from 0 to 60, got "61"'],
    [{ alarmTopicArn: 'ops-alerts' }, '"alarmTopicArn" must be the ARN of an SNS topic'],
    [{ cloudFrontWaf: 'yes' }, '"cloudFrontWaf" must be true or false, got "yes"'],
    [{ originSecretRevision: '0' }, '"originSecretRevision" must be an integer from 1 to 1000000, got "0"'],
    [
      {
        cloudFrontWaf: 'true',
        customDomainName: 'mcp.example.com',
        customDomainCertificateArn: CLOUDFRONT_CERTIFICATE.replace('us-east-1', 'eu-west-1'),
      },
      '"customDomainCertificateArn" is in eu-west-1, but with "cloudFrontWaf" the certificate is CloudFront\'s, ' +
        'which must be in us-east-1: request or import it there',
    ],
  ])('refuses %j with a message naming the setting', (context, message) => {
    // Act
    const resolve = () => resolveSettings({}, contextNode(context));

    // Assess
    expect(resolve).toThrow(SettingsError);
    expect(resolve).toThrow(message);
  });

  it.each<[string, Record<string, unknown>]>([
    ['an alarm email', { stage: 'prod', alarmEmail: 'ops@example.com' }],
    ['an existing topic', { stage: 'prod', alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-alerts' }],
    ['the dev stage without either, and without a canary', { stage: 'dev', canaryIntervalMinutes: 0 }],
  ])('accepts a stage watched by %s', (_, props) => {
    // Act
    const resolve = () => resolveSettings(props, contextNode({}));

    // Assess
    expect(resolve).not.toThrow();
  });

  it('accepts a CloudFront certificate from us-east-1 whatever the stack region', () => {
    // Act
    const settings = resolveSettings({
      cloudFrontWaf: true,
      customDomainName: 'mcp.example.com',
      customDomainCertificateArn: CLOUDFRONT_CERTIFICATE,
    });

    // Assess
    expect(settings.customDomainCertificateArn).toBe(CLOUDFRONT_CERTIFICATE);
  });
});

describe('stage files (lib/stages.ts)', () => {
  let dir: string;
  const write = (name: string, content: unknown) =>
    writeFileSync(join(dir, `${name}.json`), typeof content === 'string' ? content : JSON.stringify(content));
  const PROD = {
    account: '123456789012',
    region: 'eu-west-1',
    stackName: 'McpOAuth-prod',
    settings: {
      alarmEmail: 'ops@example.com',
      logRetentionDays: 90,
      allowedOrigins: 'https://app.example.com',
    },
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stages-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a stage file, checking every setting and naming the stage after the file', () => {
    // Prepare
    write('prod', PROD);

    // Act
    const stage = loadStage('prod', dir);

    // Assess
    expect(stage).toEqual({
      name: 'prod',
      account: '123456789012',
      region: 'eu-west-1',
      stackName: 'McpOAuth-prod',
      settings: { ...PROD.settings, stage: 'prod' },
    });
  });

  it.each<[string, unknown, string]>([
    [
      'a misspelt setting',
      { ...PROD, settings: { alarmEmial: 'ops@example.com' } },
      'stages/prod.json: "alarmEmial" is not a setting',
    ],
    [
      'an invalid value',
      { ...PROD, settings: { ...PROD.settings, logRetentionDays: 10 } },
      'stages/prod.json: "logRetentionDays" must be one of 1, 3, 5',
    ],
    [
      'a production stage nobody watches',
      { ...PROD, settings: {} },
      'stages/prod.json: stage "prod" needs someone to receive its alarms',
    ],
    [
      'no account',
      { ...PROD, account: undefined },
      'stages/prod.json: "account" must be a 12-digit AWS account id, got undefined',
    ],
    [
      'a bad region',
      { ...PROD, region: 'Europe' },
      'stages/prod.json: "region" must be an AWS region such as eu-west-1, got "Europe"',
    ],
    [
      'a bad stack name',
      { ...PROD, stackName: 'mcp_prod' },
      'stages/prod.json: "stackName" must be a CloudFormation stack name',
    ],
    [
      'a stage setting that contradicts the file',
      { ...PROD, settings: { ...PROD.settings, stage: 'staging' } },
      '"settings.stage" is "staging", but the file is stage "prod"',
    ],
    [
      'a setting at the top level',
      { ...PROD, alarmEmail: 'ops@example.com' },
      'stages/prod.json: unknown key "alarmEmail"',
    ],
    ['text that is not JSON', '{ "account": ', 'stages/prod.json is not valid JSON'],
  ])('refuses %s with a message naming the file', (_, content, message) => {
    // Prepare
    write('prod', content);

    // Act
    const load = () => loadStage('prod', dir);

    // Assess
    expect(load).toThrow(SettingsError);
    expect(load).toThrow(message);
  });

  it('names the stage files there are when asked for one that is missing', () => {
    // Prepare
    write('dev', { ...PROD, stackName: 'McpOAuth-dev', settings: {} });

    // Act
    const load = () => loadStage('prod', dir);

    // Assess
    expect(load).toThrow('stages/prod.json does not exist; stages with a file: dev');
  });

  it("gives the stack the stage file's account, region, name and settings, a -c value on the command line winning", () => {
    // Prepare
    write('prod', PROD);
    const app = new App({ context: { stageConfig: 'prod', logRetentionDays: '30' } });

    // Act
    const target = applyStage(app, dir);
    const settings = resolveSettings({}, new Stack(app, target.stackName, { env: target.env }).node);

    // Assess
    expect(target).toMatchObject({
      stackName: 'McpOAuth-prod',
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    expect(settings).toMatchObject({
      stage: 'prod',
      alarmEmail: 'ops@example.com',
      allowedOrigins: ['https://app.example.com'],
      logRetentionDays: 30,
    });
  });

  it('keeps -c stackName and the environment-agnostic stack without a stage file, and refuses a stack name that contradicts one', () => {
    // Prepare
    write('prod', PROD);

    // Act
    const plain = applyStage(new App({ context: { stackName: 'Foo' } }), dir);
    const defaulted = applyStage(new App(), dir);
    const contradicted = () =>
      applyStage(new App({ context: { stageConfig: 'prod', stackName: 'Foo' } }), dir);

    // Assess
    expect(plain).toEqual({ stackName: 'Foo' });
    expect(defaulted).toEqual({ stackName: 'McpOAuth' });
    expect(contradicted).toThrow(
      '-c stackName=Foo contradicts stages/prod.json, which deploys McpOAuth-prod',
    );
  });

  it.each(['dev.json', 'prod.json.example'])("accepts the repository's stages/%s", (file) => {
    // Prepare: the example is what a team copies to stages/prod.json.
    writeFileSync(join(dir, file.replace('.example', '')), readFileSync(join(STAGES_DIR, file)));

    // Act
    const stage = loadStage(file.replace(/\.json.*$/, ''), dir);

    // Assess
    expect(resolveSettings(stage.settings as never)).toMatchObject({ stage: stage.name });
  });

  it('deploys with stages/dev.json the one dev stack a plain npm run deploy deploys, and prod apart', () => {
    // Prepare: the stack a deploy without --stage names (bin/app.ts, and scripts/deploy.sh's own default).
    const deployScript = readFileSync(join(STAGES_DIR, '..', 'scripts', 'deploy.sh'), 'utf8');
    const scriptDefault = /STACK="\$\{STACK_NAME:-([\w-]+)\}"/.exec(deployScript)?.[1];
    writeFileSync(join(dir, 'dev.json'), readFileSync(join(STAGES_DIR, 'dev.json')));
    writeFileSync(join(dir, 'prod.json'), readFileSync(join(STAGES_DIR, 'prod.json.example')));

    // Act
    const dev = loadStage('dev', dir);
    const prod = loadStage('prod', dir);

    // Assess
    expect(scriptDefault).toBe(DEFAULT_STACK_NAME);
    expect(dev.stackName).toBe(DEFAULT_STACK_NAME);
    expect(resolveSettings({}).stage).toBe(dev.name);
    expect(prod.stackName).not.toBe(DEFAULT_STACK_NAME);
  });

  it('deploys the example production stage to us-east-1, which its CloudFront web ACL needs', () => {
    // Act
    const example = JSON.parse(readFileSync(join(STAGES_DIR, 'prod.json.example'), 'utf8'));

    // Assess
    expect(example.settings.cloudFrontWaf).toBe(true);
    expect(example.region).toBe('us-east-1');
  });
});
