/**
 * The upstream provider's say over a grant after the login (issue 19). When a client refreshes
 * and the grant family's last upstream check is older than `upstreamRecheckSeconds`, the upstream
 * is asked again with its own refresh token, before anything of ours is spent:
 *
 * - it refuses (`invalid_grant`: the user was disabled or deleted, signed out everywhere...):
 *   the family is revoked, its access tokens stop at `/mcp` within the revocation bound, and the
 *   client gets `invalid_grant`;
 * - it cannot answer (unreachable, 5xx, any other error that says nothing about the user): not
 *   a revocation. Within `upstreamOutageGraceSeconds` of the last successful check the refresh
 *   goes on; after it, 503 with `Retry-After`, and the same refresh token works once it is back;
 * - it answers: the name, email and groups are taken from its new claims, the scope policy is
 *   applied again (a scope the user lost is dropped; none left revokes the family), and its
 *   refresh token is stored again, encrypted under the current key (rotated or not).
 *
 * A family without an upstream refresh token (the provider issues none) cannot be asked: it
 * ends `upstreamSessionMaxSeconds` after its login. When no check is due, nothing here makes a
 * network call. Nothing the upstream sends is ever logged.
 */
import { applyScopePolicy, groupsFromClaims } from '../../shared/scope-policy.js';
import type { OAuthDeps } from '../deps.js';
import { InvalidGrantError, TemporarilyUnavailableError } from '../errors.js';
import type { GrantFamily } from '../stores/grant-store.js';
import { UpstreamRefusedError, UpstreamUnavailableError, type UpstreamLogin } from './identity-provider.js';
import { revokeGrantFamily } from '../stores/revocations.js';
import { audit } from '../../shared/audit.js';
import { UpstreamTokenDecryptError } from './upstream-token-cipher.js';

/** A check that began this long ago and never ended (its function timed out) may be taken over. */
const CLAIM_SECONDS = 30;
/** When a client whose refresh was refused during an outage should try again. */
export const OUTAGE_RETRY_AFTER_SECONDS = 60;

const refused = () => new InvalidGrantError('the refresh token is invalid, expired or revoked');

/** How long a refresh that lost the claim waits for the other's result: the upstream's timeout and a second. */
export const CLAIM_WAIT_MS = 6000;
const CLAIM_POLL_MS = 200;

/**
 * Re-reads the family (consistently) until the check another refresh claimed has settled: the
 * family as that check left it (its last check moved on), `revoked` (the provider refused, or the
 * family is gone), or `unsettled` (the claim was released without a result, or is still held
 * after `CLAIM_WAIT_MS`).
 */
async function awaitOtherCheck(
  deps: OAuthDeps,
  seen: GrantFamily,
  nowMs: number,
): Promise<GrantFamily | 'revoked' | 'unsettled'> {
  for (let waited = 0; waited < CLAIM_WAIT_MS; waited += CLAIM_POLL_MS) {
    await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
    const current = await deps.grants.getFamily(seen.familyId, nowMs);
    if (!current || current.revoked) return 'revoked';
    if (current.upstreamCheckedAt !== seen.upstreamCheckedAt) return current;
    if (current.upstreamCheckStartedAt === undefined) return 'unsettled';
  }
  return 'unsettled';
}

/**
 * Checks `family` at the upstream when due; answers the family as the tokens should now carry it
 * (identity and scope), or throws `invalid_grant` (revoked) or `temporarily_unavailable` (503).
 */
