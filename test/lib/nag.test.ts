import { jest } from '@jest/globals';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { McpOAuthStack, type McpOAuthStackProps } from '../../lib/mcp-oauth-stack.js';

const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';
const CLOUDFRONT_CERTIFICATE_ARN = CERTIFICATE_ARN.replace('eu-west-1', 'us-east-1');

/** Runs the AwsSolutions pack over a synthesized app, as `cdk synth` does through `bin/app.ts`. */
function nag(props: McpOAuthStackProps) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new McpOAuthStack(app, 'McpOAuth', props);
  app.synth();
  return { stack, report: new AwsSolutionsChecks().validateScope(app) };
}

function acknowledgments(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      // Recorded as { "Annotation::<rule id>": reason }.
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^\w+::/, ''), reason })),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it.each<[string, McpOAuthStackProps]>([
    ['the defaults', {}],
    ['open registration with tracing', { registrationPolicy: 'open', tracing: true }],
    [
      'a production stage with a break-glass role and no budget',
      {
        stage: 'prod',
        owner: 'platform-team@example.com',
        alarmEmail: 'ops@example.com',
        breakGlassRoleArn: 'arn:aws:iam::123456789012:role/BreakGlass',
        monthlyBudgetUsd: 0,
      },
    ],
    ['CloudFront and WAF in front', { cloudFrontWaf: true }],
    [
      'CloudFront and WAF with a custom domain',
      {
        cloudFrontWaf: true,
        customDomainName: 'mcp.example.com',
        customDomainCertificateArn: CLOUDFRONT_CERTIFICATE_ARN,
      },
    ],
    ['safe rollouts', { safeRollouts: true }],
    [
      'every option of a production stage at once',
      {
        stage: 'prod',
        alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:ops-alerts',
        cloudFrontWaf: true,
        safeRollouts: true,
        canaryIntervalMinutes: 5,
        registrationPolicy: 'closed',
      },
    ],
    ['a dev stage without a canary', { canaryIntervalMinutes: 0 }],
    [
      'a custom domain and an alarm email',
      {
        customDomainName: 'mcp.example.com',
        customDomainCertificateArn: CERTIFICATE_ARN,
        alarmEmail: 'ops@example.com',
      },
    ],
    [
      'another OpenID provider instead of the user pool',
      {
        upstreamIssuer: 'https://example.okta.com/oauth2/default',
        upstreamClientId: '0oa1b2c3d4',
        upstreamClientSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:upstream-AbC123',
      },
    ],
    ['a Cognito machine client trusted on /mcp', { cognitoMachineClient: true }],
    [
      'a destroyable stack with token-only interactive registration',
      { removalPolicy: 'destroy', registrationPolicy: 'closed', interactiveRegistrationPolicy: 'token' },
    ],
  ])('finds nothing unacknowledged with %s', (_, props) => {
    // Act
    const { report } = nag(props);

    // Assess
    expect(
      report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  // The canary role's three wildcards (the runtime's own needs), named as cdk-nag names them.
  const CANARY = [
    'AwsSolutions-IAM5[Resource::*]',
    'AwsSolutions-IAM5[Resource::<CanaryArtifacts7ADD0D0B.Arn>/*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/lambda/cwsyn-mcpoauth-canary-*]',
    'AwsSolutions-S1',
  ];
  // The budget's role may modify this stack's budgets, whose names end in a hash.
  const BUDGET =
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:budgets::<AWS::AccountId>:budget/McpOAuth-monthly-cost-*]';
  const WITHOUT_CANARY = ['AwsSolutions-APIG4', 'AwsSolutions-COG8', BUDGET, 'AwsSolutions-SMG4'];
  const ACKNOWLEDGED = [...WITHOUT_CANARY, ...CANARY].sort();
  const WATCHED = { canaryIntervalMinutes: 15 };
  // X-Ray's two actions support no resource-level permissions; only acknowledged where granted.
  const WITH_TRACING = [...new Set([...ACKNOWLEDGED, 'AwsSolutions-IAM5[Resource::*]'])].sort();
  // Geo restriction and standard logs, acknowledged on the distribution; CFR4 only without a custom domain.
  const WITH_EDGE = [...ACKNOWLEDGED, 'AwsSolutions-CFR1', 'AwsSolutions-CFR3', 'AwsSolutions-CFR4'].sort();

  it.each<[string, McpOAuthStackProps, string[]]>([
    ['the defaults of the dev stage (no canary)', {}, WITHOUT_CANARY.sort()],
    ['a canary', WATCHED, ACKNOWLEDGED],
    ['tracing', { ...WATCHED, tracing: true }, WITH_TRACING],
    ['CloudFront and WAF', { ...WATCHED, cloudFrontWaf: true }, WITH_EDGE],
    ['safe rollouts', { ...WATCHED, safeRollouts: true }, ACKNOWLEDGED],
  ])(
    'acknowledges findings with %s only on the resources they concern, each with a written reason',
    (_, props, ids) => {
      // Act
      const { stack } = nag(props);
      const acks = acknowledgments(stack);

      // Assess
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        expect(ack.path).not.toBe(stack.node.path);
        expect(ack.reason.length).toBeGreaterThan(40);
      }
      expect([...new Set(acks.map((a) => a.id))].sort()).toEqual(ids);
    },
  );

  it.each<[string, McpOAuthStackProps, string[]]>([
    ['the defaults of the dev stage (no canary)', {}, WITHOUT_CANARY.sort()],
    ['a canary', WATCHED, ACKNOWLEDGED],
    ['tracing', { ...WATCHED, tracing: true }, WITH_TRACING],
    ['CloudFront and WAF', { ...WATCHED, cloudFrontWaf: true }, WITH_EDGE],
    ['safe rollouts', { ...WATCHED, safeRollouts: true }, ACKNOWLEDGED],
  ])('would report every acknowledged rule with %s if its acknowledgment were removed', (_, props, ids) => {
    // Prepare: the same stack built with every acknowledgment dropped (through the public
    // Validations API), so the pack must still see what each one covers.
    const acknowledge = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => {});
    let report: ReturnType<typeof nag>['report'];
    try {
      // Act
      ({ report } = nag(props));
    } finally {
      acknowledge.mockRestore();
    }

    // Assess
    expect([...new Set(report.violations.map((v) => v.ruleName))].sort()).toEqual(ids);
  });
});
