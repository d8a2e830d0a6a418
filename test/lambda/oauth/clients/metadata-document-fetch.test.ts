/**
 * The SSRF guards of the metadata document fetch, against a real loopback server that counts
 * every connection: refused URLs and addresses are refused before any connection is made; slow,
 * endless and oversized documents are given up within the timeout and the size cap.
 */
import { addressProblem } from '../../../../lambda/oauth/clients/address-policy.js';
import {
  cacheSeconds,
  fetchMetadataDocument,
  MAX_DOCUMENT_BYTES,
  MetadataDocumentError,
  parseDocumentUrl,
  type Resolver,
} from '../../../../lambda/oauth/clients/metadata-document-fetch.js';
import { DocumentServer, selfSignedCertificate } from '../../../support/document-server.js';

const HOST = 'docs.example.test';
const resolveTo =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

/** The error a fetch fails with. */
async function failure(promise: Promise<unknown>): Promise<MetadataDocumentError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MetadataDocumentError);
    return error as MetadataDocumentError;
  }
  throw new Error('the fetch succeeded');
}

describe('parseDocumentUrl', () => {
  it.each([
    ['http://example.com/client.json', 'must use https'],
    ['ftp://example.com/client.json', 'must use https'],
    ['https://user:pass@example.com/client.json', 'user name or password'],
    ['https://user@example.com/client.json', 'user name or password'],
    ['https://example.com/client.json#x', 'fragment'],
    ['https://example.com/', 'must have a path'],
    ['https://EXAMPLE.com/client.json', 'canonical form'],
    ['https://example.com/a/../client.json', 'canonical form'],
    [`https://example.com/${'a'.repeat(1100)}`, 'longer than 1024'],
    ['https://', 'not a valid URL'],
    ['http://localhost:8080/client.json', 'must use https'],
    ['http://127.0.0.1:8080/client.json', 'must use https'],
  ])('refuses %s', (url, message) => {
    expect(() => parseDocumentUrl(url)).toThrow(message);
  });

  it('accepts https with the default or an explicit port', () => {
    expect(parseDocumentUrl('https://claude.ai/oauth/mcp-oauth-client-metadata').host).toBe('claude.ai');
    expect(parseDocumentUrl('https://example.com:8443/client.json').port).toBe('8443');
  });

  it('accepts loopback http only with the local allowance', () => {
    expect(parseDocumentUrl('http://127.0.0.1:8080/client.json', true).hostname).toBe('127.0.0.1');
    expect(parseDocumentUrl('http://localhost:8080/client.json', true).hostname).toBe('localhost');
    expect(() => parseDocumentUrl('http://10.0.0.1:8080/client.json', true)).toThrow('must use https');
    expect(() => parseDocumentUrl('http://[::1]:8080/client.json', true)).toThrow('must use https');
  });
});

describe('fetchMetadataDocument refusing addresses', () => {
  const server = new DocumentServer();
  beforeAll(() => server.start());
  afterAll(() => server.close());
  beforeEach(() => {
    server.reset();
    server.json('/client.json', { client_id: 'x' });
  });

  it.each([
    ['127.0.0.1'],
    ['[::1]'],
    ['[::ffff:127.0.0.1]'],
    ['[::ffff:7f00:1]'],
    ['0.0.0.0'],
    ['10.0.0.1'],
    ['192.168.0.10'],
    ['172.16.5.4'],
    ['169.254.169.254'],
    ['[fd00:ec2::254]'],
    ['[fe80::1]'],
    ['100.64.0.1'],
    ['224.0.0.1'],
    ['2130706433'],
    ['0x7f.1'],
  ])('refuses the literal address https://%s without connecting', async (host) => {
    // Act
    const error = await failure(
      fetchMetadataDocument(parseDocumentUrl(new URL(`https://${host}:${server.port}/client.json`).href)),
    );

    // Assess
    expect(error.code).toBe('ERR_CIMD_ADDRESS');
    expect(error.message).toMatch(/^the address is not allowed: .+ is an? /);
    expect(server.connections).toBe(0);
  });

  it('refuses https://localhost, whatever it resolves to, without connecting', async () => {
    const error = await failure(
      fetchMetadataDocument(parseDocumentUrl(`https://localhost:${server.port}/client.json`)),
    );
    expect(error.code).toBe('ERR_CIMD_ADDRESS');
    expect(error.message).toMatch(/loopback/);
    expect(server.connections).toBe(0);
  });

  it.each([
    [['127.0.0.1'], 'loopback'],
    [['::1'], 'loopback'],
    [['10.1.2.3'], 'private'],
    [['169.254.169.254'], 'link-local'],
    [['fd00:ec2::254'], 'unique local'],
    [['::ffff:169.254.169.254'], 'link-local'],
    [['100.100.100.200'], 'carrier-grade NAT'],
    [['93.184.216.34', '127.0.0.1'], 'loopback'],
    [['2606:4700::1', '::ffff:10.0.0.1'], 'private'],
  ])('refuses a host name that resolves to %j (%s) without connecting', async (addresses, kind) => {
    // Act
    const error = await failure(
      fetchMetadataDocument(parseDocumentUrl(`https://${HOST}:${server.port}/client.json`), {
        resolve: resolveTo(...addresses),
      }),
    );

    // Assess
    expect(error.code).toBe('ERR_CIMD_ADDRESS');
    expect(error.message).toContain(kind);
    expect(server.connections).toBe(0);
  });

  it('refuses a host name that does not resolve', async () => {
    const error = await failure(
      fetchMetadataDocument(parseDocumentUrl(`https://${HOST}/client.json`), {
        resolve: async () => {
          throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
        },
      }),
    );
    expect(error.message).toBe(`the host "${HOST}" could not be resolved`);
  });

  it('refuses loopback http when the allowance is off, without connecting', async () => {
    expect(() => parseDocumentUrl(`http://127.0.0.1:${server.port}/client.json`)).toThrow('must use https');
    expect(server.connections).toBe(0);
  });
});

