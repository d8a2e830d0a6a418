/**
 * Generated client assertions at `POST /token` and `POST /revoke` of the local server: JWTs with
 * any header and claims, signed with the client's real key (so that every claim check is
 * reached) or carrying any signature bytes, and mutations of a valid assertion (a character, a
 * segment, the header's `alg`/`kid`, a claim). Each is answered with an OAuth error (never a 5xx,
 * never a stack trace), and a refused request writes nothing; only an assertion that passes
 * every check gets a token, and then writes only its used `jti`.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import type { LocalServer } from '../../lib/local/server.js';
import { CLIENT_ASSERTION_TYPE } from '../../lambda/oauth/clients/client-assertion.js';
import { registerClient, startTestServer } from '../support/local-server.js';
import { rawRequest } from '../support/raw-http.js';
import { keyKind, NO_CHANGES, tableChanges, tableReader, type TableReader } from '../support/table.js';

const SEED = 7523;
const RUNS = 120;

let server: LocalServer;
let table: TableReader;
let clientId: string;
let privateKey: KeyObject;

beforeAll(async () => {
  server = await startTestServer();
  table = tableReader(server);
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey;
  const registered = await registerClient(server.issuer, {
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...pair.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] },
  });
  clientId = registered.client_id;
});
afterAll(async () => {
  table.close();
  await server.close();
});

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** An RS256 signature by the client's key over whatever header and claims were generated. */
function signed(header: string, payload: string): string {
  return `${header}.${payload}.${sign('sha256', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url')}`;
}

/** Placeholders become real values, so that the checks past the first can be reached. */
function realise(value: Record<string, unknown>): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const real: Record<string, unknown> = {
    CLIENT: clientId,
    ISSUER: server.issuer,
    TOKEN_ENDPOINT: `${server.issuer}/token`,
    SOON: now + 60,
    NOW: now,
    KID: 'k1',
    JTI: crypto.randomUUID(),
  };
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, typeof v === 'string' && v in real ? real[v] : v]),
  );
}

// No URL-shaped issuer: a URL client id would be fetched as a metadata document, off loopback.
const notUrl = fc.string().filter((s) => !/^https?:/i.test(s));
const jsonValue = fc.jsonValue({ maxDepth: 3 }).filter((v) => typeof v !== 'string' || !/^https?:/i.test(v));
const header = fc.record(
  {
    alg: fc.oneof(
      fc.constantFrom('RS256', 'RS256', 'none', 'HS256', 'PS256', 'ES256', 'EdDSA', 'rs256', ''),
      jsonValue,
    ),
    kid: fc.oneof(fc.constantFrom('KID', 'KID', 'other'), jsonValue),
    typ: fc.oneof(fc.constantFrom('JWT', 'at+jwt', 'oauth-id-jag+jwt'), jsonValue),
    crit: fc.oneof(fc.array(fc.constantFrom('b64', 'exp', 'x')), jsonValue),
    b64: fc.boolean(),
    jwk: fc.object(),
  },
  { requiredKeys: [] },
);
const claims = fc.record(
  {
    iss: fc.oneof(fc.constantFrom('CLIENT', 'CLIENT', 'CLIENT'), notUrl, jsonValue),
    sub: fc.oneof(fc.constantFrom('CLIENT', 'CLIENT'), notUrl, jsonValue),
    aud: fc.oneof(
      fc.constantFrom('ISSUER', 'TOKEN_ENDPOINT', 'ISSUER'),
      fc.array(fc.constantFrom('ISSUER', 'x')),
      jsonValue,
    ),
    exp: fc.oneof(fc.constantFrom('SOON', 'SOON', 'NOW'), fc.integer(), fc.double(), jsonValue),
    iat: fc.oneof(fc.constant('NOW'), fc.integer(), jsonValue),
    nbf: fc.oneof(fc.integer(), jsonValue),
    jti: fc.oneof(fc.constantFrom('JTI', 'JTI', 'fixed'), fc.string({ maxLength: 300 }), jsonValue),
  },
  { requiredKeys: [] },
);
const segment = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
  fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/),
);

