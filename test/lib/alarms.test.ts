import type { Template } from 'aws-cdk-lib/assertions';
import { REFUSED_BURST_THRESHOLD } from '../../lib/constructs/alarms.js';
import { customResourceCall, logicalId, synth, type Resources } from './synth.js';

const EXISTING_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops-alerts';

describe('an existing alarm topic (alarmTopicArn)', () => {
  let template: Template;
  let ownTopic: { Ref: string };

  beforeAll(() => {
    ({ template } = synth({ stage: 'prod', alarmTopicArn: EXISTING_TOPIC }, { bundle: false }));
    ownTopic = { Ref: logicalId(template, 'AWS::SNS::Topic', 'Alarms') };
  });

  it('receives every alarm and every recovery, besides the stack topic', () => {
    // Act
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources);

    // Assess
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({
        AlarmActions: [ownTopic, EXISTING_TOPIC],
        OKActions: [ownTopic, EXISTING_TOPIC],
      });
    }
  });

  it('receives the rotation failure events and the budget notifications', () => {
    // Act
    const [rule] = Object.values(template.findResources('AWS::Events::Rule') as Resources);
    const [budget] = Object.values(template.findResources('Custom::CostBudget') as Resources);

    // Assess
    expect(rule!.Properties!.Targets.map((t: { Arn: unknown }) => t.Arn)).toEqual([ownTopic, EXISTING_TOPIC]);
    // Budgets takes one SNS subscriber per notification: the existing topic is the one.
    for (const notification of customResourceCall(budget!, 'Create').parameters
      .NotificationsWithSubscribers) {
      expect(notification.Subscribers).toEqual([{ SubscriptionType: 'SNS', Address: EXISTING_TOPIC }]);
    }
    expect(JSON.stringify(template.findResources('AWS::SNS::TopicPolicy'))).not.toContain(
      'budgets.amazonaws.com',
    );
  });

  it('also sends the budget notifications to the alarm email, which is subscribed to the stack topic only', () => {
    // Act
    const { template: withEmail } = synth(
      { stage: 'prod', alarmTopicArn: EXISTING_TOPIC, alarmEmail: 'ops@example.com' },
      { bundle: false },
    );
    const [budget] = Object.values(withEmail.findResources('Custom::CostBudget') as Resources);

    // Assess
    for (const notification of customResourceCall(budget!, 'Create').parameters
      .NotificationsWithSubscribers) {
      expect(notification.Subscribers).toEqual([
        { SubscriptionType: 'SNS', Address: EXISTING_TOPIC },
        { SubscriptionType: 'EMAIL', Address: 'ops@example.com' },
      ]);
    }
  });

  it("leaves the existing topic's policy to its owner, and subscribes no email", () => {
    // Assess
    expect(JSON.stringify(template.findResources('AWS::SNS::TopicPolicy'))).not.toContain(EXISTING_TOPIC);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('an alarm email', () => {
  it('subscribes the address to the stack topic', () => {
    // Act
    const { template } = synth({ stage: 'prod', alarmEmail: 'ops@example.com' }, { bundle: false });

    // Assess
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: logicalId(template, 'AWS::SNS::Topic', 'Alarms') },
    });
  });
});

describe('bursts of refused audit lines', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = synth({}, { bundle: false }));
  });

  it("counts the oauth function's refused audit lines with a metric filter on its log group", () => {
    // Act
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter') as Resources).filter(
      (f) => f.Properties!.MetricTransformations[0].MetricName === 'AuditRefused',
    );

    // Assess
    expect(filters).toHaveLength(1);
    expect(filters[0]!.Properties).toMatchObject({
      LogGroupName: { Ref: logicalId(template, 'AWS::Logs::LogGroup', 'OAuthLogs') },
      FilterPattern: '{ $.audit = "refused" }',
      MetricTransformations: [{ MetricName: 'AuditRefused', MetricValue: '1', Unit: 'Count' }],
    });
  });

  it(`alarms at ${REFUSED_BURST_THRESHOLD} refusals in 5 minutes, notifying the alarm topic`, () => {
    // Act
    const alarms = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { AlarmName: 'McpOAuth-refused-burst' },
    }) as Resources;

    // Assess
    expect(Object.values(alarms)).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({
          MetricName: 'AuditRefused',
          Statistic: 'Sum',
          Period: 300,
          Threshold: REFUSED_BURST_THRESHOLD,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: logicalId(template, 'AWS::SNS::Topic', 'Alarms') }],
        }),
      }),
    ]);
  });
});
