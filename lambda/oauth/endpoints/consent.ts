/**
 * The user's answer on the consent page (`POST /authorize`). The form must carry the CSRF token
 * issued with the page and come from the browser that started the login; then the pending
 * authorization is taken exactly once and becomes a code (Allow) or `access_denied` (Deny).
 *
 * This step is the confused-deputy defence: the upstream provider knows only this server, so
 * without it any registered client could ride on a user's upstream session.
 */
import { audit } from '../../shared/audit.js';
import { type HttpRequest, PlainResponse } from '../../shared/http-message.js';
import { matchesHash, sha256 } from '../../shared/crypto.js';
import { mediaType, readText } from '../../shared/http.js';
import { parseForm } from '../clients/credentials.js';
import type { OAuthDeps } from '../deps.js';
import { errorPage } from '../login/pages.js';
import {
  clearBrowserBinding,
  isIssuedToken,
  isSameBrowser,
  issueAuthorizationCode,
  redirectError,
  redirectToClient,
} from '../login/authorization-response.js';

const MAX_FORM_BYTES = 4096;
const EXPIRED = 'This consent request has expired or was already answered. Start again from your app.';

export async function consent(request: HttpRequest, deps: OAuthDeps): Promise<PlainResponse> {
  if (mediaType(request) !== 'application/x-www-form-urlencoded') {
    return errorPage('invalid_request', 'The consent form was not submitted correctly.');
  }
  let form: URLSearchParams;
  try {
    form = parseForm(await readText(request, MAX_FORM_BYTES), []);
  } catch {
    return errorPage('invalid_request', 'The consent form was not submitted correctly.');
  }
  const handle = form.get('authorization');
  const csrfToken = form.get('csrf_token');
  const decision = form.get('decision');
  if (
    !isIssuedToken(handle) ||
    !isIssuedToken(csrfToken) ||
    (decision !== 'approve' && decision !== 'deny')
  ) {
    return errorPage('invalid_request', 'The consent form was not submitted correctly.');
  }
  const handleHash = sha256(handle);
  const now = deps.now?.() ?? Date.now();
  const pending = await deps.grants.getPending(handleHash, now);
  if (!pending?.identity || !pending.csrfHash) return errorPage('invalid_request', EXPIRED);
  if (!isSameBrowser(request, handleHash, pending, deps) || !matchesHash(csrfToken, pending.csrfHash)) {
    deps.logger.warn('consent refused: not the browser that logged in', {
      clientId: pending.request.clientId,
    });
    deps.metrics?.count('LoginsRefused');
    return errorPage('access_denied', 'This consent form does not belong to this browser.', 403);
  }
  const taken = await deps.grants.takePending(handleHash, now);
  if (!taken?.identity) return errorPage('invalid_request', EXPIRED);

  const { request: authorization, identity } = taken;
  const clear = clearBrowserBinding(handleHash, deps);
  // 303: the browser follows with GET, whatever the redirect target.
  if (decision === 'deny') {
    deps.logger.info('consent denied', { clientId: authorization.clientId });
    audit(deps.logger, 'consent', {
      decision: 'denied',
      sub: identity.sub,
      clientId: authorization.clientId,
      scope: authorization.scope,
    });
    deps.metrics?.count('LoginsRefused');
    return redirectError(authorization, 'access_denied', 'the user denied the request', deps, clear, 303);
  }
  audit(deps.logger, 'consent', {
    decision: 'granted',
    sub: identity.sub,
    clientId: authorization.clientId,
    scope: authorization.scope,
  });
  // The consent and the code's writes wait on nothing of each other: one round trip.
  const [, code] = await Promise.all([
    deps.grants.saveConsent(
      authorization.clientId,
      sha256(identity.sub),
      authorization.scope.split(' '),
      Math.floor(now / 1000) + deps.config.clientIdleTtlSeconds,
    ),
    issueAuthorizationCode(authorization, identity, deps, now, taken.upstreamToken),
  ]);
  return redirectToClient(authorization, { code }, deps, clear, 303);
}
