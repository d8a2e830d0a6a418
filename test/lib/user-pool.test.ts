import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { defaultDomainPrefix } from '../../lib/constructs/user-pool.js';
import { resolveSettings, SettingsError, type DeploymentSettings } from '../../lib/settings.js';
import { logicalId, synth, type Resources } from './synth.js';

/** The prefix as CloudFormation receives it: `<name>-<account id>`. */
function resolved(stackName: string): unknown {
  return new Stack(new App(), 'Resolver').resolve(defaultDomainPrefix(stackName));
}

const joined = (name: string) => ({ 'Fn::Join': ['-', [name, { Ref: 'AWS::AccountId' }]] });

describe('defaultDomainPrefix', () => {
  it('joins the lowercased stack name and the account id, unique across accounts and stacks', () => {
    // Assess
    expect(resolved('McpOAuth')).toEqual(joined('mcpoauth'));
    expect(resolved('Team-Tools')).toEqual(joined('team-tools'));
  });

  it('turns characters Cognito refuses into single hyphens and trims them from the ends', () => {
    // Assess
    expect(resolved('Mcp_OAuth..Prod')).toEqual(joined('mcp-oauth-prod'));
    expect(resolved('-Mcp-')).toEqual(joined('mcp'));
  });

  it('removes the words Cognito reserves, even where removing one forms another', () => {
    // Assess
    expect(resolved('McpAwsProd')).toEqual(joined('mcpprod'));
    expect(resolved('AmazonCognitoMcp')).toEqual(joined('mcp'));
    expect(resolved('AwAmazonS-Team')).toEqual(joined('team'));
  });

  it('falls back to "mcp" when nothing of the stack name is left', () => {
    // Assess
    expect(resolved('AWS')).toEqual(joined('mcp'));
    expect(resolved('___')).toEqual(joined('mcp'));
  });

  it('keeps the whole prefix within 63 characters', () => {
    // Act
    const prefix = resolved('a'.repeat(80)) as { 'Fn::Join': [string, [string, unknown]] };

    // Assess
    const name = prefix['Fn::Join'][1][0];
    expect(name).toBe('a'.repeat(50));
    expect(`${name}-123456789012`).toHaveLength(63);
  });
});

