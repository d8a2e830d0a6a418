/**
 * Which table the admin command works on, and as whom:
 * - locally (no `--stack`, `--stage` or `--table`): the running `npm start` of `DATA_DIR` (or
 *   `--data-dir`, default `.local`), through the loopback endpoint of its embedded engine, which
 *   the server names in `<data dir>/local-table.json` while it runs;
 * - deployed: `--stack <name>` (or `--stage <name>`, whose file names the stack and region) reads
 *   the stack's `TableName` output; `--table <name>` names the table directly. The operator's AWS
 *   credentials and region come from the usual places (environment, profile, SSO).
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_TABLE_FILE } from '../../lib/local/local-env.js';
import { loadStage } from '../../lib/stages.js';
import { callerArn, putLogLine, stackOutputs, type AwsContext } from './aws-query.js';

/** A failure the operator can act on: its message is the whole output. */
export class AdminError extends Error {
  readonly code = 'ERR_ADMIN';
}

export interface TargetOptions {
  stack?: string;
  stage?: string;
  table?: string;
  region?: string;
  dataDir?: string;
}

export interface Target {
  db: DynamoDBDocumentClient;
  tableName: string;
  /** `local` or `deployed`, for the audit line. */
  mode: 'local' | 'deployed';
  /** Who runs the command: the AWS caller ARN deployed, `local:<user name>` locally. */
  caller(): Promise<string>;
  /**
   * With `--stack` or `--stage`: sends an audit line to the stack's `AuditLogGroupName` (the
   * oauth function's log group). Undefined where no log group is known (locally, `--table`).
   */
  sendAudit?: (line: string, timestamp: number) => Promise<void>;
  close(): void;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

async function localTarget(dataDir: string): Promise<Target> {
  const file = join(dataDir, LOCAL_TABLE_FILE);
  const found = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as { endpoint?: unknown; table?: unknown; pid?: unknown },
    () => undefined,
  );
  if (
    !found ||
    typeof found.endpoint !== 'string' ||
    typeof found.table !== 'string' ||
    typeof found.pid !== 'number' ||
    !isRunning(found.pid)
  ) {
    throw new AdminError(
      `no local server is running on ${dataDir}: start it with npm start (the same DATA_DIR), or give --stack, --stage or --table`,
    );
  }
  const client = new DynamoDBClient({
    endpoint: found.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    db: documentClient(client),
    tableName: found.table,
    mode: 'local',
    caller: async () => `local:${userInfo().username}`,
    close: () => client.destroy(),
  };
}

async function deployedTarget(
  options: TargetOptions,
  env: Record<string, string | undefined>,
): Promise<Target> {
  let stackName = options.stack;
  let region = options.region;
  if (options.stage !== undefined) {
    const stage = (() => {
      try {
        return loadStage(options.stage);
      } catch (error) {
        throw new AdminError((error as Error).message);
      }
    })();
    stackName = stage.stackName;
    region ??= stage.region;
  }
  const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  const client = new DynamoDBClient({ ...(region && { region }), ...(endpoint && { endpoint }) });
  const resolvedRegion = await client.config.region().catch(() => undefined);
  if (!resolvedRegion) {
    client.destroy();
    throw new AdminError('no AWS region: give --region, set AWS_REGION, or use a profile with a region');
  }
  const context: AwsContext = { region: resolvedRegion, credentials: () => client.config.credentials(), env };
  let tableName = options.table;
  let auditLogGroup: string | undefined;
  if (tableName === undefined) {
    let outputs: Record<string, string>;
    try {
      outputs = await stackOutputs(stackName!, context);
    } catch (error) {
      client.destroy();
      throw new AdminError((error as Error).message);
    }
    tableName = outputs.TableName;
    if (!tableName) {
      client.destroy();
      throw new AdminError(`the stack ${stackName} has no TableName output (deployed before it existed?)`);
    }
    auditLogGroup = outputs.AuditLogGroupName;
  }
  const logGroup = auditLogGroup;
  return {
    db: documentClient(client),
    tableName,
    mode: 'deployed',
    caller: () => callerArn(context),
    ...(logGroup && {
      sendAudit: (line: string, timestamp: number) => putLogLine(logGroup, line, timestamp, context),
    }),
    close: () => client.destroy(),
  };
}

export async function openTarget(
  options: TargetOptions,
  env: Record<string, string | undefined>,
): Promise<Target> {
  if (options.stack === undefined && options.stage === undefined && options.table === undefined) {
    return localTarget(resolve(options.dataDir ?? env.DATA_DIR ?? '.local'));
  }
  return deployedTarget(options, env);
}
