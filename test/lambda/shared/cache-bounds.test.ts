/**
 * Every in-process cache a function keeps for the life of its execution environment stays
 * bounded however long that lives: through key rotations, through any number of refused
 * client metadata document URLs, and through any number of clients' `jwks_uri` key sets. (`npm run soak` reports the same sizes under load.)
 */
import { ClientResolver } from '../../../lambda/oauth/clients/client-resolver.js';
import { ClientKeys } from '../../../lambda/oauth/clients/client-keys.js';
import type { ClientMetadata } from '../../../lambda/oauth/clients/client-metadata.js';
import { DocumentServer } from '../../support/document-server.js';
import type { ClientStore } from '../../../lambda/oauth/stores/client-store.js';
import { formatterCacheSize, getTimeTool } from '../../../lambda/mcp/tools/get-time.js';
import { rotateSigningKeySet, toPublicKeySet, type SigningKeySet } from '../../../lambda/shared/key-set.js';
import { CachedPublicKeys, CachedSigningKeys } from '../../../lambda/shared/signing-keys.js';

describe('signing key caches', () => {
  it('hold one private key and at most three public keys through ten rotations', async () => {
    // Prepare: a source that rotates on every read, and caches that read on every use
    let set: SigningKeySet = await rotateSigningKeySet({});
    const signing = new CachedSigningKeys({ load: async () => set }, { maxAgeMs: 0 });
    const verifying = new CachedPublicKeys({ load: async () => toPublicKeySet(set) }, { maxAgeMs: 0 });
    const signedWith = new Set<string>();

    // Act
    for (let rotation = 0; rotation < 10; rotation++) {
      signedWith.add((await signing.signingKey()).kid);
      await verifying.publicJwks();
      set = await rotateSigningKeySet(set);
    }

    // Assess
    expect(signedWith.size).toBe(10);
    expect(signing.privateKeyCount).toBe(1);
    expect(signing.size).toBeLessThanOrEqual(3);
    expect(verifying.size).toBeLessThanOrEqual(3);
  });
});

describe('ClientResolver', () => {
  it('remembers at most 1,000 refused metadata document URLs, however many are tried', async () => {
    // Prepare: every document host resolves to a private address, so every fetch is refused at once
    const resolver = new ClientResolver({ get: async () => undefined } as unknown as ClientStore, {
      cache: { get: async () => undefined, put: async () => {} },
      scopesSupported: ['mcp:tools'],
      fetch: { resolve: async () => [{ address: '10.0.0.1', family: 4 }] },
    });

    // Act
    for (let i = 0; i < 1_100; i++) {
      await expect(resolver.get(`https://app${i}.example/client.json`)).rejects.toThrow();
    }

    // Assess
    expect(resolver.failureCacheSize).toBe(1_000);
  });
});

describe('ClientKeys', () => {
  it("keeps at most 1,000 clients' jwks_uri key sets, however many are fetched", async () => {
    // Prepare: one loopback server answering every path with a key set
    const documents = await new DocumentServer().start();
    const set = { keys: [{ kty: 'RSA', n: 'sXch', e: 'AQAB' }] };
    for (let i = 0; i < 1_050; i++) documents.json(`/keys-${i}.json`, set);
    const keys = new ClientKeys({ fetch: { allowHttpLoopback: true } });

    // Act
    try {
      for (let i = 0; i < 1_050; i++) {
        await keys.keySet({ jwks_uri: `${documents.origin()}/keys-${i}.json` } as ClientMetadata);
      }
    } finally {
      await documents.close();
    }

    // Assess
    expect(keys.size).toBe(1_000);
  });
});

describe('get_time formatters', () => {
  it('keep at most 64 time zones', async () => {
    const zones = Intl.supportedValuesOf('timeZone').slice(0, 100);
    for (const timeZone of zones) {
      await getTimeTool.call({ timeZone }, { now: () => 0 } as never);
    }
    expect(zones.length).toBe(100);
    expect(formatterCacheSize()).toBeLessThanOrEqual(64);
    expect(formatterCacheSize()).toBeGreaterThan(0);
  });
});
