/**
 * Checks that need the stack's region. A stack deployed from a stage file knows its region at
 * synthesis, and a wrong one fails `cdk synth` with the reason; an environment-agnostic stack
 * learns it only at deployment, so the same check becomes a CloudFormation rule, which fails the
 * deployment before any resource is created or changed.
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
