/**
 * The upstream provider's redirect back to this server (`GET /callback`): finds the pending
 * authorization by `state`, checks it is the same browser that started it, has `openid-client`
 * verify the response and ID token, and then either asks the user to consent to the client or,
 * when they already approved it for these scopes, sends the code straight back.
 *
 * Here the scope policy (`SCOPE_POLICY`) meets the user's upstream groups: scopes they may not
 * hold are left out of the grant and listed on the consent page as withheld, and a login left
 * with none ends as `access_denied`. The upstream's refresh token is encrypted and kept with the
 * grant for its re-checks (`login/upstream-recheck.ts`).
 *
 * An upstream error, or a user who cancels, ends as `access_denied` at the client. A callback
 * whose pending authorization is unknown cannot be sent anywhere, so it gets an error page.
 */
import { audit } from '../../shared/audit.js';
import { type HttpRequest, PlainResponse } from '../../shared/http-message.js';
import { randomToken, sha256 } from '../../shared/crypto.js';
import type { OAuthDeps } from '../deps.js';
import type { PendingAuthorization, UserIdentity } from '../stores/grant-store.js';
import {
  UpstreamLoginError,
  UpstreamUnavailableError,
  type UpstreamLogin,
} from '../login/identity-provider.js';
import { applyScopePolicy, groupsFromClaims } from '../../shared/scope-policy.js';
import { MetadataDocumentError } from '../clients/metadata-document-fetch.js';
import { consentPage, errorPage } from '../login/pages.js';
import {
  clearBrowserBinding,
  isIssuedToken,
  isSameBrowser,
  issueAuthorizationCode,
  redirectError,
  redirectToClient,
} from '../login/authorization-response.js';
import { describeScope } from '../scopes.js';

const EXPIRED =
  'This sign-in link has expired or was already used. Start again from your app; a sign-in has 10 minutes.';
const OTHER_BROWSER =
  'This sign-in was started in another browser or window. Finish it in the browser your app opened.';

/** The user as the consent page names them. */
export function displayName(identity: UserIdentity): string {
  if (identity.name && identity.email && identity.name !== identity.email)
    return `${identity.name} (${identity.email})`;
  return identity.email ?? identity.name ?? identity.sub;
}

/**
 * Whether a remembered approval may stand in for the consent page. Only for https redirect URIs:
 * a loopback port or a private-use scheme can be claimed by any program on the user's machine,
 * which could then start a login with the approved client's id and receive the code silently.
 */
export function mayRememberConsent(redirectUri: string, forceConsent: boolean): boolean {
  return !forceConsent && redirectUri.startsWith('https://');
}

