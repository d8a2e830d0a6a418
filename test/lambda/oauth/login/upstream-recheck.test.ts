/**
 * The re-check's decisions on a frozen clock, against an in-memory family and a scripted
 * upstream: what is asked, what is revoked, and what is left alone. The browser tests
 * (`test/integration/upstream-recheck-browser.test.ts`) run the same decisions end to end.
 */
import type { OAuthDeps } from '../../../../lambda/oauth/deps.js';
import type { GrantFamily, GrantStore, UpstreamCheck } from '../../../../lambda/oauth/stores/grant-store.js';
import {
  UpstreamRefusedError,
  UpstreamUnavailableError,
  type IdentityProvider,
} from '../../../../lambda/oauth/login/identity-provider.js';
import { recheckUpstream } from '../../../../lambda/oauth/login/upstream-recheck.js';
import { newKeyMaterial, UpstreamTokenCipher } from '../../../../lambda/oauth/login/upstream-token-cipher.js';
import { loadConfig } from '../../../../lambda/shared/config.js';
import { createLogger } from '../../../../lambda/shared/logger.js';

const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
const NOW = NOW_MS / 1000;
const config = loadConfig({ ISSUER: 'https://as.example' });
const material = newKeyMaterial();

async function setup(options: {
  checkedAgo: number;
  refresh?: IdentityProvider['refresh'];
  claimed?: boolean;
  /** What the family reads as, read after read, while another refresh holds the check. */
  rereads?: (family: GrantFamily) => (GrantFamily | undefined)[];
}) {
  const cipher = new UpstreamTokenCipher(async () => material);
  const family: GrantFamily = {
    familyId: 'family-1',
    clientId: 'client-1',
    identity: { sub: 'ada' },
    scope: 'mcp:tools',
    audience: config.mcpResource,
    createdAt: NOW - 86_400,
    expiresAt: NOW + 86_400,
    upstreamCheckedAt: NOW - options.checkedAgo,
    upstreamToken: await cipher.encrypt('upstream-rt-1', 'ada'),
  };
  const calls: string[] = [];
  const logs: string[] = [];
  const rereads: (GrantFamily | undefined)[] = options.rereads?.(family) ?? [];
  const recorded: UpstreamCheck[] = [];
  const grants = {
    claimUpstreamCheck: async () => {
      calls.push('claim');
      return options.claimed ?? true;
    },
    recordUpstreamCheck: async (_id: string, check: UpstreamCheck) => {
      calls.push('record');
      recorded.push(check);
    },
    releaseUpstreamCheck: async () => void calls.push('release'),
    getFamily: async () => {
      calls.push('read');
      const next = rereads.shift();
      return next === undefined ? undefined : next;
    },
    revokeFamily: async () => void calls.push('revokeFamily'),
  } as unknown as GrantStore;
  const refresh =
    options.refresh ??
    (async () => ({
      identity: { sub: 'ada', name: 'Ada' },
      claims: { sub: 'ada' },
      refreshToken: 'upstream-rt-2',
    }));
  const deps = {
    config,
    grants,
    upstreamTokens: cipher,
    identityProvider: {
      refresh: async (token: string, sub: string) => {
        calls.push(`upstream ${token} ${sub}`);
        return refresh(token, sub);
      },
    } as IdentityProvider,
    revocations: { revoke: async () => void calls.push('marker') },
    logger: createLogger('oauth', { level: 'info', write: (line) => logs.push(line) }),
    now: () => NOW_MS,
  } as unknown as OAuthDeps;
  const audits = () =>
    logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => 'audit' in l);
  return { deps, family, calls, recorded, cipher, audits };
}

