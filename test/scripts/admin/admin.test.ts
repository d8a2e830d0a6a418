/**
 * `npm run admin` against the embedded DynamoDB engine standing in for a deployed table: the
 * `--table` and `--stack` paths (CloudFormation and STS answered by a loopback stand-in), items
 * written by the real stores, an empty table, bad arguments, 10,000 clients paged, and a table
 * written before the access index (the upgrade path).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { clientIndexAttributes } from '../../../lambda/oauth/stores/access-index.js';
import { ensureTable, startLocalDynamo, type LocalDynamo } from '../../../lib/local/dynamodb.js';
import { DynamoClientStore, type StoredClient } from '../../../lambda/oauth/stores/client-store.js';
import { DynamoGrantStore, type GrantFamily } from '../../../lambda/oauth/stores/grant-store.js';
import { DynamoRevocationList } from '../../../lambda/shared/revocation-writer.js';
import { runAdmin } from '../../../scripts/admin/run.js';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const nowSeconds = NOW / 1000;
const CALLER_ARN = 'arn:aws:sts::123456789012:assumed-role/Operator/ada';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * CloudFormation `DescribeStacks` and STS `GetCallerIdentity`, as the Query protocol answers them,
 * and CloudWatch Logs `CreateLogStream` and `PutLogEvents` (JSON protocol), which refuse the log
 * group `refusing-group`.
 */
