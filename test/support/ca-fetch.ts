/**
 * A `fetch` that trusts one extra certificate authority (a test CA from `test-certificates.ts`)
 * on top of nothing else: TLS is verified as against a real service, in this process, where
 * `NODE_EXTRA_CA_CERTS` can no longer be set. Built on `node:https` (Node.js's own `fetch` takes
 * its CA only from the process); enough of `fetch` for JSON and form requests: method, headers,
 * a string or `URLSearchParams` body, `signal`. Redirects are not followed.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export function fetchTrusting(caPem: string): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init.headers);
    const body =
      init.body === undefined || init.body === null
        ? undefined
        : init.body instanceof URLSearchParams
          ? init.body.toString()
          : String(init.body);
    if (init.body instanceof URLSearchParams && !headers.has('content-type')) {
      headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        url,
        {
          method: init.method ?? 'GET',
          headers: Object.fromEntries(headers),
          ...(url.protocol === 'https:' && { ca: caPem }),
          ...(init.signal && { signal: init.signal }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              if (value !== undefined)
                responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
            }
            const status = res.statusCode ?? 500;
            const payload = [204, 304].includes(status) ? null : Buffer.concat(chunks);
            const response = new Response(payload, { status, headers: responseHeaders });
            Object.defineProperty(response, 'url', { value: url.href });
            resolve(response);
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }) as typeof fetch;
}