describe('recheckUpstream', () => {
  it('makes no call at all while the last check is younger than the interval', async () => {
    // Prepare
    const { deps, family, calls } = await setup({ checkedAgo: config.upstreamRecheckSeconds - 1 });

    // Act
    const result = await recheckUpstream(deps, family, NOW_MS);

    // Assess
    expect(result).toBe(family);
    expect(calls).toEqual([]);
  });

  it('asks the upstream with its decrypted token once due, and stores the rotated one under the current key', async () => {
    // Prepare
    const { deps, family, calls, recorded, cipher } = await setup({
      checkedAgo: config.upstreamRecheckSeconds,
    });

    // Act
    const result = await recheckUpstream(deps, family, NOW_MS);

    // Assess
    expect(calls).toEqual(['claim', 'upstream upstream-rt-1 ada', 'record']);
    expect(result).toMatchObject({ identity: { sub: 'ada', name: 'Ada' }, upstreamCheckedAt: NOW });
    expect(await cipher.decrypt(recorded[0]!.upstreamToken!, 'ada')).toBe('upstream-rt-2');
  });

  it('revokes the family (marker first) when the upstream refuses, with its audit lines', async () => {
    // Prepare
    const { deps, family, calls, audits } = await setup({
      checkedAgo: 1000,
      refresh: async () => {
        throw new UpstreamRefusedError('refused');
      },
    });

    // Act
    const result = recheckUpstream(deps, family, NOW_MS);

    // Assess
    await expect(result).rejects.toMatchObject({ errorCode: 'invalid_grant' });
    expect(calls).toEqual(['claim', 'upstream upstream-rt-1 ada', 'marker', 'revokeFamily']);
    const about = { clientId: 'client-1', sub: 'ada', grantId: 'family-1' };
    expect(audits()).toEqual([
      expect.objectContaining({ audit: 'refused', reason: 'upstream_refused', ...about }),
      expect.objectContaining({ audit: 'revoke', target: 'grant', by: 'upstream', ...about }),
    ]);
  });

  it('never revokes when the upstream cannot answer: within the grace it goes on, past it 503', async () => {
    // Prepare
    const down = async (): Promise<never> => {
      throw new UpstreamUnavailableError('down');
    };
    const within = await setup({ checkedAgo: config.upstreamOutageGraceSeconds, refresh: down });
    const past = await setup({ checkedAgo: config.upstreamOutageGraceSeconds + 1, refresh: down });

    // Act
    const allowed = await recheckUpstream(within.deps, within.family, NOW_MS);
    const refused = recheckUpstream(past.deps, past.family, NOW_MS);

    // Assess
    expect(allowed).toBe(within.family);
    await expect(refused).rejects.toMatchObject({ errorCode: 'temporarily_unavailable', status: 503 });
    expect(within.calls).not.toContain('marker');
    expect(past.calls).toEqual(['claim', 'upstream upstream-rt-1 ada', 'release']);
  });

  it('leaves the upstream alone while another refresh holds the check, and answers with its result', async () => {
    // Prepare: the other refresh is still asking, then records the user's new name.
    const { deps, family, calls } = await setup({
      checkedAgo: 5000,
      claimed: false,
      rereads: (f) => [
        { ...f, upstreamCheckStartedAt: NOW },
        { ...f, identity: { sub: 'ada', name: 'Ada L.' }, upstreamCheckedAt: NOW },
      ],
    });

    // Act
    const result = await recheckUpstream(deps, family, NOW_MS);

    // Assess: past the outage grace, yet no 503: the other check succeeded.
    expect(result).toMatchObject({ identity: { sub: 'ada', name: 'Ada L.' }, upstreamCheckedAt: NOW });
    expect(calls).toEqual(['claim', 'read', 'read']);
  });

  it('refuses when the other refresh found the grant refused upstream', async () => {
    // Prepare
    const { deps, family } = await setup({
      checkedAgo: 1000,
      claimed: false,
      rereads: (f) => [{ ...f, revoked: true }],
    });

    // Act / Assess
    await expect(recheckUpstream(deps, family, NOW_MS)).rejects.toMatchObject({ errorCode: 'invalid_grant' });
  });

  it('applies the outage rule when the other refresh reached no result', async () => {
    // Prepare: the other check released its claim (the provider did not answer).
    const released = (f: GrantFamily) => [{ ...f }];
    const recent = await setup({ checkedAgo: 1000, claimed: false, rereads: released });
    const old = await setup({
      checkedAgo: config.upstreamOutageGraceSeconds + 1,
      claimed: false,
      rereads: released,
    });

    // Act / Assess
    await expect(recheckUpstream(recent.deps, recent.family, NOW_MS)).resolves.toBe(recent.family);
    await expect(recheckUpstream(old.deps, old.family, NOW_MS)).rejects.toMatchObject({
      errorCode: 'temporarily_unavailable',
    });
  });

  it('ends a family without an upstream token at the session cap, without a call', async () => {
    // Prepare
    const { deps, family, calls } = await setup({ checkedAgo: 0 });
    const { upstreamToken: _none, ...withoutToken } = family;
    const young = { ...withoutToken, createdAt: NOW - config.upstreamSessionMaxSeconds + 1 };
    const old = { ...withoutToken, createdAt: NOW - config.upstreamSessionMaxSeconds };

    // Act / Assess
    await expect(recheckUpstream(deps, young, NOW_MS)).resolves.toBe(young);
    await expect(recheckUpstream(deps, old, NOW_MS)).rejects.toMatchObject({ errorCode: 'invalid_grant' });
    expect(calls).toEqual([]);
  });
});
