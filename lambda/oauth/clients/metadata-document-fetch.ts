/**
 * Fetches a client ID metadata document (draft-ietf-oauth-client-id-metadata-document §4) with
 * the guards a URL chosen by anyone needs: https only, the host resolved once (with c-ares,
 * cancelled at the deadline: `host-resolver.ts`) and every address
 * checked by `address-policy.ts`, the connection made to the checked address (no second
 * resolution a rebinding DNS server could answer differently), no redirects, a 5 KB cap read as a
 * stream, a 5 s deadline for the whole fetch, and JSON only.
 *
 * `node:https` does the TLS: the certificate is verified against the URL's host name, which is
 * also the SNI name and the `Host` header.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressProblem } from './address-policy.js';
import { quote } from '../excerpt.js';
import { resolveHost, type ResolvedAddress, type Resolver } from './host-resolver.js';

export type { ResolvedAddress, Resolver } from './host-resolver.js';

export const MAX_DOCUMENT_BYTES = 5 * 1024;
export const FETCH_TIMEOUT_MS = 5000;
/** Longest `client_id` URL accepted; it becomes part of storage keys. */
export const MAX_DOCUMENT_URL_LENGTH = 1024;
const MIN_CACHE_SECONDS = 60;
const MAX_CACHE_SECONDS = 86_400;
const LOOPBACK_DOCUMENT_HOSTS = new Set(['localhost', '127.0.0.1']);

export type MetadataDocumentErrorCode =
  | 'ERR_CIMD_URL'
  | 'ERR_CIMD_ADDRESS'
  | 'ERR_CIMD_FETCH'
  | 'ERR_CIMD_TIMEOUT'
  | 'ERR_CIMD_TOO_LARGE'
  | 'ERR_CIMD_NOT_JSON'
  | 'ERR_CIMD_INVALID'
  | 'ERR_CIMD_BLOCKED';

/** Thrown when a client's metadata document cannot be fetched or is not acceptable; the message says why. */
export class MetadataDocumentError extends Error {
  constructor(
    readonly code: MetadataDocumentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MetadataDocumentError';
  }
}

export interface FetchOptions {
  /** c-ares, cancelled at the deadline (`host-resolver.ts`); tests play a hostile DNS server here. */
  resolve?: Resolver;
  /** Local mode only (`CIMD_ALLOW_HTTP_LOOPBACK=1`): allow `http://localhost` and `http://127.0.0.1` documents. */
  allowHttpLoopback?: boolean;
  /** Extra trusted certificates (tests serving https with their own CA). */
  ca?: string | Buffer;
  timeoutMs?: number;
  maxBytes?: number;
  /** Tests only: replaces the address policy, to prove the connection goes to the checked address. */
  addressPolicy?: (address: string) => string | undefined;
}

export interface FetchedDocument {
  document: unknown;
  /** How long the document may be cached, from its cache headers, within a minute and a day. */
  maxAgeSeconds: number;
}

/** Whether `clientId` names a metadata document rather than a registered client. */
export function isMetadataDocumentUrl(clientId: string, allowHttpLoopback = false): boolean {
  return (
    clientId.startsWith('https://') ||
    (allowHttpLoopback && /^http:\/\/(localhost|127\.0\.0\.1)[:/]/.test(clientId))
  );
}

