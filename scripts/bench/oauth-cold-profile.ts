/**
 * `npm run bench:oauth-profile`: where the oauth function's cold start goes. Fresh processes (as
 * `npm run bench` starts them, with the deployed NODE_OPTIONS) import the deployed bundle and
 * answer one request each, first `client_credentials` `/token` then `GET /authorize`, under
 * Node's sampling profiler (`--cpu-prof`, 100 µs); the samples are mapped through the bundle's
 * source map to the package or project folder they ran in, and summed over all the processes.
 * Time spent waiting (a stand-in's answer) shows as `(idle)`, the compiler and module loading
 * of Node itself as `(program)` and `node:` internals.
 *
 * BENCH_PROFILE_RUNS fresh processes per path (default 15); BUNDLE=<path to index.mjs> profiles a
 * bundle built elsewhere (for comparing a change).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildOptions, NODE_OPTIONS, PROJECT_ROOT } from '../../lib/bundling.js';
import { startLocalDynamo } from '../../lib/local/dynamodb.js';
import { startLocalUpstream } from '../../lib/local/upstream-provider.js';
import { generateSigningKey } from '../../lambda/shared/key-set.js';
import { startFakeAws } from '../../test/support/fake-aws.js';
import { authorizeEvent, FRESH_EVENT_SCRIPT, postEvent, registerEvent } from './oauth-events.js';

const RUNS = Number(process.env.BENCH_PROFILE_RUNS ?? 15);
const ISSUER = 'http://localhost:3000';

interface Profile {
  nodes: {
    id: number;
    callFrame: { url: string; lineNumber: number; columnNumber: number; functionName: string };
  }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function runChild(script: string, env: Record<string, string>, args: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, '--input-type=module', '-e', script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(stderr))));
  });
}

/** The package (`@smithy/core`) or project folder (`lambda/oauth`) a bundle position came from. */
function origin(source: string | undefined): string {
  if (!source) return '(bundle, unmapped)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (modules) return modules[1]!;
  const project = /(lambda\/[^/]+(?:\/[^/]+)?)\//.exec(source);
  return project ? project[1]! : source;
}

function attribute(profile: Profile, bundleUrl: string, map: SourceMap, totals: Map<string, number>) {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  for (const [i, id] of profile.samples.entries()) {
    const frame = byNode.get(id)!;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    let key: string;
    if (frame.url === bundleUrl) {
      const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string };
      key = origin(entry.originalSource);
    } else if (frame.url.startsWith('node:')) key = frame.url.replace(/^node:internal\/(deps\/)?/, 'node:');
    else if (frame.url === '') key = frame.functionName || '(native)';
    else key = '(the measuring script)';
    totals.set(key, (totals.get(key) ?? 0) + ms);
  }
}

async function main() {
  let bundle = process.env.BUNDLE;
  if (!bundle) {
    const dir = join(PROJECT_ROOT, '.bench', 'oauth-profile');
    await build(buildOptions('oauth', dir));
    bundle = join(dir, 'index.mjs');
  }
  const bundleUrl = `file://${bundle}`;
  const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')));
  const key = await generateSigningKey();
  const aws = await startFakeAws({ current: key });
  const dynamo = await startLocalDynamo({ tableName: 'bench' });
  const upstream = await startLocalUpstream({ callbackUrl: `${ISSUER}/callback` });
  const env = {
    NODE_OPTIONS: NODE_OPTIONS.oauth,
    ISSUER,
    LOG_LEVEL: 'warn',
    BUNDLE: bundle,
    SIGNING_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `${aws.url}/`,
    TABLE_NAME: 'bench',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    UPSTREAM_ISSUER: upstream.issuer,
    UPSTREAM_CLIENT_ID: upstream.clientId,
    UPSTREAM_CLIENT_SECRET: upstream.clientSecret,
  };
  try {
    const fresh = async (event: unknown, expect: number) =>
      JSON.parse(
        (await runChild(FRESH_EVENT_SCRIPT, { ...env, EVENT: JSON.stringify(event), EXPECT: String(expect) }))
          .trim()
          .split('\n')
          .pop()!,
      ) as { ms: number; body: string };
    const machine = JSON.parse(
      (await fresh(registerEvent({ grant_types: ['client_credentials'] }), 201)).body,
    ) as Record<string, string>;
    const desktop = JSON.parse(
      (
        await fresh(
          registerEvent({
            redirect_uris: ['http://127.0.0.1/callback'],
            grant_types: ['authorization_code', 'refresh_token'],
            token_endpoint_auth_method: 'none',
            application_type: 'native',
          }),
          201,
        )
      ).body,
    ) as Record<string, string>;
    for (let i = 0; i < 20; i++)
      await (await fetch(`${upstream.issuer}/.well-known/openid-configuration`)).text();
    const paths = {
      'import + first client_credentials /token': {
        event: postEvent('/token', 'grant_type=client_credentials', {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${machine.client_id}:${machine.client_secret}`).toString('base64')}`,
        }),
        expect: 200,
      },
      'import + first GET /authorize': { event: authorizeEvent(desktop.client_id!, ISSUER), expect: 302 },
    };
    for (const [name, { event, expect }] of Object.entries(paths)) {
      const totals = new Map<string, number>();
      const walls: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const dir = mkdtempSync(join(tmpdir(), 'oauth-prof-'));
        const out = await runChild(
          FRESH_EVENT_SCRIPT,
          { ...env, EVENT: JSON.stringify(event), EXPECT: String(expect) },
          ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', dir],
        );
        walls.push((JSON.parse(out.trim().split('\n').pop()!) as { ms: number }).ms);
        const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
        attribute(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile, bundleUrl, map, totals);
        rmSync(dir, { recursive: true });
      }
      walls.sort((a, b) => a - b);
      console.log(
        `\n${name}: median ${walls[Math.floor(RUNS / 2)]!.toFixed(1)} ms over ${RUNS} fresh processes`,
      );
      console.log('| where (whole process, sampled) | ms per process |\n| --- | ---: |');
      for (const [where, ms] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 22)) {
        console.log(`| ${where} | ${(ms / RUNS).toFixed(1)} |`);
      }
    }
  } finally {
    await upstream.close();
    await dynamo.close();
    await aws.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