/** A template string value (a `Fn::Join`) with each token written as `<Ref id>` or `<GetAtt id.attr>`. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) {
    const ref = (value as { Ref?: string }).Ref;
    if (ref) return `<Ref ${ref}>`;
    const [id, attr] = (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
    return `<GetAtt ${id}.${attr}>`;
  }
  return join[1].map(flatten).join(join[0]);
}

const contextNode = (context: Record<string, unknown>) => new Stack(new App({ context }), 'Settings').node;

describe('the Cognito machine client (cognitoMachineClient)', () => {
  const clientId = (template: Template) =>
    logicalId(template, 'AWS::Cognito::UserPoolClient', 'UsersUserPoolMachineClient');
  const poolId = (template: Template) => logicalId(template, 'AWS::Cognito::UserPool', 'UsersUserPool');
  const mcpEnvironment = (template: Template) =>
    (template.findResources('AWS::Lambda::Function') as Resources)[
      logicalId(template, 'AWS::Lambda::Function', 'McpFunction')
    ]!.Properties!.Environment.Variables as Record<string, unknown>;

  it('adds a resource server mcp with the scope tools, and a client allowed only client credentials and that scope', () => {
    // Act
    const { template } = synth({ cognitoMachineClient: true }, { bundle: false });

    // Assess
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'mcp',
      UserPoolId: { Ref: poolId(template) },
      Scopes: [{ ScopeName: 'tools', ScopeDescription: Match.anyValue() }],
    });
    const client = (template.findResources('AWS::Cognito::UserPoolClient') as Resources)[clientId(template)]!;
    const resourceServer = logicalId(template, 'AWS::Cognito::UserPoolResourceServer', 'UsersUserPool');
    // The Ref of a resource server is its identifier, `mcp`: the scope is `mcp/tools`.
    expect(client.Properties!.AllowedOAuthScopes.map(flatten)).toEqual([`<Ref ${resourceServer}>/tools`]);
    expect(client.Properties).toMatchObject({
      GenerateSecret: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthFlowsUserPoolClient: true,
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
      SupportedIdentityProviders: ['COGNITO'],
      AccessTokenValidity: 60,
    });
    expect(client.Properties!.CallbackURLs).toBeUndefined();
  });

  it("trusts the pool's tokens of that client on /mcp, with mcp/tools granting mcp:tools", () => {
    // Act
    const { template } = synth({ cognitoMachineClient: true }, { bundle: false });

    // Assess
    const trusted = JSON.parse(flatten(mcpEnvironment(template).TRUSTED_ISSUERS));
    expect(trusted).toEqual([
      {
        issuer: `<GetAtt ${poolId(template)}.ProviderURL>`,
        clientIds: [`<Ref ${clientId(template)}>`],
        scopeMap: { 'mcp/tools': ['mcp:tools'] },
        maxTokenLifetimeSeconds: 3600,
      },
    ]);
  });

  it('keeps the trustedIssuers setting, first', () => {
    // Prepare
    const other = { issuer: 'https://issuer.example.com', audiences: ['https://mcp.example.com/mcp'] };

    // Act
    const { template } = synth({ cognitoMachineClient: true, trustedIssuers: [other] }, { bundle: false });

    // Assess
    const trusted = JSON.parse(flatten(mcpEnvironment(template).TRUSTED_ISSUERS));
    expect(trusted.map((t: { issuer: string }) => t.issuer)).toEqual([
      other.issuer,
      `<GetAtt ${poolId(template)}.ProviderURL>`,
    ]);
  });

  it('prints how to read the secret and get a token', () => {
    // Act
    const { template } = synth({ cognitoMachineClient: true }, { bundle: false });

    // Assess
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const client = `<Ref ${clientId(template)}>`;
    const endpoint = flatten(outputs.MachineTokenEndpoint!.Value);
    expect(endpoint).toMatch(/^https:\/\/.+\.auth\..+\.amazoncognito\.com\/oauth2\/token$/);
    expect(flatten(outputs.MachineClientId!.Value)).toBe(client);
    expect(flatten(outputs.MachineClientSecretCommand!.Value)).toBe(
      `aws cognito-idp describe-user-pool-client --region <Ref AWS::Region> --user-pool-id <Ref ${poolId(template)}>` +
        ` --client-id ${client} --query UserPoolClient.ClientSecret --output text`,
    );
    expect(flatten(outputs.MachineTokenCommand!.Value)).toBe(
      `curl -s -u "${client}:$MACHINE_CLIENT_SECRET" -d 'grant_type=client_credentials&scope=mcp/tools' ${endpoint}`,
    );
  });

  it('adds none of it by default', () => {
    // Act
    const { template } = synth({}, { bundle: false });

    // Assess
    template.resourceCountIs('AWS::Cognito::UserPoolResourceServer', 0);
    expect(mcpEnvironment(template).TRUSTED_ISSUERS).toBeUndefined();
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('MachineClientId');
  });

  it.each<[string, Partial<DeploymentSettings>, string]>([
    [
      'another OpenID provider',
      {
        upstreamIssuer: 'https://example.okta.com/oauth2/default',
        upstreamClientId: '0oa1b2c3d4',
        upstreamClientSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:upstream-AbC123',
      },
      '"cognitoMachineClient" applies only to the Cognito user pool the stack creates, not with "upstreamIssuer"',
    ],
    [
      'scopes without mcp:tools',
      { scopes: ['mcp:resources'] },
      '"cognitoMachineClient" grants "mcp:tools", which "scopes" does not list',
    ],
  ])('refuses the setting with %s', (_, settings, message) => {
    expect(() => resolveSettings({ cognitoMachineClient: true, ...settings })).toThrow(
      new SettingsError(message),
    );
  });

  it('reads the setting from context as a string', () => {
    expect(resolveSettings({}, contextNode({ cognitoMachineClient: 'true' })).cognitoMachineClient).toBe(
      true,
    );
  });
});
