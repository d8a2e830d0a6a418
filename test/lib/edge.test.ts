import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { CLIENT_ID_PATTERN } from '../../lambda/oauth/stores/client-store.js';
import { ORIGIN_SECRET_HEADER } from '../../lambda/shared/origin-secret.js';
import { ROUTES } from '../../lambda/shared/routes.js';
import {
  CLOUDFRONT_HOSTED_ZONE_ID,
  EDGE_RATE_LIMITS,
  MANAGED_RULE_GROUPS,
} from '../../lib/constructs/edge.js';
import { McpOAuthStack } from '../../lib/mcp-oauth-stack.js';
import { SettingsError } from '../../lib/settings.js';
import { logicalId, rolePermissions, ref, synth, type Resources } from './synth.js';
import { INTEROP_REQUESTS, evaluateWebAcl, type WebRequest } from './waf-model.js';

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

  it('counts four common rules in the group (8 KB bodies, URLs with an IPv4 host in query and body, no User-Agent), and overrides nothing else', () => {
    // Act
    const overrides = (webAcl.Properties!.Rules as any[]).flatMap(
      (r) => r.Statement.ManagedRuleGroupStatement?.RuleActionOverrides ?? [],
    );

    // Assess
    expect(overrides).toEqual(
      ['SizeRestrictions_BODY', 'GenericRFI_QUERYARGUMENTS', 'GenericRFI_BODY', 'NoUserAgent_HEADER'].map(
        (Name) => ({ Name, ActionToUse: { Count: {} } }),
      ),
    );
  });

  it('re-blocks the two RFI labels in a rule after the common rule set, except on exactly the oauth endpoints that take input', () => {
    // Prepare: every oauth route but the discovery documents, as the WAF sees its path.
    const oauthInputRoutes = ROUTES.filter(
      (r) => r.function === 'oauth' && !r.path.startsWith('/.well-known/'),
    ).map((r) => r.path);

    // Act
    const rules = webAcl.Properties!.Rules as any[];
    const rule = rules.find((r) => r.Name === 'block-url-inclusion-outside-oauth');
    const common = rules.find((r) => r.Name === 'AWSManagedRulesCommonRuleSet');
    const [labels, outside] = rule.Statement.AndStatement.Statements;
    const excluded: any[] = outside.NotStatement.Statement.OrStatement.Statements;
    const exact = excluded.filter((m) => m.ByteMatchStatement).map((m) => m.ByteMatchStatement);
    const patterns = excluded.filter((m) => m.RegexMatchStatement).map((m) => m.RegexMatchStatement);

    // Assess
    expect(rule.Action).toEqual({ Block: {} });
    expect(rule.Priority).toBeGreaterThan(common.Priority);
    expect(rule.Priority).toBeGreaterThan(MANAGED_RULE_GROUPS.length - 1);
    expect(rule.Priority).toBeLessThan(
      Math.min(...rules.filter((r) => r.Name.startsWith('rate-')).map((r) => r.Priority)),
    );
    expect(labels.OrStatement.Statements).toEqual([
      {
        LabelMatchStatement: {
          Scope: 'LABEL',
          Key: 'awswaf:managed:aws:core-rule-set:GenericRFI_QueryArguments',
        },
      },
      { LabelMatchStatement: { Scope: 'LABEL', Key: 'awswaf:managed:aws:core-rule-set:GenericRFI_Body' } },
    ]);
    for (const m of [...exact, ...patterns]) {
      expect(m.FieldToMatch).toEqual({ UriPath: {} });
      expect(m.TextTransformations).toEqual([{ Priority: 0, Type: 'NONE' }]);
    }
    expect(exact.every((m) => m.PositionalConstraint === 'EXACTLY')).toBe(true);
    expect(patterns).toHaveLength(1);
    const pattern = new RegExp(patterns[0].RegexString);
    const covered = (path: string) => exact.some((m) => m.SearchString === path) || pattern.test(path);
    expect(exact.map((m) => m.SearchString).sort()).toEqual(
      oauthInputRoutes.filter((p) => !p.includes('{')).sort(),
    );
    expect(oauthInputRoutes.filter((p) => p.includes('{'))).toEqual(['/clients/{client_id}']);
    expect(covered('/clients/AbCdEfGhIjKlMnOpQrStUv')).toBe(true);
    expect(CLIENT_ID_PATTERN.test('a_b-C9')).toBe(true);
    expect(pattern.test('/clients/a_b-C9')).toBe(true);
    for (const path of [
      '/clients/',
      '/clients/a/b',
      '/clients/..',
      '/clients/a/../../mcp',
      '/mcp',
      '/Token',
      '/token/',
      '/%74oken',
    ]) {
      expect([path, covered(path)]).toEqual([path, false]);
    }
  });

  describe("what real clients send (interop.md), through the common rule set's documented conditions and the rules after it", () => {
    let verdict: (request: WebRequest) => ReturnType<typeof evaluateWebAcl>;
    beforeAll(() => {
      verdict = (request) => evaluateWebAcl(webAcl.Properties!.Rules as any[], request);
    });

    it.each(INTEROP_REQUESTS.map((r) => [r.description, r] as const))('lets through %s', (_, request) => {
      // Act
      const result = verdict(request);

      // Assess
      expect(result).toMatchObject({ action: 'allow' });
    });

    it('sees the RFI rules match the loopback requests, so the exclusions are what lets them through', () => {
      // Act
      const loopback = INTEROP_REQUESTS.filter((r) => r.description.includes('127.0.0.1'));
      const labelled = loopback.map((r) => verdict(r).labels);

      // Assess
      expect(loopback.length).toBeGreaterThanOrEqual(4);
      for (const labels of labelled) {
        expect(labels.some((l) => l.startsWith('awswaf:managed:aws:core-rule-set:GenericRFI_'))).toBe(true);
      }
    });

    it.each<[string, WebRequest]>([
      [
        'a /mcp body holding a URL with an IPv4 host',
        {
          description: 'mcp',
          method: 'POST',
          path: '/mcp',
          headers: { 'user-agent': 'node' },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'fetch', arguments: { url: 'http://10.0.0.5/x' } },
          }),
        },
      ],
      [
        'a discovery query holding a URL with an IPv4 host',
        {
          description: 'well-known',
          method: 'GET',
          path: '/.well-known/oauth-authorization-server',
          query: 'x=http://192.0.2.1/',
          headers: { 'user-agent': 'node' },
        },
      ],
      [
        'a registration sent to an unexcluded spelling of /register',
        {
          description: 'Register',
          method: 'POST',
          path: '/Register',
          headers: { 'user-agent': 'node' },
          body: '{"redirect_uris":["http://127.0.0.1:33418/"]}',
        },
      ],
    ])('blocks %s, by the label rule', (_, request) => {
      // Act
      const result = verdict(request);

      // Assess
      expect(result).toEqual(
        expect.objectContaining({ action: 'block', by: 'block-url-inclusion-outside-oauth' }),
      );
    });

    it('still blocks, in the managed group, what the common rule set enforces (an EC2 metadata URL in a registration)', () => {
      // Act
      const result = verdict({
        description: 'ssrf',
        method: 'POST',
        path: '/register',
        headers: { 'user-agent': 'node' },
        body: '{"redirect_uris":["http://169.254.169.254/latest/meta-data/"]}',
      });

      // Assess
      expect(result).toEqual(
        expect.objectContaining({ action: 'block', by: 'AWSManagedRulesCommonRuleSet' }),
      );
    });
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

