/**
 * Per-stage settings files: `stages/<name>.json` holds one deployment's account, region, stack
 * name and settings, checked by the same parsers as props and CDK context (`lib/settings.ts`).
 * `cdk deploy -c stageConfig=prod` (what `npm run deploy -- --stage prod` passes) selects one.
 *
 * ```json
 * { "account": "123456789012", "region": "eu-west-1", "stackName": "McpOAuth-prod",
 *   "settings": { "stage": "prod", "alarmEmail": "ops@example.com" } }
 * ```
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App, Environment } from 'aws-cdk-lib';
import { PROJECT_ROOT } from './bundling.js';
import { parseSettings, resolveSettings, SettingsError } from './settings.js';

/** Where the stage files live. */
export const STAGES_DIR = join(PROJECT_ROOT, 'stages');

/** The CDK context key that names the stage file (`-c stageConfig=prod`). */
export const STAGE_CONFIG_KEY = 'stageConfig';

/** The stack name when neither a stage file nor `-c stackName=...` names one. */
export const DEFAULT_STACK_NAME = 'McpOAuth';

export interface StageConfig {
  /** The file's name without `.json`; also the `stage` setting. */
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
  /** The file's settings as written, every key and value checked. */
  readonly settings: Readonly<Record<string, unknown>>;
}

const TOP_LEVEL_KEYS = ['$comment', 'account', 'region', 'stackName', 'settings'];
const STAGE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
/** CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** Reads and checks `stages/<name>.json`; every problem is a `SettingsError` naming the file. */
export function loadStage(name: string, dir: string = STAGES_DIR): StageConfig {
  if (!STAGE_NAME.test(name)) {
    throw new SettingsError(`stage "${name}" must be 1 to 32 lowercase letters, digits and hyphens`);
  }
  const file = join(dir, `${name}.json`);
  const source = `stages/${name}.json`;
  if (!existsSync(file)) {
    const known = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.json'))
          .map((f) => f.slice(0, -'.json'.length))
      : [];
    throw new SettingsError(
      `${source} does not exist; stages with a file: ${known.join(', ') || 'none'} ` +
        `(copy stages/prod.json.example to start one)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SettingsError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SettingsError(`${source} must hold one JSON object`);
  }
  const fields = raw as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !TOP_LEVEL_KEYS.includes(key));
  if (unknown.length) {
    throw new SettingsError(
      `${source}: unknown key "${unknown[0]}"; a stage file has ${TOP_LEVEL_KEYS.slice(1).join(', ')} ` +
        '(settings go under "settings")',
    );
  }
  const account = requiredText(fields, 'account', ACCOUNT, 'a 12-digit AWS account id', source);
  const region = requiredText(fields, 'region', REGION, 'an AWS region such as eu-west-1', source);
  const stackName = requiredText(fields, 'stackName', STACK_NAME, 'a CloudFormation stack name', source);
  const settings = fields.settings ?? {};
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new SettingsError(`${source}: "settings" must be an object of settings`);
  }
  const given = settings as Record<string, unknown>;
  if (given.stage !== undefined && given.stage !== name) {
    throw new SettingsError(
      `${source}: "settings.stage" is ${JSON.stringify(given.stage)}, but the file is stage "${name}"; ` +
        'leave it out or make them equal',
    );
  }
  if ('stackName' in given) {
    throw new SettingsError(`${source}: "stackName" goes at the top level, not under "settings"`);
  }
  const withStage = { ...given, stage: name };
  // Each value, then the rules between them (a stage other than dev needs an alarm subscriber...).
  try {
    resolveSettings(parseSettings(withStage, source));
  } catch (error) {
    const message = (error as Error).message;
    throw new SettingsError(message.startsWith(source) ? message : `${source}: ${message}`);
  }
  return { name, account, region, stackName, settings: withStage };
}

function requiredText(
  fields: Record<string, unknown>,
  key: string,
  pattern: RegExp,
  what: string,
  source: string,
): string {
  const value = fields[key];
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new SettingsError(`${source}: "${key}" must be ${what}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** What the app builds the stack with: its name, and with a stage file its account and region. */
export interface StackTarget {
  readonly stackName: string;
  readonly env?: Environment;
  readonly stage?: StageConfig;
}

/**
 * Applies `-c stageConfig=<name>` to the app: the stage file's settings become context values
 * (a `-c key=value` given on the command line still wins, to try one change), and its account,
 * region and stack name the stack's. Without it, the stack is environment-agnostic and named
 * by `-c stackName` or `McpOAuth`. Must run before the stack is added to the app.
 */
export function applyStage(app: App, dir: string = STAGES_DIR): StackTarget {
  const name: unknown = app.node.tryGetContext(STAGE_CONFIG_KEY);
  const givenStackName: unknown = app.node.tryGetContext('stackName');
  if (name === undefined || name === null || name === '') {
    return {
      stackName: typeof givenStackName === 'string' && givenStackName ? givenStackName : DEFAULT_STACK_NAME,
    };
  }
  const stage = loadStage(String(name), dir);
  if (givenStackName !== undefined && givenStackName !== stage.stackName) {
    throw new SettingsError(
      `-c stackName=${String(givenStackName)} contradicts stages/${stage.name}.json, which deploys ${stage.stackName}`,
    );
  }
  for (const [key, value] of Object.entries(stage.settings)) {
    if (app.node.tryGetContext(key) === undefined) app.node.setContext(key, value);
  }
  return { stackName: stage.stackName, env: { account: stage.account, region: stage.region }, stage };
}