export async function callback(request: HttpRequest, deps: OAuthDeps): Promise<PlainResponse> {
  const received = new URL(request.url);
  const handle = received.searchParams.get('state');
  if (!deps.identityProvider || !isIssuedToken(handle)) return errorPage('invalid_request', EXPIRED);
  const handleHash = sha256(handle);
  const now = deps.now?.() ?? Date.now();
  const pending = await deps.grants.getPending(handleHash, now);
  if (!pending || pending.identity) return errorPage('invalid_request', EXPIRED);
  if (!isSameBrowser(request, handleHash, pending, deps)) {
    deps.metrics?.count('LoginsRefused');
    return errorPage('access_denied', OTHER_BROWSER, 403);
  }

  // The URL as the provider redirected to it, rebuilt on the configured issuer, never on the Host header.
  const callbackUrl = new URL(`${deps.config.issuer}/callback${received.search}`);
  // The client, for the consent page, is read while the upstream answers: one round trip fewer.
  const clientLookup = deps.clientResolver.get(pending.request.clientId).catch((error: unknown) => {
    if (error instanceof MetadataDocumentError) return undefined;
    throw error;
  });
  clientLookup.catch(() => undefined); // awaited below, unless the login ends before that
  let login: UpstreamLogin;
  try {
    login = await deps.identityProvider.completeLogin(callbackUrl, { state: handle, ...pending.upstream });
  } catch (error) {
    if (!(error instanceof UpstreamLoginError) && !(error instanceof UpstreamUnavailableError)) throw error;
    return finishWithError(handleHash, pending, error, deps, now);
  }
  const { identity } = login;
  audit(deps.logger, 'login', { sub: identity.sub, clientId: pending.request.clientId });
  // The scope policy: what the user's groups upstream do not allow is left out of the grant.
  const policy = deps.config.scopePolicy;
  const { granted, withheld } = applyScopePolicy(
    policy,
    pending.request.scope,
    policy ? groupsFromClaims(login.claims, policy.claim) : new Set(),
  );
  if (granted.length === 0) {
    audit(deps.logger, 'refused', {
      reason: 'scope_policy',
      sub: identity.sub,
      clientId: pending.request.clientId,
    });
    return finishWithError(handleHash, pending, new NoPermittedScopeError(), deps, now);
  }
  const authorization = { ...pending.request, scope: granted.join(' ') };
  const upstreamToken =
    login.refreshToken !== undefined && deps.upstreamTokens
      ? await deps.upstreamTokens.encrypt(login.refreshToken, identity.sub)
      : undefined;
  const subjectHash = sha256(identity.sub);

  const approved = mayRememberConsent(authorization.redirectUri, authorization.forceConsent)
    ? await deps.grants.getConsent(authorization.clientId, subjectHash, now)
    : undefined;
  if (approved && authorization.scope.split(' ').every((s) => approved.includes(s))) {
    if (!(await deps.grants.takePending(handleHash, now))) return errorPage('invalid_request', EXPIRED);
    const code = await issueAuthorizationCode(authorization, identity, deps, now, upstreamToken);
    deps.logger.info('login completed with remembered consent', {
      clientId: authorization.clientId,
      ...(withheld.length ? { withheld: withheld.join(' ') } : {}),
    });
    audit(deps.logger, 'consent', {
      decision: 'remembered',
      sub: identity.sub,
      clientId: authorization.clientId,
      scope: authorization.scope,
    });
    return redirectToClient(authorization, { code }, deps, clearBrowserBinding(handleHash, deps));
  }

  const client = await clientLookup;
  if (!client) return errorPage('invalid_client', 'The app is no longer registered with this server.');
  const csrfToken = randomToken();
  const recorded = await deps.grants.setPendingIdentity(
    handleHash,
    { identity, scope: authorization.scope, ...(upstreamToken !== undefined ? { upstreamToken } : {}) },
    sha256(csrfToken),
    now,
  );
  if (!recorded) {
    return errorPage('invalid_request', EXPIRED);
  }
  return consentPage({
    action: `${deps.config.issuer}/authorize`,
    handle,
    csrfToken,
    clientName: client.metadata.client_name,
    ...(client.documentHost ? { clientHost: client.documentHost } : {}),
    redirectUri: authorization.redirectUri,
    user: displayName(identity),
    permissions: granted.map((s) => describeScope(s, deps.config.resourceName)),
    withheld: withheld.map((s) => describeScope(s, deps.config.resourceName)),
    resourceName: deps.config.resourceName,
  });
}

/** The scope policy leaves the user none of the scopes the client asked for. */
class NoPermittedScopeError extends Error {
  readonly code = 'ERR_NO_PERMITTED_SCOPE';
}

async function finishWithError(
  handleHash: string,
  pending: PendingAuthorization,
  error: UpstreamLoginError | UpstreamUnavailableError | NoPermittedScopeError,
  deps: OAuthDeps,
  now: number,
): Promise<PlainResponse> {
  const cancelled = error instanceof UpstreamLoginError && error.cancelled;
  const clientId = pending.request.clientId;
  if (cancelled) deps.logger.info('login cancelled upstream', { clientId });
  else if (error instanceof NoPermittedScopeError) {
    deps.logger.info('login refused: the scope policy allows the user none of the requested scopes', {
      clientId,
      scope: pending.request.scope,
    });
  }
  // The code and message only: an upstream error's cause may carry the provider's response.
  else deps.logger.warn('upstream login failed', { clientId, code: error.code, reason: error.message });
  deps.metrics?.count('LoginsRefused');
  if (!(await deps.grants.takePending(handleHash, now))) return errorPage('invalid_request', EXPIRED);
  const description = cancelled
    ? 'the user cancelled the login'
    : error instanceof NoPermittedScopeError
      ? "the user's groups at the identity provider allow none of the requested scopes"
      : error instanceof UpstreamUnavailableError
        ? 'the identity provider cannot be reached'
        : 'the login at the identity provider failed';
  return redirectError(
    pending.request,
    'access_denied',
    description,
    deps,
    clearBrowserBinding(handleHash, deps),
  );
}
