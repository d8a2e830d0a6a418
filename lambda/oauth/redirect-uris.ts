/**
 * Redirect URI rules, from what real MCP clients register (see shared interop notes): https,
 * loopback http on any port (RFC 8252 §7.3), and private-use schemes such as `cursor://`
 * (RFC 8252 §7.1). Everything else is refused at registration.
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const FORBIDDEN_SCHEMES = new Set([
  'javascript:',
  'data:',
  'file:',
  'vbscript:',
  'blob:',
  'about:',
  'ftp:',
  'ws:',
  'wss:',
]);
const MAX_LENGTH = 2000;

export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/** Why `uri` cannot be registered as a redirect URI, or undefined when it can. */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > MAX_LENGTH) return `is longer than ${MAX_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (uri.includes('#')) return 'must not contain a fragment';
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `uses the forbidden scheme "${url.protocol.slice(0, -1)}"`;
  if (url.protocol === 'https:') return url.hostname ? undefined : 'has no host';
  if (url.protocol === 'http:') {
    return isLoopbackHttp(url) ? undefined : 'uses http on a host that is not loopback (use https)';
  }
  // A private-use scheme: RFC 8252 §7.1 asks for reverse-DNS names, but real clients use short
  // names such as `cursor`, so any syntactically valid scheme other than the forbidden ones passes.
  return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? undefined : 'has an invalid scheme';
}

/**
 * Whether a redirect URI presented at the authorization endpoint matches a registered one:
 * exact string match, except that loopback http URIs match on any port (RFC 8252 §7.3).
 */
export function redirectUriMatches(registered: string, presented: string): boolean {
  if (registered === presented) return true;
  let a: URL;
  let b: URL;
  try {
    a = new URL(registered);
    b = new URL(presented);
  } catch {
    return false;
  }
  if (!isLoopbackHttp(a) || !isLoopbackHttp(b)) return false;
  return (
    a.hostname === b.hostname &&
    a.pathname === b.pathname &&
    a.search === b.search &&
    a.username === b.username &&
    a.password === b.password &&
    !presented.includes('#')
  );
}
