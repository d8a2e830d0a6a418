/**
 * The authorization endpoint (RFC 6749 §3.1, OAuth 2.1 §4.1.1): validates the client's request,
 * keeps it as a pending authorization, and sends the browser to the upstream OpenID provider to
 * log in. `/callback` continues from there.
 *
 * Until the client and its redirect URI are verified, errors are shown as a page and never
 * redirected (RFC 6749 §4.1.2.1: an unverified redirect URI would make this an open redirector).
 * After that, too, they go back to the client automatically only where RFC 9700 §4.11.2 allows it
 * without making this server a redirector (`mayRedirectErrorUnattended`), with `state` and `iss`.
 */
import { type HttpRequest, PlainResponse } from '../../shared/http-message.js';
import { randomToken, sha256 } from '../../shared/crypto.js';
import type { StoredClient } from '../stores/client-store.js';
import type { OAuthDeps } from '../deps.js';
import {
  InvalidRequestError,
  LoginRequiredError,
  OAuthError,
  TemporarilyUnavailableError,
  UnauthorizedClientError,
  UnsupportedResponseTypeError,
} from '../errors.js';
import type { AuthorizationRequest } from '../stores/grant-store.js';
import { UpstreamUnavailableError } from '../login/identity-provider.js';
import { MetadataDocumentError } from '../clients/metadata-document-fetch.js';
import { errorPage } from '../login/pages.js';
import { redirectUriMatches } from '../clients/redirect-uris.js';
import {
  errorResponseUrl,
  LOGIN_TTL_SECONDS,
  mayRedirectErrorUnattended,
  newBrowserBinding,
  redirectError,
  redirectTo,
} from '../login/authorization-response.js';
import { narrowScope, resolveAudience } from '../grants/token-request.js';
import { quote } from '../excerpt.js';

/** RFC 7636 §4.2: a base64url SHA-256 is 43 characters; the syntax allows 43 to 128. */
const CODE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;
const MAX_STATE_LENGTH = 2048;
const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);

type Query = URLSearchParams;

/**
 * The authorization request's parameters (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 8707 §2, OpenID
 * Connect Core §3.1.2.1): the only parameter names an error page repeats. Any other name is the
 * requester's text, and a page that named it would say whatever the requester wrote.
 */
const REQUEST_PARAMETERS = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'prompt',
  'nonce',
  'login_hint',
  'max_age',
  'response_mode',
  'display',
  'ui_locales',
  'request',
  'request_uri',
]);

/** What the error page says about a repeated parameter. */
export function repeatedParameter(name: string): string {
  return REQUEST_PARAMETERS.has(name) ? `The "${name}" parameter is repeated.` : 'A parameter is repeated.';
}

/** The client and redirect URI of a request, or the error page to show instead. */
async function verifyClient(
  query: Query,
  deps: OAuthDeps,
): Promise<{ client: StoredClient; redirectUri: string; redirectUriSent: boolean } | PlainResponse> {
  for (const name of new Set(query.keys())) {
    if (query.getAll(name).length > 1 && name !== 'resource') {
      return errorPage('invalid_request', repeatedParameter(name));
    }
  }
  const clientId = query.get('client_id');
  if (!clientId) return errorPage('invalid_request', 'The request has no "client_id".');
  let client: StoredClient | undefined;
  try {
    client = await deps.clientResolver.get(clientId);
  } catch (error) {
    if (!(error instanceof MetadataDocumentError)) throw error;
    deps.logger.warn('client metadata document refused', {
      clientId,
      code: error.code,
      reason: error.message,
    });
    return errorPage('invalid_client', `The app's client metadata document was refused: ${error.message}.`);
  }
  if (!client) return errorPage('invalid_client', 'The app is not registered with this server.');

  const registered = client.metadata.redirect_uris ?? [];
  const requested = query.get('redirect_uri');
  const redirectUri = requested ?? (registered.length === 1 ? registered[0] : undefined);
  if (!redirectUri) return errorPage('invalid_request', 'The request has no "redirect_uri".');
  if (!registered.some((r) => redirectUriMatches(r, redirectUri))) {
    return errorPage(
      'invalid_request',
      client.documentHost
        ? 'The "redirect_uri" is not listed in the app\'s client metadata document.'
        : 'The "redirect_uri" is not registered for this app.',
    );
  }
  return { client, redirectUri, redirectUriSent: requested !== null };
}