/** The URL, when it is one this server may fetch a document from; the checks that need no network. */
export function parseDocumentUrl(clientId: string, allowHttpLoopback = false): URL {
  const refuse = (why: string) => new MetadataDocumentError('ERR_CIMD_URL', `the client_id URL ${why}`);
  if (clientId.length > MAX_DOCUMENT_URL_LENGTH)
    throw refuse(`is longer than ${MAX_DOCUMENT_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    throw refuse('is not a valid URL');
  }
  const loopbackHttp =
    allowHttpLoopback && url.protocol === 'http:' && LOOPBACK_DOCUMENT_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) throw refuse('must use https');
  if (url.username || url.password) throw refuse('must not contain a user name or password');
  if (clientId.includes('#')) throw refuse('must not contain a fragment');
  if (url.pathname === '/' || url.pathname === '') throw refuse('must have a path');
  if (url.href !== clientId) throw refuse(`is not in canonical form (${quote(url.href)})`);
  return url;
}

/** The addresses to connect to: every one the host resolves to must pass the policy. */
async function checkedAddress(
  url: URL,
  options: FetchOptions,
  signal: AbortSignal,
): Promise<ResolvedAddress> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (options.allowHttpLoopback && url.protocol === 'http:') return { address: '127.0.0.1', family: 4 };
  // RFC 6761 §6.3: these names are loopback whatever a resolver says; refused before asking one.
  if (host === 'localhost' || host.endsWith('.localhost'))
    throw new MetadataDocumentError(
      'ERR_CIMD_ADDRESS',
      `the address is not allowed: ${quote(host)} is a loopback name`,
    );
  let addresses: ResolvedAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await (options.resolve ?? resolveHost)(host, signal);
    } catch (error) {
      signal.throwIfAborted();
      throw new MetadataDocumentError('ERR_CIMD_FETCH', `the host ${quote(host)} could not be resolved`, {
        cause: error,
      });
    }
  }
  if (addresses.length === 0)
    throw new MetadataDocumentError('ERR_CIMD_FETCH', `the host ${quote(host)} has no address`);
  // One private answer among public ones refuses the host: a rebinding server mixes them.
  for (const { address } of addresses) {
    const problem = (options.addressPolicy ?? addressProblem)(address);
    if (problem)
      throw new MetadataDocumentError('ERR_CIMD_ADDRESS', `the address is not allowed: ${problem}`);
  }
  return addresses[0]!;
}

/** A `lookup` that answers with the address already checked, whatever name it is asked for. */
function pinnedLookup({ address, family }: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all)
      (callback as (e: null, a: ResolvedAddress[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** Seconds the response may be cached: `max-age` (or `Expires`), held within a minute and a day. */
export function cacheSeconds(
  cacheControl: string | undefined,
  expires: string | undefined,
  nowMs: number,
): number {
  let seconds: number | undefined;
  const directives = (cacheControl ?? '').toLowerCase();
  if (/(^|,)\s*(no-store|no-cache|private)\b/.test(directives)) seconds = 0;
  else {
    const maxAge = /(^|,)\s*max-age\s*=\s*"?(\d+)/.exec(directives)?.[2];
    if (maxAge !== undefined) seconds = Number(maxAge);
    else if (expires) {
      const at = Date.parse(expires);
      if (!Number.isNaN(at)) seconds = Math.floor((at - nowMs) / 1000);
    }
  }
  return Math.min(MAX_CACHE_SECONDS, Math.max(MIN_CACHE_SECONDS, seconds ?? MIN_CACHE_SECONDS));
}

function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** Reads at most `maxBytes` of the body; one byte more aborts the response. */
function readCapped(response: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(
          new MetadataDocumentError('ERR_CIMD_TOO_LARGE', `the document is larger than ${maxBytes} bytes`),
        );
        response.destroy();
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', reject);
    response.on('close', () => {
      if (!response.complete) reject(new MetadataDocumentError('ERR_CIMD_FETCH', 'the connection was cut'));
    });
  });
}

function request(
  url: URL,
  target: ResolvedAddress,
  options: FetchOptions,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request({
      protocol: url.protocol,
      host,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: {
        accept: 'application/json',
        host: url.host,
        'user-agent': 'mcp-oauth-aws (client metadata fetch)',
      },
      lookup: pinnedLookup(target),
      // A literal IP gets no SNI (RFC 6066 §3); the certificate is still checked against it.
      ...(secure && !isIP(host) ? { servername: host } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
      agent: false,
      signal,
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}

/**
 * Fetches and parses the document at `url` (already checked by `parseDocumentUrl`). Every
 * failure is a `MetadataDocumentError` whose message can be shown to the client.
 */
export async function fetchMetadataDocument(url: URL, options: FetchOptions = {}): Promise<FetchedDocument> {
  const timeoutMs = options.timeoutMs ?? FETCH_TIMEOUT_MS;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const deadline = new Promise<never>((_resolve, reject) =>
    controller.signal.addEventListener('abort', () =>
      reject(
        new MetadataDocumentError(
          'ERR_CIMD_TIMEOUT',
          `fetching the document took longer than ${timeoutMs / 1000} s`,
        ),
      ),
    ),
  );
  deadline.catch(() => undefined);
  try {
    return await Promise.race([deadline, fetchWithin(url, options, controller.signal)]);
  } catch (error) {
    if (timedOut)
      throw new MetadataDocumentError(
        'ERR_CIMD_TIMEOUT',
        `fetching the document took longer than ${timeoutMs / 1000} s`,
      );
    if (error instanceof MetadataDocumentError) throw error;
    throw new MetadataDocumentError(
      'ERR_CIMD_FETCH',
      `the document could not be fetched (${describeNetworkError(error)})`,
      {
        cause: error,
      },
    );
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

async function fetchWithin(url: URL, options: FetchOptions, signal: AbortSignal): Promise<FetchedDocument> {
  const maxBytes = options.maxBytes ?? MAX_DOCUMENT_BYTES;
  const target = await checkedAddress(url, options, signal);
  signal.throwIfAborted();
  const response = await request(url, target, options, signal);
  const fail = (code: MetadataDocumentErrorCode, message: string) => {
    response.destroy();
    return new MetadataDocumentError(code, message);
  };
  if (response.statusCode! >= 300 && response.statusCode! < 400)
    throw fail(
      'ERR_CIMD_FETCH',
      `the document URL answered a redirect (${response.statusCode}), which is not followed`,
    );
  if (response.statusCode !== 200)
    throw fail('ERR_CIMD_FETCH', `the document URL answered HTTP ${response.statusCode}`);
  if (!isJsonMediaType(response.headers['content-type']))
    throw fail(
      'ERR_CIMD_NOT_JSON',
      `the document is not JSON (content-type ${quote(response.headers['content-type'] ?? '')})`,
    );
  const length = Number(response.headers['content-length']);
  if (Number.isFinite(length) && length > maxBytes)
    throw fail('ERR_CIMD_TOO_LARGE', `the document is larger than ${maxBytes} bytes`);
  const body = await readCapped(response, maxBytes);
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    throw new MetadataDocumentError('ERR_CIMD_NOT_JSON', 'the document is not valid JSON');
  }
  const maxAgeSeconds = cacheSeconds(response.headers['cache-control'], response.headers.expires, Date.now());
  return { document, maxAgeSeconds };
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'network error';
}
