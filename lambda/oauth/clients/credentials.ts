/**
 * Parsing of the credentials a request carries: bearer tokens (RFC 6750 §2.1) and HTTP Basic
 * client credentials (RFC 6749 §2.3.1), strictly, so malformed headers never half-parse.
 */
import { type HttpRequest } from '../../shared/http-message.js';
import { BEARER_AUTHORIZATION } from '../../shared/http.js';
import { InvalidClientError, InvalidRequestError } from '../errors.js';
import { quote } from '../excerpt.js';

const BASIC = /^Basic +([A-Za-z0-9+/]+=*) *$/i;

/** The bearer token of the Authorization header; undefined if none; null if the header is malformed. */
export function bearerToken(request: HttpRequest): string | undefined | null {
  const header = request.headers.get('authorization');
  if (header === null) return undefined;
  return BEARER_AUTHORIZATION.exec(header)?.[1] ?? null;
}

/** RFC 6749 §2.3.1 has clients form-urlencode the id and secret before base64. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw new InvalidClientError('the Basic credentials are not correctly form-urlencoded', true);
  }
}

/** The client credentials of a Basic Authorization header, undefined if the header is absent or not Basic. */
export function basicCredentials(
  request: HttpRequest,
): { clientId: string; clientSecret: string } | undefined {
  const header = request.headers.get('authorization');
  if (header === null || !/^basic\b/i.test(header)) return undefined;
  const match = BASIC.exec(header);
  if (!match) throw new InvalidClientError('the Basic Authorization header is malformed', true);
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidClientError('the Basic credentials have no ":" separator', true);
  return {
    clientId: formDecode(decoded.slice(0, colon)),
    clientSecret: formDecode(decoded.slice(colon + 1)),
  };
}

/**
 * Parses an `application/x-www-form-urlencoded` body. Parameters other than `resource` must not
 * repeat (RFC 6749 §3.2; RFC 8707 §2 lets `resource` repeat).
 */
export function parseForm(body: string, repeatable: readonly string[] = ['resource']): URLSearchParams {
  const params = new URLSearchParams(body);
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name) && !repeatable.includes(name)) {
      throw new InvalidRequestError(`the ${quote(name)} parameter is repeated`);
    }
    seen.add(name);
  }
  return params;
}
