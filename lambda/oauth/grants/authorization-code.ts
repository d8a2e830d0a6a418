/**
 * The authorization code grant (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3) with PKCE (RFC 7636 §4.6).
 * The code is checked before it is spent, so a request with a wrong verifier or from another
 * client burns nothing; it is then marked used by one conditional write, and a second use
 * revokes the grant family it started (RFC 6749 §10.5).
 */
import { audit } from '../../shared/audit.js';
import { createHash } from 'node:crypto';
import { sha256 } from '../../shared/crypto.js';
import { isIssuedToken, LOGIN_TTL_SECONDS } from '../login/authorization-response.js';
import { InvalidGrantError, InvalidRequestError } from '../errors.js';
import type { AuthorizationCode } from '../stores/grant-store.js';
import { resolveAudience } from './token-request.js';
import type { GrantContext, GrantHandler } from './grant.js';
import { issueUserTokens } from './user-tokens.js';
import { isUserRevoked, revokeGrantFamily } from '../stores/revocations.js';

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

function checkCode(code: AuthorizationCode, { client, params, deps }: GrantContext, verifier: string): void {
  const { request } = code;
  if (request.clientId !== client.clientId)
    throw new InvalidGrantError('the code was issued to another client');
  const redirectUri = params.get('redirect_uri');
  if (
    request.redirectUriSent
      ? redirectUri !== request.redirectUri
      : redirectUri !== null && redirectUri !== request.redirectUri
  ) {
    throw new InvalidGrantError('"redirect_uri" does not match the authorization request');
  }
  const challenge = createHash('sha256').update(verifier, 'ascii').digest('base64url');
  if (challenge !== request.codeChallenge) throw new InvalidGrantError('PKCE verification failed');
  if (resolveAudience(params.getAll('resource'), deps.config) !== request.audience) {
    throw new InvalidGrantError('"resource" does not match the authorization request');
  }
}

export const authorizationCodeGrant: GrantHandler = async (context) => {
  const { params, deps, now } = context;
  const code = params.get('code');
  const verifier = params.get('code_verifier');
  if (!code) throw new InvalidRequestError('"code" is required');
  if (!verifier) throw new InvalidRequestError('"code_verifier" is required (PKCE)');
  if (!CODE_VERIFIER.test(verifier)) throw new InvalidRequestError('"code_verifier" is malformed');
  if (!isIssuedToken(code)) throw new InvalidGrantError('the code is invalid or expired');

  const codeHash = sha256(code);
  const stored = await deps.grants.getCode(codeHash, now);
  if (!stored) throw new InvalidGrantError('the code is invalid or expired');
  // Checked even for a used code, so only someone who holds the verifier (the client, or whoever
  // stole the code and the verifier) can trigger the revocation a replay causes.
  checkCode(stored, context, verifier);
  const replay = async () => {
    await revokeGrantFamily(deps, stored.familyId);
    const about = { clientId: context.client.clientId, sub: stored.identity.sub, grantId: stored.familyId };
    audit(deps.logger, 'refused', { reason: 'code_replay', ...about });
    audit(deps.logger, 'revoke', { target: 'grant', by: 'replay', ...about });
    deps.logger.warn('authorization code reused; grant revoked', {
      clientId: context.client.clientId,
      familyId: stored.familyId,
    });
    return new InvalidGrantError('the code is invalid or expired');
  };
  if (stored.used) throw await replay();
  // A user, or the grant, revoked after the login and before the redemption (an operator's
  // revoke right after consent) gets no tokens from it. Both read while the refresh token is
  // stored (a token stored for a revoked grant is never handed out), and answered before the
  // code is spent.
  const revoked = Promise.all([
    isUserRevoked(deps, stored.identity.sub, stored.expiresAt - LOGIN_TTL_SECONDS),
    deps.grants.getFamily(stored.familyId, now),
  ]).then(([userRevoked, family]): string | undefined =>
    userRevoked ? 'user_revoked' : !family || family.revoked ? 'grant_revoked' : undefined,
  );
  revoked.catch(() => undefined); // awaited in the commit, unless storing the refresh token failed
  const grant = {
    familyId: stored.familyId,
    familyExpiresAt: stored.familyExpiresAt,
    identity: stored.identity,
    scope: stored.request.scope,
    audience: stored.request.audience,
  };
  // The code is spent last, once everything that can fail has succeeded (signing key loaded,
  // refresh token stored): a dependency fault before that leaves the code usable for a retry,
  // instead of a retry that looks like a replay and revokes the grant.
  return issueUserTokens(context, grant, async () => {
    const reason = await revoked;
    if (reason) {
      const about = { clientId: context.client.clientId, sub: stored.identity.sub, grantId: stored.familyId };
      audit(deps.logger, 'refused', { reason, ...about });
      throw new InvalidGrantError('the code is invalid or expired');
    }
    const redemption = await deps.grants.redeemCode(codeHash, now);
    if (redemption.outcome !== 'redeemed') throw await replay();
  });
};
