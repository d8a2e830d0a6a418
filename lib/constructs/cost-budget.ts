/**
 * A cost guard: an AWS Budgets monthly cost budget that notifies the alarm topic when actual
 * spend passes 80 % of the amount and when AWS forecasts the month past 100 %.
 *
 * It covers the whole account, which is what it can see from the day it is created (a budget
 * filtered on this stack's tags sees nothing until those tags are activated as cost allocation
 * tags in the Billing console, and then only from that day on). Budgets refresh their figures
 * up to three times a day, so this is an alert, not a brake: the API throttles are the brake
 * (doc/operations.md, "Cost ceiling").
 */
import { Aws, Stack } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface CostBudgetProps {
  /** In whole US dollars a month. */
  readonly monthlyLimitUsd: number;
  /** Where the notifications go: the alarm topic. */
  readonly topic: sns.Topic;
  /** `alarmTopicArn`: notified too; its policy must let budgets.amazonaws.com publish. */
  readonly extraTopic?: sns.ITopic;
}

/** When it notifies: [notification type, percent of the amount]. */
export const BUDGET_THRESHOLDS = [
  ['ACTUAL', 80],
  ['FORECASTED', 100],
] as const;

export class CostBudget extends Construct {
  readonly budget: budgets.CfnBudget;

  constructor(scope: Construct, id: string, props: CostBudgetProps) {
    super(scope, id);
    const { policyDependable } = props.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [props.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:budgets::${Aws.ACCOUNT_ID}:*` },
        },
      }),
    );

    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        // Unique in the account: one budget per stack.
        budgetName: `${Stack.of(this).stackName}-monthly-cost`,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyLimitUsd, unit: 'USD' },
      },
      notificationsWithSubscribers: BUDGET_THRESHOLDS.map(([notificationType, threshold]) => ({
        notification: {
          notificationType,
          comparisonOperator: 'GREATER_THAN',
          threshold,
          thresholdType: 'PERCENTAGE',
        },
        subscribers: [props.topic, props.extraTopic]
          .filter((topic): topic is sns.ITopic => topic !== undefined)
          .map((topic) => ({ subscriptionType: 'SNS', address: topic.topicArn })),
      })),
    });
    // The topic policy first: Budgets cannot publish without it, and may check when the budget is created.
    if (policyDependable) this.budget.node.addDependency(policyDependable);
  }
}
