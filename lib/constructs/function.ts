/**
 * One deployed function with the defaults every function shares: the bundling options of
 * `lib/bundling.ts`, arm64, Node.js 24, its own log group with retention, and a role that starts
 * empty, so each grant in the stack is visible and nothing comes from a managed policy.
 */
import { join } from 'node:path';
import { Duration, Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  BUNDLE_ALIASES,
  entryPath,
  ESBUILD_OPTIONS,
  NODE_OPTIONS,
  PROJECT_ROOT,
  type DeployedFunction,
} from '../bundling.js';
import { businessMetricsNamespace } from './dashboard.js';

/** The Lambda runtime; `NODE_TARGET` in `lib/bundling.ts` must match it. */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface ServiceFunctionProps {
  readonly name: DeployedFunction;
  readonly description: string;
  /** In MB; chosen per function by measurement, see doc/performance.md. */
  readonly memorySize: number;
  readonly timeout: Duration;
  /** Lambda reserved concurrency; absent or 0 for none (0 would stop the function in Lambda). */
  readonly reservedConcurrency?: number;
  readonly environment?: Record<string, string>;
  readonly logRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
  readonly tracing: boolean;
  readonly logLevel: string;
}

/** `NodejsFunction` bundling options equal to `ESBUILD_OPTIONS`, so the deployed bundle is the built one. */
export const NODEJS_BUNDLING = {
  format: OutputFormat.ESM,
  target: ESBUILD_OPTIONS.target,
  minify: ESBUILD_OPTIONS.minify,
  sourceMap: ESBUILD_OPTIONS.sourcemap,
  sourcesContent: ESBUILD_OPTIONS.sourcesContent,
  mainFields: [...ESBUILD_OPTIONS.mainFields],
  externalModules: [...ESBUILD_OPTIONS.external],
  banner: ESBUILD_OPTIONS.banner.js,
  logLevel: LogLevel.WARNING,
};

/** A function's `BUNDLE_ALIASES` as `NodejsFunction` passes them to esbuild (`--alias:from=to`). */
export function aliasArgs(name: DeployedFunction): { '--alias'?: string[] } {
  const aliases = Object.entries(BUNDLE_ALIASES[name]);
  return aliases.length === 0 ? {} : { '--alias': aliases.map(([from, to]) => `${from}=${to}`) };
}

export class ServiceFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.name} function`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      description: props.description,
      entry: entryPath(props.name),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      ...(props.reservedConcurrency ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      role: this.role,
      logGroup: this.logGroup,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      bundling: { ...NODEJS_BUNDLING, esbuildArgs: aliasArgs(props.name) },
      environment: {
        LOG_LEVEL: props.logLevel,
        // Mapped stack traces where start-up time allows them (see NODE_OPTIONS in bundling.ts).
        ...(NODE_OPTIONS[props.name] && { NODE_OPTIONS: NODE_OPTIONS[props.name] }),
        // Powertools' own settings: the service name the function's Logger and Metrics also pass
        // in code (`oauth`, `mcp`, `rotate-keys`), and the stack's own namespace of the business
        // metrics, which lambda/shared/metrics.ts reads.
        POWERTOOLS_SERVICE_NAME: props.name,
        POWERTOOLS_METRICS_NAMESPACE: businessMetricsNamespace(Stack.of(this).stackName),
        ...props.environment,
      },
    });

    if (props.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
      });
    }
  }
}

/** Timeouts: API Gateway gives up after 30 s, and a warm call takes milliseconds. */
export const HTTP_FUNCTION_TIMEOUT = Duration.seconds(10);
