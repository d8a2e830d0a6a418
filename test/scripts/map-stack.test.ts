/**
 * `npm run map-stack`: a stack trace the deployed mcp bundle really logs (it runs without
 * `--enable-source-maps`) is mapped back to the TypeScript lines that threw and called.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_FILE, buildOptions, NODE_OPTIONS, PROJECT_ROOT } from '../../lib/bundling.js';
import { buildMap, mapStack } from '../../scripts/map-stack.js';
import { LAMBDA_RUNTIME_ENV, startBundle, type BundleProcess } from '../support/bundle-process.js';

/** The 1-based line of the first line of `file` that contains `text`. */
function lineOf(file: string, text: string): number {
  return (
    readFileSync(join(PROJECT_ROOT, file), 'utf8')
      .split('\n')
      .findIndex((l) => l.includes(text)) + 1
  );
}

let server: Server;
let outdir: string;
let mcp: BundleProcess | undefined;

beforeAll(async () => {
  // A Parameter Store (and DynamoDB) that answers a key set that is not JSON: the read at start
  // fails inside the bundle, and the function logs the error with its stack.
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end(JSON.stringify({ Parameter: { Value: 'not json' } })));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  outdir = mkdtempSync(join(tmpdir(), 'map-stack-'));
  await build(buildOptions('mcp', outdir));
}, 60_000);

afterAll(async () => {
  await mcp?.close();
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
  rmSync(outdir, { recursive: true, force: true });
});

it('maps the trace the mcp bundle logs back to the TypeScript lines that threw and called', async () => {
  // Prepare: the bundle as deployed, its start read failing
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  mcp = await startBundle(join(outdir, BUNDLE_FILE), {
    ...LAMBDA_RUNTIME_ENV,
    NODE_OPTIONS: NODE_OPTIONS.mcp,
    LOG_LEVEL: 'warn',
    ISSUER: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
    PUBLIC_KEYS_PARAMETER_NAME: '/McpOAuth/signing-keys/public-jwks',
    SSM_ENDPOINT: endpoint,
    TABLE_NAME: 'table',
    DYNAMODB_ENDPOINT: endpoint,
  });
  for (
    let i = 0;
    i < 100 && !mcp.logs.some((l) => l.message === 'signing keys not loaded at start; will retry');
    i++
  )
    await new Promise((resolve) => setTimeout(resolve, 20));
  const line = mcp.logs.find((l) => l.message === 'signing keys not loaded at start; will retry');
  const stack = (line?.error as { stack?: string } | undefined)?.stack ?? '';
  const { map, mapPath } = await buildMap('mcp');

  // Act
  const mapped = mapStack(JSON.stringify(line), map, mapPath);

  // Assess: logged against the minified bundle, mapped to the sources
  expect(stack).toMatch(/index\.mjs:\d+:\d+/);
  expect(stack).not.toContain('.ts:');
  expect(mapped).toContain(
    `lambda/shared/public-key-set.ts:${lineOf('lambda/shared/public-key-set.ts', 'throw new InvalidPublicKeySetError(message)')}:`,
  );
  expect(mapped).toContain(
    `lambda/shared/public-key-set.ts:${lineOf('lambda/shared/public-key-set.ts', "fail('public key set is not valid JSON')")}:`,
  );
  expect(mapped).toMatch(/lambda\/mcp\/aws\/ssm-public-key-source\.ts:\d+:\d+/);
  expect(mapped).not.toMatch(/index\.mjs:\d+:\d+/);
}, 60_000);

it('leaves positions the map does not cover, and text that names none, as they are', async () => {
  // Prepare
  const { map, mapPath } = await buildMap('mcp');
  const trace = 'Error: x\n    at node:internal/process/task_queues:95:5\n    at f (index.mjs:999999:1)';

  // Act
  const mapped = mapStack(trace, map, mapPath);

  // Assess
  expect(mapped).toBe(trace);
});
