/**
 * How long the markers `revokeUser` and `revokeGrantFamily` write are kept: a user's marker as
 * long as a refresh token it covers can live, so a grant never marked revoked itself cannot
 * refresh again once the marker would otherwise have expired; a family's as long as its access
 * tokens (the family itself is marked revoked).
 */
import type { RevokedSubject } from '../../../../lambda/shared/revocations.js';
import { INTEGER_SETTINGS } from '../../../../lambda/shared/function-settings.js';
import {
  revokeGrantFamily,
  revokeUser,
  type RevocationDeps,
} from '../../../../lambda/oauth/stores/revocations.js';

const NOW_MS = Date.UTC(2026, 11, 7, 12, 0, 0);

function deps(config: RevocationDeps['config']) {
  const written: { subject: RevokedSubject; notBefore: number; expiresAt: number }[] = [];
  const value = {
    config,
    now: () => NOW_MS,
    revocations: {
      revoke: async (subject: RevokedSubject, notBefore: number, expiresAt: number) =>
        void written.push({ subject, notBefore, expiresAt }),
    },
    grants: { revokeFamily: async () => undefined },
  } as unknown as RevocationDeps;
  return { deps: value, written };
}

it("keeps a user's marker as long as the refresh tokens it covers, and a family's as long as its access tokens", async () => {
  // Prepare
  const configured = deps({ accessTokenTtlSeconds: 3600, refreshTokenAbsoluteTtlSeconds: 90 * 86_400 });
  const unknown = deps({ accessTokenTtlSeconds: 86_400 });

  // Act
  await revokeUser(configured.deps, 'ada');
  await revokeGrantFamily(configured.deps, 'family-1');
  await revokeUser(unknown.deps, 'ada');

  // Assess
  const [user, family] = configured.written;
  expect(user!.expiresAt).toBeGreaterThanOrEqual(NOW_MS / 1000 + 90 * 86_400);
  expect(family!.expiresAt).toBeLessThan(NOW_MS / 1000 + 2 * 3600);
  expect(unknown.written[0]!.expiresAt).toBeGreaterThanOrEqual(
    NOW_MS / 1000 + INTEGER_SETTINGS.refreshTokenAbsoluteTtlSeconds.max,
  );
});
