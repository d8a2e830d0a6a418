/**
 * The edge, when `cloudFrontWaf` is on: a CloudFront distribution in front of the HTTP API, an
 * AWS WAF web ACL on it, and the origin secret that keeps callers from going around both.
 *
 * - **Web ACL** (scope CLOUDFRONT, so it exists only in us-east-1, and so must the stack):
 *   AWS managed rule groups (IP reputation, common rule set, known bad inputs) and one rate-based
 *   rule per sensitive path, counted per client IP.
 * - **Distribution**: one behaviour, nothing cached (`CachingDisabled`), every viewer header but
 *   Host, every cookie and query string forwarded (`AllViewerExceptHostHeader`: with caching
 *   disabled this includes `Authorization`), HTTPS only, all methods.
 * - **Origin secret**: a generated value CloudFront adds to every origin request as
 *   `X-Origin-Verify`; the functions answer 403 without it (`lambda/shared/origin-secret.ts`), so
 *   the `execute-api` URL, which must stay on as the distribution's origin, answers nothing useful.
 *   CloudFormation reads the value with the deploying role to put it into the distribution, so
 *   unlike the signing keys this secret has no resource policy denying reads.
 */
import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ORIGIN_SECRET_HEADER, ORIGIN_SECRET_KEYS } from '../../lambda/shared/origin-secret.js';
import { requireStackRegion } from '../region-checks.js';
import { CLOUDFRONT_REGION } from '../settings.js';

export interface EdgeProps {
  /** The API's own host: `<api id>.execute-api.<region>.<URL suffix>`. */
  readonly originDomainName: string;
  /** With `customDomainName`: the domain and its certificate (in us-east-1). */
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string };
  /** `originSecretRevision`: changing it updates the distribution (see the rotation in doc/operations.md). */
  readonly originSecretRevision: number;
}

/**
 * Per-IP rate limits, in requests per 5 minutes (`EvaluationWindowSec` 300), each for requests
 * whose path is one of `paths`. Above it, WAF answers 429 until the IP's rate falls below it.
 * Sized for honest use from one address: registration is rare; `/token` and `/authorize` are a
 * few calls per login or per hour; `/mcp` is 10 calls/s sustained. Clients behind one NAT share
 * an address: raise a limit here when an office trips it.
 */
export const EDGE_RATE_LIMITS = [
  { name: 'register', paths: ['/register', '/dcr'], limit: 100 },
  { name: 'token', paths: ['/token'], limit: 600 },
  { name: 'authorize', paths: ['/authorize'], limit: 300 },
  { name: 'mcp', paths: ['/mcp'], limit: 3000 },
] as const;

/** The AWS managed rule groups, in evaluation order. */
export const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
] as const;

/**
 * Rules of the common rule set only counted, not enforced: `SizeRestrictions_BODY` blocks bodies
 * over 8 KB, while `/mcp` accepts up to 256 KB (`MAX_BODY_BYTES`) and enforces that itself.
 */
export const COUNTED_COMMON_RULES = ['SizeRestrictions_BODY'];

/** The hosted zone id of every CloudFront distribution, for Route 53 alias records. */
export const CLOUDFRONT_HOSTED_ZONE_ID = 'Z2FDTNDATAQYW2';