describe('the WAF logs', () => {
  it('go to a CloudWatch Logs group named aws-waf-logs-<stack>-<stack id prefix>, with the stack log retention and removal policy', () => {
    // Act
    const [id, group] = Object.entries(template.findResources('AWS::Logs::LogGroup') as Resources).find(
      ([id]) => id.startsWith('EdgeWafLogs'),
    )!;
    const { template: destroyable } = synth(
      { cloudFrontWaf: true, logRetentionDays: 7, removalPolicy: 'destroy' },
      { bundle: false },
    );

    // Assess
    expect(id).toBe(logicalId(template, 'AWS::Logs::LogGroup', 'EdgeWafLogs'));
    expect(group.Properties!.LogGroupName).toEqual({
      'Fn::Join': [
        '',
        [
          'aws-waf-logs-McpOAuth-',
          {
            'Fn::Select': [
              0,
              { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] },
            ],
          },
        ],
      ],
    });
    expect(group.Properties!.RetentionInDays).toBe(30);
    expect(group.DeletionPolicy).toBe('Retain');
    destroyable.hasResource('AWS::Logs::LogGroup', {
      Properties: Match.objectLike({ LogGroupName: Match.anyValue(), RetentionInDays: 7 }),
      DeletionPolicy: 'Delete',
    });
  });

  it('log every request of the web ACL to that group, by the ARN form WAF documents, with credentials redacted', () => {
    // Act
    const configs = Object.values(template.findResources('AWS::WAFv2::LoggingConfiguration') as Resources);
    const groupId = logicalId(template, 'AWS::Logs::LogGroup', 'EdgeWafLogs');

    // Assess
    expect(configs).toHaveLength(1);
    expect(configs[0]!.Properties).toEqual({
      ResourceArn: { 'Fn::GetAtt': [logicalId(template, 'AWS::WAFv2::WebACL', 'Edge'), 'Arn'] },
      LogDestinationConfigs: [
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':logs:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':log-group:',
              { Ref: groupId },
            ],
          ],
        },
      ],
      // No LoggingFilter: every request is kept, allowed or not, with its client IP.
      RedactedFields: [
        { SingleHeader: { Name: 'authorization' } },
        { SingleHeader: { Name: 'cookie' } },
        { SingleHeader: { Name: ORIGIN_SECRET_HEADER } },
        { QueryString: {} },
      ],
    });
  });

  it('are named in an output, and absent without the edge', () => {
    // Act
    const { template: plain } = synth({}, { bundle: false });

    // Assess
    expect(template.toJSON().Outputs.WafLogGroupName.Value).toEqual({
      Ref: logicalId(template, 'AWS::Logs::LogGroup', 'EdgeWafLogs'),
    });
    plain.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 0);
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
