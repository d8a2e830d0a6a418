/**
 * One CloudWatch dashboard, named after the stack: the API's latency (p50, p99) and 4xx/5xx, each
 * function's errors, throttles and duration, the alarms' states, the canary, and the business
 * metrics the functions publish in the stack's own namespace `McpOAuth/<stack name>`
 * (`BUSINESS_METRICS`).
 *
 * The business metrics are graphed with `SEARCH`, so a graph shows every value of its dimension
 * (each grant type, each tool) without listing them here, and stays empty until the functions
 * publish. The names below are the agreement with the code that publishes them (Powertools
 * Metrics); doc/operations.md lists them too.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as synthetics from 'aws-cdk-lib/aws-synthetics';
import { Construct } from 'constructs';

/**
 * Where a stack's functions publish their business metrics: a namespace per stack, so two stacks
 * in one account and region (two stages) never count into each other's graphs and alarms. The
 * access log latency metric (`Alarms`) lives here too. The stack gives it to the functions as
 * `POWERTOOLS_METRICS_NAMESPACE` (`ServiceFunction`).
 */
export function businessMetricsNamespace(stackName: string): string {
  return `McpOAuth/${stackName}`;
}

/**
 * Every business metric: its name, the function that publishes it (Powertools Metrics' `service`
 * dimension, which it adds to every metric: `oauth` or `mcp`), and its one other dimension, if
 * any. A metric is published with exactly the dimensions `service` and `dimension`; `SEARCH`
 * matches that set and no other.
 */
export const BUSINESS_METRICS = [
  {
    name: 'TokensIssued',
    services: ['oauth'],
    dimension: 'grant_type',
    title: 'Tokens issued, by grant type',
  },
  { name: 'LoginsCompleted', services: ['oauth'], title: 'Logins completed' },
  { name: 'LoginsRefused', services: ['oauth'], title: 'Logins refused' },
  { name: 'ClientsRegistered', services: ['oauth'], title: 'Clients registered' },
  { name: 'ToolCalls', services: ['mcp'], dimension: 'tool', title: 'Tool calls, by tool' },
  { name: 'Refusals', services: ['oauth', 'mcp'], dimension: 'reason', title: 'Refusals, by reason' },
  {
    name: 'MetadataDocumentFetchFailures',
    services: ['oauth'],
    dimension: 'host',
    title: 'Client metadata documents not fetched, by host',
  },
  {
    name: 'ServerErrors',
    services: ['oauth', 'mcp'],
    dimension: 'version',
    title: 'Answers with a 5xx status, by function version',
  },
] as const satisfies readonly {
  name: string;
  services: readonly ('oauth' | 'mcp')[];
  dimension?: string;
  title: string;
}[];

/**
 * The `SEARCH` expression that graphs one business metric of `namespace`, summed per period. The
 * namespace is in double quotes, as `SEARCH` wants names with characters other than letters and
 * digits: it holds a `/`, and stack names may hold `-`.
 */
export function businessMetricSearch(
  metric: (typeof BUSINESS_METRICS)[number],
  namespace: string,
  periodSeconds: number,
): string {
  const schema = ['service', ...('dimension' in metric ? [metric.dimension] : [])].join(',');
  return `SEARCH('{"${namespace}",${schema}} MetricName="${metric.name}"', 'Sum', ${periodSeconds})`;
}

export interface DashboardProps {
  readonly httpApi: apigw.IHttpApi;
  /** Every function, by name. */
  readonly functions: Record<string, lambda.IFunction>;
  readonly alarms: readonly cloudwatch.IAlarm[];
  /** `POST /mcp` latency measured from the access log (`Alarms.mcpLatency`). */
  readonly mcpLatency: cloudwatch.IMetric;
  readonly canary?: synthetics.Canary;
}

const PERIOD = Duration.minutes(5);
const WIDTH = 8;
const HEIGHT = 6;

export class Dashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const functions = Object.entries(props.functions);
    const graph = (
      title: string,
      left: cloudwatch.IMetric[],
      extra: Partial<cloudwatch.GraphWidgetProps> = {},
    ) => new cloudwatch.GraphWidget({ title, left, width: WIDTH, height: HEIGHT, period: PERIOD, ...extra });
    const perFunction = (metric: (fn: lambda.IFunction, name: string) => cloudwatch.IMetric) =>
      functions.map(([name, fn]) => metric(fn, name));

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: Stack.of(this).stackName,
      defaultInterval: Duration.hours(24),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown:
              `# ${Stack.of(this).stackName}\n` +
              'API and functions from AWS metrics; business metrics from the functions (namespace ' +
              `\`${businessMetricsNamespace(Stack.of(this).stackName)}\`, doc/operations.md "Dashboard").`,
            width: 24,
            height: 2,
          }),
        ],
        [
          graph('API latency', [
            props.httpApi.metricLatency({ statistic: 'p50', label: 'p50' }),
            props.httpApi.metricLatency({ statistic: 'p99', label: 'p99' }),
            props.mcpLatency,
          ]),
          graph('API requests, 4xx and 5xx', [
            props.httpApi.metricCount({ statistic: 'Sum', label: 'requests' }),
            props.httpApi.metricClientError({ statistic: 'Sum', label: '4xx' }),
            props.httpApi.metricServerError({ statistic: 'Sum', label: '5xx' }),
          ]),
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: [...props.alarms],
            width: WIDTH,
            height: HEIGHT,
          }),
        ],
        [
          graph(
            'Function errors',
            perFunction((fn, name) => fn.metricErrors({ statistic: 'Sum', label: name })),
          ),
          graph(
            'Function throttles',
            perFunction((fn, name) => fn.metricThrottles({ statistic: 'Sum', label: name })),
          ),
          graph('Function duration (p50 left, p99 right)', [], {
            left: perFunction((fn, name) => fn.metricDuration({ statistic: 'p50', label: `${name} p50` })),
            right: perFunction((fn, name) => fn.metricDuration({ statistic: 'p99', label: `${name} p99` })),
          }),
        ],
        BUSINESS_METRICS.slice(0, 3).map((metric) => this.businessGraph(metric)),
        BUSINESS_METRICS.slice(3, 6).map((metric) => this.businessGraph(metric)),
        BUSINESS_METRICS.slice(6).map((metric) => this.businessGraph(metric)),
        ...(props.canary
          ? [
              [
                graph('Canary success (%)', [
                  props.canary.metricSuccessPercent({ statistic: 'Minimum', label: 'lowest success' }),
                ]),
                graph('Canary duration', [
                  props.canary.metricDuration({ statistic: 'Maximum', label: 'longest run' }),
                ]),
              ],
            ]
          : []),
      ],
    });
  }

  private businessGraph(metric: (typeof BUSINESS_METRICS)[number]): cloudwatch.GraphWidget {
    return new cloudwatch.GraphWidget({
      title: `${metric.title} (${metric.name})`,
      left: [
        new cloudwatch.MathExpression({
          expression: businessMetricSearch(
            metric,
            businessMetricsNamespace(Stack.of(this).stackName),
            PERIOD.toSeconds(),
          ),
          usingMetrics: {},
          label: metric.name,
          period: PERIOD,
        }),
      ],
      width: WIDTH,
      height: HEIGHT,
    });
  }
}
