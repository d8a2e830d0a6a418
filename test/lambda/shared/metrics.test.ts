/**
 * The business metrics as CloudWatch embedded metric format: what one flush writes (names,
 * namespace, exactly the dimension keys the dashboard's `SEARCH` matches), that an invocation
 * that counts nothing writes nothing, and that the names agree with the dashboard's. The stack's
 * namespace reaches the functions as POWERTOOLS_METRICS_NAMESPACE (test/lib/mcp-oauth-stack.test.ts).
 */
import { jest } from '@jest/globals';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { BUSINESS_METRICS } from '../../../lib/constructs/dashboard.js';
import {
  createBusinessMetrics,
  MAX_VALUES_PER_DIMENSION,
  METRIC_DIMENSIONS,
} from '../../../lambda/shared/metrics.js';

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [key: string]: unknown;
}

/** Everything written to stdout and stderr while `act` runs. */
async function captureOutput(act: () => unknown): Promise<{ stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout.push(String(chunk));
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr.push(String(chunk));
    return true;
  });
  try {
    await act();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const lines = (chunks: string[]) => chunks.join('').split('\n').filter(Boolean);
  return { stdout: lines(stdout), stderr: lines(stderr) };
}

/** Each EMF line as (metric names, dimension key sets, the values of those keys and metrics). */
function summarize(line: EmfLine) {
  const [directive] = line._aws.CloudWatchMetrics;
  const keys = [...new Set(directive!.Dimensions.flat())];
  const names = directive!.Metrics.map((m) => m.Name);
  return {
    namespace: directive!.Namespace,
    metrics: directive!.Metrics,
    dimensions: directive!.Dimensions,
    values: Object.fromEntries([...keys, ...names].map((k) => [k, line[k]])),
  };
}

const env = { ...process.env };
afterEach(() => {
  process.env = { ...env };
});

describe('one flush of the business metrics', () => {
  it('writes one EMF line per dimension value, each with exactly service and its own dimension', async () => {
    // Prepare
    delete process.env.POWERTOOLS_METRICS_NAMESPACE;
    const metrics = createBusinessMetrics('oauth');
    metrics.count('TokensIssued', 'client_credentials');
    metrics.count('TokensIssued', 'client_credentials');
    metrics.count('TokensIssued', 'refresh_token');
    metrics.count('Refusals', 'invalid_client');
    metrics.count('ClientsRegistered');
    metrics.count('LoginsCompleted');

    // Act
    const { stdout, stderr } = await captureOutput(() => metrics.publishStoredMetrics());

    // Assess
    expect(stderr).toEqual([]);
    const lines = stdout.map((l) => summarize(JSON.parse(l) as EmfLine));
    expect(lines).toEqual([
      {
        namespace: 'McpOAuth',
        metrics: [{ Name: 'TokensIssued', Unit: 'Count' }],
        dimensions: [['service', 'grant_type']],
        values: { service: 'oauth', grant_type: 'client_credentials', TokensIssued: [1, 1] },
      },
      {
        namespace: 'McpOAuth',
        metrics: [{ Name: 'TokensIssued', Unit: 'Count' }],
        dimensions: [['service', 'grant_type']],
        values: { service: 'oauth', grant_type: 'refresh_token', TokensIssued: 1 },
      },
      {
        namespace: 'McpOAuth',
        metrics: [{ Name: 'Refusals', Unit: 'Count' }],
        dimensions: [['service', 'reason']],
        values: { service: 'oauth', reason: 'invalid_client', Refusals: 1 },
      },
      {
        namespace: 'McpOAuth',
        metrics: [
          { Name: 'ClientsRegistered', Unit: 'Count' },
          { Name: 'LoginsCompleted', Unit: 'Count' },
        ],
        dimensions: [['service']],
        values: { service: 'oauth', ClientsRegistered: 1, LoginsCompleted: 1 },
      },
    ]);
  });

  it('writes nothing, not even a warning, when the invocation counted nothing', async () => {
    // Prepare
    const metrics = createBusinessMetrics('mcp');
    metrics.count('ToolCalls', 'add');
    await captureOutput(() => metrics.publishStoredMetrics());

    // Act
    const { stdout, stderr } = await captureOutput(() => metrics.publishStoredMetrics());

    // Assess
    expect(stdout).toEqual([]);
    expect(stderr).toEqual([]);
  });

  it('is flushed by logMetrics when a middy-wrapped handler returns, with what that invocation counted', async () => {
    // Prepare
    const metrics = createBusinessMetrics('mcp');
    const handler = middy(async (tool: string) => {
      metrics.count('ToolCalls', tool);
      return 'done';
    }).use(logMetrics(metrics));

    // Act
    const first = await captureOutput(() => handler('add', {} as Context));
    const second = await captureOutput(() => handler('get_time', {} as Context));

    // Assess
    expect(first.stdout.map((l) => summarize(JSON.parse(l) as EmfLine).values)).toEqual([
      { service: 'mcp', tool: 'add', ToolCalls: 1 },
    ]);
    expect(second.stdout.map((l) => summarize(JSON.parse(l) as EmfLine).values)).toEqual([
      { service: 'mcp', tool: 'get_time', ToolCalls: 1 },
    ]);
  });

  it('takes the namespace from POWERTOOLS_METRICS_NAMESPACE when the stack sets it', async () => {
    // Prepare
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'Elsewhere';
    const metrics = createBusinessMetrics('oauth');
    metrics.count('LoginsRefused');

    // Act
    const { stdout } = await captureOutput(() => metrics.publishStoredMetrics());

    // Assess
    expect(stdout.map((l) => summarize(JSON.parse(l) as EmfLine).namespace)).toEqual(['Elsewhere']);
  });

  it('writes nothing when POWERTOOLS_METRICS_DISABLED is set', async () => {
    // Prepare
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const metrics = createBusinessMetrics('oauth');
    metrics.count('TokensIssued', 'client_credentials');
    metrics.count('ClientsRegistered');

    // Act
    const { stdout } = await captureOutput(() => metrics.publishStoredMetrics());

    // Assess
    expect(stdout).toEqual([]);
  });

  it(`counts values of one dimension past the first ${MAX_VALUES_PER_DIMENSION} as "other"`, async () => {
    // Prepare
    const metrics = createBusinessMetrics('mcp');
    for (let i = 0; i <= MAX_VALUES_PER_DIMENSION + 1; i++) metrics.count('ToolCalls', `tool_${i}`);

    // Act
    const { stdout } = await captureOutput(() => metrics.publishStoredMetrics());

    // Assess
    const tools = stdout.map((l) => summarize(JSON.parse(l) as EmfLine).values);
    expect(tools).toHaveLength(MAX_VALUES_PER_DIMENSION + 1);
    expect(tools.at(-1)).toEqual({ service: 'mcp', tool: 'other', ToolCalls: [1, 1] });
  });
});

describe('the agreement with the dashboard', () => {
  it('publishes exactly the metrics the dashboard graphs, each with the dimension it searches by', () => {
    const published = Object.entries(METRIC_DIMENSIONS).map(([name, dimension]) => [name, dimension]);
    const graphed = BUSINESS_METRICS.map((m) => [m.name, 'dimension' in m ? m.dimension : null]);
    expect(published.sort()).toEqual(graphed.sort());
  });
});
