/**
 * Redirect URI rules, from what real MCP clients register (see shared interop notes): https,
 * loopback http on any port (RFC 8252 §7.3), and private-use schemes (RFC 8252 §7.1).
 *
 * Private-use schemes are allow-listed, not deny-listed: the browser hands them to whatever
 * program claims them (`ms-msdt:`, `search-ms:`, `intent:` and many more), so a scheme is accepted
 * only in the reverse-DNS form RFC 8252 §7.1 asks for (`com.example.app:`, its first label shaped
 * like a top-level domain), or when it is one of the short schemes shipping MCP clients use. The
 * reverse-DNS shape alone would still let `microsoft.windows.camera:` through, so schemes that
 * operating systems and browsers handle themselves are refused first, from the one list in
 * `system-schemes.ts`.
 */
import { isSystemScheme } from './system-schemes.js';
import { quote } from '../excerpt.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Short private-use schemes of MCP clients that do not use the reverse-DNS form. */
export const KNOWN_CLIENT_SCHEMES = new Set(['cursor:', 'vscode:', 'vscode-insiders:', 'windsurf:']);
/**
 * `tld.domain[.more]:`: the first label is letters only, or an IDNA `xn--` label, as top-level
 * domains are (so `x-apple.…` and `ms-settings.app` are not reverse domain names).
 */
const REVERSE_DNS_SCHEME = /^([a-z]{2,63}|xn--[a-z0-9-]+)(\.[a-z0-9-]+)+:$/;
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
  // Stored and compared as sent, so it must be what a browser would make of it: no whitespace,
  // backslashes, upper-case hosts or missing slashes that the browser would quietly rewrite.
  if (url.href !== uri) return `is not in canonical form (a browser would read it as ${quote(url.href)})`;
  if (url.protocol === 'https:') return url.hostname ? undefined : 'has no host';
  if (url.protocol === 'http:') {
    return isLoopbackHttp(url) ? undefined : 'uses http on a host that is not loopback (use https)';
  }
  const scheme = quote(url.protocol.slice(0, -1));
  if (isSystemScheme(url.protocol)) {
    return `uses the scheme ${scheme}, which the operating system or browser handles itself: use https, loopback http, or a reverse-DNS private-use scheme of a domain you control`;
  }
  if (REVERSE_DNS_SCHEME.test(url.protocol) || KNOWN_CLIENT_SCHEMES.has(url.protocol)) return undefined;
  return `uses the scheme ${scheme}: use https, loopback http, or a reverse-DNS private-use scheme such as "com.example.app"`;
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
