/**
 * The edge, when `cloudFrontWaf` is on: a CloudFront distribution in front of the HTTP API, an
 * AWS WAF web ACL on it, and the origin secret that keeps callers from going around both.
 *
 * - **Web ACL** (scope CLOUDFRONT, so it exists only in us-east-1, and so must the stack):
 *   AWS managed rule groups (IP reputation, common rule set, known bad inputs), a rule of our own
 *   that re-blocks two counted common rules outside the OAuth endpoints, and one rate-based rule
 *   per sensitive path, counted per client IP. Every request is logged, with its client IP, to a
 *   CloudWatch Logs group, its credentials redacted.
 * - **Distribution**: one behaviour, nothing cached (`CachingDisabled`), every viewer header but
 *   Host, every cookie and query string forwarded (`AllViewerExceptHostHeader`: with caching
 *   disabled this includes `Authorization`), HTTPS only, all methods.
 * - **Origin secret**: a generated value CloudFront adds to every origin request as
 *   `X-Origin-Verify`; the functions answer 403 without it (`lambda/shared/origin-secret.ts`), so
 *   the `execute-api` URL, which must stay on as the distribution's origin, answers nothing useful.
 *   CloudFormation reads the value with the deploying role to put it into the distribution, so
 *   unlike the signing keys this secret has no resource policy denying reads.
 */
