/**
 * One HTTP request as sent, with nothing normalised: any method, a body on any method, any
 * `Host` and header value Node's client can put on the wire, the path exactly as given. `fetch`
 * cannot do this (it refuses a GET body and forbidden headers, and normalises the URL), and the
 * generated-input tests need all of it.
 */
import { request, type OutgoingHttpHeaders } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function rawRequest(
  origin: string,
  options: { method: string; path: string; headers?: OutgoingHttpHeaders; body?: string | Buffer },
): Promise<RawResponse> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method,
        path: options.path,
        headers: {
          ...(options.body !== undefined && { 'content-length': Buffer.byteLength(options.body) }),
          ...options.headers,
        },
        // Without an agent, each request has its own connection: a server that closes one cannot
        // fail the next.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Header values Node's HTTP client accepts: tab, visible ASCII, space and obs-text (RFC 9110 §5.5). */
export const HEADER_VALUE_CHARS = [
  '\t',
  ...Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)),
  ...Array.from({ length: 0xff - 0x80 + 1 }, (_, i) => String.fromCharCode(0x80 + i)),
];
