/**
 * Service endpoints the functions call without the AWS SDK's endpoint resolution, built from the
 * stack's partition (`AWS::URLSuffix`: `amazonaws.com`, `amazonaws.com.cn`, ...) rather than
 * assumed from the region, so China and the other partitions work.
 */
import { Annotations, Aws, CfnCondition, Fn, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * The regions where Systems Manager has a FIPS endpoint, `ssm-fips.<region>.amazonaws.com`, as
 * listed in "AWS Systems Manager endpoints and quotas"
 * (https://docs.aws.amazon.com/general/latest/gr/ssm.html). GovCloud (US) lists one endpoint,
 * `ssm.<region>.amazonaws.com`, and no separate FIPS host; the China regions have none.
 */
export const SSM_FIPS_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'ca-west-1',
] as const;

/**
 * The Systems Manager endpoint of the stack's region: `https://ssm.<region>.<URL suffix>/`, or
 * with `fips` `https://ssm-fips.<region>.<URL suffix>/` where the region has that host. The
 * region is usually unknown at synthesis (environment-agnostic stack), so the choice is a
 * CloudFormation condition on `AWS::Region`.
 */
export function ssmEndpoint(scope: Construct, options: { fips: boolean }): string {
  if (!options.fips) return `https://ssm.${Aws.REGION}.${Aws.URL_SUFFIX}/`;
  const region = Stack.of(scope).region;
  if (!Token.isUnresolved(region) && !(SSM_FIPS_REGIONS as readonly string[]).includes(region)) {
    Annotations.of(scope).addWarningV2(
      'mcp-oauth:no-ssm-fips-endpoint',
      `fipsEndpoints: Systems Manager has no FIPS endpoint in ${region}; the standard endpoint is used`,
    );
  }
  const hasFips = new CfnCondition(scope, 'SsmHasFipsEndpoint', {
    expression: Fn.conditionOr(...SSM_FIPS_REGIONS.map((r) => Fn.conditionEquals(Aws.REGION, r))),
  });
  const host = Fn.conditionIf(hasFips.logicalId, 'ssm-fips', 'ssm').toString();
  return `https://${host}.${Aws.REGION}.${Aws.URL_SUFFIX}/`;
}
