/**
 * The oauth function against `oidc-provider` (scripts/bench/oidc-provider-entry.ts), both bundled
 * with the deployed esbuild options, behind the same Lambda adapter, against the same stand-ins:
 * the embedded DynamoDB engine behind a loopback proxy that answers after BENCH_SERVICE_LATENCY_MS
 * (as the service's own latency would), the Secrets Manager stand-in of test/support/fake-aws.ts
 * with the same latency, and for the oauth function's `/authorize` the local upstream provider.
 *
 * - bundle bytes;
 * - import + first `client_credentials` `/token`, and import + first `GET /authorize`: medians
 *   over fresh `node` processes, the two bundles taking turns process by process;
 * - warm `/token` per grant (median, p99) and warm `/authorize`, in one process per bundle
 *   (scripts/bench/oauth-warm-child.ts), each invocation's requests to the stand-ins counted.
 */
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { statSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { build } from 'esbuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildOptions, NODE_OPTIONS, PROJECT_ROOT } from '../../lib/bundling.js';
import { startLocalDynamo } from '../../lib/local/dynamodb.js';
import { startLocalUpstream } from '../../lib/local/upstream-provider.js';
import { issueAuthorizationCode } from '../../lambda/oauth/login/authorization-response.js';
import { DynamoClientStore } from '../../lambda/oauth/stores/client-store.js';
import type { OAuthDeps } from '../../lambda/oauth/deps.js';
import { DynamoGrantStore } from '../../lambda/oauth/stores/grant-store.js';
import { generateSigningKey } from '../../lambda/shared/key-set.js';
import { startFakeAws } from '../../test/support/fake-aws.js';
import { authorizeEvent, basic, FRESH_EVENT_SCRIPT, formEvent, registerEvent } from './oauth-events.js';

export type Server = 'oauth' | 'oidcProvider';
export const SERVERS: Server[] = ['oidcProvider', 'oauth'];

export interface Latency {
  median: number;
  p99: number;
  count: number;
  /** Median CPU time of the function's process per invocation, ms. */
  cpuMedian: number;
  trips: { counts: Record<string, number>; chain: number };
}
export interface AnchorFigures {
  bytes: Record<Server, number>;
  firstTokenMs: Record<Server, number>;
  firstAuthorizeMs: Record<Server, number>;
  /** The import alone, within the first `/token` runs. */
  importMs: Record<Server, number>;
  /** The fresh processes' CPU time (start-up included) until the answer: less load-sensitive. */
  firstTokenCpuMs: Record<Server, number>;
  firstAuthorizeCpuMs: Record<Server, number>;
  warm: Record<
    Server,
    Record<'client_credentials' | 'authorization_code' | 'refresh_token' | 'authorize', Latency>
  >;
}

const ISSUER = 'http://localhost:3000';
const TABLE = 'bench';
const outRoot = join(PROJECT_ROOT, '.bench');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function runNode(
  script: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...args, ...(script.endsWith('.ts') ? [script] : ['--input-type=module', '-e', script])],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`benchmark child failed: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
}

/** A loopback proxy in front of the embedded DynamoDB engine that answers after `latencyMs`. */
async function delayingProxy(
  target: string,
  latencyMs: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            const send = () =>
              res.writeHead(answer.statusCode ?? 500, answer.headers).end(Buffer.concat(body));
            if (latencyMs) setTimeout(send, latencyMs);
            else send();
          });
        },
      );
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

async function buildBundles(): Promise<Record<Server, string>> {
  const oauthDir = join(outRoot, 'oauth');
  const anchorDir = join(outRoot, 'oidc-provider');
  await build(buildOptions('oauth', oauthDir));
  await build({
    ...buildOptions('oauth', anchorDir),
    entryPoints: [join(PROJECT_ROOT, 'scripts/bench/oidc-provider-entry.ts')],
  });
  return { oauth: join(oauthDir, 'index.mjs'), oidcProvider: join(anchorDir, 'index.mjs') };
}

/**
 * Codes for the oauth function as a finished login leaves them: the consent step's own
 * `issueAuthorizationCode`, against the same table.
 */
async function mintOAuthCodes(endpoint: string, clientId: string, count: number) {
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const deps = {
    grants: new DynamoGrantStore(db, TABLE),
    clients: new DynamoClientStore(db, TABLE),
    config: { refreshTokenAbsoluteTtlSeconds: 30 * 86_400, clientIdleTtlSeconds: 90 * 86_400 },
    logger: { info() {} },
  } as unknown as OAuthDeps;
  const codes: { code: string; verifier: string }[] = [];
  for (let i = 0; i < count; i++) {
    const verifier = randomBytes(32).toString('base64url');
    const code = await issueAuthorizationCode(
      {
        clientId,
        redirectUri: 'http://127.0.0.1/callback',
        redirectUriSent: true,
        codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
        scope: 'mcp:tools mcp:resources',
        audience: `${ISSUER}/mcp`,
        forceConsent: false,
      },
      { sub: 'bench-user' },
      deps,
      Date.now(),
    );
    codes.push({ code, verifier });
  }
  db.destroy();
  return codes;
}

export async function measureOAuthAnchor(options: {
  freshRuns: number;
  logins: number;
  rounds: number;
  warmup: number;
  latencyMs: number;
}): Promise<AnchorFigures> {
  const bundles = await buildBundles();
  const key = await generateSigningKey();
  const aws = await startFakeAws({ current: key }, { latencyMs: options.latencyMs });
  const dynamo = await startLocalDynamo({ tableName: TABLE });
  const proxy = await delayingProxy(dynamo.endpoint, options.latencyMs);
  const upstream = await startLocalUpstream({ callbackUrl: `${ISSUER}/callback` });
  const env = {
    NODE_OPTIONS: NODE_OPTIONS.oauth,
    ISSUER,
    LOG_LEVEL: 'warn',
    TABLE_NAME: TABLE,
    SIGNING_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `${aws.url}/`,
    AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
    UPSTREAM_ISSUER: upstream.issuer,
    UPSTREAM_CLIENT_ID: upstream.clientId,
    UPSTREAM_CLIENT_SECRET: upstream.clientSecret,
  };
  try {
    const fresh = (server: Server, event: unknown, expect: number) =>
      runNode(FRESH_EVENT_SCRIPT, {
        ...env,
        BUNDLE: bundles[server],
        EVENT: JSON.stringify(event),
        EXPECT: String(expect),
      });
    const clients = {} as Record<
      Server,
      { machine: Record<string, string>; desktop: Record<string, string> }
    >;
    for (const server of SERVERS) {
      const machine = await fresh(
        server,
        registerEvent({
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
          scope: 'mcp:tools mcp:resources',
        }),
        201,
      );
      const desktop = await fresh(
        server,
        registerEvent({
          client_name: 'bench desktop app',
          redirect_uris: ['http://127.0.0.1/callback'],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
          application_type: 'native',
        }),
        201,
      );
      clients[server] = {
        machine: JSON.parse(machine.body as string) as Record<string, string>,
        desktop: JSON.parse(desktop.body as string) as Record<string, string>,
      };
    }
    const tokenEvent = (server: Server) =>
      formEvent(
        '/token',
        { grant_type: 'client_credentials', resource: `${ISSUER}/mcp` },
        { authorization: basic(clients[server].machine.client_id!, clients[server].machine.client_secret!) },
      );
    const authorize = (server: Server) => authorizeEvent(clients[server].desktop.client_id!, ISSUER);
    const authorizeStatus: Record<Server, number> = { oauth: 302, oidcProvider: 303 };
    // The provider (Koa) is slow on its own first requests; that is not the function's cost.
    for (let i = 0; i < 20; i++)
      await (await fetch(`${upstream.issuer}/.well-known/openid-configuration`)).text();

    const runs = Object.fromEntries(
      ['token', 'authorize', 'importMs', 'tokenCpu', 'authorizeCpu'].map((k) => [
        k,
        { oauth: [], oidcProvider: [] },
      ]),
    ) as unknown as Record<
      'token' | 'authorize' | 'importMs' | 'tokenCpu' | 'authorizeCpu',
      Record<Server, number[]>
    >;
    for (let i = 0; i < options.freshRuns; i++) {
      for (const server of SERVERS) {
        const token = await fresh(server, tokenEvent(server), 200);
        runs.token[server].push(token.ms as number);
        runs.importMs[server].push(token.importMs as number);
        runs.tokenCpu[server].push(token.cpuMs as number);
      }
      for (const server of SERVERS) {
        const first = await fresh(server, authorize(server), authorizeStatus[server]);
        runs.authorize[server].push(first.ms as number);
        runs.authorizeCpu[server].push(first.cpuMs as number);
      }
    }

    const codesFile = join(outRoot, 'oauth-codes.json');
    writeFileSync(
      codesFile,
      JSON.stringify(
        await mintOAuthCodes(proxy.url, clients.oauth.desktop.client_id!, options.logins + options.warmup),
      ),
    );
    const warm = {} as AnchorFigures['warm'];
    for (const server of SERVERS) {
      warm[server] = (await runNode(
        join(PROJECT_ROOT, 'scripts/bench/oauth-warm-child.ts'),
        {
          ...env,
          BUNDLE: bundles[server],
          KIND: server === 'oauth' ? 'oauth' : 'oidc-provider',
          CODES: codesFile,
          PUBLIC_CLIENT: clients[server].desktop.client_id!,
          MACHINE_CLIENT: clients[server].machine.client_id!,
          MACHINE_SECRET: clients[server].machine.client_secret!,
          LOGINS: String(options.logins),
          ROUNDS: String(options.rounds),
          WARMUP: String(options.warmup),
          AUTHORIZE_EVENT: JSON.stringify(authorize(server)),
          AUTHORIZE_STATUS: String(authorizeStatus[server]),
        },
        ['--import', 'tsx'],
      )) as unknown as AnchorFigures['warm'][Server];
    }
    const per = (values: Record<Server, number[]>) => ({
      oauth: median(values.oauth),
      oidcProvider: median(values.oidcProvider),
    });
    return {
      bytes: { oauth: statSync(bundles.oauth).size, oidcProvider: statSync(bundles.oidcProvider).size },
      firstTokenMs: per(runs.token),
      firstAuthorizeMs: per(runs.authorize),
      importMs: per(runs.importMs),
      firstTokenCpuMs: per(runs.tokenCpu),
      firstAuthorizeCpuMs: per(runs.authorizeCpu),
      warm,
    };
  } finally {
    await upstream.close();
    await proxy.close();
    await dynamo.close();
    await aws.close();
  }
}

/** The comparison as Markdown tables, with the floors of issue 22 judged. */
export function formatAnchor(f: AnchorFigures, latencyMs: number): string {
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
  const lines: string[] = [];
  const row = (name: string, r: Record<Server, number>) =>
    lines.push(
      `| ${name} | ${fmt(r.oidcProvider)} | ${fmt(r.oauth)} | ${(r.oauth / r.oidcProvider).toFixed(3)} |`,
    );
  lines.push(`\noauth function against oidc-provider (service latency ${latencyMs} ms)\n`);
  lines.push('| figure | oidc-provider | oauth function | ratio |', '| --- | ---: | ---: | ---: |');
  row('bundle bytes', f.bytes);
  row('import + first client_credentials /token, ms (median)', f.firstTokenMs);
  row('… of which import, ms (median)', f.importMs);
  row('… CPU of the process, start-up included, ms (median)', f.firstTokenCpuMs);
  row('import + first /authorize, ms (median)', f.firstAuthorizeMs);
  row('… CPU of the process, start-up included, ms (median)', f.firstAuthorizeCpuMs);
  const grants = ['client_credentials', 'authorization_code', 'refresh_token', 'authorize'] as const;
  for (const grant of grants) {
    const name = grant === 'authorize' ? 'warm GET /authorize' : `warm /token ${grant}`;
    row(`${name}, ms (median)`, {
      oauth: f.warm.oauth[grant].median,
      oidcProvider: f.warm.oidcProvider[grant].median,
    });
    row(`${name}, ms (p99)`, {
      oauth: f.warm.oauth[grant].p99,
      oidcProvider: f.warm.oidcProvider[grant].p99,
    });
    row(`${name}, CPU ms (median)`, {
      oauth: f.warm.oauth[grant].cpuMedian,
      oidcProvider: f.warm.oidcProvider[grant].cpuMedian,
    });
  }
  lines.push(
    '\nround trips per warm invocation (requests per service; longest chain of requests waiting on each other)\n',
  );
  lines.push('| endpoint | oidc-provider | oauth function |', '| --- | --- | --- |');
  const trips = (t: Latency['trips']) =>
    `${
      Object.entries(t.counts)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ') || 'none'
    }; chain ${t.chain}`;
  for (const grant of grants) {
    const name = grant === 'authorize' ? 'GET /authorize' : `POST /token ${grant}`;
    lines.push(
      `| ${name} | ${trips(f.warm.oidcProvider[grant].trips)} | ${trips(f.warm.oauth[grant].trips)} |`,
    );
  }
  const floors: [string, number, number][] = [
    [
      'import + first client_credentials /token ≤ 1/2',
      f.firstTokenMs.oauth / f.firstTokenMs.oidcProvider,
      0.5,
    ],
    ['import + first /authorize ≤ 1/2', f.firstAuthorizeMs.oauth / f.firstAuthorizeMs.oidcProvider, 0.5],
    ...(['client_credentials', 'authorization_code', 'refresh_token'] as const).map(
      (g): [string, number, number] => [
        `warm /token ${g} ≤ 1/2`,
        f.warm.oauth[g].median / f.warm.oidcProvider[g].median,
        0.5,
      ],
    ),
    ['bundle ≤ oidc-provider', f.bytes.oauth / f.bytes.oidcProvider, 1],
  ];
  lines.push('');
  for (const [name, ratio, limit] of floors)
    lines.push(`${ratio <= limit ? 'MET ' : 'MISS'} ${name} (ratio ${ratio.toFixed(3)})`);
  return lines.join('\n');
}
