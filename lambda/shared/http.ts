/** Small helpers for building and reading requests and responses. */
import { PlainResponse, type HeaderInit, type HttpRequest } from './http-message.js';

/** `Authorization: Bearer <token>` with a token in the RFC 6750 §2.1 `b64token` syntax. */
export const BEARER_AUTHORIZATION = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export class PayloadTooLargeError extends Error {
  readonly code = 'ERR_PAYLOAD_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`request body is larger than ${limit} bytes`);
    this.name = 'PayloadTooLargeError';
  }
}

/** Reads the body as text, refusing anything over `limit` bytes before and after reading. */
export async function readText(request: HttpRequest, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) throw new PayloadTooLargeError(limit);
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > limit) throw new PayloadTooLargeError(limit);
  return new TextDecoder().decode(bytes);
}

export function json(status: number, body: unknown, headers: HeaderInit = {}): PlainResponse {
  const response = new PlainResponse(status === 204 ? null : JSON.stringify(body), { status, headers });
  response.headers.set('content-type', 'application/json');
  return response;
}

/** The media type of a request, lowercased and without parameters. */
export function mediaType(request: HttpRequest): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Whether a browser origin is allowed by the configured list (exact match; `*` allows any). */
export function isAllowedOrigin(origin: string, allowed: readonly string[]): boolean {
  return allowed.includes('*') || allowed.includes(origin);
}

/** The value of one cookie of the request (RFC 6265 §4.2), or undefined. */
export function cookieValue(request: HttpRequest, name: string): string | undefined {
  for (const pair of (request.headers.get('cookie') ?? '').split(/;\s*/)) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
