import {
  RevocationList,
  RevocationListUnavailableError,
  type RevocationSource,
} from '../../../lambda/mcp/revocation-list.js';
import { revocationItemKeys } from '../../../lambda/shared/revocations.js';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const seconds = (ms: number) => Math.floor(ms / 1000);

/** A source whose entries and health the test sets; counts reads and remembers the keys asked. */
function fakeSource() {
  const state = {
    entries: new Map<string, number>(),
    failing: false,
    hanging: undefined as Promise<void> | undefined,
    reads: 0,
    keys: [] as string[][],
  };
  const source: RevocationSource = {
    load: async (keys) => {
      state.reads++;
      state.keys.push(keys);
      if (state.hanging) await state.hanging;
      if (state.failing) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      return new Map(state.entries);
    },
  };
  return { source, state };
}

function setup(options: { refreshSeconds?: number; maxAgeSeconds?: number } = {}) {
  let clock = T0;
  const { source, state } = fakeSource();
  const list = new RevocationList({
    source,
    maxTokenLifetimeSeconds: 3600,
    refreshSeconds: options.refreshSeconds ?? 60,
    maxAgeSeconds: options.maxAgeSeconds ?? 300,
    now: () => clock,
  });
  return { list, state, advance: (ms: number) => (clock += ms), now: () => clock };
}

const token = { clientId: 'client-a', grantId: 'family-a', tokenId: 'jti-a' };

describe('RevocationList', () => {
  it('refuses a token whose client, grant or own id is on the list, and no other', async () => {
    // Prepare
    const { list, state } = setup();
    const until = seconds(T0) + 600;
    state.entries.set('client#client-b', until);
    state.entries.set('grant#family-c', until);
    state.entries.set('token#jti-d', until);

    // Act
    const verdicts = await Promise.all([
      list.isRevoked(token),
      list.isRevoked({ ...token, clientId: 'client-b' }),
      list.isRevoked({ ...token, grantId: 'family-c' }),
      list.isRevoked({ ...token, tokenId: 'jti-d' }),
    ]);

    // Assess
    expect(verdicts).toEqual([false, true, true, true]);
  });

  it('ignores entries that have ended', async () => {
    // Prepare
    const { list, state } = setup();
    state.entries.set('client#client-a', seconds(T0) - 1);

    // Act
    const revoked = await list.isRevoked(token);

    // Assess
    expect(revoked).toBe(false);
  });

  it('reads the list once per refresh interval, and sees a revocation after the next read', async () => {
    // Prepare
    const { list, state, advance } = setup({ refreshSeconds: 60 });
    await list.isRevoked(token);
    state.entries.set('grant#family-a', seconds(T0) + 3600);

    // Act
    const within = await list.isRevoked(token);
    advance(59_000);
    const stillWithin = await list.isRevoked(token);
    advance(1_000);
    const after = await list.isRevoked(token);

    // Assess
    expect([within, stillWithin, after]).toEqual([false, false, true]);
    expect(state.reads).toBe(2);
  });

  it('asks for every bucket an entry alive now can be in', async () => {
    // Prepare
    const { list, state } = setup();

    // Act
    await list.isRevoked(token);

    // Assess: an hour-long token plus the margin after expiry spans two or three buckets.
    expect(state.keys[0]).toEqual(revocationItemKeys(seconds(T0), 3600 + 120));
    expect(state.keys[0]!.length).toBeGreaterThanOrEqual(8);
  });

  it('answers from the last copy while reads fail, until the copy is max-age old, then refuses to answer', async () => {
    // Prepare
    const { list, state, advance } = setup({ refreshSeconds: 60, maxAgeSeconds: 300 });
    state.entries.set('client#client-b', seconds(T0) + 3600);
    await list.isRevoked(token);
    state.failing = true;

    // Act
    advance(61_000);
    const duringOutage = await list.isRevoked({ ...token, clientId: 'client-b' });
    advance(240_000);
    const tooOld = list.isRevoked(token);

    // Assess
    expect(duringOutage).toBe(true);
    await expect(tooOld).rejects.toBeInstanceOf(RevocationListUnavailableError);
  });

  it('backs off after a failed read: calls in the wait do not read again', async () => {
    // Prepare
    const { list, state } = setup();
    state.failing = true;

    // Act
    const first = list.isRevoked(token);
    await expect(first).rejects.toBeInstanceOf(RevocationListUnavailableError);
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map(() => list.isRevoked(token)));

    // Assess
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(state.reads).toBe(1);
  });

  it('lets the first request read again when the read made at start failed with nobody waiting', async () => {
    // Prepare: the read at start fails while no request waits for it
    const { list, state } = setup();
    state.failing = true;
    await list.prime();
    state.failing = false;

    // Act: at once, well within the back-off
    const revoked = await list.isRevoked(token);

    // Assess
    expect(revoked).toBe(false);
    expect(state.reads).toBe(2);
  });

  it('counts the read made at start as the one of the request that waited for it', async () => {
    // Prepare: the read at start hangs, and the first request comes to wait for it
    const { list, state } = setup();
    let release!: () => void;
    state.hanging = new Promise<void>((resolve) => (release = resolve));
    state.failing = true;
    const atStart = list.prime();
    const first = list.isRevoked(token);

    // Act
    release();
    await atStart;
    await expect(first).rejects.toBeInstanceOf(RevocationListUnavailableError);
    state.hanging = undefined;
    state.failing = false;
    const next = list.isRevoked(token);

    // Assess: the next request is within the back-off and does not read
    await expect(next).rejects.toBeInstanceOf(RevocationListUnavailableError);
    expect(state.reads).toBe(1);
  });

  it('recovers by itself when the source answers again after the back-off', async () => {
    // Prepare
    const { list, state, advance } = setup();
    state.failing = true;
    await expect(list.isRevoked(token)).rejects.toBeInstanceOf(RevocationListUnavailableError);
    state.failing = false;

    // Act
    advance(1_000);
    const revoked = await list.isRevoked(token);

    // Assess
    expect(revoked).toBe(false);
    expect(state.reads).toBe(2);
  });

  it('while a refresh hangs, other calls answer from a usable copy at once and share one read', async () => {
    // Prepare
    const { list, state, advance } = setup();
    await list.isRevoked(token);
    let release!: () => void;
    state.hanging = new Promise<void>((resolve) => (release = resolve));
    advance(61_000);

    // Act
    const refreshing = list.isRevoked(token);
    const others = await Promise.all([list.isRevoked(token), list.isRevoked(token)]);
    release();
    await refreshing;

    // Assess
    expect(others).toEqual([false, false]);
    expect(state.reads).toBe(2);
  });

  it('holds only live entries, and says how many', async () => {
    // Prepare
    const { list, state } = setup();
    state.entries.set('client#a', seconds(T0) + 10);
    state.entries.set('client#b', seconds(T0) - 10);

    // Act
    await list.prime();

    // Assess
    expect(list.size).toBe(1);
  });
});
