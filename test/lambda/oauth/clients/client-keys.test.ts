/**
 * A `private_key_jwt` client's keys: the checks on a published key set, and a `jwks_uri` served
 * from a loopback document server (local allowance), cached by its headers and asked again for a
 * `kid` it lacked at most once a minute. The clock is injected.
 */
import {
  ClientKeys,
  ClientKeysError,
  publicJwksProblem,
} from '../../../../lambda/oauth/clients/client-keys.js';
import type { ClientMetadata } from '../../../../lambda/oauth/clients/client-metadata.js';
import { DocumentServer } from '../../../support/document-server.js';

const RSA = { kty: 'RSA', n: 'sXch', e: 'AQAB', kid: 'a' };

describe('publicJwksProblem', () => {
  it('accepts public RSA, EC and OKP keys', () => {
    expect(
      publicJwksProblem({
        keys: [RSA, { kty: 'EC', crv: 'P-256', x: 'eA', y: 'eQ' }, { kty: 'OKP', crv: 'Ed25519', x: 'eA' }],
      }),
    ).toBeUndefined();
  });

  it.each([
    [{ keys: [] }, 'non-empty "keys"'],
    [{ keys: [{ ...RSA, d: 'secret' }] }, 'private key material ("d")'],
    [{ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, 'only RSA, EC and OKP'],
    [{ keys: [{ ...RSA, alg: 'HS256' }] }, 'unsupported "alg" "HS256"'],
    [{ keys: [{ ...RSA, use: 'enc' }] }, '"use" "enc"'],
    [{ keys: [{ kty: 'RSA', e: 'AQAB' }] }, 'lacks a valid "n"'],
    [{ keys: Array.from({ length: 11 }, () => RSA) }, 'more than 10 keys'],
  ])('refuses %j', (jwks, message) => {
    expect(publicJwksProblem(jwks)).toContain(message);
  });
});

describe('ClientKeys with a jwks_uri', () => {
  const documents = new DocumentServer();
  let now = 0;
  let keys: ClientKeys;
  const metadata = (path: string) => ({ jwks_uri: `${documents.origin()}${path}` }) as ClientMetadata;

  beforeAll(() => documents.start());
  afterAll(() => documents.close());
  beforeEach(() => {
    documents.reset();
    now = 1_000_000;
    keys = new ClientKeys({ fetch: { allowHttpLoopback: true }, now: () => now });
  });

  it('fetches once while fresh, and again once the cache headers say it is stale', async () => {
    documents.json('/fresh.json', { keys: [RSA] }, { 'cache-control': 'max-age=120' });

    await keys.keySet(metadata('/fresh.json'));
    now += 60_000;
    await keys.keySet(metadata('/fresh.json'));
    now += 61_000;
    await keys.keySet(metadata('/fresh.json'));

    expect(documents.requests).toHaveLength(2);
  });

  it('asks again for a kid it lacked, at most once a minute', async () => {
    documents.json('/rotating.json', { keys: [RSA] }, { 'cache-control': 'max-age=3600' });
    await keys.keySet(metadata('/rotating.json'));
    documents.json('/rotating.json', { keys: [{ ...RSA, kid: 'b' }] }, { 'cache-control': 'max-age=3600' });

    const tooSoon = keys.canRefetch(metadata('/rotating.json'));
    now += 60_000;
    const later = keys.canRefetch(metadata('/rotating.json'));
    const rotated = await keys.keySet(metadata('/rotating.json'), true);

    expect(tooSoon).toBe(false);
    expect(later).toBe(true);
    expect(rotated.keys[0]!.kid).toBe('b');
    expect(documents.requests).toHaveLength(2);
  });

  it.each([
    ['a private key', { keys: [{ ...RSA, d: 'x' }] }, 'private key material'],
    ['not a key set', ['x'], 'must be a JSON object'],
  ])('refuses a published set holding %s', async (_case, body, message) => {
    documents.json('/bad.json', body);
    await expect(keys.keySet(metadata('/bad.json'))).rejects.toThrow(ClientKeysError);
    await expect(keys.keySet(metadata('/bad.json'))).rejects.toThrow(message);
  });

  it('keeps verifying with the last set fetched while the jwks_uri fails, for at most a week', async () => {
    documents.json('/flaky.json', { keys: [RSA] }, { 'cache-control': 'max-age=60' });
    await keys.keySet(metadata('/flaky.json'));
    documents.handlers.set('/flaky.json', (_req, res) => res.writeHead(503).end());

    now += 6 * 86_400_000;
    const withinTheWeek = await keys.keySet(metadata('/flaky.json'));
    now += 2 * 86_400_000;
    const afterIt = keys.keySet(metadata('/flaky.json'));

    expect(withinTheWeek.keys[0]!.kid).toBe('a');
    await expect(afterIt).rejects.toThrow('the document URL answered HTTP 503');
  });

  it('refuses a jwks_uri that answers an error, saying so', async () => {
    documents.handlers.set('/forbidden.json', (_req, res) => res.writeHead(403).end());
    await expect(keys.keySet(metadata('/forbidden.json'))).rejects.toThrow(
      `the client's "jwks_uri" could not be used: the document URL answered HTTP 403`,
    );
  });
});
