/**
 * Generated bearer tokens at `POST /mcp` of the local server: arbitrary JWT-shaped strings (any
 * header, any claims, any signature bytes), and mutations of a valid token (header fields, `alg`,
 * `crit`, claims, single characters, segments, a foreign signature, HMAC with the public key as
 * the secret). Each is answered 401 with `error="invalid_token"` in the challenge and the body,
 * never a 5xx, and nothing is written; only the unchanged token is served. `/mcp` verifies
 * without writing, so the table is scanned around each property rather than each case.
 */
import { createHmac, createPublicKey, generateKeyPairSync, sign, type JsonWebKey } from 'node:crypto';
import fc from 'fast-check';
import type { LocalServer } from '../../lib/local/server.js';
import {
  basicAuth,
  machineToken,
  registerMachineClient,
  startTestServer,
  type MachineClient,
} from '../support/local-server.js';
import { HEADER_VALUE_CHARS, rawRequest } from '../support/raw-http.js';
import { NO_CHANGES, tableChanges, tableReader, type TableReader } from '../support/table.js';

const SEED = 424242;
const RUNS = 150;

let server: LocalServer;
let table: TableReader;
let token: string;
let owner: MachineClient;
let publicJwk: JsonWebKey & { kid: string };

beforeAll(async () => {
  server = await startTestServer();
  table = tableReader(server);
  owner = await registerMachineClient(server.issuer);
  token = await machineToken(server.issuer, owner);
  const jwks = (await (await fetch(`${server.issuer}/.well-known/jwks.json`)).json()) as {
    keys: Array<JsonWebKey & { kid: string }>;
  };
  publicJwk = jwks.keys.find((k) => k.kid === header(token).kid)!;
});
afterAll(async () => {
  table.close();
  await server.close();
});

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const segments = (jwt: string) => jwt.split('.') as [string, string, string];
const header = (jwt: string) =>
  JSON.parse(Buffer.from(segments(jwt)[0], 'base64url').toString()) as Record<string, unknown>;
const claims = (jwt: string) =>
  JSON.parse(Buffer.from(segments(jwt)[1], 'base64url').toString()) as Record<string, unknown>;

const CALL = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'add', arguments: { a: 40, b: 2 } },
});

function callWith(authorization: string) {
  return rawRequest(server.issuer, {
    method: 'POST',
    path: '/mcp',
    headers: {
      authorization,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: CALL,
  });
}

/** 401 `invalid_token` in the challenge and in the body, as RFC 6750 §3.1 says. */
async function expectRefused(authorization: string) {
  const response = await callWith(authorization);
  const label = authorization.slice(0, 400);
  expect([label, response.status]).toEqual([label, 401]);
  const challenge = String(response.headers['www-authenticate']);
  expect(challenge).toMatch(/^Bearer error="invalid_token", error_description="/);
  expect(challenge).toContain(
    `resource_metadata="${server.issuer}/.well-known/oauth-protected-resource/mcp"`,
  );
  expect(JSON.parse(response.body)).toEqual({
    error: 'invalid_token',
    error_description: expect.any(String),
  });
}

/** Runs a property with the table scanned before and after it. */
async function property<T>(arbitrary: fc.Arbitrary<T>, check: (value: T) => Promise<void>, runs = RUNS) {
  const before = await table.snapshot();
  await fc.assert(fc.asyncProperty(arbitrary, check), {
    seed: SEED,
    numRuns: runs,
    interruptAfterTimeLimit: 20_000,
    markInterruptAsFailure: true,
  });
  expect(tableChanges(before, await table.snapshot())).toEqual(NO_CHANGES);
}

/**
 * A signature segment that decodes to the same bytes as the valid one: base64url leaves the low
 * bits of the last character unused, so 16 spellings of it carry the same signature. The token
 * must be refused all the same: it is another string (another verified-token cache entry).
 */
function isSameSignatureRespelled(jwt: string): boolean {
  const [h, p, s] = jwt.split('.');
  const [vh, vp, vs] = segments(token);
  return (
    h === vh &&
    p === vp &&
    s !== undefined &&
    /^[A-Za-z0-9_-]+$/.test(s) &&
    Buffer.from(s, 'base64url').equals(Buffer.from(vs, 'base64url'))
  );
}

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const jwtHeader = fc.record(
  {
    alg: fc.oneof(
      fc.constantFrom('none', 'None', 'HS256', 'RS256', 'PS256', 'ES256', 'RS512', 'EdDSA', ''),
      jsonValue,
    ),
    typ: fc.oneof(fc.constantFrom('at+jwt', 'JWT', 'application/at+jwt', 'AT+JWT'), jsonValue),
    kid: fc.oneof(fc.constant('KID'), fc.string(), jsonValue),
    crit: fc.oneof(fc.array(fc.constantFrom('b64', 'exp', 'alg', 'x', '')), jsonValue),
    b64: fc.boolean(),
    jku: fc.webUrl(),
    x5u: fc.webUrl(),
    jwk: fc.object(),
  },
  { requiredKeys: [] },
);
const jwtClaims = fc.record(
  {
    iss: fc.oneof(fc.constant('ISSUER'), fc.string(), jsonValue),
    aud: fc.oneof(fc.constant('RESOURCE'), fc.array(fc.string()), jsonValue),
    sub: fc.oneof(fc.string(), jsonValue),
    client_id: fc.oneof(fc.string(), jsonValue),
    scope: fc.oneof(fc.constant('mcp:tools mcp:resources'), jsonValue),
    exp: fc.oneof(fc.constant('SOON'), fc.integer(), fc.double(), jsonValue),
    iat: fc.oneof(fc.constant('NOW'), fc.integer(), jsonValue),
    nbf: fc.oneof(fc.integer(), jsonValue),
    jti: fc.oneof(fc.string(), jsonValue),
  },
  { requiredKeys: [] },
);

/** Placeholders become this server's real values, so the checks past the first can be reached. */
function realise(value: Record<string, unknown>): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const real: Record<string, unknown> = {
    KID: publicJwk.kid,
    ISSUER: server.issuer,
    RESOURCE: `${server.issuer}/mcp`,
    SOON: now + 300,
    NOW: now,
  };
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, typeof v === 'string' && v in real ? real[v] : v]),
  );
}

