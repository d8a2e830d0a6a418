/**
 * Safe rollouts, when `safeRollouts` is on: each HTTP function gets an alias `live` that the API
 * routes call, and a CodeDeploy deployment group that sends 10 % of its invocations to a new
 * version for 10 minutes (`ROLLOUT_DEPLOYMENT_CONFIG`), then all of them, and moves the alias
 * back when one of the alarms on that new version (`Alarms.newVersionAlarms`) fires meanwhile.
 *
 * The CodeDeploy role is written out rather than AWS's `AWSCodeDeployRoleForLambdaLimited`, which
 * lets CodeDeploy update any alias of any function in the account: here it reads and moves these
 * two aliases, and reads alarms.
 */
import { Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** The alias the API calls. */
export const LIVE_ALIAS = 'live';

/**
 * 10 % of the traffic to the new version for 10 minutes, then all of it. Not 5 minutes: the
 * alarms judge 1-minute datapoints, which typically land a minute or two after their minute ends
 * (Lambda's metrics, and the functions' own EMF lines through CloudWatch Logs) and are evaluated
 * once a minute, so a 5-minute canary would leave its last 2 to 3 minutes unjudged when
 * CodeDeploy shifts the rest, and the duration alarm (2 of 3 minutes) next to nothing. With 10
 * minutes about the first 7 are judged, for 5 minutes more per changed function and deployment.
 */
export const ROLLOUT_DEPLOYMENT_CONFIG = codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES;

export type RolledOutFunction = 'oauth' | 'mcp';

export interface SafeRolloutProps {
  readonly functions: Record<RolledOutFunction, lambda.Function>;
}

export class SafeRollout extends Construct {
  readonly aliases: Record<RolledOutFunction, lambda.Alias>;
  readonly groups: Record<RolledOutFunction, codedeploy.LambdaDeploymentGroup>;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: SafeRolloutProps) {
    super(scope, id);
    const application = new codedeploy.LambdaApplication(this, 'Application');
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      description: 'CodeDeploy: shifts the live aliases of the oauth and mcp functions',
    });
    // DescribeAlarms scoped below `*` cannot read composite alarms and its resource-level
    // behaviour is not documented for CodeDeploy's call; it returns alarm metadata only.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CodeDeploy polls the deployment group alarms with cloudwatch:DescribeAlarms, which returns metadata only and ' +
        'is granted on "*"; the alias actions are limited to the two live aliases.',
    });

    const aliases: Partial<Record<RolledOutFunction, lambda.Alias>> = {};
    const groups: Partial<Record<RolledOutFunction, codedeploy.LambdaDeploymentGroup>> = {};
    for (const [name, fn] of Object.entries(props.functions) as [RolledOutFunction, lambda.Function][]) {
      const alias = new lambda.Alias(this, `${name}Live`, {
        aliasName: LIVE_ALIAS,
        version: fn.currentVersion,
      });
      // The alias's ARN is written from the function's rather than read from the alias: the alias
      // names its deployment group (UpdatePolicy), the group waits for this policy, so a policy
      // that named the alias would close a cycle CloudFormation refuses.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:GetProvisionedConcurrencyConfig'],
          resources: [fn.functionArn, `${fn.functionArn}:${LIVE_ALIAS}`],
        }),
      );
      const group = new codedeploy.LambdaDeploymentGroup(this, `${name}Deployment`, {
        application,
        alias,
        // The construct adds AWSCodeDeployRoleForLambdaLimited to any role it is given; this view
        // of the role ignores that, so the role keeps only the statements written here.
        role: this.role.withoutPolicyUpdates(),
        deploymentConfig: ROLLOUT_DEPLOYMENT_CONFIG,
        autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      });
      // The role's policy must exist before CodeDeploy acts with it.
      group.node.addDependency(this.role);
      groups[name] = group;
      aliases[name] = alias;
    }
    this.aliases = aliases as Record<RolledOutFunction, lambda.Alias>;
    this.groups = groups as Record<RolledOutFunction, codedeploy.LambdaDeploymentGroup>;
  }

  /**
   * Rolls a function's deployment back when any of `alarms` fires while its traffic shifts. The
   * alias waits for the alarms: CloudFormation starts CodeDeploy by updating the alias, so an
   * alarm that names the new version must be updated first. No cycle: the alarms name the
   * function and its version, never the alias or the group.
   */
  rollBackOn(name: RolledOutFunction, alarms: readonly cloudwatch.IAlarm[]): void {
    for (const alarm of alarms) {
      this.groups[name].addAlarm(alarm);
      this.aliases[name].node.addDependency(alarm);
    }
  }
}
