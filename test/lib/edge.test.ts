import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ORIGIN_SECRET_HEADER } from '../../lambda/shared/origin-secret.js';
import { CLOUDFRONT_HOSTED_ZONE_ID, EDGE_RATE_LIMITS } from '../../lib/constructs/edge.js';
import { McpOAuthStack } from '../../lib/mcp-oauth-stack.js';
import { SettingsError } from '../../lib/settings.js';
import { logicalId, rolePermissions, ref, synth, type Resources } from './synth.js';

const CLOUDFRONT_CERTIFICATE =
  'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';

let template: Template;
let webAcl: Resources[string];
let distribution: Record<string, any>;
let secretId: string;

beforeAll(() => {
  ({ template } = synth({ cloudFrontWaf: true }, { bundle: false }));
  webAcl = Object.values(template.findResources('AWS::WAFv2::WebACL') as Resources)[0]!;
  distribution = Object.values(template.findResources('AWS::CloudFront::Distribution') as Resources)[0]!
    .Properties!.DistributionConfig;
  secretId = logicalId(template, 'AWS::SecretsManager::Secret', 'EdgeOriginSecret');
});

const functionEnvironment = (prefix: string) =>
  (template.findResources('AWS::Lambda::Function') as Resources)[
    logicalId(template, 'AWS::Lambda::Function', prefix)
  ]!.Properties!.Environment.Variables;

describe('the web ACL', () => {
  it('guards CloudFront (scope CLOUDFRONT) and allows what no rule blocks', () => {
    // Assess
    expect(webAcl.Properties).toMatchObject({
      Scope: 'CLOUDFRONT',
      DefaultAction: { Allow: {} },
      VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true },
    });
    expect(distribution.WebACLId).toEqual({
      'Fn::GetAtt': [logicalId(template, 'AWS::WAFv2::WebACL', 'Edge'), 'Arn'],
    });
  });

  it('runs the AWS managed IP reputation, common and known bad inputs rule groups, enforcing their actions', () => {
    // Act
    const managed = (webAcl.Properties!.Rules as any[]).filter((r) => r.Statement.ManagedRuleGroupStatement);

    // Assess
    expect(managed.map((r) => [r.Statement.ManagedRuleGroupStatement.VendorName, r.Name])).toEqual([
      ['AWS', 'AWSManagedRulesAmazonIpReputationList'],
      ['AWS', 'AWSManagedRulesCommonRuleSet'],
      ['AWS', 'AWSManagedRulesKnownBadInputsRuleSet'],
    ]);
    for (const rule of managed) expect(rule.OverrideAction).toEqual({ None: {} });
  });

  it("only counts the common rule set's 8 KB body limit, which /mcp bodies may exceed, and overrides nothing else", () => {
    // Act
    const overrides = (webAcl.Properties!.Rules as any[]).flatMap(
      (r) => r.Statement.ManagedRuleGroupStatement?.RuleActionOverrides ?? [],
    );

    // Assess
    expect(overrides).toEqual([{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }]);
  });

  it.each(EDGE_RATE_LIMITS.map((r) => [r.name, r.paths, r.limit] as const))(
    'limits each client IP on %s (%j) to %i requests per 5 minutes, answering 429',
    (name, paths, limit) => {
      // Act
      const rule = (webAcl.Properties!.Rules as any[]).find((r) => r.Name === `rate-${name}`);
      const statement = rule.Statement.RateBasedStatement;
      const matches: any[] = statement.ScopeDownStatement.OrStatement?.Statements ?? [
        statement.ScopeDownStatement,
      ];

      // Assess
      expect(rule.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 429 } } });
      expect(statement).toMatchObject({ Limit: limit, AggregateKeyType: 'IP', EvaluationWindowSec: 300 });
      expect(matches.map((m) => m.ByteMatchStatement)).toEqual(
        paths.map((path) => ({
          FieldToMatch: { UriPath: {} },
          PositionalConstraint: 'EXACTLY',
          SearchString: path,
          TextTransformations: [
            { Priority: 0, Type: 'URL_DECODE' },
            { Priority: 1, Type: 'LOWERCASE' },
          ],
        })),
      );
    },
  );

  it('rate-limits /register, /token, /authorize and /mcp', () => {
    // Assess
    expect(EDGE_RATE_LIMITS.flatMap((r) => r.paths)).toEqual(
      expect.arrayContaining(['/register', '/token', '/authorize', '/mcp']),
    );
  });
});

