import {
  RevocationList,
  RevocationListUnavailableError,
  type RevocationSource,
  type TokenIdentity,
} from '../../../../lambda/mcp/auth/revocation-list.js';
import type { Marker } from '../../../../lambda/mcp/aws/mcp-table-reader.js';
import { revocationKey, type RevokedSubject } from '../../../../lambda/shared/revocations.js';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const seconds = (ms: number) => Math.floor(ms / 1000);

/** A source whose markers and health the test sets; counts reads. */
function fakeSource() {
  const state = {
    markers: new Map<string, Marker>(),
    failing: false,
    hanging: undefined as Promise<void> | undefined,
    reads: 0,
  };
  const source: RevocationSource = {
    load: async () => {
      state.reads++;
      if (state.hanging) await state.hanging;
      if (state.failing) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      return new Map(state.markers);
    },
  };
  /** Marks `subject` at `notBefore` (epoch ms), kept an hour unless `expiresAt` (epoch s) says otherwise. */
  const mark = (subject: RevokedSubject, notBefore: number, expiresAt = seconds(T0) + 3600) =>
    state.markers.set(revocationKey(subject), { notBefore, expiresAt });
  return { source, state, mark };
}

function setup(options: { refreshSeconds?: number; maxAgeSeconds?: number } = {}) {
  let clock = T0;
  const { source, state, mark } = fakeSource();
  const list = new RevocationList({
    source,
    refreshSeconds: options.refreshSeconds ?? 60,
    maxAgeSeconds: options.maxAgeSeconds ?? 300,
    now: () => clock,
  });
  return { list, state, mark, advance: (ms: number) => (clock += ms), now: () => clock };
}

/** A user's token, issued a minute before T0. */
const ISSUED = T0 - 60_000;
const token: TokenIdentity = {
  clientId: 'client-a',
  sub: 'user-a',
  grantId: 'family-a',
  tokenId: 'jti-a',
  issuedAtMs: ISSUED,
};
/** A machine token (client credentials): no grant family; its subject is the client. */
const machineToken: TokenIdentity = { clientId: 'client-m', sub: 'user-a', issuedAtMs: ISSUED };

describe('RevocationList', () => {
  it("refuses a token when its client's, grant's, user's or own marker is at or after its issue time, and no other", async () => {
    // Prepare
    const { list, mark } = setup();
    mark({ client: 'client-b' }, ISSUED);
    mark({ grant: 'family-c' }, ISSUED);
    mark({ user: 'user-d' }, ISSUED);
    mark({ token: 'jti-e' }, ISSUED);

    // Act
    const verdicts = await Promise.all([
      list.isRevoked(token),
      list.isRevoked({ ...token, clientId: 'client-b' }),
      list.isRevoked({ ...token, grantId: 'family-c' }),
      list.isRevoked({ ...token, sub: 'user-d' }),
      list.isRevoked({ ...token, tokenId: 'jti-e' }),
    ]);

    // Assess
    expect(verdicts).toEqual([false, true, true, true, true]);
  });

  it('refuses a token issued at or before the marker, and not one issued a millisecond after it', async () => {
    // Prepare
    const { list, mark } = setup();
    mark({ grant: 'family-a' }, ISSUED);

    // Act
    const verdicts = await Promise.all(
      [ISSUED - 1, ISSUED, ISSUED + 1].map((issuedAtMs) => list.isRevoked({ ...token, issuedAtMs })),
    );

    // Assess
    expect(verdicts).toEqual([true, true, false]);
  });

  it('counts a token without an issue time as issued before every marker', async () => {
    // Prepare
    const { list, mark } = setup();
    mark({ client: 'client-a' }, ISSUED);
    const undated: TokenIdentity = { clientId: 'client-a', sub: 'user-a', grantId: 'family-a' };

    // Act
    const revoked = await list.isRevoked(undated);

    // Assess
    expect(revoked).toBe(true);
  });

  it("does not refuse a machine token whose subject names a revoked user: only a user's token has a user", async () => {
    // Prepare
    const { list, mark } = setup();
    mark({ user: 'user-a' }, T0);

    // Act
    const machine = await list.isRevoked(machineToken);
    const users = await list.isRevoked(token);

    // Assess
    expect(machine).toBe(false);
    expect(users).toBe(true);
  });

  it('ignores markers that have expired', async () => {
    // Prepare: every marker would refuse the token, but each expired a second ago
    const { list, mark } = setup();
    const expired = seconds(T0) - 1;
    mark({ client: 'client-a' }, T0, expired);
    mark({ grant: 'family-a' }, T0, expired);
    mark({ user: 'user-a' }, T0, expired);
    mark({ token: 'jti-a' }, T0, expired);

    // Act
    const revoked = await list.isRevoked(token);

    // Assess
    expect(revoked).toBe(false);
  });

  it('stops refusing once the marker expires while the copy is still fresh', async () => {
    // Prepare
    const { list, mark, advance } = setup({ refreshSeconds: 60 });
    mark({ client: 'client-a' }, T0, seconds(T0) + 30);
    const before = await list.isRevoked(token);

    // Act
    advance(30_000);
    const after = await list.isRevoked(token);

    // Assess
    expect([before, after]).toEqual([true, false]);
  });

  it('reads the list once per refresh interval, and sees a revocation after the next read', async () => {
    // Prepare
    const { list, state, mark, advance } = setup({ refreshSeconds: 60 });
    await list.isRevoked(token);
    mark({ grant: 'family-a' }, T0);

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

  it('answers from the last copy while reads fail, until the copy is max-age old, then refuses to answer', async () => {
    // Prepare
    const { list, state, mark, advance } = setup({ refreshSeconds: 60, maxAgeSeconds: 300 });
    mark({ client: 'client-b' }, T0);
    await list.isRevoked(token);
    state.failing = true;

    // Act
    advance(61_000);
    const duringOutage = await list.isRevoked({ ...token, clientId: 'client-b' });
    advance(240_000);

    // Assess: each call is made inside its own assertion, so no rejection is left unobserved
    expect(duringOutage).toBe(true);
    await expect(list.isRevoked(token)).rejects.toBeInstanceOf(RevocationListUnavailableError);
  });

  it('backs off after a failed read: calls in the wait do not read again', async () => {
    // Prepare
    const { list, state } = setup();
    state.failing = true;

    // Act
    await expect(list.isRevoked(token)).rejects.toBeInstanceOf(RevocationListUnavailableError);
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

    // Assess: the next request is within the back-off and does not read
    await expect(list.isRevoked(token)).rejects.toBeInstanceOf(RevocationListUnavailableError);
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

  it('says how many markers its copy holds once primed', async () => {
    // Prepare
    const { list, mark } = setup();
    mark({ client: 'a' }, T0);
    mark({ grant: 'b' }, T0);

    // Act
    const before = list.size;
    await list.prime();

    // Assess
    expect([before, list.size]).toEqual([0, 2]);
  });
});
