/**
 * The request and response shapes every endpoint is written against: the parts of the Fetch
 * API's `Request` and `Response` that the handlers use, so a handler can be called with a web
 * `new Request(...)` in a test and answers with something that reads like a web `Response`.
 *
 * Why not Node's own `Request`/`Response`: Node loads its fetch implementation (undici) the first
 * time any of `Headers`, `Request` or `Response` is touched, which costs about 28 ms of CPU per
 * cold start (measured in doc/performance.md), more than the whole rest of the mcp function's
 * start. These small classes carry the same semantics for what is used here: case-insensitive
 * headers, comma-joined repeats, `Set-Cookie` kept apart, bodies read as text, bytes or JSON.
 */

/** The part of a web `Request` that handlers read. A web `Request` satisfies it. */
export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** The part of a web `Response` that the Lambda adapter reads. A web `Response` satisfies it. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: {
    get(name: string): string | null;
    forEach(callback: (value: string, name: string) => void): void;
    getSetCookie(): string[];
  };
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** An endpoint: what every app (`createOAuthApp`, `createMcpApp`) returns. */
export type Handler = (request: HttpRequest) => Promise<PlainResponse>;

export type HeaderInit = Record<string, string> | Iterable<readonly [string, string]> | PlainHeaders;

/** Case-insensitive header map with the web `Headers` methods the project uses. */
export class PlainHeaders {
  private readonly values = new Map<string, string>();
  private readonly cookies: string[] = [];

  constructor(init?: HeaderInit) {
    if (init instanceof PlainHeaders) {
      init.forEach((value, name) => this.append(name, value));
      for (const cookie of init.getSetCookie()) this.append('set-cookie', cookie);
    } else if (init && Symbol.iterator in init) {
      for (const [name, value] of init as Iterable<readonly [string, string]>) this.append(name, value);
    } else if (init) {
      for (const [name, value] of Object.entries(init)) this.append(name, value);
    }
  }

  get(name: string): string | null {
    const key = name.toLowerCase();
    if (key === 'set-cookie') return this.cookies.length ? this.cookies.join(', ') : null;
    return this.values.get(key) ?? null;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  set(name: string, value: string): void {
    const key = name.toLowerCase();
    if (key === 'set-cookie') this.cookies.splice(0, this.cookies.length, String(value));
    else this.values.set(key, String(value));
  }

  /** Adds a value; a repeated header is joined with ", " as in the Fetch standard. */
  append(name: string, value: string): void {
    const key = name.toLowerCase();
    if (key === 'set-cookie') {
      this.cookies.push(String(value));
      return;
    }
    const existing = this.values.get(key);
    this.values.set(key, existing === undefined ? String(value) : `${existing}, ${value}`);
  }

  delete(name: string): void {
    const key = name.toLowerCase();
    if (key === 'set-cookie') this.cookies.length = 0;
    else this.values.delete(key);
  }

  /** Every header but `Set-Cookie`, which `getSetCookie()` returns one by one. */
  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.values) callback(value, name);
  }

  getSetCookie(): string[] {
    return [...this.cookies];
  }

  *[Symbol.iterator](): IterableIterator<[string, string]> {
    yield* this.values;
    for (const cookie of this.cookies) yield ['set-cookie', cookie];
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** A request built from an API Gateway event, without loading Node's fetch implementation. */
export class PlainRequest implements HttpRequest {
  readonly method: string;
  readonly headers: PlainHeaders;
  private readonly bytes: Uint8Array;

  constructor(
    readonly url: string,
    init: { method?: string; headers?: HeaderInit; body?: Uint8Array | string } = {},
  ) {
    this.method = (init.method ?? 'GET').toUpperCase();
    this.headers = new PlainHeaders(init.headers);
    this.bytes =
      typeof init.body === 'string' ? Buffer.from(init.body, 'utf8') : (init.body ?? new Uint8Array());
  }

  async text(): Promise<string> {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('utf8');
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return toArrayBuffer(this.bytes);
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
}

/** A buffered response with the web `Response` reading methods. */
export class PlainResponse implements HttpResponse {
  readonly status: number;
  readonly headers: PlainHeaders;
  private readonly bodyText: string | null;

  constructor(body: string | null = null, init: { status?: number; headers?: HeaderInit } = {}) {
    this.status = init.status ?? 200;
    this.headers = new PlainHeaders(init.headers);
    this.bodyText = body;
    if (body !== null && !this.headers.has('content-type')) {
      this.headers.set('content-type', 'text/plain;charset=UTF-8');
    }
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  async text(): Promise<string> {
    return this.bodyText ?? '';
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.bodyText ?? '');
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return toArrayBuffer(Buffer.from(this.bodyText ?? '', 'utf8'));
  }
}