const segment = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
  fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/),
  jsonValue.map(b64),
);

describe('tokens that were never issued', () => {
  it('refuses JWT-shaped strings with any header, claims and signature', async () => {
    await property(
      fc.tuple(fc.oneof(jwtHeader.map(b64), segment), fc.oneof(jwtClaims.map(b64), segment), segment),
      async ([h, p, s]) => {
        const realH = h.startsWith('ey') ? tryRealise(h) : h;
        const realP = p.startsWith('ey') ? tryRealise(p) : p;
        await expectRefused(`Bearer ${realH}.${realP}.${s}`);
      },
    );
  });

  it('refuses any Authorization header value that is not a valid bearer token', async () => {
    await property(
      fc.string({ unit: fc.constantFrom(...HEADER_VALUE_CHARS), maxLength: 300 }),
      async (value) => expectRefused(`Bearer ${value}`),
    );
  });
});

function tryRealise(segment: string): string {
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString()) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return b64(realise(value as Record<string, unknown>));
  } catch {
    // not JSON: sent as generated
  }
  return segment;
}

describe('mutations of a valid token', () => {
  it('serves the unchanged token', async () => {
    const response = await callWith(`Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).result.structuredContent).toEqual({ sum: 42 });
  });

  it('refuses it with any header field changed, added or removed, the signature kept', async () => {
    await property(
      fc.tuple(
        fc.constantFrom('alg', 'typ', 'kid', 'crit', 'b64', 'jku', 'jwk', 'x5u', 'cty', 'zip', 'enc'),
        fc.option(fc.oneof(jsonValue, fc.constantFrom('none', 'HS256', 'PS256', 'ES256', 'RS384', 'JWT'))),
      ),
      async ([field, value]) => {
        const changed = { ...header(token) };
        if (value === null) delete changed[field];
        else changed[field] = value;
        const [, p, s] = segments(token);
        const mutated = `${b64(changed)}.${p}.${s}`;
        fc.pre(mutated !== token);
        await expectRefused(`Bearer ${mutated}`);
      },
    );
  });

  it('refuses it with any claim changed, added or removed, the signature kept', async () => {
    await property(
      fc.tuple(
        fc.constantFrom(
          'iss',
          'aud',
          'sub',
          'client_id',
          'scope',
          'exp',
          'iat',
          'nbf',
          'jti',
          'name',
          'token_use',
        ),
        fc.option(jsonValue),
      ),
      async ([claim, value]) => {
        const changed = { ...claims(token) };
        if (value === null) delete changed[claim];
        else changed[claim] = value;
        const [h, , s] = segments(token);
        const mutated = `${h}.${b64(changed)}.${s}`;
        fc.pre(mutated !== token);
        await expectRefused(`Bearer ${mutated}`);
      },
    );
  });

  it('refuses it with any character replaced, removed or added, or a segment dropped or repeated', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    await property(
      fc.tuple(
        // Positions near the end too: the signature's last character carries unused bits.
        fc.oneof(fc.nat(), fc.integer({ min: -3, max: -1 })),
        fc.constantFrom(...alphabet),
        fc.constantFrom('replace', 'remove', 'insert', 'truncate', 'segments'),
      ),
      async ([at, char, how]) => {
        const i = at < 0 ? token.length + at : at % token.length;
        const [h, p, s] = segments(token);
        const mutated = {
          replace: token.slice(0, i) + char + token.slice(i + 1),
          remove: token.slice(0, i) + token.slice(i + 1),
          insert: token.slice(0, i) + char + token.slice(i),
          truncate: token.slice(0, i),
          segments: [`${h}.${p}`, `${h}.${p}.${s}.${s}`, `${h}.${h}.${s}`, `${p}.${p}.${s}`, `${h}.${p}.`][
            Math.abs(at) % 5
          ]!,
        }[how];
        fc.pre(mutated !== token && mutated.length > 0);
        await expectRefused(`Bearer ${mutated}`);
      },
      400,
    );
  });

  it('refuses it signed with another RSA key under the same kid, and HMAC-signed with the public key', async () => {
    const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const publicKey = createPublicKey({ key: publicJwk, format: 'jwk' });
    const secrets = [
      publicKey.export({ type: 'spki', format: 'pem' }),
      publicKey.export({ type: 'pkcs1', format: 'pem' }),
      publicKey.export({ type: 'spki', format: 'der' }),
      JSON.stringify(publicJwk),
      publicJwk.n!,
    ];
    await property(
      fc.tuple(
        fc.constantFrom('foreign RS256', 'HS256', 'HS384', 'HS512', 'none'),
        fc.nat(secrets.length - 1),
      ),
      async ([kind, which]) => {
        const claimed = { ...header(token), ...(kind !== 'foreign RS256' && { alg: kind }) };
        const input = `${b64(claimed)}.${segments(token)[1]}`;
        const signature =
          kind === 'foreign RS256'
            ? sign('sha256', Buffer.from(input), foreign)
            : kind === 'none'
              ? Buffer.alloc(0)
              : createHmac(`sha${kind.slice(2)}`, secrets[which]!)
                  .update(input)
                  .digest();
        await expectRefused(`Bearer ${input}.${signature.toString('base64url')}`);
      },
      40,
    );
  });

  // Accepted until the verifier began to check that each part is in canonical base64url.
  it('refuses the valid signature spelled with other unused bits in its last character', async () => {
    const [h, p, s] = segments(token);
    const respelled = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_']
      .map((c) => `${h}.${p}.${s.slice(0, -1)}${c}`)
      .filter((t) => t !== token && isSameSignatureRespelled(t));
    expect(respelled.length).toBeGreaterThan(0);
    for (const mutated of respelled) await expectRefused(`Bearer ${mutated}`);
  });
});

/**
 * `POST /revoke` verifies an access token before it revokes it (RFC 7009 §2.1): the same tokens,
 * sent there by the client the valid token belongs to, are answered 200 as unknown tokens are,
 * and revoke nothing (the table is unchanged, and the valid token is still served).
 */
describe('the same tokens at /revoke', () => {
  const revoke = (candidate: string) =>
    rawRequest(server.issuer, {
      method: 'POST',
      path: '/revoke',
      headers: {
        authorization: basicAuth(owner.clientId, owner.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: candidate }).toString(),
    });
  const expectIgnored = async (candidate: string) => {
    const response = await revoke(candidate);
    expect([candidate.slice(0, 200), response.status]).toEqual([candidate.slice(0, 200), 200]);
  };

  it('answers 200 and revokes nothing for JWT-shaped strings and for the valid token with a header field or claim changed', async () => {
    await property(
      fc.oneof(
        fc
          .tuple(fc.oneof(jwtHeader.map(b64), segment), fc.oneof(jwtClaims.map(b64), segment), segment)
          .map(
            ([h, p, sig]) =>
              `${h.startsWith('ey') ? tryRealise(h) : h}.${p.startsWith('ey') ? tryRealise(p) : p}.${sig}`,
          ),
        fc.tuple(fc.constantFrom('alg', 'typ', 'kid', 'crit'), jsonValue).map(([field, value]) => {
          const [, p, sig] = segments(token);
          return `${b64({ ...header(token), [field]: value })}.${p}.${sig}`;
        }),
        fc
          .tuple(fc.constantFrom('iss', 'client_id', 'jti', 'exp', 'iat'), jsonValue)
          .map(([claim, value]) => {
            const [h, , sig] = segments(token);
            return `${h}.${b64({ ...claims(token), [claim]: value })}.${sig}`;
          }),
      ),
      async (candidate) => {
        fc.pre(candidate !== token && !isSameSignatureRespelled(candidate));
        await expectIgnored(candidate);
      },
    );
    const served = await callWith(`Bearer ${token}`);
    expect(served.status).toBe(200);
  });
});
