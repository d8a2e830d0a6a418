/**
 * The authorization endpoint (RFC 6749 §3.1). Interactive login through an upstream identity
 * provider is not part of this server yet, so every valid request is answered, at the client's
 * verified redirect URI, with `unsupported_response_type`, matching the metadata's empty
 * `response_types_supported`. The endpoint exists because MCP clients (the SDK's metadata schema)
 * refuse authorization server metadata without `authorization_endpoint`, even for machine grants.
 */
import { type HttpRequest, PlainResponse } from '../shared/http-message.js';
import type { OAuthDeps } from './deps.js';
import { redirectUriMatches } from './redirect-uris.js';

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** An error shown to the user, for requests whose redirect URI cannot be trusted (RFC 6749 §4.1.2.1). */
function errorPage(error: string, description: string): PlainResponse {
  const body = `<!doctype html><meta charset="utf-8"><title>Authorization error</title>
<h1>Authorization error</h1><p><code>${escapeHtml(error)}</code>: ${escapeHtml(description)}</p>`;
  return new PlainResponse(body, { status: 400, headers: HTML_HEADERS });
}

export async function authorize(request: HttpRequest, deps: OAuthDeps): Promise<PlainResponse> {
  const query = new URL(request.url).searchParams;
  for (const name of new Set(query.keys())) {
    if (query.getAll(name).length > 1 && name !== 'resource') {
      return errorPage('invalid_request', `the "${name}" parameter is repeated`);
    }
  }
  const clientId = query.get('client_id');
  if (!clientId) return errorPage('invalid_request', 'the "client_id" parameter is required');
  const client = await deps.clients.get(clientId);
  if (!client) return errorPage('invalid_client', 'the client is not registered');

  const registered = client.metadata.redirect_uris ?? [];
  const requested = query.get('redirect_uri');
  const redirectUri = requested ?? (registered.length === 1 ? registered[0] : undefined);
  if (!redirectUri) return errorPage('invalid_request', 'the "redirect_uri" parameter is required');
  if (!registered.some((r) => redirectUriMatches(r, redirectUri))) {
    return errorPage('invalid_request', 'the "redirect_uri" is not registered for this client');
  }

  // From here on the redirect URI is verified, so errors go back to the client (RFC 6749 §4.1.2.1).
  const target = new URL(redirectUri);
  target.searchParams.set('error', 'unsupported_response_type');
  target.searchParams.set('error_description', 'interactive login is not available on this server');
  const state = query.get('state');
  if (state !== null) target.searchParams.set('state', state);
  target.searchParams.set('iss', deps.config.issuer);
  return new PlainResponse(null, {
    status: 302,
    headers: { location: target.href, 'cache-control': 'no-store' },
  });
}
