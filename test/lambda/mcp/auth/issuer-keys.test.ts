/**
 * A trusted issuer's keys over time: jose's JWKS cooldown for unknown kids, the last good JWKS
 * over an outage, and the backoff while the JWKS endpoint is down. The clock is frozen, for this
 * code and for jose's JWKS cache (which reads `Date.now`); the issuer is a fake whose keys and
 * health the tests change.
 */
import { jest } from '@jest/globals';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createAccessTokenVerifier } from '../../../../lambda/mcp/auth/access-token-verifier.js';
import type { RemoteJwksOptions } from '../../../../lambda/mcp/auth/issuer-keys.js';
import { TrustedIssuerUnavailableError } from '../../../../lambda/mcp/auth/trusted-issuers.js';
import { ISSUER, NOW_MS, RESOURCE, signJwt } from '../mcp-test-kit.js';

const COGNITO = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example';
const JWKS_URI = `${COGNITO}/.well-known/jwks.json`;

function rsaKey(kid: string, modulusLength = 2048) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  const jwk = {
    ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
    kid,
    alg: 'RS256',
    use: 'sig',
  };
  return { kid, privateKey, jwk };
}

const first = rsaKey('key-1');
const second = rsaKey('key-2');

let clock: number;

beforeEach(() => {
  clock = NOW_MS;
  jest.spyOn(Date, 'now').mockImplementation(() => clock);
});

afterEach(() => {
  jest.restoreAllMocks();
});

/** A fake issuer: discovery and JWKS, counting JWKS fetches; `down` fails the JWKS with a 503. */
function fakeIssuer(keys: Array<Record<string, unknown>>) {
  const issuer = {
    keys,
    down: false,
    /** Answers 200 with a body that is not a JWK Set. */
    garbled: false,
    jwksFetches: 0,
    fetch: undefined as unknown as typeof fetch,
  };
  issuer.fetch = (async (input: string | URL) => {
    const url = String(input);
    if (url === `${COGNITO}/.well-known/openid-configuration`) {
      return new Response(JSON.stringify({ issuer: COGNITO, jwks_uri: JWKS_URI }));
    }
    if (url === JWKS_URI) {
      issuer.jwksFetches++;
      if (issuer.down) return new Response('unavailable', { status: 503 });
      if (issuer.garbled) return new Response('<html>maintenance</html>');
      return new Response(JSON.stringify({ keys: issuer.keys }));
    }
    return new Response('not found', { status: 404 });
  }) as typeof fetch;
  return issuer;
}

function verifier(issuer: ReturnType<typeof fakeIssuer>, remote: RemoteJwksOptions = {}) {
  return createAccessTokenVerifier({
    issuer: ISSUER,
    resource: RESOURCE,
    keys: { publicJwks: async () => ({ keys: [] }), verificationKey: async () => undefined },
    maxTokenLifetimeSeconds: 3600,
    trustedIssuers: [{ issuer: COGNITO, clientIds: ['agent-client'] }],
    remoteJwks: { fetch: issuer.fetch, now: () => clock, ...remote },
    now: () => clock,
    cacheSize: 0,
  });
}

function token(key: { kid: string; privateKey: KeyObject }) {
  const now = Math.floor(clock / 1000);
  return signJwt(
    { alg: 'RS256', kid: key.kid },
    {
      iss: COGNITO,
      sub: 'agent-client',
      token_use: 'access',
      client_id: 'agent-client',
      scope: 'mcp/tools',
      iat: now,
      exp: now + 3600,
    },
    key.privateKey,
  );
}