describe('fetchMetadataDocument over a loopback server (local allowance on)', () => {
  const server = new DocumentServer();
  const other = new DocumentServer();
  const allow = { allowHttpLoopback: true };
  const url = (path: string) => parseDocumentUrl(`${server.origin()}${path}`, true);
  beforeAll(async () => {
    await server.start();
    await other.start();
  });
  afterAll(async () => {
    await server.close();
    await other.close();
  });
  beforeEach(() => {
    server.reset();
    other.reset();
  });

  it('fetches a JSON document with Accept: application/json and caches it as its headers say', async () => {
    // Prepare
    server.json('/client.json', { client_id: 'here' }, { 'cache-control': 'public, max-age=3600' });

    // Act
    const fetched = await fetchMetadataDocument(url('/client.json'), allow);

    // Assess
    expect(fetched).toEqual({ document: { client_id: 'here' }, maxAgeSeconds: 3600 });
    expect(server.requests[0]!.headers.accept).toBe('application/json');
    expect(server.requests[0]!.headers.host).toBe(`127.0.0.1:${server.port}`);
  });

  it('does not follow a redirect, not even to a public-looking place', async () => {
    // Prepare
    other.json('/client.json', { client_id: 'elsewhere' });
    server.handlers.set('/moved', (_req, res) =>
      res.writeHead(302, { location: `${other.origin()}/client.json` }).end(),
    );

    // Act
    const error = await failure(fetchMetadataDocument(url('/moved'), allow));

    // Assess
    expect(error.message).toBe('the document URL answered a redirect (302), which is not followed');
    expect(other.connections).toBe(0);
  });

  it.each([
    ['text/html', '<html></html>', 'the document is not JSON (content-type "text/html")'],
    ['application/json', '{"client_id":', 'the document is not valid JSON'],
    ['', '{}', 'the document is not JSON (content-type "")'],
  ])('refuses a %j body that is not JSON', async (type, body, message) => {
    server.handlers.set('/doc', (_req, res) =>
      res.writeHead(200, type ? { 'content-type': type } : {}).end(body),
    );
    const error = await failure(fetchMetadataDocument(url('/doc'), allow));
    expect(error.code).toBe('ERR_CIMD_NOT_JSON');
    expect(error.message).toBe(message);
  });

  it('refuses an error status', async () => {
    const error = await failure(fetchMetadataDocument(url('/missing'), allow));
    expect(error.message).toBe('the document URL answered HTTP 404');
  });

  it('gives up on a server that never answers within the 5 s timeout', async () => {
    // Prepare: headers never come
    server.handlers.set('/slow', () => undefined);
    const started = Date.now();

    // Act
    const error = await failure(fetchMetadataDocument(url('/slow'), allow));

    // Assess
    expect(error.code).toBe('ERR_CIMD_TIMEOUT');
    expect(error.message).toBe('fetching the document took longer than 5 s');
    expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
    expect(Date.now() - started).toBeLessThan(5900);
  }, 10_000);

  it('gives up on an endless document that trickles in under the size cap', async () => {
    // Prepare: one byte every 50 ms, forever
    let closed = false;
    server.handlers.set('/endless', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => {
        clearInterval(timer);
        closed = true;
      });
    });
    const started = Date.now();

    // Act
    const error = await failure(fetchMetadataDocument(url('/endless'), { ...allow, timeoutMs: 1000 }));

    // Assess
    expect(error.code).toBe('ERR_CIMD_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1500);
    await new Promise((done) => setTimeout(done, 100));
    expect(closed).toBe(true);
  });

  it('refuses a 10 MB document having read no more than the cap', async () => {
    // Prepare: no content-length, so the cap must hold while reading
    const tenMegabytes = 10 * 1024 * 1024;
    let written = 0;
    let finished = false;
    server.handlers.set('/huge', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024, 0x20);
      const pump = () => {
        while (written < tenMegabytes) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end(() => (finished = true));
      };
      res.on('close', () => undefined);
      pump();
    });

    // Act
    const error = await failure(fetchMetadataDocument(url('/huge'), allow));

    // Assess
    expect(error.code).toBe('ERR_CIMD_TOO_LARGE');
    expect(error.message).toBe(`the document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    expect(finished).toBe(false);
    expect(written).toBeLessThan(tenMegabytes);
  });

  it('refuses a document whose content-length is over the cap without reading it', async () => {
    server.handlers.set('/big', (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) })
        .write(' '),
    );
    const error = await failure(fetchMetadataDocument(url('/big'), allow));
    expect(error.message).toBe(`the document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  });
});

