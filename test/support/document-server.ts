/**
 * A loopback server that serves client ID metadata documents for the CIMD tests, and counts
 * every connection and request it sees, so a test can assert that a refused URL was never
 * fetched. Each path answers with its own handler; unknown paths are 404.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type DocumentHandler = (req: IncomingMessage, res: ServerResponse) => void;

export class DocumentServer {
  readonly handlers = new Map<string, DocumentHandler>();
  readonly requests: IncomingMessage[] = [];
  connections = 0;
  port = 0;
  private readonly server;

  constructor(tls?: { key: string; cert: string }) {
    const serve = (req: IncomingMessage, res: ServerResponse) => {
      this.requests.push(req);
      const handler = this.handlers.get(new URL(req.url ?? '/', 'http://x').pathname);
      if (handler) handler(req, res);
      else res.writeHead(404).end();
    };
    this.server = tls ? createHttpsServer(tls, serve) : createHttpServer(serve);
    // TCP connections, before any TLS: a refused URL must not even open one.
    this.server.on('connection', () => this.connections++);
  }

  async start(): Promise<this> {
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', () => done()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** The origin as `http://127.0.0.1:<port>` (or another host name). */
  origin(host = '127.0.0.1', scheme = 'http'): string {
    return `${scheme}://${host}:${this.port}`;
  }

  /** Serves `document` as JSON at `path`, with extra headers. */
  json(path: string, document: unknown, headers: Record<string, string> = {}): void {
    this.handlers.set(path, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(document));
    });
  }

  reset(): void {
    this.requests.length = 0;
    this.connections = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}

/** A self-signed certificate for `hostname`, made with the openssl command line. */
export function selfSignedCertificate(hostname: string): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cimd-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${hostname}`,
        '-addext',
        `subjectAltName=DNS:${hostname}`,
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