async function startFakeAwsQuery(stacks: Record<string, { table: string; logGroup: string }>): Promise<{
  url: string;
  calls: string[];
  logEvents: Array<{ logGroupName: string; logStreamName: string; message: string }>;
  close(): Promise<void>;
}> {
  const calls: string[] = [];
  const logEvents: Array<{ logGroupName: string; logStreamName: string; message: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string' && target.startsWith('Logs_20140328.')) {
        const input = JSON.parse(body) as {
          logGroupName: string;
          logStreamName: string;
          logEvents?: Array<{ message: string }>;
        };
        calls.push(`logs:${target.split('.')[1]}`);
        if (input.logGroupName === 'refusing-group') {
          res.statusCode = 400;
          res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'not authorized' }));
          return;
        }
        for (const event of input.logEvents ?? [])
          logEvents.push({
            logGroupName: input.logGroupName,
            logStreamName: input.logStreamName,
            message: event.message,
          });
        res.end('{}');
        return;
      }
      const params = new URLSearchParams(body);
      const scope = /Credential=[^/]+\/\d+\/([^/]+)\/([^/]+)\//.exec(req.headers.authorization ?? '');
      calls.push(`${scope?.[2]}:${params.get('Action')}:${scope?.[1]}`);
      if (params.get('Action') === 'GetCallerIdentity') {
        res.end(
          `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>${CALLER_ARN}</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>`,
        );
        return;
      }
      const stack = stacks[params.get('StackName') ?? ''];
      if (!stack) {
        res.statusCode = 400;
        res.end(
          `<ErrorResponse><Error><Code>ValidationError</Code><Message>Stack with id ${params.get('StackName')} does not exist</Message></Error></ErrorResponse>`,
        );
        return;
      }
      res.end(
        `<DescribeStacksResponse><DescribeStacksResult><Stacks><member><Outputs>` +
          `<member><OutputKey>McpUrl</OutputKey><OutputValue>https://x/mcp</OutputValue></member>` +
          `<member><OutputKey>TableName</OutputKey><OutputValue>${stack.table}</OutputValue></member>` +
          `<member><OutputKey>AuditLogGroupName</OutputKey><OutputValue>${stack.logGroup}</OutputValue></member>` +
          `</Outputs></member></Stacks></DescribeStacksResult></DescribeStacksResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    calls,
    logEvents,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let dynamo: LocalDynamo;
let fake: Awaited<ReturnType<typeof startFakeAwsQuery>>;
let tableCount = 0;

beforeAll(async () => {
  // The operator's credentials and region, as the SDK reads them from the environment.
  process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'test-secret';
  process.env.AWS_REGION = 'eu-west-1';
  dynamo = await startLocalDynamo({ tableName: 'admin-0' });
  fake = await startFakeAwsQuery({
    'McpOAuth-test': { table: 'admin-stack-table', logGroup: '/aws/lambda/oauth' },
    McpOAuth: { table: 'admin-stage-table', logGroup: '/aws/lambda/oauth-dev' },
    'McpOAuth-refusing': { table: 'admin-stack-table', logGroup: 'refusing-group' },
  });
});
afterAll(async () => {
  await dynamo.close();
  await fake.close();
});

/** A fresh table of the stack's layout (with its `mcp-reads` index) in the same engine. */
async function newTable(name = `admin-${++tableCount}`): Promise<string> {
  await ensureTable(dynamo.client, name);
  return name;
}

const env = () => ({
  AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  AWS_ENDPOINT_URL_CLOUDFORMATION: fake.url,
  AWS_ENDPOINT_URL_STS: fake.url,
  AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: fake.url,
});

async function admin(...argv: string[]): Promise<Run> {
  const out = { stdout: '', stderr: '' };
  const code = await runAdmin(argv, {
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
    env: env(),
    now: () => NOW,
  });
  return { code, ...out };
}

const stores = (table: string) => ({
  clients: new DynamoClientStore(dynamo.documentClient, table, () => NOW),
  grants: new DynamoGrantStore(dynamo.documentClient, table),
  revocations: new DynamoRevocationList(dynamo.documentClient, table, () => NOW),
});

function client(clientId: string, overrides: Partial<StoredClient> = {}): StoredClient {
  return {
    clientId,
    metadata: {
      client_name: `app ${clientId}`,
      redirect_uris: ['http://127.0.0.1:3000/callback', 'cursor://anysphere.cursor-retrieval/oauth'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'mcp:tools',
    } as unknown as StoredClient['metadata'],
    registrationTokenHash: `registration-hash-${clientId}`,
    issuedAt: nowSeconds - 3600,
    updatedAt: nowSeconds - 3600,
    ...overrides,
  };
}

function family(familyId: string, sub: string, clientId: string, createdAt = nowSeconds - 600): GrantFamily {
  return {
    familyId,
    clientId,
    identity: { sub, name: sub.split('@')[0], email: sub },
    scope: 'mcp:tools',
    audience: 'https://mcp.example.com/mcp',
    createdAt,
    expiresAt: createdAt + 86_400,
  };
}

describe('npm run admin against a table by name (--table)', () => {
  it('lists nothing, with exit code 0, on an empty table', async () => {
    // Prepare
    const table = await newTable();

    // Act
    const runs = await Promise.all(
      ['clients', 'grants', 'users'].map((command) => admin(command, '--table', table, '--json')),
    );
    const text = await admin('users', '--table', table);

    // Assess
    expect(runs.map((run) => [run.code, JSON.parse(run.stdout)])).toEqual([
      [0, { clients: [] }],
      [0, { grants: [] }],
      [0, { users: [] }],
    ]);
    expect(text).toEqual({ code: 0, stdout: 'No users with live grants.\n', stderr: '' });
  });

  it("lists clients, users and grants with the documented fields, and never a client's hashes", async () => {
    // Prepare
    const table = await newTable();
    const { clients, grants } = stores(table);
    await clients.create(
      client('desktopApp01', { lastLoginAt: nowSeconds - 60, secretHash: 'secret-hash-1' }),
    );
    await clients.create(
      client('machineAgent1', {
        metadata: {
          client_name: 'agent',
          grant_types: ['client_credentials'],
          redirect_uris: [],
        } as unknown as StoredClient['metadata'],
      }),
    );
    await grants.createFamily(family('fam-alice-1', 'alice@example.com', 'desktopApp01', nowSeconds - 900));
    await grants.createFamily(family('fam-bob-1', 'bob@example.com', 'desktopApp01', nowSeconds - 800));
    await grants.createFamily(
      family('fam-bob-2', 'bob@example.com', 'https://app.example.com/client.json', nowSeconds - 700),
    );
    await grants.recordRefresh('fam-bob-1', nowSeconds - 30);
    await grants.createFamily(family('fam-carol-1', 'carol@example.com', 'desktopApp01'));
    await grants.revokeFamily('fam-carol-1');

    // Act
    const listed = await admin('clients', '--table', table, '--json');
    const users = await admin('users', '--table', table, '--json');
    const bobs = await admin('grants', '--table', table, '--json', '--user', 'bob@example.com');
    const ofDesktop = await admin('grants', '--table', table, '--json', '--client', 'desktopApp01');
    const textTable = await admin('grants', '--table', table);

    // Assess
    expect(JSON.parse(listed.stdout).clients).toEqual([
      {
        clientId: 'desktopApp01',
        name: 'app desktopApp01',
        kind: 'interactive',
        redirectHosts: ['127.0.0.1:3000', 'anysphere.cursor-retrieval'],
        createdAt: new Date((nowSeconds - 3600) * 1000).toISOString(),
        lastUsedAt: new Date((nowSeconds - 60) * 1000).toISOString(),
        liveGrants: 2,
      },
      expect.objectContaining({
        clientId: 'machineAgent1',
        kind: 'machine',
        liveGrants: 0,
        lastUsedAt: null,
      }),
      expect.objectContaining({
        clientId: 'https://app.example.com/client.json',
        kind: 'metadata-document',
        liveGrants: 1,
        createdAt: null,
      }),
    ]);
    expect(JSON.parse(users.stdout).users).toEqual([
      expect.objectContaining({ sub: 'alice@example.com', grants: 1, clients: ['desktopApp01'] }),
      {
        sub: 'bob@example.com',
        name: 'bob',
        email: 'bob@example.com',
        grants: 2,
        clients: ['desktopApp01', 'https://app.example.com/client.json'],
        lastLoginAt: new Date((nowSeconds - 700) * 1000).toISOString(),
      },
    ]);
    expect(JSON.parse(bobs.stdout).grants).toEqual([
      {
        grantId: 'fam-bob-1',
        sub: 'bob@example.com',
        name: 'bob',
        email: 'bob@example.com',
        clientId: 'desktopApp01',
        clientName: 'app desktopApp01',
        scope: 'mcp:tools',
        audience: 'https://mcp.example.com/mcp',
        createdAt: new Date((nowSeconds - 800) * 1000).toISOString(),
        lastRefreshAt: new Date((nowSeconds - 30) * 1000).toISOString(),
        upstreamCheckedAt: null,
        expiresAt: new Date((nowSeconds - 800 + 86_400) * 1000).toISOString(),
      },
      expect.objectContaining({ grantId: 'fam-bob-2', clientName: null }),
    ]);
    expect(JSON.parse(ofDesktop.stdout).grants.map((g: { grantId: string }) => g.grantId)).toEqual([
      'fam-alice-1',
      'fam-bob-1',
    ]);
    expect(textTable.stdout.split('\n')[0]).toMatch(/^GRANT +USER +NAME +EMAIL +CLIENT/);
    for (const run of [listed, users, bobs, ofDesktop, textTable]) {
      expect(run.stdout).not.toMatch(/hash/i);
    }
  });

  it('puts nothing in the index the mcp role may query but keys, hashes of sub and times', async () => {
    // Prepare
    const table = await newTable();
    const { clients, grants } = stores(table);
    await clients.create(client('desktopApp01', { secretHash: 'secret-hash-1' }));
    await grants.createFamily(family('fam-h1', 'hana@example.com', 'desktopApp01'));

    // Act: every item of every partition of `mcp-reads`, as a query of it returns them.
    const { Items = [] } = await dynamo.client.send(
      new ScanCommand({ TableName: table, IndexName: 'mcp-reads' }),
    );

    // Assess
    expect(Items.map((item) => item.mcpRead!.S!.replace(/#.*/, '#…')).sort()).toEqual([
      'clients',
      'grants#…',
      'users',
    ]);
    for (const item of Items) {
      expect(Object.keys(item).sort()).toEqual(expect.arrayContaining(['changedAt', 'mcpRead', 'pk']));
      expect(
        Object.keys(item).every((name) => ['changedAt', 'mcpRead', 'pk', 'expiresAt'].includes(name)),
      ).toBe(true);
    }
    const seen = JSON.stringify(Items);
    for (const secret of ['hana@example.com', 'hana', 'secret-hash-1', 'registration-hash', 'mcp:tools'])
      expect(seen).not.toContain(secret);
  });

  it('shows the last upstream check of a grant that has one', async () => {
    // Prepare
    const table = await newTable();
    const { clients, grants } = stores(table);
    await clients.create(client('desktopApp01'));
    await grants.createFamily(family('fam-dora-1', 'dora@example.com', 'desktopApp01'));
    await dynamo.documentClient.send(
      new PutCommand({
        TableName: table,
        Item: {
          ...(await stores(table).grants.getFamily('fam-dora-1', NOW)),
          upstreamCheckedAt: nowSeconds - 120,
        },
      }),
    );

    // Act
    const run = await admin('grants', '--table', table, '--json');

    // Assess
    expect(JSON.parse(run.stdout).grants[0].upstreamCheckedAt).toBe(
      new Date((nowSeconds - 120) * 1000).toISOString(),
    );
  });

  it('keeps listing a user whose later grant is shorter-lived than an earlier one (an ID-JAG after a login)', async () => {
    // Prepare: a 90-day login two hours ago, then a grant an hour ago that has already ended.
    const table = await newTable();
    const { clients, grants } = stores(table);
    await clients.create(client('desktopApp01'));
    const login = family('fam-erin-login', 'erin@example.com', 'desktopApp01', nowSeconds - 7200);
    await grants.createFamily({ ...login, expiresAt: login.createdAt + 90 * 86_400 });
    const short = family('fam-erin-idjag', 'erin@example.com', 'desktopApp01', nowSeconds - 3600);
    expect(await grants.createFamilyOnce({ ...short, expiresAt: nowSeconds - 60 })).toBe(true);

    // Act
    const users = await admin('users', '--table', table, '--json');
    const all = await admin('grants', '--table', table, '--json');

    // Assess: the user, as the later login named them, with the live grant.
    expect(JSON.parse(users.stdout).users).toEqual([
      expect.objectContaining({
        sub: 'erin@example.com',
        grants: 1,
        lastLoginAt: new Date((nowSeconds - 3600) * 1000).toISOString(),
      }),
    ]);
    expect(JSON.parse(all.stdout).grants.map((g: { grantId: string }) => g.grantId)).toEqual([
      'fam-erin-login',
    ]);
  });

  it('pages through 10,000 clients: each listed once', async () => {
    // Prepare
    const table = await newTable();
    const ids = Array.from({ length: 10_000 }, (_, i) => `client${String(i).padStart(5, '0')}`);
    // The items `DynamoClientStore.create` writes, 25 to a request: all registered in one second.
    for (let i = 0; i < ids.length; i += 25) {
      const items = ids.slice(i, i + 25).map((id) => ({
        pk: `client#${id}`,
        type: 'client',
        ...client(id),
        ...clientIndexAttributes(id, nowSeconds - 3600),
      }));
      await dynamo.documentClient.send(
        new BatchWriteCommand({
          RequestItems: { [table]: items.map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
    }

    // Act
    const run = await admin('clients', '--table', table, '--json');

    // Assess
    expect(run.code).toBe(0);
    const listed = (JSON.parse(run.stdout).clients as Array<{ clientId: string }>).map((c) => c.clientId);
    expect(listed).toHaveLength(10_000);
    expect(new Set(listed)).toEqual(new Set(ids));
  }, 120_000);

  it('lists grants and clients written before the access index, after indexing them once', async () => {
    // Prepare: items as the previous version wrote them, without the index's attributes.
    const table = await newTable();
    const old = client('legacyClient1');
    await dynamo.documentClient.send(
      new PutCommand({ TableName: table, Item: { pk: 'client#legacyClient1', type: 'client', ...old } }),
    );
    const legacy = family('fam-legacy-1', 'erin@example.com', 'legacyClient1');
    await dynamo.documentClient.send(
      new PutCommand({ TableName: table, Item: { pk: 'family#fam-legacy-1', type: 'family', ...legacy } }),
    );

    // Act
    const first = await admin('grants', '--table', table, '--json');
    const second = await admin('users', '--table', table, '--json');
    const revoked = await admin('revoke', '--table', table, '--grant', 'fam-legacy-1', '--json');
    const after = await admin('clients', '--table', table, '--json');

    // Assess
    expect(first.stderr).toBe(
      'admin: indexed 1 clients and 1 grants written before the access index (once)\n',
    );
    expect(JSON.parse(first.stdout).grants).toEqual([
      expect.objectContaining({
        grantId: 'fam-legacy-1',
        sub: 'erin@example.com',
        clientId: 'legacyClient1',
      }),
    ]);
    expect(second.stderr).toBe('');
    expect(JSON.parse(second.stdout).users).toEqual([
      expect.objectContaining({ sub: 'erin@example.com', grants: 1 }),
    ]);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(after.stdout).clients).toEqual([
      expect.objectContaining({ clientId: 'legacyClient1', liveGrants: 0 }),
    ]);
    expect((await stores(table).grants.getFamily('fam-legacy-1', NOW))?.revoked).toBe(true);
  });

  it.each([
    [[], 'a command is required: clients, grants, users or revoke'],
    [['frobnicate'], 'unknown command "frobnicate": use clients, grants, users or revoke'],
    [['clients', '--user', 'a'], '"clients" takes no --user'],
    [['grants', '--grant', 'x'], '"grants" takes no --grant'],
    [['revoke'], 'revoke needs exactly one of --user, --client or --grant'],
    [['revoke', '--user', 'a', '--client', 'b'], 'revoke needs exactly one of --user, --client or --grant'],
    [['revoke', '--user', ' '], '--user needs a value'],
    [
      ['users', '--stack', 'a', '--table', 'b'],
      'give one of --stack, --stage or --table, not stack and table',
    ],
    [['users', '--nope'], "Unknown option '--nope'"],
    [['users', 'extra'], 'unexpected argument "extra"'],
    [
      ['users', '--table', 't', '--data-dir', 'd'],
      '--data-dir is for the local server; it cannot go with --table',
    ],
  ])('refuses %j with exit code 2 and one line', async (argv, message) => {
    // Act
    const run = await admin(...argv);

    // Assess
    expect(run).toEqual({ code: 2, stdout: '', stderr: `admin: ${message} (npm run admin -- --help)\n` });
  });

  it('answers one line and exit code 1 for what it cannot do', async () => {
    // Prepare
    const table = await newTable();

    // Act
    const noGrant = await admin('revoke', '--grant', 'no-such-family', '--table', table);
    const noClient = await admin('revoke', '--client', 'noSuchClient', '--table', table);
    const noTable = await admin('users', '--table', 'no-such-table');
    const noLocal = await admin('users', '--data-dir', '/nonexistent/admin-test');

    // Assess
    expect(noGrant).toEqual({ code: 1, stdout: '', stderr: 'admin: no live grant "no-such-family"\n' });
    expect(noClient).toEqual({ code: 1, stdout: '', stderr: 'admin: no client "noSuchClient"\n' });
    expect(noTable.code).toBe(1);
    expect(noTable.stderr).toMatch(/^admin: ResourceNotFoundException: [^\n]+\n$/);
    expect(noLocal).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'admin: no local server is running on /nonexistent/admin-test: start it with npm start (the same DATA_DIR), or give --stack, --stage or --table\n',
    });
  });
});

