/**
 * What the login steps (`/authorize`, `/callback`, the consent form) share: the redirect back to
 * the client (RFC 6749 §4.1.2, with `iss` per RFC 9207), issuing the authorization code, and the
 * cookie that binds a pending authorization to the browser that started it (RFC 6749 §10.12).
 */
import { PlainResponse, type HttpRequest } from '../../shared/http-message.js';
import { matchesHash, randomToken, sha256 } from '../../shared/crypto.js';
import { cookieValue } from '../../shared/http.js';
import type { OAuthDeps } from '../deps.js';
import { isLoopbackHttp } from '../clients/redirect-uris.js';
import type { AuthorizationRequest, PendingAuthorization, UserIdentity } from '../stores/grant-store.js';

/** Pending authorizations and codes live 10 minutes. */
export const LOGIN_TTL_SECONDS = 600;

/** Handles, codes and tokens this server issues: `randomToken()`, 43 base64url characters. */
const HANDLE = /^[A-Za-z0-9_-]{43}$/;

/** Whether a value has the shape of a handle or token this server issued; others are never looked up. */
export function isIssuedToken(value: string | null | undefined): value is string {
  return typeof value === 'string' && HANDLE.test(value);
}

export function redirectTo(target: URL, headers: Record<string, string> = {}, status = 302): PlainResponse {
  return new PlainResponse(null, {
    status,
    headers: {
      location: target.href,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      ...headers,
    },
  });
}

/** The authorization response: `params` plus `state` and `iss`, on the client's verified redirect URI. */
export function redirectToClient(
  request: Pick<AuthorizationRequest, 'redirectUri' | 'state'>,
  params: Record<string, string>,
  deps: OAuthDeps,
  headers: Record<string, string> = {},
  status = 302,
): PlainResponse {
  const target = new URL(request.redirectUri);
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  if (request.state !== undefined) target.searchParams.set('state', request.state);
  target.searchParams.set('iss', deps.config.issuer);
  return redirectTo(target, headers, status);
}

/**
 * Whether an error at the authorization endpoint, before any user has logged in, may be sent to
 * the client's redirect URI automatically. RFC 9700 §4.11.2: anyone can register a client with a
 * redirect URI of their choosing, so redirecting such errors would make this server a redirector
 * to any site, carrying its name; the server "SHOULD only automatically redirect the user agent
 * if it trusts the redirect URI". The one redirect URI it can trust without a user is a loopback
 * one (RFC 8252 §7.3): it leads back to the user's own machine, never to a site on the web. A
 * private-use scheme would launch an application without the user asking, and an https URI is
 * the registrant's site, so both get the error page instead (with a link the user may follow).
 * The client must also have completed a login before, as every client that deserves the redirect
 * has: a fresh registration gets the page whatever its redirect URI.
 */
export function mayRedirectErrorUnattended(client: { lastLoginAt?: number }, redirectUri: string): boolean {
  if (client.lastLoginAt === undefined) return false;
  try {
    return isLoopbackHttp(new URL(redirectUri));
  } catch {
    return false;
  }
}

/** The error response as a URL, for a link the user can choose to follow from the error page. */
export function errorResponseUrl(
  request: Pick<AuthorizationRequest, 'redirectUri' | 'state'>,
  error: string,
  description: string,
  deps: OAuthDeps,
): string {
  return redirectError(request, error, description, deps).headers.get('location')!;
}

export function redirectError(
  request: Pick<AuthorizationRequest, 'redirectUri' | 'state'>,
  error: string,
  description: string,
  deps: OAuthDeps,
  headers: Record<string, string> = {},
  status = 302,
): PlainResponse {
  return redirectToClient(request, { error, error_description: description }, deps, headers, status);
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * Issues an authorization code for a user's approved request: starts the grant family the code's
 * tokens will belong to, and keeps the client registration alive (it completed a login). The
 * family keeps the encrypted upstream refresh token for the re-checks; without one it cannot be
 * checked again, and ends `upstreamSessionMaxSeconds` after the login.
 */
export async function issueAuthorizationCode(
  request: AuthorizationRequest,
  identity: UserIdentity,
  deps: OAuthDeps,
  nowMs: number,
  upstreamToken?: string,
): Promise<string> {
  const now = seconds(nowMs);
  const familyId = randomToken(16);
  const familyExpiresAt =
    now +
    (upstreamToken === undefined
      ? Math.min(deps.config.refreshTokenAbsoluteTtlSeconds, deps.config.upstreamSessionMaxSeconds)
      : deps.config.refreshTokenAbsoluteTtlSeconds);
  const code = randomToken();
  // Three independent writes, one round trip: the code names the family it starts, but nothing
  // reads the family before the code is redeemed, and on a failure of any of them the code is
  // never handed out (an orphan family expires with its TTL).
  await Promise.all([
    deps.grants.createFamily({
      familyId,
      clientId: request.clientId,
      identity,
      scope: request.scope,
      audience: request.audience,
      createdAt: now,
      expiresAt: familyExpiresAt,
      upstreamCheckedAt: now,
      ...(upstreamToken !== undefined ? { upstreamToken } : {}),
    }),
    deps.grants.saveCode(sha256(code), {
      request,
      identity,
      familyId,
      familyExpiresAt,
      expiresAt: now + LOGIN_TTL_SECONDS,
    }),
    deps.clients.recordLogin(request.clientId, now, now + deps.config.clientIdleTtlSeconds),
  ]);
  deps.logger.info('authorization code issued', { clientId: request.clientId, familyId });
  deps.metrics?.count('LoginsCompleted');
  return code;
}

/** The browser-binding cookie of one pending authorization: its name is derived from the handle. */
function bindingCookieName(handleHash: string, deps: OAuthDeps): string {
  // `__Host-` pins the cookie to this origin over https; browsers refuse it on plain http.
  const prefix = deps.config.issuer.startsWith('https:') ? '__Host-' : '';
  return `${prefix}mcp-login-${handleHash.slice(0, 16)}`;
}

function cookieAttributes(deps: OAuthDeps, maxAge: number): string {
  const secure = deps.config.issuer.startsWith('https:') ? '; Secure' : '';
  return `Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
}

/** A new browser binding: the cookie to set, and the hash to keep on the pending authorization. */
export function newBrowserBinding(handleHash: string, deps: OAuthDeps): { setCookie: string; hash: string } {
  const value = randomToken();
  return {
    setCookie: `${bindingCookieName(handleHash, deps)}=${value}; ${cookieAttributes(deps, LOGIN_TTL_SECONDS)}`,
    hash: sha256(value),
  };
}

/** Whether the request comes from the browser that started the pending authorization. */
export function isSameBrowser(
  request: HttpRequest,
  handleHash: string,
  pending: PendingAuthorization,
  deps: OAuthDeps,
): boolean {
  const value = cookieValue(request, bindingCookieName(handleHash, deps));
  return value !== undefined && matchesHash(value, pending.browserHash);
}

/** Clears the binding cookie once the authorization is finished. */
export function clearBrowserBinding(handleHash: string, deps: OAuthDeps): Record<string, string> {
  return { 'set-cookie': `${bindingCookieName(handleHash, deps)}=; ${cookieAttributes(deps, 0)}` };
}
