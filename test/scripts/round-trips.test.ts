/**
 * The requests each oauth endpoint makes to DynamoDB and the upstream per request, and the longest
 * chain of them that wait on each other, on the success path, counted through the local server
 * (the real handlers, the embedded DynamoDB engine and the local upstream on loopback) with
 * scripts/bench/round-trips.ts. Counts, not times: what AWS latency multiplies cannot grow
 * without this test saying so. doc/performance.md ("Round trips") explains each figure.
 *
 * The local server reads the signing keys from a file, so Secrets Manager's one read per process
 * (the first token, the first `/.well-known/jwks.json`) does not show here; the bench counts it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { LocalServer } from '../../lib/local/server.js';
import {
  countByService,
  longestChain,
  OAUTH_ENDPOINT_REQUESTS,
  recordRoundTrips,
  type OutboundRequest,
  type RoundTripRecorder,
} from '../../scripts/bench/round-trips.js';
import {
  basicAuth,
  registerClient,
  registerMachineClient,
  startTestServer,
} from '../support/local-server.js';
import { answerConsent, startLogin, UserAgent } from '../support/user-agent.js';

let server: LocalServer;
let recorder: RoundTripRecorder;
const REDIRECT = 'http://127.0.0.1/callback';

beforeAll(async () => {
  server = await startTestServer();
  recorder = recordRoundTrips({ ignoreOrigins: [new URL(server.issuer).origin] });
});
afterAll(() => server.close());

interface Counted {
  /** Requests per service: `dynamodb`, or `upstream` for the upstream OpenID provider. */
  counts: Record<string, number>;
  chain: number;
  /** The DynamoDB operations, in the order they started. */
  operations: string[];
}

function summarize(requests: OutboundRequest[]): Counted {
  const upstream = `http ${new URL(server.upstreamIssuer).origin}`;
  const renamed = requests.map((r) => (r.service === upstream ? { ...r, service: 'upstream' } : r));
  return {
    counts: countByService(renamed),
    chain: longestChain(renamed),
    operations: [...renamed]
      .sort((a, b) => a.start - b.start)
      .filter((r) => r.service === 'dynamodb')
      .map((r) => r.operation),
  };
}

/** The requests made while the server answered `method path` (the only such request in `served`). */
function servedOnce(
  served: ReturnType<RoundTripRecorder['takeServed']>,
  method: string,
  path: string,
): Counted {
  const matching = served.filter((s) => s.method === method && s.path === path);
  expect(matching).toHaveLength(1);
  return summarize(matching[0]!.requests);
}

async function tokenRequest(body: Record<string, string>, headers: Record<string, string> = {}) {
  recorder.take();
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
  const json = (await response.json()) as Record<string, string>;
  expect(response.status).toBe(200);
  return { json, counted: summarize(recorder.take()) };
}

/** One login: the counts of GET /authorize, GET /callback and POST /authorize, and the code. */
async function countedLogin(clientId: string) {
  const verifier = randomBytes(32).toString('base64url');
  const url = `${server.issuer}/authorize?${new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'round-trips',
    resource: `${server.issuer}/mcp`,
  })}`;
  const servers = { issuer: server.issuer, upstreamIssuer: server.upstreamIssuer };
  const agent = new UserAgent();
  recorder.take();
  const step = await startLogin(agent, url, servers, { username: 'round-trips-user' });
  const answer = await answerConsent(agent, servers, step.consent!.fields, 'approve');
  expect(answer.status).toBe(303);
  const served = recorder.takeServed(server.port);
  const code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
  return {
    authorize: servedOnce(served, 'GET', '/authorize'),
    callback: servedOnce(served, 'GET', '/callback'),
    consent: servedOnce(served, 'POST', '/authorize'),
    code,
    verifier,
  };
}

test('each endpoint makes as many requests as counted here, in chains no longer', async () => {
  const client = await registerClient(server.issuer, {
    client_name: 'Round trips',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  });
  const machine = await registerMachineClient(server.issuer);
  // A first login and grant, uncounted: the upstream's discovery and JWKS are read once per process.
  const first = await countedLogin(client.client_id);
  await tokenRequest({
    grant_type: 'authorization_code',
    client_id: client.client_id,
    code: first.code,
    code_verifier: first.verifier,
    redirect_uri: REDIRECT,
  });

  const login = await countedLogin(client.client_id);
  const code = await tokenRequest({
    grant_type: 'authorization_code',
    client_id: client.client_id,
    code: login.code,
    code_verifier: login.verifier,
    redirect_uri: REDIRECT,
  });
  const refresh = await tokenRequest({
    grant_type: 'refresh_token',
    client_id: client.client_id,
    refresh_token: code.json.refresh_token!,
  });
  const machineToken = await tokenRequest(
    { grant_type: 'client_credentials' },
    { authorization: basicAuth(machine.clientId, machine.clientSecret) },
  );
  const table = {
    'GET /authorize': login.authorize,
    'GET /callback': login.callback,
    'POST /authorize (consent)': login.consent,
    'POST /token authorization_code': code.counted,
    'POST /token refresh_token': refresh.counted,
    'POST /token client_credentials': machineToken.counted,
  };
  const reads = (list: string[]) => list.filter((op) => op === 'GetItem').length;
  const shown = Object.fromEntries(
    Object.entries(table).map(([k, v]) => [
      k,
      {
        reads: reads(v.operations),
        writes: (v.counts.dynamodb ?? 0) - reads(v.operations),
        upstream: v.counts.upstream ?? 0,
        chain: v.chain,
        other: Object.keys(v.counts).filter((service) => !['dynamodb', 'upstream'].includes(service)),
      },
    ]),
  );
  // Each endpoint as OAUTH_ENDPOINT_REQUESTS says (its comments say what each request is), and
  // no request to any other service.
  expect(shown).toEqual(
    Object.fromEntries(Object.entries(OAUTH_ENDPOINT_REQUESTS).map(([k, v]) => [k, { ...v, other: [] }])),
  );
});
