/**
 * The HTTP API in front of the functions. Its routes are made from `ROUTES`
 * (`lambda/shared/routes.ts`), the same table the local server dispatches with.
 *
 * HTTP API with only the `$default` stage: the issuer is the bare origin, so
 * `/.well-known/oauth-authorization-server` sits at the root as RFC 8414 requires. CORS is the
 * handlers' job (the OPTIONS routes reach them), because only they know which origins and
 * headers each endpoint allows.
 */
import { Aws, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROUTES, type FunctionName } from '../../lambda/shared/routes.js';
import { requireStackRegion } from '../region-checks.js';
import { certificateRegion } from '../settings.js';

export interface ApiProps {
  /** What each route calls: the function, or its `live` alias with `safeRollouts`. */
  readonly functions: Record<FunctionName, lambda.IFunction>;
  /**
   * The stage's default route throttle, which API Gateway applies to each route separately: the
   * API as a whole accepts up to (routes − registration routes) × this, plus the registration
   * routes' own rates, within the account's regional limit.
   */
  readonly rateLimit: number;
  readonly burstLimit: number;
  /** Tighter throttle for each registration endpoint, which writes to the table. */
  readonly registrationRateLimit: number;
  readonly logRetentionDays: number;
  readonly logRemovalPolicy: RemovalPolicy;
  /**
   * A regional custom domain: its certificate must be in the stack's region (checked at synth
   * when the region is known, else by a CloudFormation rule). Not with CloudFront in front, which
   * takes the domain itself.
   */
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string };
}

/**
 * The access log line, one JSON object per request. Numbers stay unquoted so metric filters
 * can read them (the `/mcp` latency metric reads `routeKey` and `responseLatency`). No header
 * that could carry a credential.
 *
 * API Gateway substitutes the variables without JSON escaping. The user agent is free text a
 * client chooses, so a quote in it would break the line, and with it the latency metric for
 * that request: it is left out. `path` and `method` show what a request asked for even when no
 * route matched, such as a 404 probe; a path is client-chosen too, but only its own line is at
 * stake, and the `POST /mcp` lines the metric reads have the path `/mcp`.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTimeEpoch',
  ip: '$context.identity.sourceIp',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '__STATUS__',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '__LATENCY__',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
})
  .replace('"__STATUS__"', '$context.status')
  .replace('"__LATENCY__"', '$context.responseLatency');

/** Route keys whose throttle is `registrationRateLimit` rather than the stage default. */
export const REGISTRATION_ROUTE_KEYS = ['POST /register', 'POST /dcr'];

export class Api extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly domainName?: apigw.DomainName;
  /** The API's base URL: `https://<api-id>.execute-api.<region>.<suffix>` or `https://<custom domain>`. */
  readonly url: string;
  /** `<api-id>.execute-api.<region>.<suffix>`: the host CloudFront forwards to. */
  readonly executeApiDomain: string;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);

    if (props.customDomain) {
      const region = certificateRegion(props.customDomain.certificateArn);
      requireStackRegion(
        this,
        'CertificateRegion',
        region,
        `customDomainCertificateArn is in ${region}, and an HTTP API's regional custom domain needs a certificate ` +
          "in the stack's own region",
      );
      this.domainName = new apigw.DomainName(this, 'DomainName', {
        domainName: props.customDomain.domainName,
        certificate: acm.Certificate.fromCertificateArn(
          this,
          'Certificate',
          props.customDomain.certificateArn,
        ),
        securityPolicy: apigw.SecurityPolicy.TLS_1_2,
      });
    }

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'MCP server and its OAuth 2.1 authorization server',
      createDefaultStage: false,
      // With a custom domain the issuer is that domain; a second origin serving the same
      // metadata with a different issuer would only confuse clients.
      disableExecuteApiEndpoint: Boolean(this.domainName),
    });

    // Standard class (the default), never Infrequent Access: IA log groups run no metric
    // filters, and the class cannot be changed once a log group exists.
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.logRemovalPolicy,
    });

    const integrations: Record<FunctionName, HttpLambdaIntegration> = {
      oauth: new HttpLambdaIntegration('OAuth', props.functions.oauth, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      }),
      mcp: new HttpLambdaIntegration('Mcp', props.functions.mcp, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      }),
    };
    const routes = ROUTES.flatMap((route) =>
      this.httpApi.addRoutes({
        path: route.path,
        methods: route.methods.map((method) => apigw.HttpMethod[method]),
        integration: integrations[route.function],
      }),
    );

    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
      ...(this.domainName ? { domainMapping: { domainName: this.domainName } } : {}),
    });
    // Per-route throttles have no L2 property. A route setting names a route key, which must
    // exist before the stage refers to it.
    const stage = this.stage.node.defaultChild as apigw.CfnStage;
    stage.addPropertyOverride(
      'RouteSettings',
      Object.fromEntries(
        REGISTRATION_ROUTE_KEYS.map((key) => [
          key,
          {
            ThrottlingRateLimit: props.registrationRateLimit,
            ThrottlingBurstLimit: props.registrationRateLimit * 2,
          },
        ]),
      ),
    );
    for (const route of routes) {
      const { routeKey } = route.node.defaultChild as apigw.CfnRoute;
      if (REGISTRATION_ROUTE_KEYS.includes(routeKey)) stage.node.addDependency(route);
    }

    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'OAuth endpoints are public by definition (RFC 8414, 7591, 6749), and /mcp must answer 401 with ' +
          'WWW-Authenticate resource_metadata (RFC 9728), which an API Gateway authorizer cannot send; the ' +
          'functions authenticate every request themselves (client credentials, registration tokens, JWT).',
      });
    }

    this.executeApiDomain = `${this.httpApi.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;
    this.url = props.customDomain
      ? `https://${props.customDomain.domainName}`
      : `https://${this.executeApiDomain}`;
  }
}