describe('npm run admin against a deployed stack (--stack)', () => {
  it("reads the table from the stack's outputs, revokes a user everywhere, and audits the caller", async () => {
    // Prepare
    const table = await newTable('admin-stack-table');
    const { clients, grants, revocations } = stores(table);
    await clients.create(client('desktopApp01'));
    await clients.create(client('webApp000001'));
    await grants.createFamily(family('fam-frank-1', 'frank@example.com', 'desktopApp01'));
    await grants.createFamily(family('fam-frank-2', 'frank@example.com', 'webApp000001'));
    await grants.createFamily(family('fam-gina-1', 'gina@example.com', 'desktopApp01'));

    // Act
    const run = await admin('revoke', '--user', 'frank@example.com', '--stack', 'McpOAuth-test', '--json');
    const left = await admin('grants', '--stack', 'McpOAuth-test', '--json');

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).revoked).toEqual({
      target: 'user',
      id: 'frank@example.com',
      grants: [
        expect.objectContaining({ grantId: 'fam-frank-1', clientId: 'desktopApp01' }),
        expect.objectContaining({ grantId: 'fam-frank-2', clientId: 'webApp000001' }),
      ],
    });
    expect(JSON.parse(left.stdout).grants.map((g: { grantId: string }) => g.grantId)).toEqual(['fam-gina-1']);
    // One marker for the user: every token of theirs issued until a little after now is refused.
    const marker = await revocations.notBefore({ user: 'frank@example.com' }, NOW);
    expect(marker).toBeGreaterThan(NOW);
    const audit = run.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(audit).toEqual([
      expect.objectContaining({
        audit: 'revoke',
        target: 'user',
        sub: 'frank@example.com',
        by: 'admin',
        caller: CALLER_ARN,
        table: 'admin-stack-table',
      }),
    ]);
    expect(fake.calls).toEqual(
      expect.arrayContaining(['cloudformation:DescribeStacks:eu-west-1', 'sts:GetCallerIdentity:eu-west-1']),
    );
    // The same line, in the stack's audit log group, where the Logs Insights queries find it.
    expect(fake.logEvents).toEqual([
      {
        logGroupName: '/aws/lambda/oauth',
        logStreamName: expect.stringMatching(/^admin\/2026-12-07\/[0-9a-f-]{36}$/),
        message: run.stderr.trim(),
      },
    ]);
  });

  it('revokes, and says so, when CloudWatch Logs refuses the audit line', async () => {
    // Prepare
    await stores('admin-stack-table').clients.create(client('doomedClient'));

    // Act
    const run = await admin('revoke', '--client', 'doomedClient', '--stack', 'McpOAuth-refusing');

    // Assess
    expect(run.code).toBe(0);
    expect(await stores('admin-stack-table').clients.get('doomedClient')).toBeUndefined();
    const [line, warning] = run.stderr.trim().split('\n');
    expect(JSON.parse(line!)).toMatchObject({ audit: 'revoke', target: 'client', clientId: 'doomedClient' });
    expect(warning).toBe(
      'admin: the audit line above was not sent to CloudWatch Logs (AccessDeniedException: CreateLogStream answered 400 AccessDeniedException); keep it',
    );
  });

  it("finds a stage's stack and region in its stage file (--stage)", async () => {
    // Prepare
    const table = await newTable('admin-stage-table');
    await stores(table).clients.create(client('stageClient1'));
    process.env.AWS_REGION = 'us-east-2';

    // Act
    const run = await admin('clients', '--stage', 'dev', '--json').finally(() => {
      process.env.AWS_REGION = 'eu-west-1';
    });

    // Assess: stages/dev.json names McpOAuth in eu-west-1.
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).clients.map((c: { clientId: string }) => c.clientId)).toEqual([
      'stageClient1',
    ]);
    expect(fake.calls.at(-1)).toBe('cloudformation:DescribeStacks:eu-west-1');
  });

  it("says the stack's own error on one line", async () => {
    // Act
    const run = await admin('users', '--stack', 'NoSuchStack');

    // Assess
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'admin: cloudformation DescribeStacks failed: ValidationError: Stack with id NoSuchStack does not exist\n',
    });
  });
});
