/**
 * A cost guard: an AWS Budgets monthly cost budget that notifies the alarm topic when actual
 * spend passes 80 % of the amount and when AWS forecasts the month past 100 %.
 *
 * It covers the whole account, which is what it can see from the day it is created (a budget
 * filtered on this stack's tags sees nothing until those tags are activated as cost allocation
 * tags in the Billing console, and then only from that day on). Budgets refresh their figures
 * up to three times a day, so this is an alert, not a brake: the API throttles are the brake
 * (doc/operations.md, "Cost ceiling").
 *
 * Budgets is a global service with one endpoint per partition, but CloudFormation's
 * `AWS::Budgets::Budget` exists in only some regions: a template holding it fails with
 * "Unrecognized resource types" in about twenty others (eu-north-1 among them), whatever its
 * conditions say. So the budget is made by a custom resource that calls the Budgets API at the
 * partition's endpoint, which works from every region the stack can be deployed to; in a
 * partition without AWS Budgets (GovCloud, the isolated regions) it is left out by a condition.
 */
import { createHash } from 'node:crypto';
import { Annotations, Aws, CfnCondition, CfnResource, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

export interface CostBudgetProps {
  /** In whole US dollars a month. */
  readonly monthlyLimitUsd: number;
  /** Where the notifications go: the alarm topic. */
  readonly topic: sns.Topic;
  /**
   * `alarmTopicArn`: the notifications go there instead, as Budgets takes one SNS subscriber per
   * notification; its policy must let budgets.amazonaws.com publish.
   */
  readonly extraTopic?: sns.ITopic;
  /** `alarmEmail`, with `extraTopic`: also notified directly, as it is not subscribed to that topic. */
  readonly alarmEmail?: string;
  readonly logRetentionDays: number;
  readonly logRemovalPolicy: RemovalPolicy;
}

/** When it notifies: [notification type, percent of the amount]. */
export const BUDGET_THRESHOLDS = [
  ['ACTUAL', 80],
  ['FORECASTED', 100],
] as const;

/** Partitions with AWS Budgets, and the region of each one's Budgets endpoint. */
export const BUDGETS_ENDPOINT_REGIONS = { aws: 'us-east-1', 'aws-cn': 'cn-northwest-1' } as const;

/** The budget's name: `<stack>-monthly-cost-<hash of its definition>` (see `CostBudget`). */
export const BUDGET_NAME_PREFIX = '-monthly-cost-';

export class CostBudget extends Construct {
  /** The custom resource; its physical id is the budget's name. */
  readonly resource: cr.AwsCustomResource;
  /** The budget's name, known at synthesis. */
  readonly budgetName: string;
  /** True in the partitions with AWS Budgets. */
  readonly condition: CfnCondition;

  constructor(scope: Construct, id: string, props: CostBudgetProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const notified = props.extraTopic ?? props.topic;
    let policyDependable;
    if (!props.extraTopic) {
      ({ policyDependable } = props.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [props.topic.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
            ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:budgets::${Aws.ACCOUNT_ID}:*` },
          },
        }),
      ));
    }
    const subscribers = [
      { SubscriptionType: 'SNS', Address: notified.topicArn },
      ...(props.extraTopic && props.alarmEmail
        ? [{ SubscriptionType: 'EMAIL', Address: props.alarmEmail }]
        : []),
    ];
    const definition = {
      Budget: {
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: String(props.monthlyLimitUsd), Unit: 'USD' },
      },
      NotificationsWithSubscribers: BUDGET_THRESHOLDS.map(([NotificationType, Threshold]) => ({
        Notification: {
          NotificationType,
          ComparisonOperator: 'GREATER_THAN',
          Threshold,
          ThresholdType: 'PERCENTAGE',
        },
        Subscribers: subscribers,
      })),
    };
    // A change of the definition is a new budget under a new name, and CloudFormation deletes
    // the old one once the stack is updated: one call per change, no partial update of
    // notifications, and no clash with the name of a budget made by an earlier version of this
    // stack (`<stack>-monthly-cost`, an `AWS::Budgets::Budget` that the update deletes).
    const hash = createHash('sha256')
      .update(JSON.stringify(stack.resolve(definition)))
      .digest('hex')
      .slice(0, 8);
    this.budgetName = `${stack.stackName}${BUDGET_NAME_PREFIX}${hash}`;

    this.condition = new CfnCondition(this, 'BudgetsAvailable', {
      expression: Fn.conditionOr(
        ...Object.keys(BUDGETS_ENDPOINT_REGIONS).map((partition) =>
          Fn.conditionEquals(Aws.PARTITION, partition),
        ),
      ),
    });
    const china = new CfnCondition(this, 'BudgetsInChina', {
      expression: Fn.conditionEquals(Aws.PARTITION, 'aws-cn'),
    });
    const region = Fn.conditionIf(
      china.logicalId,
      BUDGETS_ENDPOINT_REGIONS['aws-cn'],
      BUDGETS_ENDPOINT_REGIONS.aws,
    ).toString();
    const call = (action: string, parameters: Record<string, unknown>, ignore?: string): cr.AwsSdkCall => ({
      service: 'Budgets',
      action,
      region,
      parameters: { AccountId: Aws.ACCOUNT_ID, ...parameters },
      physicalResourceId: cr.PhysicalResourceId.of(this.budgetName),
      ...(ignore ? { ignoreErrorCodesMatching: ignore } : {}),
    });
    const create = call('CreateBudget', {
      ...definition,
      Budget: { ...definition.Budget, BudgetName: this.budgetName },
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.logRemovalPolicy,
    });
    // A role of its own, so that it holds only what is written here (the default one carries
    // AWSLambdaBasicExecutionRole, which may create log groups anywhere).
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Creates and deletes the cost budget when the stack is deployed',
    });
    logGroup.grantWrite(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['budgets:ModifyBudget', 'budgets:ViewBudget'],
        resources: [
          `arn:${Aws.PARTITION}:budgets::${Aws.ACCOUNT_ID}:budget/${stack.stackName}${BUDGET_NAME_PREFIX}*`,
        ],
      }),
    );
    this.resource = new cr.AwsCustomResource(this, 'Budget', {
      role,
      resourceType: 'Custom::CostBudget',
      onCreate: create,
      // The same name again (a new custom resource provider, nothing of the budget changed): the
      // budget exists as it should.
      onUpdate: { ...create, ignoreErrorCodesMatching: 'DuplicateRecordException' },
      onDelete: call(
        'DeleteBudget',
        { BudgetName: new cr.PhysicalResourceIdReference() },
        'NotFoundException',
      ),
      installLatestAwsSdk: false,
      logGroup,
    });
    (this.resource.node.findChild('Resource').node.defaultChild as CfnResource).cfnOptions.condition =
      this.condition;
    // The topic policy first: Budgets cannot publish without it, and may check when the budget is created.
    if (policyDependable) this.resource.node.addDependency(policyDependable);

    const partition = stack.partition;
    if (!Token.isUnresolved(stack.region) && stack.region.startsWith('us-gov-')) {
      Annotations.of(this).addWarningV2(
        'mcp-oauth:budget-unavailable',
        `AWS Budgets is not available in ${partition === 'aws-us-gov' ? 'GovCloud' : stack.region}: no budget is created (set monthlyBudgetUsd to 0 to silence this)`,
      );
    }
    Validations.of(role).acknowledge({
      id:
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:budgets::<AWS::AccountId>:budget/' +
        `${stack.stackName}${BUDGET_NAME_PREFIX}*]`,
      reason:
        "The budget's name ends in a hash of its definition, so that a change is a new budget; the role may " +
        "modify only this stack's budgets.",
    });
  }
}
