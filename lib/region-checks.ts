/**
 * Checks that need the stack's region or account. A stack deployed from a stage file knows both
 * at synthesis, and a wrong one fails `cdk synth` with the reason; an environment-agnostic stack
 * learns them only at deployment, so the same check becomes a CloudFormation rule, which fails
 * the deployment before any resource is created or changed.
 */
import { Aws, CfnRule, Fn, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SettingsError } from './settings.js';

/** Requires the stack to be deployed to `region`; `reason` says why, as a sentence without a full stop. */
export function requireStackRegion(scope: Construct, id: string, region: string, reason: string): void {
  const stack = Stack.of(scope);
  if (!Token.isUnresolved(stack.region)) {
    if (stack.region !== region) {
      throw new SettingsError(`${reason}, but the stack deploys to ${stack.region}`);
    }
    return;
  }
  new CfnRule(stack, id, {
    assertions: [
      {
        assert: Fn.conditionEquals(Aws.REGION, region),
        assertDescription: `${reason}: deploy this stack to ${region}`,
      },
    ],
  });
}

/** Requires the stack to be deployed to `account`, as `requireStackRegion` does for a region. */
export function requireStackAccount(scope: Construct, id: string, account: string, reason: string): void {
  const stack = Stack.of(scope);
  if (!Token.isUnresolved(stack.account)) {
    if (stack.account !== account) {
      throw new SettingsError(`${reason}, but the stack deploys to account ${stack.account}`);
    }
    return;
  }
  new CfnRule(stack, id, {
    assertions: [
      {
        assert: Fn.conditionEquals(Aws.ACCOUNT_ID, account),
        assertDescription: `${reason}: deploy this stack to account ${account}`,
      },
    ],
  });
}
