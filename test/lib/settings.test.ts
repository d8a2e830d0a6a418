import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { DEFAULT_SETTINGS, resolveSettings, SettingsError } from '../../lib/settings.js';
import { logicalId, synth, type Resources } from './synth.js';

function contextNode(context: Record<string, unknown>) {
  return new Stack(new App({ context }), 'Settings').node;
}

describe('resolveSettings', () => {
  it('uses the defaults when neither props nor context set anything', () => {
    // Act
    const settings = resolveSettings({}, contextNode({}));

    // Assess
    expect(settings).toEqual(DEFAULT_SETTINGS);
    expect(settings).toMatchObject({
      registrationPolicy: 'token',
      removalPolicy: 'retain',
      signingKeyRotationDays: 30,
    });
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
      mcpMemorySize: '512',
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
      mcpMemorySize: 512,
    });
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
    [{ alarmEmail: 'ops' }, '"alarmEmail" must be an email address'],
    [
      { trustedIssuers: '[{"issuer":"http://insecure.example.com"}]' },
      '"trustedIssuers": trustedIssuers[0].issuer must be an https URL',
    ],
    [
      { customDomainName: 'mcp.example.com' },
      '"customDomainName" and "customDomainCertificateArn" must be given together',
    ],
    [
      { signingKeyRotationDays: 1, accessTokenTtlSeconds: 86_400 },
      '"signingKeyRotationDays" must be longer than "accessTokenTtlSeconds" plus 10 minutes',
    ],
    [
      { throttleRateLimit: 100, throttleBurstLimit: 50 },
      '"throttleBurstLimit" must be at least "throttleRateLimit"',
    ],
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
    const functions = Object.values(template.findResources('AWS::Lambda::Function') as Resources);
    const issuers = functions.map((f) => f.Properties!.Environment.Variables.ISSUER).filter(Boolean);
    expect(issuers).toEqual(['https://mcp.example.com', 'https://mcp.example.com']);
    expect(template.toJSON().Outputs.McpUrl.Value).toBe('https://mcp.example.com/mcp');
  });

  it('creates no initial access token when registration is open', () => {
    // Act
    const { template } = synth({ registrationPolicy: 'open' }, { bundle: false });

    // Assess
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const oauth = (template.findResources('AWS::Lambda::Function') as Resources)[
      logicalId(template, 'AWS::Lambda::Function', 'OAuthFunction')
    ]!;
    expect(oauth.Properties!.Environment.Variables).toMatchObject({ REGISTRATION_POLICY: 'open' });
    expect(oauth.Properties!.Environment.Variables.INITIAL_ACCESS_TOKEN_SECRET_ARN).toBeUndefined();
  });

  it('lets a development stack delete its table and logs', () => {
    // Act
    const { template } = synth({ removalPolicy: 'destroy' }, { bundle: false });

    // Assess
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup') as Resources)) {
      expect(group.DeletionPolicy).toBe('Delete');
    }
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

  it('rotates on the configured schedule and sizes the functions as configured', () => {
    // Act
    const { template } = synth(
      { signingKeyRotationDays: 7, mcpMemorySize: 512, tracing: false },
      { bundle: false },
    );

    // Assess
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(7 days)' },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^MCP resource'),
      MemorySize: 512,
      TracingConfig: Match.absent(),
    });
  });

  it('refuses an upstream identity provider until interactive login exists', () => {
    // Act
    const act = () => synth({ upstreamIdentityProvider: { kind: 'cognito' } }, { bundle: false });

    // Assess
    expect(act).toThrow('upstreamIdentityProvider is not supported yet');
  });
});
