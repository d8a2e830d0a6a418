/**
 * `npm run admin -- <command> [options]`: who can reach the MCP server, through which client, and
 * cutting that access (doc/operations.md, "Who has access, and cutting it"). Listings print a table, or with
 * `--json` one JSON object whose fields are documented there and stay stable. Exit codes: 0 done,
 * 1 the command could not be carried out (nothing found to revoke, no table, an AWS error),
 * 2 bad arguments; every failure is one line on stderr.
 *
 * A revocation also writes one `audit` line (the same shape as the functions', `lambda/shared/audit.ts`)
 * naming the caller (the AWS caller identity deployed, the local user name locally) to stderr and,
 * with `--stack` or `--stage`, to the stack's audit log group.
 */
import { parseArgs } from 'node:util';
import { DynamoRevocationList } from '../../lambda/shared/revocation-writer.js';
import { DynamoClientStore } from '../../lambda/oauth/stores/client-store.js';
import { DynamoGrantStore } from '../../lambda/oauth/stores/grant-store.js';
import {
  revokeClientTokens,
  revokeGrantFamily,
  revokeUser,
  type RevocationDeps,
} from '../../lambda/oauth/stores/revocations.js';
import type { AuditFields } from '../../lambda/shared/audit.js';
import { INTEGER_SETTINGS } from '../../lambda/shared/function-settings.js';
import {
  backfillAccessIndex,
  getClient,
  getGrant,
  isAccessIndexReady,
  listClients,
  listGrants,
  listUsers,
  type AdminTable,
  type GrantRow,
} from './directory.js';
import { render, type Listing } from './output.js';
import { AdminError, openTarget, type Target, type TargetOptions } from './target.js';

export const USAGE = `Usage: npm run admin -- <command> [options]

Commands:
  clients                         registered clients, with their live grants
  grants [--user SUB] [--client ID]
                                  live grants (a user's login for one client)
  users                           users with live grants
  revoke --user SUB               every grant of the user, across clients
  revoke --client ID              delete the client and everything it holds
  revoke --grant ID               one grant

Where (default: the running npm start of DATA_DIR, or --data-dir, default .local):
  --stack NAME | --stage NAME     a deployed stack (its TableName output); --region REGION
  --table NAME                    a table by name (AWS credentials and region as for --stack)

  --json                          one JSON object (fields in doc/operations.md)
  --help`;

/** Bad arguments: exit code 2. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}

export interface AdminIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Epoch milliseconds; tests may move it. */
  now?: () => number;
}

const COMMANDS = ['clients', 'grants', 'users', 'revoke'] as const;
type Command = (typeof COMMANDS)[number];

interface Parsed {
  command: Command;
  json: boolean;
  user?: string;
  client?: string;
  grant?: string;
  target: TargetOptions;
}

const ALLOWED: Record<Command, string[]> = {
  clients: [],
  users: [],
  grants: ['user', 'client'],
  revoke: ['user', 'client', 'grant'],
};

export function parseAdminArgs(argv: string[]): Parsed | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        user: { type: 'string' },
        client: { type: 'string' },
        grant: { type: 'string' },
        stack: { type: 'string' },
        stage: { type: 'string' },
        table: { type: 'string' },
        region: { type: 'string' },
        'data-dir': { type: 'string' },
      },
    });
  } catch (error) {
    // Node's message goes on about positionals after `--`: its first sentence is the point.
    throw new UsageError((error as Error).message.split(/\. |\n/)[0]!);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length === 0)
    throw new UsageError('a command is required: clients, grants, users or revoke');
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const command = positionals[0] as Command;
  if (!COMMANDS.includes(command)) {
    throw new UsageError(`unknown command "${positionals[0]}": use clients, grants, users or revoke`);
  }
  for (const name of ['user', 'client', 'grant'] as const) {
    const value = values[name];
    if (value === undefined) continue;
    if (!ALLOWED[command].includes(name)) throw new UsageError(`"${command}" takes no --${name}`);
    if (value.trim() === '') throw new UsageError(`--${name} needs a value`);
  }
  if (command === 'revoke') {
    const given = (['user', 'client', 'grant'] as const).filter((name) => values[name] !== undefined);
    if (given.length !== 1) throw new UsageError('revoke needs exactly one of --user, --client or --grant');
  }
  const where = (['stack', 'stage', 'table'] as const).filter((name) => values[name] !== undefined);
  if (where.length > 1)
    throw new UsageError(`give one of --stack, --stage or --table, not ${where.join(' and ')}`);
  if (where.length && values['data-dir'] !== undefined) {
    throw new UsageError(`--data-dir is for the local server; it cannot go with --${where[0]}`);
  }
  for (const name of ['stack', 'stage', 'table', 'region', 'data-dir'] as const) {
    if (values[name] !== undefined && values[name].trim() === '')
      throw new UsageError(`--${name} needs a value`);
  }
  return {
    command,
    json: values.json === true,
    ...(values.user !== undefined && { user: values.user }),
    ...(values.client !== undefined && { client: values.client }),
    ...(values.grant !== undefined && { grant: values.grant }),
    target: {
      ...(values.stack !== undefined && { stack: values.stack }),
      ...(values.stage !== undefined && { stage: values.stage }),
      ...(values.table !== undefined && { table: values.table }),
      ...(values.region !== undefined && { region: values.region }),
      ...(values['data-dir'] !== undefined && { dataDir: values['data-dir'] }),
    },
  };
}

