/**
 * Key caches after a failed read: while the source is down or hanging, at most one caller per
 * retry interval pays a read; the others are answered at once, from the last good set while it
 * is not too stale, or with `SigningKeysUnavailableError` carrying the read's cause. The clock is
 * frozen; the source is a fake that fails, hangs or serves on command.
 */
import { ThrottlingException } from '@aws-sdk/client-dynamodb';
import { classifyDependencyFault } from '../../../lambda/shared/dependency-fault.js';
import { generateSigningKey, toPublicKeySet, type StoredSigningKey } from '../../../lambda/shared/key-set.js';
import type { PublicKeySet } from '../../../lambda/shared/public-key-set.js';
import { CachedPublicKeys, SigningKeysUnavailableError } from '../../../lambda/shared/signing-keys.js';

let key: StoredSigningKey;
let clock: number;

beforeAll(async () => {
  key = await generateSigningKey();
});

beforeEach(() => {
  clock = 1_000_000;
});

/** A source that serves, fails or hangs as told, and counts its reads. */
function fakeSource() {
  let mode: 'serve' | 'fail' | 'hang' = 'serve';
  const hanging: Array<(error: Error) => void> = [];
  const source = {
    reads: 0,
    serve: () => (mode = 'serve'),
    fail: () => (mode = 'fail'),
    hang: () => (mode = 'hang'),
    /** Ends the hanging reads as a timeout would. */
    timeOut: () =>
      hanging
        .splice(0)
        .forEach((reject) => reject(Object.assign(new Error('2000 ms'), { name: 'TimeoutError' }))),
    async load(): Promise<PublicKeySet> {
      source.reads++;
      if (mode === 'fail') throw new ThrottlingException({ message: 'Rate exceeded', $metadata: {} });
      if (mode === 'hang') return new Promise((_resolve, reject) => hanging.push(reject));
      return toPublicKeySet({ current: key });
    },
  };
  return source;
}

function cache(source: ReturnType<typeof fakeSource>) {
  return new CachedPublicKeys(source, {
    maxAgeMs: 300_000,
    maxStaleMs: 3_600_000,
    retryIntervalMs: 1_000,
    maxRetryIntervalMs: 8_000,
    now: () => clock,
  });
}

