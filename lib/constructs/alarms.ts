/**
 * The alarms an operator needs and nothing more: any function error or throttle, the API's 5xx
 * rate, the p99 latency of `POST /mcp`, and the synthetic canary when there is one. All notify
 * one SNS topic (and `alarmTopicArn`, an existing topic, when given); an email subscription is
 * optional in the dev stage and required, or the existing topic, in every other. With safe
 * rollouts, alarms on each new function version (`newVersionAlarms`) decide CodeDeploy's
 * rollbacks and notify no one.
 *
 * The `/mcp` latency comes from the API access log (a metric filter on `routeKey`), because
 * API Gateway's own per-route metrics cost money per route and per metric whether or not we
 * read them; this is one metric, measured where the client waits.
 *
 * Every alarm is named `<stack name>-<what>`, so several stacks in one account stay apart in
 * the console and in notifications. Events that are not metrics (a failed key rotation) reach
 * the same topic through EventBridge rules (`alertOnEvents`).
 */
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as synthetics from 'aws-cdk-lib/aws-synthetics';
import { Construct } from 'constructs';
import { businessMetricsNamespace } from './dashboard.js';

export interface AlarmsProps {
  /** Every function, by name: each gets an errors and a throttles alarm. */
  readonly functions: Record<string, lambda.IFunction>;
  readonly httpApi: apigw.IHttpApi;
  /** The API access log group (format `ACCESS_LOG_FORMAT` in `api.ts`). */
  readonly accessLogs: logs.ILogGroup;
  readonly mcpLatencyP99AlarmMs: number;
  readonly alarmEmail?: string;
  /**
   * An existing topic (`alarmTopicArn`) notified of everything the stack's own topic is: alarms,
   * EventBridge rules, and the budget (which reads `extraTopic` from here).
   */
  readonly extraTopic?: sns.ITopic;
}

/** The access log fields the latency metric filter reads (`ACCESS_LOG_FORMAT` in `api.ts` writes them). */
export const LATENCY_FILTER_FIELDS = { routeKey: '$.routeKey', latency: '$.responseLatency' } as const;

const PERIOD = Duration.minutes(5);
/**
 * The period of the alarms a safe rollout watches: CodeDeploy gives a new version 10 minutes
 * (`ROLLOUT_DEPLOYMENT_CONFIG` in safe-rollout.ts), and a 1-minute datapoint is judged about
 * 2 to 3 minutes after its minute ends.
 */
export const ROLLOUT_PERIOD = Duration.minutes(1);
/** Below this many requests in a period, a 5xx rate says more about luck than about health. */
export const MIN_REQUESTS_FOR_ERROR_RATE = 20;
export const SERVER_ERROR_RATE_THRESHOLD = 0.05;
/**
 * `refused` audit lines (`lambda/shared/audit.ts`: a refresh token reused after its grace, a code
 * replayed, a revoked user's refresh) in 5 minutes that page. One is a client bug or a race more
 * often than a theft; a burst is a stolen token being tried, or a broken client in a loop.
 */
export const REFUSED_BURST_THRESHOLD = 10;

