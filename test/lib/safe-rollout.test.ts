import { Match, type Template } from 'aws-cdk-lib/assertions';
import { LIVE_ALIAS } from '../../lib/constructs/safe-rollout.js';
import { logicalId, rolePermissions, synth, type Resources } from './synth.js';

let template: Template;
let ids: Record<'oauth' | 'mcp', { fn: string; alias: string; group: string }>;

beforeAll(() => {
  ({ template } = synth({ safeRollouts: true }, { bundle: false }));
  const idsOf = (fn: string, name: string) => ({
    fn: logicalId(template, 'AWS::Lambda::Function', `${fn}Function`),
    alias: logicalId(template, 'AWS::Lambda::Alias', `SafeRollout${name}Live`),
    group: logicalId(template, 'AWS::CodeDeploy::DeploymentGroup', `SafeRollout${name}Deployment`),
  });
  ids = { oauth: idsOf('OAuth', 'oauth'), mcp: idsOf('Mcp', 'mcp') };
});

/** The logical id of the function version the live alias points at (and its alarms watch). */
const currentVersionId = (name: 'oauth' | 'mcp') =>
  logicalId(
    template,
    'AWS::Lambda::Version',
    name === 'oauth' ? 'OAuthFunctionCurrentVersion' : 'McpFunctionCurrentVersion',
  );

const alarmRef = (name: string) => ({
  Name: { Ref: logicalId(template, 'AWS::CloudWatch::Alarm', `Alarms${name}`) },
});