describe("a trusted issuer's JWKS", () => {
  it('is fetched again for an unknown kid only once the cooldown after the last fetch has passed', async () => {
    // Prepare
    const issuer = fakeIssuer([first.jwk]);
    const verify = verifier(issuer, { minRefreshIntervalMs: 60_000 });
    await verify(token(first));
    issuer.keys = [first.jwk, second.jwk];

    // Act
    clock += 30_000;
    const withinCooldown = verify(token(second));
    await withinCooldown.catch(() => undefined);
    const fetchesWithinCooldown = issuer.jwksFetches;
    clock += 30_001;
    const afterCooldown = await verify(token(second));

    // Assess: each verification that fails is made inside its own assertion (or already settled),
    // so no rejection is left unobserved when an assertion before it fails
    await expect(withinCooldown).rejects.toMatchObject({
      name: 'InvalidTokenError',
      message: 'signature verification failed',
    });
    expect(fetchesWithinCooldown).toBe(1);
    expect(afterCooldown.clientId).toBe('agent-client');
    await expect(verify(token(rsaKey('key-3')))).rejects.toMatchObject({
      message: 'signature verification failed',
    });
    expect(issuer.jwksFetches).toBe(2);
  });

  it('verifies with the last good JWKS while the issuer is down, until it is maxStaleMs past its age', async () => {
    // Prepare
    const issuer = fakeIssuer([first.jwk]);
    const verify = verifier(issuer, { maxAgeMs: 600_000, maxStaleMs: 3_600_000, retryIntervalMs: 1_000 });
    await verify(token(first));
    issuer.down = true;

    // Act
    clock += 600_000;
    const pastAge = await verify(token(first)); // pays one fetch, which fails
    const duringBackoff = await verify(token(first)); // no fetch
    clock += 3_600_000;

    // Assess: the verification past maxStaleMs is made inside its own assertion
    expect(pastAge.clientId).toBe('agent-client');
    expect(duringBackoff.clientId).toBe('agent-client');
    await expect(verify(token(first))).rejects.toBeInstanceOf(TrustedIssuerUnavailableError);
    expect(issuer.jwksFetches).toBe(3);
  });

  it('is fetched at most once per retry interval while its endpoint is down, the others refused at once', async () => {
    // Prepare
    const issuer = fakeIssuer([first.jwk]);
    issuer.down = true;
    const verify = verifier(issuer, { retryIntervalMs: 1_000 });

    // Act
    const whileDown = await Promise.all(
      Array.from({ length: 5 }, () => verify(token(first)).catch((e) => e)),
    );
    const fetchesWhileDown = issuer.jwksFetches;
    clock += 999;
    const withinInterval = await verify(token(first)).catch((e: unknown) => e);
    const fetchesWithinInterval = issuer.jwksFetches;
    issuer.down = false;
    clock += 1;
    const recovered = await verify(token(first));

    // Assess
    for (const error of [...whileDown, withinInterval])
      expect(error).toBeInstanceOf(TrustedIssuerUnavailableError);
    expect(fetchesWhileDown).toBe(1);
    expect(fetchesWithinInterval).toBe(1);
    expect(recovered.clientId).toBe('agent-client');
    expect(issuer.jwksFetches).toBe(2);
  });

  it('counts a 200 that is not a JWK Set as a failure, and keeps verifying with the last good one', async () => {
    // Prepare
    const issuer = fakeIssuer([first.jwk]);
    const verify = verifier(issuer, { maxAgeMs: 600_000, retryIntervalMs: 1_000 });
    await verify(token(first));
    issuer.garbled = true;

    // Act
    clock += 600_000;
    const garbled = await verify(token(first));
    const withinInterval = await verify(token(first));

    // Assess
    expect([garbled.clientId, withinInterval.clientId]).toEqual(['agent-client', 'agent-client']);
    expect(issuer.jwksFetches).toBe(2);
  });

  it('refuses a token whose key is too weak for its algorithm (RSA under 2048 bits)', async () => {
    // Prepare
    const weak = rsaKey('weak', 1024);
    const verify = verifier(fakeIssuer([weak.jwk]));

    // Act
    const result = verify(token(weak));

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'InvalidTokenError',
      message: 'the issuer key for this token cannot verify it',
    });
  });
});
