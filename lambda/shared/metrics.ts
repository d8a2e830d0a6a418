/**
 * The functions' business metrics, published as CloudWatch embedded metric format (EMF) lines in
 * their logs by Powertools' `Metrics`, flushed once per invocation by its `logMetrics` middleware.
 *
 * The names and each metric's one dimension besides `service` are the agreement with the
 * dashboard (`BUSINESS_METRICS` in lib/constructs/dashboard.ts, and doc/operations.md): its
 * `SEARCH` matches exactly the keys `service` plus that dimension, so every metric is published
 * with exactly those. `test/lambda/shared/metrics.test.ts` keeps the two lists equal. The
 * namespace is the stack's (`POWERTOOLS_METRICS_NAMESPACE`).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Logger } from './logger.js';

/**
 * The namespace without a stack (local mode, tests). Deployed, `POWERTOOLS_METRICS_NAMESPACE`
 * wins: the stack sets it to its own `McpOAuth/<stack name>`, which its dashboard and alarms read.
 */
export const BUSINESS_METRICS_NAMESPACE = 'McpOAuth';

/** Each business metric and its dimension besides `service`, or null for none. */
export const METRIC_DIMENSIONS = {
  TokensIssued: 'grant_type',
  LoginsCompleted: null,
  LoginsRefused: null,
  ClientsRegistered: null,
  ToolCalls: 'tool',
  Refusals: 'reason',
  /**
   * Client metadata documents that could not be fetched, by host: a known client's host, or
   * `other` (`lambda/oauth/clients/client-resolver.ts`).
   */
  MetadataDocumentFetchFailures: 'host',
  /** Answers with a 5xx status, by the function version that gave them (`lambda-adapter.ts`). */
  ServerErrors: 'version',
} as const;

export type MetricName = keyof typeof METRIC_DIMENSIONS;
type WithDimension = {
  [K in MetricName]: (typeof METRIC_DIMENSIONS)[K] extends string ? K : never;
}[MetricName];
type WithoutDimension = Exclude<MetricName, WithDimension>;

/**
 * What the handlers count, one at a time. A dimension's value must come from a fixed set (a
 * grant type this server implements, a registered tool's name, an error code), never from a
 * request as sent: every value is a custom metric CloudWatch bills.
 */
export interface BusinessMetrics {
  count(name: WithoutDimension): void;
  count(name: WithDimension, value: string): void;
}

/**
 * Past this many values of one dimension in an execution environment, further values are
 * counted as `other`: a bound on what a bug that lets a request choose a value could cost.
 */
export const MAX_VALUES_PER_DIMENSION = 50;

/**
 * Powertools' `Metrics` (the service's metrics without a dimension), plus one `Metrics` per
 * dimension value, each created at its first use and kept: Powertools puts every metric of one
 * instance under the same dimensions, and `singleMetric()` builds an instance (and a `Console`)
 * per call, about 55 µs. `logMetrics` calls `publishStoredMetrics()` after each invocation.
 */
export class EmbeddedBusinessMetrics extends Metrics implements BusinessMetrics {
  readonly #options: { namespace: string; serviceName: string; logger?: Logger };
  readonly #byDimension = new Map<string, Map<string, Metrics>>();

  constructor(service: string, logger?: Logger) {
    const options = {
      namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || BUSINESS_METRICS_NAMESPACE,
      serviceName: service,
      ...(logger && { logger }),
    };
    super(options);
    this.#options = options;
  }

  count(name: MetricName, value?: string): void {
    const dimension = METRIC_DIMENSIONS[name];
    const target = dimension === null ? this : this.#withDimension(dimension, value || 'unknown');
    target.addMetric(name, MetricUnit.Count, 1);
  }

  #withDimension(name: string, value: string): Metrics {
    const values = this.#byDimension.get(name) ?? new Map<string, Metrics>();
    this.#byDimension.set(name, values);
    const known = values.get(value);
    if (known) return known;
    const kept = values.size < MAX_VALUES_PER_DIMENSION ? value : 'other';
    const metrics =
      values.get(kept) ?? new Metrics({ ...this.#options, defaultDimensions: { [name]: kept } });
    values.set(kept, metrics);
    return metrics;
  }

  /**
   * One EMF line per dimension value counted in this invocation, and nothing at all when nothing
   * was counted: Powertools would otherwise warn "No application metrics to publish" on every
   * request that counts nothing.
   */
  override publishStoredMetrics(): this {
    for (const values of this.#byDimension.values()) {
      for (const metrics of values.values()) {
        if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      }
    }
    if (this.hasStoredMetrics()) super.publishStoredMetrics();
    return this;
  }
}

export function createBusinessMetrics(service: string, logger?: Logger): EmbeddedBusinessMetrics {
  return new EmbeddedBusinessMetrics(service, logger);
}
