/**
 * Serves a function bundle's Lambda handler over loopback HTTP through the same bridge as the
 * local server (`lib/local/http-bridge.ts`), for the requests-per-second figure. Prints the URL.
 * Usage: tsx scripts/bench/serve-bundle.ts <bundle.mjs>
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { LambdaHttpHandler } from '../../lambda/shared/lambda-adapter.js';
import { readBody, toEvent, writeResult } from '../../lib/local/http-bridge.js';

const { handler } = (await import(pathToFileURL(process.argv[2]!).href)) as { handler: LambdaHttpHandler };
const server = createServer((req, res) => {
  void (async () => {
    const body = await readBody(req);
    writeResult(res, await handler(toEvent(req, body, { path: '/mcp', params: {} })));
  })();
});
server.listen(0, '127.0.0.1', () =>
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
);
