import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { McpOAuthStack, type McpOAuthStackProps } from '../../lib/mcp-oauth-stack.js';

const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';

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
        breakGlassRoleArn: 'arn:aws:iam::123456789012:role/BreakGlass',
        monthlyBudgetUsd: 0,
      },
    ],
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

  const ACKNOWLEDGED = ['AwsSolutions-APIG4', 'AwsSolutions-COG8', 'AwsSolutions-SMG4'];
  // X-Ray's two actions support no resource-level permissions; only acknowledged where granted.
  const WITH_TRACING = [...ACKNOWLEDGED, 'AwsSolutions-IAM5[Resource::*]'].sort();

  it.each<[string, McpOAuthStackProps, string[]]>([
    ['the defaults', {}, ACKNOWLEDGED],
    ['tracing', { tracing: true }, WITH_TRACING],
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
    ['the defaults', {}, ACKNOWLEDGED],
    ['tracing', { tracing: true }, WITH_TRACING],
  ])('would report every acknowledged rule with %s if its acknowledgment were removed', (_, props, ids) => {
    // Prepare: the pack, blind to acknowledgments, must still see what they cover.
    const { stack } = nag(props);
    for (const c of stack.node.findAll()) {
      const kept = c.node.metadata.filter((m) => m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
      (c.node as unknown as { _metadata: unknown[] })._metadata = kept;
    }

    // Act
    const report = new AwsSolutionsChecks().validateScope(stack.node.root);

    // Assess
    expect([...new Set(report.violations.map((v) => v.ruleName))].sort()).toEqual(ids);
  });
});