export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly extraTopic?: sns.ITopic;
  readonly alarms: cloudwatch.Alarm[] = [];
  /** Each alarm by its name without the stack prefix (`mcp-errors`, `api-5xx-rate`, ...). */
  readonly byName: Record<string, cloudwatch.Alarm> = {};
  readonly mcpLatency: cloudwatch.IMetric;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    if (props.extraTopic) this.extraTopic = props.extraTopic;
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'MCP server alarms', enforceSSL: true });
    // The SSL-only policy replaces the topic's default policy, so say who may publish.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    if (props.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }

    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(`${name}-errors`, {
        metric: fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
        threshold: 1,
        description: `The ${name} function failed (an uncaught error or a timeout).`,
      });
      this.add(`${name}-throttles`, {
        metric: fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
        threshold: 1,
        description: `The ${name} function was throttled: the account's concurrency limit, or the function's reserved concurrency, is reached.`,
      });
    }

    this.add('api-5xx-rate', {
      metric: new cloudwatch.MathExpression({
        expression: `IF(requests >= ${MIN_REQUESTS_FOR_ERROR_RATE}, errors / requests, 0)`,
        usingMetrics: {
          errors: props.httpApi.metricServerError({ period: PERIOD, statistic: 'Sum' }),
          requests: props.httpApi.metricCount({ period: PERIOD, statistic: 'Sum' }),
        },
        period: PERIOD,
        label: 'Share of requests answered 5xx',
      }),
      threshold: SERVER_ERROR_RATE_THRESHOLD,
      evaluationPeriods: 2,
      description: `More than ${SERVER_ERROR_RATE_THRESHOLD * 100}% of API requests answered 5xx for 10 minutes.`,
    });

    const latencyFilter = new logs.MetricFilter(this, 'McpLatencyFilter', {
      logGroup: props.accessLogs,
      filterPattern: logs.FilterPattern.stringValue(LATENCY_FILTER_FIELDS.routeKey, '=', 'POST /mcp'),
      metricNamespace: businessMetricsNamespace(Stack.of(this).stackName),
      metricName: 'McpResponseLatency',
      metricValue: LATENCY_FILTER_FIELDS.latency,
      unit: cloudwatch.Unit.MILLISECONDS,
    });
    this.mcpLatency = latencyFilter.metric({
      period: PERIOD,
      statistic: 'p99',
      label: 'POST /mcp p99 latency',
    });
    this.add('mcp-latency-p99', {
      metric: this.mcpLatency,
      threshold: props.mcpLatencyP99AlarmMs,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `POST /mcp p99 latency above ${props.mcpLatencyP99AlarmMs} ms for 15 minutes.`,
    });
  }

  /**
   * Counts the `refused` audit lines of a function's log group (a metric filter, `AuditRefused`
   * in the business metrics namespace) and alarms on a burst of them (`refused-burst`).
   */
  alarmOnRefusals(logGroup: logs.ILogGroup): cloudwatch.Alarm {
    const filter = new logs.MetricFilter(this, 'RefusedAuditFilter', {
      logGroup,
      filterPattern: logs.FilterPattern.stringValue('$.audit', '=', 'refused'),
      metricNamespace: businessMetricsNamespace(Stack.of(this).stackName),
      metricName: 'AuditRefused',
      metricValue: '1',
      unit: cloudwatch.Unit.COUNT,
    });
    return this.add('refused-burst', {
      metric: filter.metric({ period: PERIOD, statistic: 'Sum' }),
      threshold: REFUSED_BURST_THRESHOLD,
      description:
        `At least ${REFUSED_BURST_THRESHOLD} refusals worth an alert (refresh token reuse, code replay, ` +
        'a revoked user) in 5 minutes. See "Audit trail" in doc/operations.md for the query that lists them.',
    });
  }

  /**
   * The alarms that decide whether a new version of `fn` stays while CodeDeploy shifts traffic to
   * it: each watches only that version (`version`, the function's current version, so the alarm
   * follows every deployment) over 1-minute periods, and fires on
   *
   * - `<name>-new-version-5xx`: one answer with a 5xx status in a minute (`ServerErrors`, which the
   *   function counts itself: an error it answers, even a bare 500, is not a failed invocation);
   * - `<name>-new-version-errors`: one failed invocation (crash, timeout) of that version, from
   *   Lambda's `Errors` by `ExecutedVersion` behind the alias `aliasName`;
   * - with `durationP99Ms`, `<name>-new-version-duration-p99`: that version's p99 duration above
   *   it in 2 of 3 minutes.
   *
   * They notify no one: a single 5xx is reason enough to roll a new version back, not to page;
   * the API's 5xx rate alarm pages for lasting trouble. A rollback shows as a failed stack update.
   */
  newVersionAlarms(
    name: string,
    options: {
      fn: lambda.IFunction;
      version: lambda.IVersion;
      aliasName: string;
      durationP99Ms?: number;
    },
  ): cloudwatch.Alarm[] {
    const { fn, version, aliasName } = options;
    const executedVersion = {
      FunctionName: fn.functionName,
      Resource: `${fn.functionName}:${aliasName}`,
      ExecutedVersion: version.version,
    };
    const alarms = [
      this.add(`${name}-new-version-5xx`, {
        metric: new cloudwatch.Metric({
          namespace: businessMetricsNamespace(Stack.of(this).stackName),
          metricName: 'ServerErrors',
          dimensionsMap: { service: name, version: version.version },
          period: ROLLOUT_PERIOD,
          statistic: 'Sum',
        }),
        threshold: 1,
        notify: false,
        description: `The ${name} function's newest version answered a 5xx in the last minute (safe rollout).`,
      }),
      this.add(`${name}-new-version-errors`, {
        metric: fn.metricErrors({ dimensionsMap: executedVersion, period: ROLLOUT_PERIOD, statistic: 'Sum' }),
        threshold: 1,
        notify: false,
        description: `An invocation of the ${name} function's newest version failed in the last minute (safe rollout).`,
      }),
    ];
    if (options.durationP99Ms !== undefined) {
      alarms.push(
        this.add(`${name}-new-version-duration-p99`, {
          metric: fn.metricDuration({
            dimensionsMap: executedVersion,
            period: ROLLOUT_PERIOD,
            statistic: 'p99',
          }),
          threshold: options.durationP99Ms,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          notify: false,
          description:
            `The p99 duration of the ${name} function's newest version was above ${options.durationP99Ms} ms ` +
            'in 2 of the last 3 minutes (safe rollout).',
        }),
      );
    }
    return alarms;
  }

  /**
   * Sends the events `eventPattern` matches to the topic, as one line of text that says what
   * happened and where to look. Only this rule may publish them (`aws:SourceArn`).
   */
  alertOnEvents(
    id: string,
    options: { description: string; eventPattern: events.EventPattern; message: events.RuleTargetInput },
  ): events.Rule {
    const rule = new events.Rule(this, id, {
      description: options.description,
      eventPattern: options.eventPattern,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      }),
    );
    // Written out rather than `targets.SnsTopic`, which grants every EventBridge rule in every
    // account the right to publish here.
    const topic = this.topic;
    rule.addTarget({ bind: () => ({ arn: topic.topicArn, input: options.message, targetResource: topic }) });
    // The existing topic's policy is its owner's: it must let events.amazonaws.com publish.
    const extra = this.extraTopic;
    if (extra) rule.addTarget({ bind: () => ({ arn: extra.topicArn, input: options.message }) });
    return rule;
  }

  /**
   * Alarms when the canary fails a run (the lowest `SuccessPercent` over two runs below 100), and
   * when it stops reporting. Silence is not a breach (missing data is `missing`): a breach would
   * fire on every fresh deployment, before the canary's first run reports. Instead the alarm
   * notifies on INSUFFICIENT_DATA too, which it enters only after it has seen data: a canary that
   * reported and then went quiet for two intervals. A new alarm starts in INSUFFICIENT_DATA, so
   * that is no transition and notifies no one.
   */
  alarmOnCanary(canary: synthetics.Canary, intervalMinutes: number): cloudwatch.Alarm {
    return this.add('canary', {
      metric: canary.metricSuccessPercent({
        period: Duration.minutes(2 * intervalMinutes),
        statistic: 'Minimum',
      }),
      threshold: 100,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
      notifyOnInsufficientData: true,
      description:
        `ALARM: the synthetic canary failed a run (metadata, token or tools/call). INSUFFICIENT_DATA: it ` +
        `has not reported for ${2 * intervalMinutes} minutes. See "Synthetic canary" in doc/operations.md.`,
    });
  }

  private add(
    name: string,
    options: {
      metric: cloudwatch.IMetric;
      threshold: number;
      description: string;
      evaluationPeriods?: number;
      datapointsToAlarm?: number;
      comparisonOperator?: cloudwatch.ComparisonOperator;
      treatMissingData?: cloudwatch.TreatMissingData;
      /** False for alarms that only a deployment reads (`newVersionAlarms`). */
      notify?: boolean;
      /** Also notify when the alarm goes to INSUFFICIENT_DATA (`alarmOnCanary`). */
      notifyOnInsufficientData?: boolean;
    },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, name, {
      alarmName: `${Stack.of(this).stackName}-${name}`,
      metric: options.metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      ...(options.datapointsToAlarm ? { datapointsToAlarm: options.datapointsToAlarm } : {}),
      comparisonOperator:
        options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No traffic is not a failure (the canary's alarm watches silence its own way).
      treatMissingData: options.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    for (const topic of [this.topic, this.extraTopic]) {
      if (!topic || options.notify === false) continue;
      alarm.addAlarmAction(new actions.SnsAction(topic));
      alarm.addOkAction(new actions.SnsAction(topic));
      if (options.notifyOnInsufficientData) alarm.addInsufficientDataAction(new actions.SnsAction(topic));
    }
    this.alarms.push(alarm);
    this.byName[name] = alarm;
    return alarm;
  }
}
