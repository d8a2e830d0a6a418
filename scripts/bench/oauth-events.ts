/**
 * API Gateway HTTP API (payload 2.0) events for the benchmarks (the mcp function's and the oauth
 * function's), and the script a fresh `node` process runs to import a bundle and answer one of
 * them.
 */
import { createHash, randomBytes } from 'node:crypto';

export const BENCH_HOST = 'localhost:3000';

/** An API Gateway HTTP API (payload 2.0) event, as Lambda receives it. */
export function httpEvent(
  method: 'GET' | 'POST',
  path: string,
  { body, query = '', headers = {} }: { body?: string; query?: string; headers?: Record<string, string> },
) {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: query,
    headers: { host: BENCH_HOST, 'x-forwarded-proto': 'http', ...headers },
    requestContext: { domainName: BENCH_HOST, http: { method, path, sourceIp: '127.0.0.1' } },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  };
}

export const postEvent = (path: string, body: string, headers: Record<string, string>) =>
  httpEvent('POST', path, { body, headers });

export const registerEvent = (metadata: Record<string, unknown>) =>
  postEvent('/register', JSON.stringify(metadata), { 'content-type': 'application/json' });

export const formEvent = (
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) =>
  postEvent(path, new URLSearchParams(fields).toString(), {
    'content-type': 'application/x-www-form-urlencoded',
    ...headers,
  });

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** A public client's authorization request with PKCE, for `resource` `${issuer}/mcp`. */
export function authorizeEvent(
  clientId: string,
  issuer: string,
  path = '/authorize',
  extra: Record<string, string> = {},
) {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  return httpEvent('GET', path, {
    query: new URLSearchParams({
      client_id: clientId,
      redirect_uri: 'http://127.0.0.1/callback',
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'bench',
      resource: `${issuer}/mcp`,
      ...extra,
    }).toString(),
  });
}

/**
 * Runs inside a fresh `node` process: import the bundle, answer one event (EVENT), check the
 * status (EXPECT), print the time from before the import to the answer, the part that was the
 * import, and the process's CPU time until then (start-up included: less sensitive than wall time
 * to a machine that other work shares).
 */
export const FRESH_EVENT_SCRIPT = `
const t0 = performance.now();
const { handler } = await import(process.env.BUNDLE);
const imported = performance.now();
const result = await handler(JSON.parse(process.env.EVENT));
const ms = performance.now() - t0;
if (result.statusCode !== Number(process.env.EXPECT)) { console.error(JSON.stringify(result)); process.exit(1); }
const cpu = process.cpuUsage();
console.log(JSON.stringify({ ms, importMs: imported - t0, cpuMs: (cpu.user + cpu.system) / 1000, body: result.body }));
`;