function realised(value: Record<string, unknown>): string {
  const real = realise(value);
  // Arrays of placeholders (`aud`) are realised too.
  for (const [k, v] of Object.entries(real)) if (Array.isArray(v)) real[k] = v.map((x) => realise({ x }).x);
  return b64(real);
}

async function send(
  endpoint: 'token' | 'revoke',
  assertion: string,
  extra: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const params = new URLSearchParams({
    ...(endpoint === 'token' ? { grant_type: 'client_credentials' } : { token: 'x'.repeat(43) }),
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: assertion,
    ...extra,
  });
  const response = await rawRequest(server.issuer, {
    method: 'POST',
    path: `/${endpoint}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: params.toString(),
  });
  return { status: response.status, body: response.body };
}

/** A refusal is an OAuth error with a description and nothing written; a success writes one used `jti`. */
async function expectAnswered(
  endpoint: 'token' | 'revoke',
  assertion: string,
  extra?: Record<string, string>,
) {
  const before = await table.snapshot();
  const { status, body } = await send(endpoint, assertion, extra);
  const changes = tableChanges(before, await table.snapshot());
  const label = assertion.slice(0, 300);
  expect([label, status < 500]).toEqual([label, true]);
  if (status === 200) {
    expect(changes.added.map(keyKind)).toEqual(['jti']);
    return;
  }
  expect([label, status]).toEqual([label, expect.any(Number)]);
  const parsed = JSON.parse(body) as { error: string; error_description: string };
  expect(['invalid_client', 'invalid_request']).toContain(parsed.error);
  expect(parsed.error_description).not.toMatch(/\n\s+at /);
  expect([label, changes]).toEqual([label, NO_CHANGES]);
}

const property = <T>(arbitrary: fc.Arbitrary<T>, check: (value: T) => Promise<void>) =>
  fc.assert(fc.asyncProperty(arbitrary, check), {
    seed: SEED,
    numRuns: RUNS,
    interruptAfterTimeLimit: 60_000,
    markInterruptAsFailure: true,
  });

describe('generated client assertions', () => {
  it('answers any header and claims signed with the client key with an OAuth error or a token, never a 5xx', async () => {
    await property(
      fc.tuple(header, claims, fc.constantFrom('token', 'revoke') as fc.Arbitrary<'token' | 'revoke'>),
      async ([h, c, endpoint]) => {
        const realH = realised(h);
        await expectAnswered(endpoint, signed(realH, realised(c)));
      },
    );
  });

  it('refuses any header, claims and signature bytes', async () => {
    await property(
      fc.tuple(fc.oneof(header.map(realised), segment), fc.oneof(claims.map(realised), segment), segment),
      async ([h, c, s]) => {
        await expectAnswered('token', `${h}.${c}.${s}`);
      },
    );
  });

  it('refuses single-character and segment mutations of a valid assertion, with any client_id', async () => {
    const base = () =>
      signed(
        b64({ alg: 'RS256', kid: 'k1' }),
        b64({
          iss: clientId,
          sub: clientId,
          aud: server.issuer,
          exp: Math.floor(Date.now() / 1000) + 60,
          jti: crypto.randomUUID(),
        }),
      );
    await property(
      fc.tuple(
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 3 }),
        fc.constantFrom('replace', 'drop-segment', 'extra-segment', 'truncate'),
        fc.option(fc.oneof(fc.constant('CLIENT'), notUrl), { nil: undefined }),
      ),
      async ([at, text, how, id]) => {
        const valid = base();
        const i = at % valid.length;
        const mutated =
          how === 'replace'
            ? `${valid.slice(0, i)}${text}${valid.slice(i + 1)}`
            : how === 'drop-segment'
              ? valid.split('.').slice(0, 2).join('.')
              : how === 'extra-segment'
                ? `${valid}.${text}`
                : valid.slice(0, i);
        if (mutated === valid) return;
        await expectAnswered(
          'token',
          mutated,
          id === undefined ? {} : { client_id: id === 'CLIENT' ? clientId : id },
        );
      },
    );
  });
});
