/**
 * Refresh token rotation at the unit level (issue 24: reuse after the grace window rested on one
 * integration test). The grant runs against an in-memory grant store on a frozen clock, so the
 * boundary of `refreshTokenReuseGraceSeconds` is pinned to the second.
 */
import { refreshTokenGrant } from '../../../../lambda/oauth/grants/refresh-token.js';
import type { OAuthDeps } from '../../../../lambda/oauth/deps.js';
import type { ClientStore, StoredClient } from '../../../../lambda/oauth/stores/client-store.js';
import type { GrantFamily, GrantStore, RefreshToken } from '../../../../lambda/oauth/stores/grant-store.js';
import type { RevocationList } from '../../../../lambda/oauth/stores/revocations.js';
import { loadConfig } from '../../../../lambda/shared/config.js';
import { randomToken, sha256 } from '../../../../lambda/shared/crypto.js';
import { rotateSigningKeySet } from '../../../../lambda/shared/key-set.js';
import { createLogger } from '../../../../lambda/shared/logger.js';
import type { RevokedSubject } from '../../../../lambda/shared/revocations.js';
import { CachedSigningKeys } from '../../../../lambda/shared/signing-keys.js';

const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
const NOW = NOW_MS / 1000;
const config = loadConfig({ ISSUER: 'https://as.example' });
const GRACE = config.refreshTokenReuseGraceSeconds;
const keys = new CachedSigningKeys({ load: async () => rotateSigningKeySet({}) });

const client: StoredClient = {
  clientId: 'client-1',
  metadata: {
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'mcp:tools',
  },
  registrationTokenHash: sha256('registration'),
  issuedAt: NOW - 3600,
  updatedAt: NOW - 3600,
} as StoredClient;

/** One grant family with one refresh token, rotated out `rotatedAgo` seconds ago (or not yet). */
function setup(rotatedAgo?: number) {
  const family: GrantFamily = {
    familyId: 'family-1',
    clientId: client.clientId,
    identity: { sub: 'ada' },
    scope: 'mcp:tools',
    audience: config.mcpResource,
    createdAt: NOW - 3600,
    expiresAt: NOW + 86_400,
  };
  const token = randomToken();
  const refresh = new Map<string, RefreshToken>([
    [
      sha256(token),
      {
        familyId: family.familyId,
        clientId: client.clientId,
        expiresAt: NOW + 3600,
        ...(rotatedAgo !== undefined && { rotatedAt: NOW - rotatedAgo }),
      },
    ],
  ]);
  const markers: Array<{ subject: RevokedSubject; notBefore: number }> = [];
  let userMarker: number | undefined;
  const logs: string[] = [];
  const grants = {
    getRefreshToken: async (hash: string) => refresh.get(hash),
    getFamily: async () => family,
    revokeFamily: async () => {
      family.revoked = true;
    },
    markRotated: async (hash: string, now: number) => {
      const stored = refresh.get(hash)!;
      if (stored.rotatedAt !== undefined) return { first: false, rotatedAt: stored.rotatedAt };
      stored.rotatedAt = Math.floor(now / 1000);
      return { first: true, rotatedAt: stored.rotatedAt };
    },
    saveRefreshToken: async (hash: string, saved: RefreshToken) => {
      refresh.set(hash, saved);
    },
    recordRefresh: async (_familyId: string, at: number) => {
      family.lastRefreshAt = at;
    },
  } as Partial<GrantStore> as GrantStore;
  const revocations: RevocationList = {
    revoke: async (subject, notBefore) => {
      markers.push({ subject, notBefore });
    },
    notBefore: async (subject) => ('user' in subject ? userMarker : undefined),
  };
  const deps = {
    config,
    grants,
    revocations,
    keys,
    clients: { extend: async () => undefined } as Partial<ClientStore> as ClientStore,
    logger: createLogger('oauth', { level: 'info', write: (line) => logs.push(line) }),
    now: () => NOW_MS,
  } as Partial<OAuthDeps> as OAuthDeps;
  const refreshWith = () =>
    refreshTokenGrant({
      client,
      params: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
      deps,
      now: NOW_MS,
    });
  const revokeUserAt = (ms: number) => {
    userMarker = ms;
  };
  return { family, markers, logs, refreshWith, revokeUserAt };
}

describe('a rotated-out refresh token', () => {
  it('refreshes on its first use and is marked rotated', async () => {
    // Prepare
    const { family, refreshWith } = setup();

    // Act
    const tokens = await refreshWith();

    // Assess
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(family.revoked).toBeUndefined();
  });

  it.each([0, 1, GRACE])(
    'still refreshes when reused %i s after it was rotated (within the grace window), revoking nothing',
    async (ago) => {
      // Prepare
      const { family, markers, refreshWith } = setup(ago);

      // Act
      const tokens = await refreshWith();

      // Assess
      expect(tokens.access_token).toEqual(expect.any(String));
      expect(family.revoked).toBeUndefined();
      expect(markers).toEqual([]);
    },
  );

  it.each([GRACE + 1, GRACE + 3600])(
    'is refused when reused %i s after it was rotated, and its whole grant family is revoked',
    async (ago) => {
      // Prepare
      const { family, markers, logs, refreshWith } = setup(ago);

      // Act
      const refused = refreshWith();

      // Assess
      await expect(refused).rejects.toMatchObject({
        errorCode: 'invalid_grant',
        message: 'the refresh token is invalid, expired or revoked',
      });
      expect(family.revoked).toBe(true);
      // The marker /mcp reads comes first: the family's access tokens stop too.
      expect(markers).toEqual([{ subject: { grant: 'family-1' }, notBefore: expect.any(Number) }]);
      expect(markers[0]!.notBefore).toBeGreaterThanOrEqual(NOW_MS);
      expect(logs.some((line) => line.includes('refresh token reused after rotation; grant revoked'))).toBe(
        true,
      );
      const about = { clientId: 'client-1', sub: 'ada', grantId: 'family-1' };
      expect(logs.map((line) => JSON.parse(line)).filter((line) => 'audit' in line)).toEqual([
        expect.objectContaining({ audit: 'refused', reason: 'refresh_token_reuse', ...about }),
        expect.objectContaining({ audit: 'revoke', target: 'grant', by: 'reuse', ...about }),
      ]);
    },
  );
});

describe("a refresh recorded on its grant family (the admin command's last refresh)", () => {
  it('records the first refresh of a family', async () => {
    // Prepare
    const { family, refreshWith } = setup();

    // Act
    await refreshWith();

    // Assess
    expect(family.lastRefreshAt).toBe(NOW);
  });

  it.each([
    [60, NOW - 60],
    [3599, NOW - 3599],
    [3600, NOW],
  ])('after one %i s ago, records it only once an hour has passed', async (ago, expected) => {
    // Prepare
    const { family, refreshWith } = setup();
    family.lastRefreshAt = NOW - ago;

    // Act
    await refreshWith();

    // Assess
    expect(family.lastRefreshAt).toBe(expected);
  });

  it("writes a refused audit line when the family's user was revoked", async () => {
    // Prepare
    const { logs, refreshWith, revokeUserAt } = setup();
    revokeUserAt(NOW_MS);

    // Act
    const refused = refreshWith();

    // Assess
    await expect(refused).rejects.toMatchObject({ errorCode: 'invalid_grant' });
    expect(logs.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        audit: 'refused',
        reason: 'user_revoked',
        clientId: 'client-1',
        sub: 'ada',
        grantId: 'family-1',
      }),
    ]);
  });
});