describe('CachedPublicKeys while its source is down', () => {
  it('refuses callers within the retry interval at once, without a read, keeping the cause', async () => {
    // Prepare
    const source = fakeSource();
    source.fail();
    const keys = cache(source);
    await expect(keys.publicJwks()).rejects.toBeInstanceOf(SigningKeysUnavailableError);

    // Act
    clock += 999;
    const refusals = await Promise.all(
      Array.from({ length: 10 }, () => keys.verificationKey(key.kid).catch((e: unknown) => e)),
    );

    // Assess
    expect(source.reads).toBe(1);
    for (const error of refusals) {
      expect(error).toBeInstanceOf(SigningKeysUnavailableError);
      expect(classifyDependencyFault(error)).toBe('throttled');
    }
  });

  it('lets one caller read again per interval, doubling the interval while reads fail', async () => {
    // Prepare
    const source = fakeSource();
    source.fail();
    const keys = cache(source);
    const attempt = () => keys.publicJwks().catch(() => undefined);

    // Act: the waits are 1 s, then 2 s, then 4 s
    await attempt(); // read 1
    clock += 1_000;
    await attempt(); // read 2
    clock += 1_000;
    await attempt(); // within 2 s: no read
    clock += 1_000;
    await attempt(); // read 3
    clock += 3_999;
    await attempt(); // within 4 s: no read

    // Assess
    expect(source.reads).toBe(3);
  });

  it('shares one hanging read between concurrent callers, then backs off once it times out', async () => {
    // Prepare
    const source = fakeSource();
    source.hang();
    const keys = cache(source);

    // Act
    const waiting = Array.from({ length: 5 }, () => keys.publicJwks().catch((e: unknown) => e));
    source.timeOut();
    const timedOut = await Promise.all(waiting);
    const afterwards = await keys.publicJwks().catch((e: unknown) => e);

    // Assess
    expect(source.reads).toBe(1);
    expect(timedOut.map(classifyDependencyFault)).toEqual(Array(5).fill('timeout'));
    expect(classifyDependencyFault(afterwards)).toBe('timeout');
  });

  it('serves the last good set without waiting while a read hangs or is backing off', async () => {
    // Prepare
    const source = fakeSource();
    const keys = cache(source);
    await keys.publicJwks();
    source.hang();
    clock += 300_000; // past the maximum age

    // Act
    const first = keys.publicJwks(); // pays the read, and waits for it
    const others = await Promise.all([keys.publicJwks(), keys.verificationKey(key.kid)]);
    source.timeOut();
    const firstResult = await first;
    const duringBackoff = await keys.publicJwks();

    // Assess
    expect(others[0].keys[0]!.kid).toBe(key.kid);
    expect(others[1]).toBeDefined();
    expect(firstResult.keys[0]!.kid).toBe(key.kid);
    expect(duringBackoff.keys[0]!.kid).toBe(key.kid);
    expect(source.reads).toBe(2);
  });

  it('stops serving the last good set once it is older than its maximum age plus the stale allowance', async () => {
    // Prepare
    const source = fakeSource();
    const keys = cache(source);
    await keys.publicJwks();
    source.fail();

    // Act
    clock += 300_000 + 3_600_000;
    const result = keys.publicJwks();

    // Assess
    await expect(result).rejects.toBeInstanceOf(SigningKeysUnavailableError);
  });

  it('reads again after the interval once the source recovers, and forgets the failures', async () => {
    // Prepare
    const source = fakeSource();
    source.fail();
    const keys = cache(source);
    await keys.publicJwks().catch(() => undefined);
    source.serve();

    // Act
    const during = await keys.publicJwks().catch((e: unknown) => e);
    clock += 1_000;
    const after = await keys.publicJwks();

    // Assess
    expect(during).toBeInstanceOf(SigningKeysUnavailableError);
    expect(after.keys[0]!.kid).toBe(key.kid);
    expect(source.reads).toBe(2);
  });

  it('lets the first request read again when the read made at start failed with nobody waiting', async () => {
    // Prepare: the read at start fails while no request waits for it
    const source = fakeSource();
    source.fail();
    const keys = cache(source);
    await expect(keys.prime()).rejects.toBeInstanceOf(ThrottlingException);
    source.serve();

    // Act: at once, well within the retry interval
    const first = await keys.publicJwks();

    // Assess
    expect(first.keys[0]!.kid).toBe(key.kid);
    expect(source.reads).toBe(2);
  });

  it('counts the read made at start as the one of the request that waited for it', async () => {
    // Prepare: the read at start hangs, and the first request comes to wait for it
    const source = fakeSource();
    source.hang();
    const keys = cache(source);
    const atStart = keys.prime().catch(() => undefined);
    const first = keys.publicJwks().catch((e: unknown) => e);

    // Act
    source.timeOut();
    await atStart;
    const waited = await first;
    source.serve();
    const next = await keys.publicJwks().catch((e: unknown) => e);

    // Assess: the next request is within the back-off and does not read
    expect(classifyDependencyFault(waited)).toBe('timeout');
    expect(classifyDependencyFault(next)).toBe('timeout');
    expect(source.reads).toBe(1);
  });

  it('answers an unknown kid as unavailable, not as unknown, while backing off', async () => {
    // Prepare
    const source = fakeSource();
    const keys = cache(source);
    await keys.publicJwks();
    source.fail();
    clock += 300_000;
    await keys.publicJwks(); // the failed refresh, served stale

    // Act: within the retry interval
    clock += 500;
    const result = keys.verificationKey('published-since');

    // Assess
    await expect(result).rejects.toBeInstanceOf(SigningKeysUnavailableError);
    expect(source.reads).toBe(2);
  });
});
