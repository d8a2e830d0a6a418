/**
 * Round trips, counted: every request a process makes to a service (DynamoDB, Secrets Manager,
 * Parameter Store through the AWS SDK's `node:http` requests; the upstream OpenID provider through
 * `fetch`), seen through Node's diagnostics channels, so the code under measurement is unchanged.
 * For a window of time (one invocation, or one request to a server in this process) it gives the
 * requests per service and operation and the longest chain of requests that waited on each other
 * (each starting after the previous one's answer arrived): the figure a service's latency
 * multiplies, whatever the machine.
 *
 * `npm run bench` records the oauth function and `oidc-provider` with it, per endpoint and grant;
 * test/scripts/round-trips.test.ts holds the oauth function's counts to what they are now.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';

/**
 * What each oauth endpoint sends per request on its success path, warm (the signing keys and the
 * upstream's discovery already read): DynamoDB reads (`GetItem`) and writes (`PutItem`,
 * `UpdateItem`, `DeleteItem`), requests to the upstream OpenID provider, and the longest chain
 * of them that wait on each other. test/scripts/round-trips.test.ts holds the code to these
 * figures, and the capacity model (scripts/capacity-company.ts) multiplies them.
 */
export const OAUTH_ENDPOINT_REQUESTS = {
  // The client; the pending authorization.
  'GET /authorize': { reads: 1, writes: 1, upstream: 0, chain: 2 },
  // The pending authorization; the upstream's code exchange with the client read alongside; the
  // identity's write.
  'GET /callback': { reads: 2, writes: 1, upstream: 1, chain: 3 },
  // The pending authorization (checked before it is taken), its taking; then the family, its
  // user's item in the access index, the code, the consent and the client's last login, together.
  'POST /authorize (consent)': { reads: 1, writes: 6, upstream: 0, chain: 3 },
  // The client and the code together; the user's revocation marker, the grant family (revoked
  // since the login?) and the refresh token's store together; the code spent, last.
  'POST /token authorization_code': { reads: 4, writes: 2, upstream: 0, chain: 3 },
  // The client and the refresh token together; the family; the user's revocation marker, the
  // rotation, the new refresh token's store and (at most once an hour per family, so nearly every
  // refresh of a client that refreshes hourly) the family's last refresh, together. A due
  // re-check at the identity provider adds its call and two writes (`login/upstream-recheck.ts`).
  'POST /token refresh_token': { reads: 4, writes: 3, upstream: 0, chain: 3 },
  // The client.
  'POST /token client_credentials': { reads: 1, writes: 0, upstream: 0, chain: 1 },
} as const;

export type OAuthEndpoint = keyof typeof OAUTH_ENDPOINT_REQUESTS;

export interface OutboundRequest {
  /** `dynamodb`, `secretsmanager`, `ssm`, or `http <origin>` for anything else. */
  service: string;
  /** The AWS operation (`GetItem`), or `<METHOD> <path>`. */
  operation: string;
  start: number;
  /** When the answer's headers arrived; `Infinity` while none has. */
  end: number;
}

const AWS_SERVICES: Record<string, string> = {
  DynamoDB_20120810: 'dynamodb',
  secretsmanager: 'secretsmanager',
  AmazonSSM: 'ssm',
};

function classify(target: string | undefined, origin: string, method: string, path: string) {
  if (target) {
    const [prefix, operation] = target.split('.');
    return { service: AWS_SERVICES[prefix!] ?? prefix!, operation: operation ?? target };
  }
  return { service: `http ${origin}`, operation: `${method} ${path.split('?')[0]}` };
}

/** The longest chain of requests in which each started after the previous one was answered. */
export function longestChain(requests: readonly OutboundRequest[]): number {
  const sorted = [...requests].sort((a, b) => a.start - b.start);
  const chain: number[] = [];
  for (const [i, request] of sorted.entries()) {
    let best = 0;
    for (let j = 0; j < i; j++) if (sorted[j]!.end <= request.start) best = Math.max(best, chain[j]!);
    chain.push(best + 1);
  }
  return Math.max(0, ...chain);
}

/** Requests per service (`dynamodb: 2`), and per operation (`dynamodb GetItem: 2`). */
export function countByService(requests: readonly OutboundRequest[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { service } of requests) counts[service] = (counts[service] ?? 0) + 1;
  return counts;
}

export function describe(requests: readonly OutboundRequest[]): string {
  return [...requests]
    .sort((a, b) => a.start - b.start)
    .map((r) => `${r.service} ${r.operation}`)
    .join(', ');
}

export interface RoundTripRecorder {
  /** The requests made since the last `take()` (or since recording began), and forgets them. */
  take(): OutboundRequest[];
  /**
   * The requests made while each request to the server on `port` in this process was being
   * answered, one entry per server request, in order (sequential server requests only).
   */
  takeServed(port: number): { method: string; path: string; requests: OutboundRequest[] }[];
}

/**
 * Starts recording. `ignoreOrigins`: origins whose requests are the driver's own (the test's
 * requests to the server under measurement), not the server's.
 */
export function recordRoundTrips(options: { ignoreOrigins?: string[] } = {}): RoundTripRecorder {
  const ignore = new Set(options.ignoreOrigins ?? []);
  let requests: OutboundRequest[] = [];
  const served: { port: number; method: string; path: string; start: number; end: number }[] = [];
  const byRequest = new WeakMap<object, OutboundRequest>();

  subscribe('http.client.request.start', (message) => {
    const { request } = message as { request: ClientRequest };
    const origin = `${request.protocol}//${request.host}`;
    const target = request.getHeader('x-amz-target');
    const entry = {
      ...classify(typeof target === 'string' ? target : undefined, origin, request.method, request.path),
      start: performance.now(),
      end: Infinity,
    };
    byRequest.set(request, entry);
    requests.push(entry);
  });
  subscribe('http.client.response.finish', (message) => {
    const entry = byRequest.get((message as { request: ClientRequest }).request);
    if (entry) entry.end = performance.now();
  });
  // Node's fetch (undici): the upstream's discovery, token and JWKS requests.
  subscribe('undici:request:create', (message) => {
    const { request } = message as { request: { origin: string; method: string; path: string } };
    const origin = String(request.origin);
    if (ignore.has(origin)) return;
    const entry = { ...classify(undefined, origin, request.method, request.path), start: performance.now() };
    byRequest.set(request, { ...entry, end: Infinity });
    requests.push(byRequest.get(request)!);
  });
  subscribe('undici:request:headers', (message) => {
    const entry = byRequest.get((message as { request: object }).request);
    if (entry) entry.end = performance.now();
  });
  subscribe('http.server.request.start', (message) => {
    const { request } = message as { request: IncomingMessage; response: ServerResponse };
    const entry = {
      port: request.socket.localPort ?? 0,
      method: request.method ?? '',
      path: (request.url ?? '').split('?')[0]!,
      start: performance.now(),
      end: Infinity,
    };
    byRequest.set(request, entry as unknown as OutboundRequest);
    served.push(entry);
  });
  subscribe('http.server.response.finish', (message) => {
    const { request } = message as { request: IncomingMessage };
    const entry = byRequest.get(request) as unknown as { end: number } | undefined;
    if (entry) entry.end = performance.now();
  });

  return {
    take() {
      const taken = requests;
      requests = [];
      served.length = 0;
      return taken;
    },
    takeServed(port) {
      const windows = served.filter((s) => s.port === port);
      const result = windows.map((w) => ({
        method: w.method,
        path: w.path,
        requests: requests.filter((r) => r.start >= w.start && r.start <= w.end),
      }));
      requests = [];
      served.length = 0;
      return result;
    },
  };
}
