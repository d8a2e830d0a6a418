/**
 * Reads `cdk diff` output on stdin and lists the changes that would lose state: a stateful
 * resource (the table, a secret, the user pool, the public key parameter) removed (`[-]`) or
 * replaced (`replace`, `may be replaced`). `scripts/deploy.sh` asks for a typed confirmation when
 * it prints anything. Exit status: 0 with no such change, 3 with some, 2 on bad usage.
 *   npx cdk diff McpOAuth 2>&1 | npx tsx scripts/stateful-changes.ts
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The resource types whose replacement or removal loses data, keys or users. */
export const STATEFUL_TYPES = [
  'AWS::DynamoDB::Table',
  'AWS::SecretsManager::Secret',
  'AWS::Cognito::UserPool',
  'AWS::SSM::Parameter',
] as const;

export interface StatefulChange {
  readonly type: string;
  readonly logicalId: string;
  /** `remove` (`[-]`, the impact is `destroy` or `orphan`), or the impact CDK prints for an update. */
  readonly change: 'remove' | 'replace' | 'may be replaced';
  readonly line: string;
}

// Terminal colours, which `cdk diff` prints when it writes to a terminal.
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * One resource line of `cdk diff` (`@aws-cdk/cloudformation-diff`'s format):
 * `[~] AWS::DynamoDB::Table Storage/Table StorageTableB43FDCE7 replace`, where the construct
 * path is left out for resources the CLI cannot map, and an impact (`replace`, `may be replaced`,
 * `destroy`, `orphan`) and a refactoring note may follow the logical id.
 */
const RESOURCE_LINE = /^\[(?<prefix>[-+~])\]\s+(?<type>AWS::\S+)\s+(?<rest>.+)$/;
const IMPACT = /\s(?<impact>may be replaced|replace|destroy|orphan)(?:\s+\(OR move.*\))?$/;

export function statefulChanges(diff: string): StatefulChange[] {
  const changes: StatefulChange[] = [];
  for (const raw of diff.split(/\r?\n/)) {
    const line = raw.replace(ANSI, '').trim();
    const match = RESOURCE_LINE.exec(line);
    if (!match?.groups) continue;
    const { prefix, type, rest } = match.groups as { prefix: string; type: string; rest: string };
    if (!(STATEFUL_TYPES as readonly string[]).includes(type)) continue;
    const impact = IMPACT.exec(` ${rest}`)?.groups?.impact;
    // The logical id is the last word before the impact (the construct path comes before it).
    const logicalId = ` ${rest}`.replace(IMPACT, '').trim().split(/\s+/).pop()!;
    if (prefix === '-') changes.push({ type, logicalId, change: 'remove', line });
    else if (prefix === '~' && (impact === 'replace' || impact === 'may be replaced')) {
      changes.push({ type, logicalId, change: impact, line });
    }
  }
  return changes;
}

function main(): void {
  if (process.argv.length > 2) {
    console.error('usage: npx cdk diff <stack> 2>&1 | npx tsx scripts/stateful-changes.ts');
    process.exit(2);
  }
  const changes = statefulChanges(readFileSync(0, 'utf8'));
  for (const c of changes) {
    const what = c.change === 'remove' ? 'REMOVED' : c.change === 'replace' ? 'REPLACED' : 'MAY BE REPLACED';
    console.log(`${what}: ${c.type} ${c.logicalId}`);
  }
  process.exit(changes.length ? 3 : 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