export async function recheckUpstream(
  deps: OAuthDeps,
  family: GrantFamily,
  nowMs: number,
): Promise<GrantFamily> {
  const { config, identityProvider: upstream } = deps;
  const now = Math.floor(nowMs / 1000);
  if (!upstream) return family;
  if (family.upstreamToken === undefined || !deps.upstreamTokens) {
    // Nothing to ask with: the session cap ends the grant (families created before the re-check
    // existed are held to it too).
    if (now >= family.createdAt + config.upstreamSessionMaxSeconds) throw refused();
    return family;
  }
  const checkedAt = family.upstreamCheckedAt ?? family.createdAt;
  if (now - checkedAt < config.upstreamRecheckSeconds) return family;

  const log = { clientId: family.clientId, familyId: family.familyId };
  /** Revokes the family for `reason`, with its audit lines (the refresh refused, the grant revoked). */
  const revoke = async (reason: 'upstream_refused' | 'upstream_token_unreadable' | 'scope_policy') => {
    await revokeGrantFamily(deps, family.familyId);
    const about = { clientId: family.clientId, sub: family.identity.sub, grantId: family.familyId };
    audit(deps.logger, 'refused', { reason, ...about });
    audit(deps.logger, 'revoke', { target: 'grant', by: 'upstream', ...about });
  };
  const withinGrace = () => now - checkedAt <= config.upstreamOutageGraceSeconds;
  const outage = (reason: string) => {
    if (withinGrace()) {
      deps.logger.warn('upstream re-check not possible; refresh allowed within the outage grace', {
        ...log,
        reason,
      });
      return family;
    }
    deps.logger.error('upstream re-check not possible past the outage grace; refresh refused for now', {
      ...log,
      reason,
    });
    throw new TemporarilyUnavailableError(
      'the identity provider cannot be reached to confirm this grant; retry later',
      OUTAGE_RETRY_AFTER_SECONDS,
    );
  };

  // One refresh at a time asks the upstream: a provider that rotates its refresh tokens would
  // refuse the second of two parallel refreshes, and that refusal must not revoke the grant.
  if (
    !(await deps.grants.claimUpstreamCheck(
      family.familyId,
      family.upstreamCheckedAt,
      now,
      now - CLAIM_SECONDS,
    ))
  ) {
    // Another refresh holds the check (parallel sessions of one client refresh together): wait for
    // its result rather than answer from what is now stale, or call a healthy provider down.
    const settled = await awaitOtherCheck(deps, family, nowMs);
    if (settled === 'revoked') throw refused();
    if (settled !== 'unsettled') return settled;
    return outage('another refresh was checking this grant and reached no result');
  }

  let token: string;
  try {
    token = await deps.upstreamTokens.decrypt(family.upstreamToken, family.identity.sub);
  } catch (error) {
    if (!(error instanceof UpstreamTokenDecryptError)) {
      await deps.grants.releaseUpstreamCheck(family.familyId);
      throw error;
    }
    // Its key was removed too early, or the item was altered: the grant can no longer be checked.
    await revoke('upstream_token_unreadable');
    deps.logger.error('upstream refresh token does not decrypt; grant revoked', {
      ...log,
      reason: error.message,
    });
    throw refused();
  }

  let login: UpstreamLogin;
  try {
    login = await upstream.refresh(token, family.identity.sub);
  } catch (error) {
    if (error instanceof UpstreamRefusedError) {
      await revoke('upstream_refused');
      deps.logger.info('identity provider refused the grant at its re-check; grant revoked', log);
      throw refused();
    }
    await deps.grants.releaseUpstreamCheck(family.familyId);
    if (error instanceof UpstreamUnavailableError) return outage(error.message);
    throw error;
  }

  const policy = config.scopePolicy;
  const { granted, withheld } = applyScopePolicy(
    policy,
    family.scope,
    policy ? groupsFromClaims(login.claims, policy.claim) : new Set(),
  );
  if (granted.length === 0) {
    await revoke('scope_policy');
    deps.logger.info('the scope policy leaves the user none of the grant; grant revoked', log);
    throw refused();
  }
  const upstreamToken = await deps.upstreamTokens.encrypt(login.refreshToken ?? token, family.identity.sub);
  const scope = granted.join(' ');
  await deps.grants.recordUpstreamCheck(family.familyId, {
    checkedAt: now,
    identity: login.identity,
    scope,
    upstreamToken,
  });
  deps.logger.info('grant re-checked at the identity provider', {
    ...log,
    ...(withheld.length ? { dropped: withheld.join(' ') } : {}),
  });
  return { ...family, identity: login.identity, scope, upstreamToken, upstreamCheckedAt: now };
}