/** The rest of the request, checked in the order RFC 6749 §4.1.2.1 lists the errors. */
function validateRequest(
  query: Query,
  verified: { client: StoredClient; redirectUri: string; redirectUriSent: boolean },
  deps: OAuthDeps,
): AuthorizationRequest & { prompts: Set<string> } {
  const { client } = verified;
  const responseType = query.get('response_type');
  if (!responseType) throw new InvalidRequestError('"response_type" is required');
  if (responseType !== 'code' || !deps.identityProvider) {
    throw new UnsupportedResponseTypeError(
      deps.identityProvider ? 'only "code" is supported' : 'user login is not configured on this server',
    );
  }
  if (!client.metadata.grant_types.includes('authorization_code')) {
    throw new UnauthorizedClientError('the client is not registered for the "authorization_code" grant');
  }
  const challenge = query.get('code_challenge');
  const method = query.get('code_challenge_method');
  if (!challenge) throw new InvalidRequestError('PKCE is required: send "code_challenge" (S256)');
  if (method !== 'S256') throw new InvalidRequestError('"code_challenge_method" must be "S256"');
  if (!CODE_CHALLENGE.test(challenge)) throw new InvalidRequestError('"code_challenge" is malformed');

  const state = query.get('state') ?? undefined;
  if (state !== undefined && state.length > MAX_STATE_LENGTH) {
    throw new InvalidRequestError(`"state" is longer than ${MAX_STATE_LENGTH} characters`);
  }
  const prompts = new Set((query.get('prompt') ?? '').split(' ').filter(Boolean));
  for (const prompt of prompts) {
    if (!PROMPTS.has(prompt))
      throw new InvalidRequestError(`"prompt" has the unknown value ${quote(prompt)}`);
  }
  if (prompts.has('none')) {
    if (prompts.size > 1) throw new InvalidRequestError('"prompt=none" cannot be combined with other values');
    throw new LoginRequiredError('this server needs the user to log in interactively');
  }
  return {
    clientId: client.clientId,
    redirectUri: verified.redirectUri,
    redirectUriSent: verified.redirectUriSent,
    codeChallenge: challenge,
    scope: narrowScope(query.get('scope'), client.metadata.scope),
    audience: resolveAudience(query.getAll('resource'), deps.config),
    ...(state !== undefined ? { state } : {}),
    forceConsent: prompts.has('consent'),
    prompts,
  };
}

export async function authorize(request: HttpRequest, deps: OAuthDeps): Promise<PlainResponse> {
  const query = new URL(request.url).searchParams;
  const verified = await verifyClient(query, deps);
  if (verified instanceof PlainResponse) return verified;

  // From here on the redirect URI is verified, so errors go back to the client (RFC 6749 §4.1.2.1).
  const state = query.get('state') ?? undefined;
  const back = {
    redirectUri: verified.redirectUri,
    ...(state !== undefined && state.length <= MAX_STATE_LENGTH && { state }),
  };
  try {
    const { prompts, ...authorization } = validateRequest(query, verified, deps);
    const handle = randomToken();
    const handleHash = sha256(handle);
    const upstream = { codeVerifier: randomToken(), nonce: randomToken() };
    const upstreamPrompt = prompts.has('login')
      ? 'login'
      : prompts.has('select_account')
        ? 'select_account'
        : undefined;
    const target = await deps.identityProvider!.authorizationUrl({
      ...upstream,
      state: handle,
      callbackUrl: `${deps.config.issuer}/callback`,
      ...(upstreamPrompt ? { prompt: upstreamPrompt } : {}),
    });
    const binding = newBrowserBinding(handleHash, deps);
    const now = deps.now?.() ?? Date.now();
    await deps.grants.savePending(handleHash, {
      request: authorization,
      upstream,
      browserHash: binding.hash,
      expiresAt: Math.floor(now / 1000) + LOGIN_TTL_SECONDS,
    });
    deps.logger.info('login started', { clientId: authorization.clientId, scope: authorization.scope });
    return redirectTo(target, { 'set-cookie': binding.setCookie });
  } catch (error) {
    if (error instanceof UpstreamUnavailableError) {
      deps.logger.error('identity provider unavailable', { error });
      error = new TemporarilyUnavailableError('the identity provider cannot be reached; retry shortly');
    }
    if (!(error instanceof OAuthError) || error.errorCode === 'server_error') throw error;
    if (error.status < 500) deps.metrics?.count('Refusals', error.errorCode);
    // No user has logged in yet, so an automatic redirect would make this server a redirector to
    // whatever the registrant chose (RFC 9700 §4.11.2): only a loopback redirect URI of a client
    // that has completed a login gets one. Otherwise the error page; for a client that has
    // completed a login it offers the way back as a link the user chooses to follow. Metadata
    // document clients are never recorded as having logged in, so they always get the page.
    if (mayRedirectErrorUnattended(verified.client, verified.redirectUri)) {
      return redirectError(back, error.errorCode, error.message, deps);
    }
    const returnTo =
      verified.client.lastLoginAt === undefined
        ? undefined
        : { href: errorResponseUrl(back, error.errorCode, error.message, deps), to: verified.redirectUri };
    return errorPage(error.errorCode, `${error.message}.`, 400, returnTo);
  }
}