export class Edge extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly webAcl: wafv2.CfnWebACL;
  /** `{"current": "..."}` (and `"previous"` during a rotation): what CloudFront sends, what the functions accept. */
  readonly originSecret: secretsmanager.Secret;
  /** The issuer: `https://<distribution>.cloudfront.net` or `https://<custom domain>`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    requireStackRegion(
      this,
      'WebAclRegion',
      CLOUDFRONT_REGION,
      `cloudFrontWaf: a web ACL for CloudFront (scope CLOUDFRONT) exists only in ${CLOUDFRONT_REGION}`,
    );
    const stackName = Stack.of(this).stackName;

    this.originSecret = new secretsmanager.Secret(this, 'OriginSecret', {
      description:
        'Shared secret CloudFront sends to the API as X-Origin-Verify; the functions refuse requests without it',
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: ORIGIN_SECRET_KEYS.current,
        passwordLength: 48,
        excludePunctuation: true,
        includeSpace: false,
      },
      // Worthless without the distribution; a new deployment generates a new one.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.originSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'CloudFront reads this value only when CloudFormation updates the distribution, so a scheduled rotation would ' +
        'make the functions refuse CloudFront; it is rotated by hand in three steps (doc/operations.md, "Origin secret").',
    });

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: `${stackName}-edge`,
      description: 'AWS managed rules and per-IP rate limits in front of the MCP server',
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${stackName}-edge`),
      rules: [
        ...MANAGED_RULE_GROUPS.map((name, priority) => managedRuleGroup(name, priority, stackName)),
        ...EDGE_RATE_LIMITS.map((rule, index) => rateRule(rule, 10 + index, stackName)),
      ],
    });

    const certificate = props.customDomain
      ? acm.Certificate.fromCertificateArn(this, 'Certificate', props.customDomain.certificateArn)
      : undefined;
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `${stackName} MCP server (origin secret revision ${props.originSecretRevision})`,
      defaultBehavior: {
        origin: new origins.HttpOrigin(props.originDomainName, {
          protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
          // API Gateway stops at 30 s; so does CloudFront's default read timeout.
          readTimeout: Duration.seconds(30),
          customHeaders: {
            // A dynamic reference: CloudFormation puts the value in, the template holds none.
            [ORIGIN_SECRET_HEADER]: this.originSecret
              .secretValueFromJson(ORIGIN_SECRET_KEYS.current)
              .unsafeUnwrap(),
          },
        }),
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        // Not a redirect: a POST redirected to https loses its body.
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        compress: false,
      },
      webAclId: this.webAcl.attrArn,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      ...(props.customDomain && certificate
        ? {
            domainNames: [props.customDomain.domainName],
            certificate,
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason:
        'Who may use the server is decided by OAuth (users log in, machine clients are registered), not by country; ' +
        'add a geo restriction here where a policy requires one.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR3',
      reason:
        'Nothing is cached, so every request WAF lets through reaches the API and is written to its access log; WAF ' +
        'metrics and sampled requests show what it blocked. Standard logs would need an S3 bucket with ACLs, for a ' +
        'second copy of the same lines.',
    });
    if (!props.customDomain) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR4',
        reason:
          'With the default *.cloudfront.net certificate CloudFront fixes the minimum viewer TLS version itself; ' +
          'with customDomainName the distribution requires TLSv1.2_2021.',
      });
    }

    this.url = props.customDomain
      ? `https://${props.customDomain.domainName}`
      : `https://${this.distribution.distributionDomainName}`;
  }

  /** Lets a function read the origin secret, to check the header CloudFront sends. */
  grantReadOriginSecret(role: iam.IRole): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.originSecret.secretArn],
    });
  }

  /** The Secrets Manager endpoint of the stack's region, for the mcp function's signed read. */
  static secretsManagerEndpoint(): string {
    return `https://secretsmanager.${Aws.REGION}.${Aws.URL_SUFFIX}/`;
  }
}

function visibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

function managedRuleGroup(
  name: (typeof MANAGED_RULE_GROUPS)[number],
  priority: number,
  stackName: string,
): wafv2.CfnWebACL.RuleProperty {
  const counted = name === 'AWSManagedRulesCommonRuleSet' ? COUNTED_COMMON_RULES : [];
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ...(counted.length
          ? { ruleActionOverrides: counted.map((rule) => ({ name: rule, actionToUse: { count: {} } })) }
          : {}),
      },
    },
    visibilityConfig: visibility(`${stackName}-${name}`),
  };
}

function rateRule(
  rule: (typeof EDGE_RATE_LIMITS)[number],
  priority: number,
  stackName: string,
): wafv2.CfnWebACL.RuleProperty {
  // Decoded and lowercased before the comparison, so `/%74oken` or `/TOKEN` count as `/token`.
  const pathIs = (path: string): wafv2.CfnWebACL.StatementProperty => ({
    byteMatchStatement: {
      fieldToMatch: { uriPath: {} },
      positionalConstraint: 'EXACTLY',
      searchString: path,
      textTransformations: [
        { priority: 0, type: 'URL_DECODE' },
        { priority: 1, type: 'LOWERCASE' },
      ],
    },
  });
  const paths = rule.paths.map(pathIs);
  return {
    name: `rate-${rule.name}`,
    priority,
    action: { block: { customResponse: { responseCode: 429 } } },
    statement: {
      rateBasedStatement: {
        limit: rule.limit,
        aggregateKeyType: 'IP',
        evaluationWindowSec: 300,
        scopeDownStatement: paths.length === 1 ? paths[0]! : { orStatement: { statements: paths } },
      },
    },
    visibilityConfig: visibility(`${stackName}-rate-${rule.name}`),
  };
}