import { ArnFormat, Aws, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
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
  /** Retention of the WAF logs, in days: the stack's `logRetentionDays`. */
  readonly logRetentionDays: number;
  /** What deleting the stack does to the WAF logs: the stack's removal policy. */
  readonly logRemovalPolicy: RemovalPolicy;
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
 * Rules of the common rule set counted in the group, not enforced there. Names and labels as the
 * AWS WAF Developer Guide lists them ("Core rule set (CRS) managed rule group", AWS Managed Rules).
 *
 * - `SizeRestrictions_BODY` blocks bodies over 8 KB, while `/mcp` accepts up to 256 KB
 *   (`MAX_BODY_BYTES`) and enforces that itself.
 * - `GenericRFI_QUERYARGUMENTS` and `GenericRFI_BODY` block a query value or body holding a URL
 *   whose host is an IPv4 address (`http://`, `https://`, `ftp://`, `ftps://`, `file://`). That is
 *   what loopback clients register and send: VS Code's `http://127.0.0.1:33418/` in the
 *   registration body, in `/authorize`'s query and in `/token`'s body. They are re-blocked by
 *   their labels everywhere else (`REBLOCKED_COMMON_LABELS`).
 * - `NoUserAgent_HEADER` blocks requests without `User-Agent`. Any attacker sends one, so it
 *   stops nothing here, while HTTP libraries that send none unless told to (Rust's reqwest, which
 *   MCP clients and machine clients are built on) would get a bare 403 from the first request.
 *
 * The other rules stay enforced: what interop.md lists clients sending (https and loopback
 * redirect URIs, `cursor://` schemes, CIMD `https` client ids, PKCE values, JSON registrations)
 * carries no IPv4 metadata address, `../`, markup, restricted file extension, or query over
 * 2,048 bytes.
 */
export const COUNTED_COMMON_RULES = [
  'SizeRestrictions_BODY',
  'GenericRFI_QUERYARGUMENTS',
  'GenericRFI_BODY',
  'NoUserAgent_HEADER',
];

/** The labels of the counted RFI rules (same source), blocked outside `URL_INPUT_PATHS`. */
export const REBLOCKED_COMMON_LABELS = [
  'awswaf:managed:aws:core-rule-set:GenericRFI_QueryArguments',
  'awswaf:managed:aws:core-rule-set:GenericRFI_Body',
];

/**
 * The endpoints whose query or body carries URLs by design, where the RFI labels do not block:
 * registration and its RFC 7592 update (`redirect_uris`), `/authorize` (`redirect_uri`, a CIMD
 * `client_id`), `/token` (`redirect_uri`), `/revoke` (a CIMD `client_id`), and `/callback`, whose
 * query is the upstream provider's answer (`iss`, `error_uri`). Each path is compared as sent,
 * without decoding: clients send these literally, and a variant spelled otherwise is only left
 * unexcluded, the blocking side. `/clients/` takes exactly one segment of client id characters.
 */
export const URL_INPUT_PATHS = {
  exactly: ['/register', '/dcr', '/authorize', '/callback', '/token', '/revoke'],
  pattern: '^/clients/[A-Za-z0-9_-]+$',
} as const;

/** The priority of the rule re-blocking `REBLOCKED_COMMON_LABELS`: after every managed group. */
export const REBLOCK_PRIORITY = 5;

/** Required by AWS WAF for a CloudWatch Logs destination (AWS WAF Developer Guide, "Log group naming"). */
export const WAF_LOG_GROUP_PREFIX = 'aws-waf-logs-';

/**
 * Kept out of the WAF logs: the bearer tokens and client credentials (`Authorization`), the
 * browser-binding cookie of a login (`Cookie`), a guessed or leaked origin secret sent by a
 * caller, and the query string, which at `/callback` holds the upstream provider's authorization
 * code. WAF logs no bodies, so `/token`'s codes, refresh tokens and secrets never reach them.
 */
export const WAF_LOG_REDACTED_HEADERS = ['authorization', 'cookie', ORIGIN_SECRET_HEADER];

/** The hosted zone id of every CloudFront distribution, for Route 53 alias records. */
export const CLOUDFRONT_HOSTED_ZONE_ID = 'Z2FDTNDATAQYW2';

export class Edge extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly webAcl: wafv2.CfnWebACL;
  /** Every request WAF inspects, with its client IP: `aws-waf-logs-<stack>-<stack id prefix>`. */
  readonly wafLogs: logs.LogGroup;
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
        reblockOutsideUrlInputs(stackName),
        ...EDGE_RATE_LIMITS.map((rule, index) => rateRule(rule, 10 + index, stackName)),
      ],
    });

    this.wafLogs = this.logRequests(stackName, props);

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
        'Nothing is cached, so every request reaches the web ACL, whose logs (aws-waf-logs-*) record each with its ' +
        'client IP and what WAF did; what it lets through is written to the API access log too. Standard logs would ' +
        'need an S3 bucket with ACLs, for a third copy of the same requests.',
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

  /**
   * WAF logging to a CloudWatch Logs group. Behind CloudFront the API's access log sees only
   * CloudFront's addresses; these logs hold the client's (`httpRequest.clientIp`). The group name
   * ends with the first part of the stack id, so a group kept from a deleted stack of the same
   * name never collides with the next one. WAF writes the log group's resource policy for
   * `delivery.logs.amazonaws.com` itself, with the deploying role's permissions.
   */
  private logRequests(stackName: string, props: EdgeProps): logs.LogGroup {
    const stackIdPrefix = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
    const group = new logs.LogGroup(this, 'WafLogs', {
      logGroupName: `${WAF_LOG_GROUP_PREFIX}${stackName}-${stackIdPrefix}`,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.logRemovalPolicy,
    });
    // The log group's name in the ARN is a `Ref`: CloudFormation creates the group first.
    new wafv2.CfnLoggingConfiguration(this, 'WafLogging', {
      resourceArn: this.webAcl.attrArn,
      // The form WAF documents, without the `:*` that the log group's `Arn` attribute ends with.
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: group.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: [
        // `singleHeader` is typed `any` here, so CDK passes its keys through as written.
        ...WAF_LOG_REDACTED_HEADERS.map((name) => ({ singleHeader: { Name: name } })),
        { queryString: {} },
      ],
    });
    return group;
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

/**
 * Blocks what the counted RFI rules found (their labels), except on `URL_INPUT_PATHS`. Labels are
 * visible only to rules evaluated after the group that adds them, hence the priority.
 */
function reblockOutsideUrlInputs(stackName: string): wafv2.CfnWebACL.RuleProperty {
  const labelled: wafv2.CfnWebACL.StatementProperty[] = REBLOCKED_COMMON_LABELS.map((key) => ({
    labelMatchStatement: { scope: 'LABEL', key },
  }));
  const urlInputs: wafv2.CfnWebACL.StatementProperty[] = [
    ...URL_INPUT_PATHS.exactly.map((path) => ({
      byteMatchStatement: {
        fieldToMatch: { uriPath: {} },
        positionalConstraint: 'EXACTLY',
        searchString: path,
        textTransformations: [{ priority: 0, type: 'NONE' }],
      },
    })),
    {
      regexMatchStatement: {
        fieldToMatch: { uriPath: {} },
        regexString: URL_INPUT_PATHS.pattern,
        textTransformations: [{ priority: 0, type: 'NONE' }],
      },
    },
  ];
  return {
    name: 'block-url-inclusion-outside-oauth',
    priority: REBLOCK_PRIORITY,
    action: { block: {} },
    statement: {
      andStatement: {
        statements: [
          { orStatement: { statements: labelled } },
          { notStatement: { statement: { orStatement: { statements: urlInputs } } } },
        ],
      },
    },
    visibilityConfig: visibility(`${stackName}-block-url-inclusion-outside-oauth`),
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