describe('the distribution', () => {
  it('caches nothing and forwards every viewer header but Host (Authorization, MCP headers), cookies and query strings', () => {
    // Assess: the managed policies CachingDisabled and AllViewerExceptHostHeader, by their fixed ids.
    expect(distribution.DefaultCacheBehavior).toMatchObject({
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      ViewerProtocolPolicy: 'https-only',
    });
    expect(distribution.CacheBehaviors).toBeUndefined();
  });

  it('forwards to the API over TLS 1.2 only, with the origin secret as a header CloudFormation fills in', () => {
    // Act
    const [origin] = distribution.Origins;

    // Assess
    expect(origin.CustomOriginConfig).toMatchObject({
      OriginProtocolPolicy: 'https-only',
      OriginSSLProtocols: ['TLSv1.2'],
    });
    expect(JSON.stringify(origin.DomainName)).toContain('.execute-api.');
    expect(origin.OriginCustomHeaders).toEqual([
      {
        HeaderName: ORIGIN_SECRET_HEADER,
        HeaderValue: {
          'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, ':SecretString:current::}}']],
        },
      },
    ]);
  });

  it('generates the origin secret in Secrets Manager, never in the template', () => {
    // Act
    const secret = (template.findResources('AWS::SecretsManager::Secret') as Resources)[secretId]!;

    // Assess
    expect(secret.Properties).toMatchObject({
      GenerateSecretString: { SecretStringTemplate: '{}', GenerateStringKey: 'current', PasswordLength: 48 },
    });
    expect(secret.Properties!.SecretString).toBeUndefined();
  });

  it('names the origin secret revision in its comment, so raising it updates the distribution', () => {
    // Act
    const { template: raised } = synth({ cloudFrontWaf: true, originSecretRevision: 2 }, { bundle: false });

    // Assess
    expect(distribution.Comment).toBe('McpOAuth MCP server (origin secret revision 1)');
    raised.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ Comment: 'McpOAuth MCP server (origin secret revision 2)' }),
    });
  });
});

describe('the functions behind it', () => {
  it('take the distribution as the issuer', () => {
    // Prepare
    const issuer = {
      'Fn::Join': [
        '',
        [
          'https://',
          { 'Fn::GetAtt': [logicalId(template, 'AWS::CloudFront::Distribution', 'Edge'), 'DomainName'] },
        ],
      ],
    };

    // Assess
    expect(functionEnvironment('OAuthFunction').ISSUER).toEqual(issuer);
    expect(functionEnvironment('McpFunction').ISSUER).toEqual(issuer);
    expect(template.toJSON().Outputs.Issuer.Value).toEqual(issuer);
  });

  it('read the origin secret (its ARN in the environment, never its value) and may read nothing more for it', () => {
    // Assess
    for (const prefix of ['OAuth', 'Mcp']) {
      expect(functionEnvironment(`${prefix}Function`).ORIGIN_SECRET_ARN).toEqual({ Ref: secretId });
      expect(rolePermissions(template, logicalId(template, 'AWS::IAM::Role', `${prefix}Role`))).toContain(
        `Allow secretsmanager:GetSecretValue ${ref(secretId)}`,
      );
    }
    expect(functionEnvironment('McpFunction').SECRETS_MANAGER_ENDPOINT).toEqual({
      'Fn::Join': [
        '',
        ['https://secretsmanager.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/'],
      ],
    });
    expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).not.toContain(
      'resolve:secretsmanager',
    );
  });

  it('leave the execute-api endpoint on, as the origin, and without the edge no function gets an origin secret', () => {
    // Act
    const { template: plain } = synth({}, { bundle: false });

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: false });
    expect(JSON.stringify(plain.findResources('AWS::Lambda::Function'))).not.toContain('ORIGIN_SECRET_ARN');
    plain.resourceCountIs('AWS::CloudFront::Distribution', 0);
    plain.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });
});

describe('the region', () => {
  it('fails the deployment outside us-east-1 of an environment-agnostic stack, by a CloudFormation rule', () => {
    // Assess
    expect(template.toJSON().Rules.WebAclRegion).toEqual({
      Assertions: [
        {
          Assert: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
          AssertDescription: expect.stringContaining('deploy this stack to us-east-1'),
        },
      ],
    });
  });

  it('fails the synth of a stack with another region, and needs no rule in us-east-1', () => {
    // Act
    const elsewhere = () =>
      new McpOAuthStack(new App(), 'McpOAuth', { cloudFrontWaf: true, env: { region: 'eu-west-1' } });
    const there = new McpOAuthStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'McpOAuth', {
      cloudFrontWaf: true,
      env: { account: '123456789012', region: 'us-east-1' },
    });

    // Assess
    expect(elsewhere).toThrow(SettingsError);
    expect(elsewhere).toThrow(
      'cloudFrontWaf: a web ACL for CloudFront (scope CLOUDFRONT) exists only in us-east-1, but the stack deploys to eu-west-1',
    );
    expect(there.node.tryFindChild('WebAclRegion')).toBeUndefined();
  });
});

describe('a custom domain on the distribution', () => {
  it('serves the domain from CloudFront with its us-east-1 certificate and TLS 1.2, and outputs the alias target', () => {
    // Act
    const { template: withDomain } = synth(
      {
        cloudFrontWaf: true,
        customDomainName: 'mcp.example.com',
        customDomainCertificateArn: CLOUDFRONT_CERTIFICATE,
      },
      { bundle: false },
    );
    const outputs = withDomain.toJSON().Outputs;

    // Assess
    withDomain.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['mcp.example.com'],
        ViewerCertificate: {
          AcmCertificateArn: CLOUDFRONT_CERTIFICATE,
          MinimumProtocolVersion: 'TLSv1.2_2021',
          SslSupportMethod: 'sni-only',
        },
      }),
    });
    withDomain.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    expect(outputs.Issuer.Value).toBe('https://mcp.example.com');
    expect(outputs.CustomDomainHostedZoneId.Value).toBe(CLOUDFRONT_HOSTED_ZONE_ID);
    expect(outputs.CustomDomainTarget.Value).toEqual({
      'Fn::GetAtt': [logicalId(withDomain, 'AWS::CloudFront::Distribution', 'Edge'), 'DomainName'],
    });
  });
});