describe('fetchMetadataDocument connecting to the checked address', () => {
  const tls = selfSignedCertificate(HOST);
  const server = new DocumentServer(tls);
  beforeAll(() => server.start());
  afterAll(() => server.close());
  // Loopback is what the test server has; the policy is swapped so that the test can reach it.
  const loopbackOnly = (address: string) => (address === '127.0.0.1' ? undefined : addressProblem(address));

  it('resolves once, connects to that address, and verifies TLS for the URL host (SNI and Host)', async () => {
    // Prepare: a rebinding resolver that would answer the metadata endpoint the second time
    const answers = ['127.0.0.1', '169.254.169.254'];
    const asked: string[] = [];
    const resolve: Resolver = async (hostname) => {
      asked.push(hostname);
      return [{ address: answers.shift()!, family: 4 }];
    };
    let serverName: string | undefined;
    server.handlers.set('/client.json', (req, res) => {
      serverName = (req.socket as import('node:tls').TLSSocket).servername || undefined;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });

    // Act
    const fetched = await fetchMetadataDocument(
      parseDocumentUrl(`https://${HOST}:${server.port}/client.json`),
      {
        resolve,
        ca: tls.cert,
        addressPolicy: loopbackOnly,
      },
    );

    // Assess
    expect(fetched.document).toEqual({ ok: true });
    expect(asked).toEqual([HOST]);
    expect(serverName).toBe(HOST);
    expect(server.requests.at(-1)!.headers.host).toBe(`${HOST}:${server.port}`);
  });

  it('refuses a certificate that is not for the URL host', async () => {
    const error = await failure(
      fetchMetadataDocument(parseDocumentUrl(`https://other.example.test:${server.port}/client.json`), {
        resolve: resolveTo('127.0.0.1'),
        ca: tls.cert,
        addressPolicy: loopbackOnly,
      }),
    );
    expect(error.code).toBe('ERR_CIMD_FETCH');
    expect(error.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('refuses a certificate it does not trust', async () => {
    const error = await failure(
      fetchMetadataDocument(parseDocumentUrl(`https://${HOST}:${server.port}/client.json`), {
        resolve: resolveTo('127.0.0.1'),
        addressPolicy: loopbackOnly,
      }),
    );
    expect(error.code).toBe('ERR_CIMD_FETCH');
  });
});

describe('cacheSeconds', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    [undefined, undefined, 60],
    ['max-age=3600', undefined, 3600],
    ['public, max-age=10', undefined, 60],
    ['max-age=999999', undefined, 86_400],
    ['no-store', undefined, 60],
    ['no-cache, max-age=3600', undefined, 60],
    ['private, max-age=3600', undefined, 60],
    [undefined, 'Thu, 01 Jan 2026 02:00:00 GMT', 7200],
    [undefined, 'not a date', 60],
    ['max-age=600', 'Thu, 01 Jan 2026 02:00:00 GMT', 600],
  ])('Cache-Control %j, Expires %j → %d s', (cacheControl, expires, seconds) => {
    expect(cacheSeconds(cacheControl, expires, now)).toBe(seconds);
  });
});