describe('safe rollouts', () => {
  it.each(['oauth', 'mcp'] as const)('gives the %s function a live alias on its current version', (name) => {
    // Act
    const alias = (template.findResources('AWS::Lambda::Alias') as Resources)[ids[name].alias]!;

    // Assess
    expect(alias.Properties).toMatchObject({
      Name: LIVE_ALIAS,
      FunctionName: { Ref: ids[name].fn },
      FunctionVersion: { 'Fn::GetAtt': [expect.stringMatching(/CurrentVersion/), 'Version'] },
    });
    expect(alias.UpdatePolicy.CodeDeployLambdaAliasUpdate).toMatchObject({
      DeploymentGroupName: { Ref: ids[name].group },
    });
  });

  it('shifts 10 % for 10 minutes, and rolls back on failure, on a stop and on an alarm', () => {
    // Act
    const groups = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup') as Resources);

    // Assess
    expect(groups).toHaveLength(2);
    for (const group of groups) {
      expect(group.Properties).toMatchObject({
        DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent10Minutes',
        DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
        AutoRollbackConfiguration: {
          Enabled: true,
          Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
        },
        AlarmConfiguration: { Enabled: true },
      });
    }
  });

  it("rolls a function back on its new version's alarms only: 5xx answers and failed invocations, and for mcp its duration", () => {
    // Act
    const alarmsOf = (name: 'oauth' | 'mcp') =>
      (template.findResources('AWS::CodeDeploy::DeploymentGroup') as Resources)[ids[name].group]!.Properties!
        .AlarmConfiguration.Alarms;

    // Assess
    expect(alarmsOf('oauth')).toEqual([alarmRef('oauthnewversion5xx'), alarmRef('oauthnewversionerrors')]);
    expect(alarmsOf('mcp')).toEqual([
      alarmRef('mcpnewversion5xx'),
      alarmRef('mcpnewversionerrors'),
      alarmRef('mcpnewversiondurationp99'),
    ]);
  });

  describe.each(['oauth', 'mcp'] as const)('the alarms on the new version of %s', (name) => {
    const alarm = (suffix: string) =>
      (template.findResources('AWS::CloudWatch::Alarm') as Resources)[
        logicalId(template, 'AWS::CloudWatch::Alarm', `Alarms${name}newversion${suffix}`)
      ]!.Properties!;
    const currentVersion = () => ({ 'Fn::GetAtt': [currentVersionId(name), 'Version'] });

    it("fire on one 5xx answer in a minute, counted by the function under its version's number", () => {
      // Assess: what the adapter publishes (ServerErrors by service and version), in the stack's namespace
      expect(alarm('5xx')).toMatchObject({
        Namespace: 'McpOAuth/McpOAuth',
        MetricName: 'ServerErrors',
        Dimensions: [
          { Name: 'service', Value: name },
          { Name: 'version', Value: currentVersion() },
        ],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });

    it('fire on one failed invocation of that version in a minute, behind the live alias', () => {
      // Assess
      expect(alarm('errors')).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [
          { Name: 'ExecutedVersion', Value: currentVersion() },
          { Name: 'FunctionName', Value: { Ref: ids[name].fn } },
          { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: ids[name].fn }, `:${LIVE_ALIAS}`]] } },
        ],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
    });

    it('notify no one (a rollback shows as a failed stack update), and are in place before the alias moves', () => {
      // Act
      const alias = (template.findResources('AWS::Lambda::Alias') as Resources)[ids[name].alias]!;
      const group = (template.findResources('AWS::CodeDeploy::DeploymentGroup') as Resources)[
        ids[name].group
      ]!;
      const watched = group.Properties!.AlarmConfiguration.Alarms.map(
        (a: { Name: { Ref: string } }) => a.Name.Ref,
      );

      // Assess
      for (const id of watched) {
        const properties = (template.findResources('AWS::CloudWatch::Alarm') as Resources)[id]!.Properties!;
        expect(properties.AlarmActions).toBeUndefined();
        expect(properties.OKActions).toBeUndefined();
      }
      expect([...alias.DependsOn].sort()).toEqual([...watched].sort());
    });
  });

  it("fires the mcp duration alarm when the new version's p99 is above mcpLatencyP99AlarmMs in 2 of 3 minutes", () => {
    // Act
    const { template: slow } = synth({ safeRollouts: true, mcpLatencyP99AlarmMs: 800 }, { bundle: false });
    const alarm = (slow.findResources('AWS::CloudWatch::Alarm') as Resources)[
      logicalId(slow, 'AWS::CloudWatch::Alarm', 'Alarmsmcpnewversiondurationp99')
    ]!;

    // Assess
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Dimensions: expect.arrayContaining([
        {
          Name: 'ExecutedVersion',
          Value: { 'Fn::GetAtt': [expect.stringMatching(/^McpFunctionCurrentVersion/), 'Version'] },
        },
      ]),
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Threshold: 800,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('routes the API to the aliases, and lets API Gateway invoke only them', () => {
    // Act
    const integrations = Object.values(template.findResources('AWS::ApiGatewayV2::Integration') as Resources);
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission') as Resources).filter(
      (p) => p.Properties!.Principal === 'apigateway.amazonaws.com',
    );

    // Assess
    expect(integrations.map((i) => i.Properties!.IntegrationUri)).toEqual(
      expect.arrayContaining([{ Ref: ids.oauth.alias }, { Ref: ids.mcp.alias }]),
    );
    expect(integrations).toHaveLength(2);
    expect(permissions.length).toBeGreaterThan(0);
    for (const p of permissions) {
      expect([{ Ref: ids.oauth.alias }, { Ref: ids.mcp.alias }]).toContainEqual(p.Properties!.FunctionName);
    }
  });

  it('gives CodeDeploy a role of its own with no managed policy: the two aliases, and alarm reads', () => {
    // Act
    const roleId = logicalId(template, 'AWS::IAM::Role', 'SafeRolloutRole');
    const role = (template.findResources('AWS::IAM::Role') as Resources)[roleId]!;
    const permissions = rolePermissions(template, roleId);

    // Assess
    expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties!.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'codedeploy.amazonaws.com' } },
    ]);
    expect(permissions).toContain('Allow cloudwatch:DescribeAlarms "*"');
    const aliasActions = permissions.filter((p) => p.includes('lambda:'));
    expect(aliasActions).toHaveLength(3 * 2 * 2);
    for (const line of aliasActions) {
      expect(line).toMatch(/^Allow lambda:(GetAlias|UpdateAlias|GetProvisionedConcurrencyConfig) /);
      expect(line).toMatch(new RegExp(`${ids.oauth.fn}|${ids.mcp.fn}|${ids.oauth.alias}|${ids.mcp.alias}`));
    }
    for (const group of Object.values(
      template.findResources('AWS::CodeDeploy::DeploymentGroup') as Resources,
    )) {
      expect(group.Properties!.ServiceRoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    }
  });

  it('is off by default: the routes call the functions, and there is no alias or CodeDeploy', () => {
    // Act
    const { template: plain } = synth({}, { bundle: false });

    // Assess
    plain.resourceCountIs('AWS::Lambda::Alias', 0);
    plain.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 0);
    plain.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationUri: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OAuthFunction'), 'Arn'] },
    });
  });
});
