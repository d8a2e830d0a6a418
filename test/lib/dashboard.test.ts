import type { Template } from 'aws-cdk-lib/assertions';
import { BUSINESS_METRICS } from '../../lib/constructs/dashboard.js';
import { logicalId, synth, type Resources } from './synth.js';

interface Widget {
  type: string;
  properties: { title?: string; metrics?: unknown[][]; alarms?: string[] };
}

let template: Template;
let widgets: Widget[];

/**
 * The dashboard body as CloudWatch will read it: the template joins strings and references, and
 * every reference sits inside a JSON string, so it is written as `<Ref:Id>` or `<Id.Arn>` here.
 */
function dashboardWidgets(t: Template): Widget[] {
  const [dashboard] = Object.values(t.findResources('AWS::CloudWatch::Dashboard') as Resources);
  const parts = dashboard!.Properties!.DashboardBody['Fn::Join'][1] as unknown[];
  const text = parts
    .map((part: any) =>
      typeof part === 'string' ? part : part.Ref ? `<Ref:${part.Ref}>` : `<${part['Fn::GetAtt'].join('.')}>`,
    )
    .join('');
  return JSON.parse(text).widgets;
}

const graph = (title: string) => widgets.find((w) => w.properties.title === title)!;
/** A metric line as [namespace, name, ...dimensions, {stat, label}]. */
const lines = (title: string) => graph(title).properties.metrics!;

beforeAll(() => {
  ({ template } = synth({ canaryIntervalMinutes: 15 }, { bundle: false }));
  widgets = dashboardWidgets(template);
});

describe('the dashboard', () => {
  it('is named after the stack', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'McpOAuth' });
    expect(template.toJSON().Outputs.DashboardName.Value).toEqual({
      Ref: logicalId(template, 'AWS::CloudWatch::Dashboard', 'Dashboard'),
    });
  });

  it("graphs the API's p50 and p99 latency, and its requests, 4xx and 5xx", () => {
    // Prepare
    const api = `<Ref:${logicalId(template, 'AWS::ApiGatewayV2::Api', 'Api')}>`;

    // Assess
    expect(lines('API latency')).toEqual(
      expect.arrayContaining([
        ['AWS/ApiGateway', 'Latency', 'ApiId', api, { label: 'p50', stat: 'p50' }],
        ['AWS/ApiGateway', 'Latency', 'ApiId', api, { label: 'p99', stat: 'p99' }],
      ]),
    );
    expect(lines('API requests, 4xx and 5xx')).toEqual([
      ['AWS/ApiGateway', 'Count', 'ApiId', api, { label: 'requests', stat: 'Sum' }],
      ['AWS/ApiGateway', '4xx', 'ApiId', api, { label: '4xx', stat: 'Sum' }],
      ['AWS/ApiGateway', '5xx', 'ApiId', api, { label: '5xx', stat: 'Sum' }],
    ]);
  });

  it.each([
    ['Function errors', 'Errors', 'Sum'],
    ['Function throttles', 'Throttles', 'Sum'],
    ['Function duration (p50 left, p99 right)', 'Duration', 'p50'],
    ['Function duration (p50 left, p99 right)', 'Duration', 'p99'],
  ])('graphs, in "%s", %s (%s) of every function', (title, metric, stat) => {
    // Act
    const graphed = lines(title)
      .filter((line) => line[1] === metric && (line[4] as { stat: string }).stat === stat)
      .map((line) => [line[0], line[2], line[3]]);

    // Assess
    expect(graphed).toEqual(
      ['OAuthFunction', 'McpFunction', 'SigningKeysRotateKeysFunction'].map((prefix) => [
        'AWS/Lambda',
        'FunctionName',
        `<Ref:${logicalId(template, 'AWS::Lambda::Function', prefix)}>`,
      ]),
    );
  });

  it("graphs every agreed business metric of the stack's own namespace by its agreed dimension, with SEARCH", () => {
    // Act
    const expressions = BUSINESS_METRICS.map(
      (m) => (lines(`${m.title} (${m.name})`)[0]![0] as { expression: string }).expression,
    );

    // Assess: the namespace the functions get as POWERTOOLS_METRICS_NAMESPACE (stack McpOAuth)
    expect(expressions).toEqual([
      `SEARCH('{"McpOAuth/McpOAuth",service,grant_type} MetricName="TokensIssued"', 'Sum', 300)`,
      `SEARCH('{"McpOAuth/McpOAuth",service} MetricName="LoginsCompleted"', 'Sum', 300)`,
      `SEARCH('{"McpOAuth/McpOAuth",service} MetricName="LoginsRefused"', 'Sum', 300)`,
      `SEARCH('{"McpOAuth/McpOAuth",service} MetricName="ClientsRegistered"', 'Sum', 300)`,
      `SEARCH('{"McpOAuth/McpOAuth",service,tool} MetricName="ToolCalls"', 'Sum', 300)`,
      `SEARCH('{"McpOAuth/McpOAuth",service,reason} MetricName="Refusals"', 'Sum', 300)`,
      `SEARCH('{"McpOAuth/McpOAuth",service,host} MetricName="MetadataDocumentFetchFailures"', 'Sum', 300)`,
      `SEARCH('{"McpOAuth/McpOAuth",service,version} MetricName="ServerErrors"', 'Sum', 300)`,
    ]);
  });

  it("reads only its own stack's business metrics, so two stacks in one account stay apart", () => {
    // Act
    const other = dashboardWidgets(
      synth({ canaryIntervalMinutes: 15, stackName: 'McpOAuth-staging' }, { bundle: false }).template,
    );
    const searches = other
      .flatMap((w) => w.properties.metrics ?? [])
      .map((line) => (line[0] as { expression?: string }).expression)
      .filter((e): e is string => e !== undefined);

    // Assess
    expect(searches).toHaveLength(BUSINESS_METRICS.length);
    for (const search of searches) expect(search).toContain('{"McpOAuth/McpOAuth-staging",');
  });

  it("shows every alarm's state and the canary's success", () => {
    // Act
    const alarmWidget = widgets.find((w) => w.type === 'alarm')!;
    const alarmIds = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));

    // Assess
    expect(alarmWidget.properties.alarms!.sort()).toEqual(alarmIds.map((id) => `<${id}.Arn>`).sort());
    expect(lines('Canary success (%)')[0]!.slice(0, 3)).toEqual([
      'CloudWatchSynthetics',
      'SuccessPercent',
      'CanaryName',
    ]);
  });
});
