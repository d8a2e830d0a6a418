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
 * The regions where DynamoDB has a FIPS endpoint, `dynamodb-fips.<region>.amazonaws.com`, as
 * listed in "Amazon DynamoDB endpoints and quotas"
 * (https://docs.aws.amazon.com/general/latest/gr/ddb.html). GovCloud (US)'s standard endpoints
 * are FIPS validated; the China regions have none.
 */
export const DYNAMODB_FIPS_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
] as const;

/**
 * A service endpoint of the stack's region: `https://<prefix>.<region>.<URL suffix>/`, or with
 * `fips` `https://<prefix>-fips.<region>.<URL suffix>/` where the region has that host. The
 * region is usually unknown at synthesis (environment-agnostic stack), so the choice is a
 * CloudFormation condition on `AWS::Region`.
 */
function regionalEndpoint(
  scope: Construct,
  service: { prefix: string; name: string; conditionId: string; fipsRegions: readonly string[] },
  options: { fips: boolean },
): string {
  if (!options.fips) return `https://${service.prefix}.${Aws.REGION}.${Aws.URL_SUFFIX}/`;
  const region = Stack.of(scope).region;
  if (!Token.isUnresolved(region) && !service.fipsRegions.includes(region)) {
    Annotations.of(scope).addWarningV2(
      `mcp-oauth:no-${service.prefix}-fips-endpoint`,
      `fipsEndpoints: ${service.name} has no FIPS endpoint in ${region}; the standard endpoint is used`,
    );
  }
  const hasFips = new CfnCondition(scope, service.conditionId, {
    expression: Fn.conditionOr(...service.fipsRegions.map((r) => Fn.conditionEquals(Aws.REGION, r))),
  });
  const host = Fn.conditionIf(hasFips.logicalId, `${service.prefix}-fips`, service.prefix).toString();
  return `https://${host}.${Aws.REGION}.${Aws.URL_SUFFIX}/`;
}

/** The Systems Manager endpoint of the stack's region (FIPS with `fips`, where there is one). */
export function ssmEndpoint(scope: Construct, options: { fips: boolean }): string {
  return regionalEndpoint(
    scope,
    {
      prefix: 'ssm',
      name: 'Systems Manager',
      conditionId: 'SsmHasFipsEndpoint',
      fipsRegions: SSM_FIPS_REGIONS,
    },
    options,
  );
}

/** The DynamoDB endpoint of the stack's region (FIPS with `fips`, where there is one). */
export function dynamoDbEndpoint(scope: Construct, options: { fips: boolean }): string {
  return regionalEndpoint(
    scope,
    {
      prefix: 'dynamodb',
      name: 'DynamoDB',
      conditionId: 'DynamoDbHasFipsEndpoint',
      fipsRegions: DYNAMODB_FIPS_REGIONS,
    },
    options,
  );
}