/** One line for an error of the AWS SDK or the engine: its name and message, never a stack. */
function oneLine(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  const name = (error as Error)?.name;
  const line = message.split('\n')[0]!;
  return name && name !== 'Error' && !line.startsWith(name) ? `${name}: ${line}` : line;
}

/** Runs the command; answers its exit code. */
export async function runAdmin(argv: string[], io: AdminIo): Promise<number> {
  let parsed: Parsed | 'help';
  try {
    parsed = parseAdminArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`admin: ${error.message} (npm run admin -- --help)\n`);
    return 2;
  }
  if (parsed === 'help') {
    io.stdout(USAGE + '\n');
    return 0;
  }
  let target: Target | undefined;
  try {
    target = await openTarget(parsed.target, io.env);
    const table: AdminTable = { db: target.db, tableName: target.tableName, now: io.now ?? Date.now };
    await ensureIndexed(table, io);
    const listing = await execute(parsed, table, target, io);
    io.stdout(render(listing, parsed.json));
    return 0;
  } catch (error) {
    io.stderr(`admin: ${oneLine(error)}\n`);
    return 1;
  } finally {
    target?.close();
  }
}

/** On a table written before the access index, indexes what was there, once. */
async function ensureIndexed(table: AdminTable, io: AdminIo): Promise<void> {
  if (await isAccessIndexReady(table)) return;
  const counts = await backfillAccessIndex(table);
  if (counts.clients + counts.grants > 0) {
    io.stderr(
      `admin: indexed ${counts.clients} clients and ${counts.grants} grants written before the access index (once)\n`,
    );
  }
}

async function execute(parsed: Parsed, table: AdminTable, target: Target, io: AdminIo): Promise<Listing> {
  switch (parsed.command) {
    case 'clients':
      return { kind: 'clients', rows: await listClients(table) };
    case 'users':
      return { kind: 'users', rows: await listUsers(table) };
    case 'grants':
      return {
        kind: 'grants',
        rows: await listGrants(table, {
          ...(parsed.user !== undefined && { sub: parsed.user }),
          ...(parsed.client !== undefined && { clientId: parsed.client }),
        }),
      };
    case 'revoke':
      return revoke(parsed, table, target, io);
  }
}

async function revoke(parsed: Parsed, table: AdminTable, target: Target, io: AdminIo): Promise<Listing> {
  const grants = new DynamoGrantStore(table.db, table.tableName);
  const deps: RevocationDeps = {
    grants,
    revocations: new DynamoRevocationList(table.db, table.tableName, table.now),
    now: table.now,
    // The function's own lifetime is not known here: the longest any configuration allows
    // keeps the marker until every token it covers has expired, whatever the stack's setting.
    config: { accessTokenTtlSeconds: INTEGER_SETTINGS.accessTokenTtlSeconds.max },
  };
  const caller = await target.caller().catch((error: unknown) => `unknown (${oneLine(error)})`);
  const auditLine = async (fields: AuditFields) => {
    const line = JSON.stringify({
      level: 'INFO',
      message: 'audit: revoke',
      service: 'admin',
      timestamp: new Date(table.now()).toISOString(),
      audit: 'revoke',
      by: 'admin',
      caller,
      table: table.tableName,
      mode: target.mode,
      ...fields,
    });
    io.stderr(line + '\n');
    // The revocation is done: a line CloudWatch refused is reported, not a failed command.
    await target.sendAudit?.(line, table.now()).catch((error: unknown) => {
      io.stderr(`admin: the audit line above was not sent to CloudWatch Logs (${oneLine(error)}); keep it\n`);
    });
  };
  // Each marker is written first and the grants changed after, as the oauth function does, so
  // a failure part way leaves nothing working that should not; the command can be run again.
  const tidy = async (rows: GrantRow[]) => {
    for (const row of rows) await grants.revokeFamily(row.grantId);
  };
  if (parsed.user !== undefined) {
    const rows = await listGrants(table, { sub: parsed.user });
    await revokeUser(deps, parsed.user);
    await tidy(rows);
    await auditLine({ target: 'user', sub: parsed.user });
    return { kind: 'revoked', target: 'user', id: parsed.user, rows };
  }
  if (parsed.client !== undefined) {
    const clientId = parsed.client;
    const registered = await getClient(table, clientId);
    const rows = await listGrants(table, { clientId });
    if (!registered && rows.length === 0) throw new AdminError(`no client ${JSON.stringify(clientId)}`);
    await revokeClientTokens(deps, clientId);
    if (registered) await new DynamoClientStore(table.db, table.tableName, table.now).delete(clientId);
    await tidy(rows);
    await auditLine({ target: 'client', clientId });
    return {
      kind: 'revoked',
      target: 'client',
      id: clientId,
      rows,
      ...(!registered && {
        note: 'a client ID metadata document is not registered here: its tokens and grants are revoked, and it can log in again unless blocked (blockedClientMetadataDocuments)',
      }),
    };
  }
  const grantId = parsed.grant!;
  const row = await getGrant(table, grantId);
  if (!row) throw new AdminError(`no live grant ${JSON.stringify(grantId)}`);
  await revokeGrantFamily(deps, grantId);
  await auditLine({ target: 'grant', grantId, sub: row.sub, clientId: row.clientId });
  return { kind: 'revoked', target: 'grant', id: grantId, rows: [row] };
}
