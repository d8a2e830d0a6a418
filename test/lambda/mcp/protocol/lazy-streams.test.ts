/**
 * The stand-ins the mcp bundle gets for `node:stream`, `node:stream/promises` and
 * `node:stream/web` (lib/bundling.ts, `BUNDLE_ALIASES`): each must behave as the real export, and
 * `@middy/core`'s response streaming, the code they are there for, must work through them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as realStream from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as realWeb from 'node:stream/web';
import { build } from 'esbuild';
import { BUNDLE_ALIASES, BUNDLE_FILE, buildOptions, PROJECT_ROOT } from '../../../../lib/bundling.js';
import {
  PassThrough,
  pipeline,
  Readable,
  ReadableStream,
  Writable,
} from '../../../../lambda/mcp/protocol/lazy-streams.js';

describe('the stream stand-ins', () => {
  it('make instances of the real classes, which the stand-ins recognise with instanceof', () => {
    // Act
    const readable = Readable.from(['a']);
    const passThrough = new PassThrough();
    const web = new realWeb.ReadableStream();

    // Assess
    expect(readable).toBeInstanceOf(realStream.Readable);
    expect(readable).toBeInstanceOf(Readable);
    expect(passThrough).toBeInstanceOf(realStream.PassThrough);
    expect(Object.getPrototypeOf(passThrough)).toBe(realStream.PassThrough.prototype);
    expect(web).toBeInstanceOf(ReadableStream);
    expect({}).not.toBeInstanceOf(ReadableStream);
    expect('from' in Readable).toBe(true);
  });

  it('can be subclassed, the subclass keeping its own prototype', async () => {
    // Prepare
    const written: string[] = [];
    class Collect extends Writable {
      override _write(chunk: Buffer, _encoding: string, done: () => void) {
        written.push(chunk.toString());
        done();
      }
    }

    // Act
    const sink = new Collect();
    await pipeline(Readable.from(['x', 'y']), sink);

    // Assess
    expect(sink).toBeInstanceOf(Collect);
    expect(sink).toBeInstanceOf(realStream.Writable);
    expect(written.join('')).toBe('xy');
  });
});

describe('middy response streaming in a bundle built with the mcp aliases', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lazy-streams-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('streams a string and a web stream body through the stand-ins', async () => {
    // Prepare: middy's streaming mode, with the Lambda runtime's streaming hooks stood in for.
    const entry = join(dir, 'entry.mjs');
    writeFileSync(
      entry,
      `import middy from '@middy/core';
const { Writable } = process.getBuiltinModule('node:stream');
globalThis.awslambda = { streamifyResponse: (fn) => fn, HttpResponseStream: { from: (stream) => stream } };
const sink = () => { const chunks = []; const stream = new Writable({ write(c, _e, done) { chunks.push(String(c)); done(); } }); return { stream, chunks }; };
const text = sink();
await middy(async () => 'hello', { streamifyResponse: true })({}, text.stream, {});
const web = sink();
const body = new globalThis.ReadableStream({ start(c) { c.enqueue('from a web stream'); c.close(); } });
await middy(async () => body, { streamifyResponse: true })({}, web.stream, {});
console.log(JSON.stringify({ text: text.chunks.join(''), web: web.chunks.join('') }));
`,
    );
    await build({
      ...buildOptions('mcp', dir),
      entryPoints: [entry],
      nodePaths: [join(PROJECT_ROOT, 'node_modules')],
    });

    // Act
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, BUNDLE_FILE)], {
      timeout: 30_000,
    });

    // Assess: the aliases applied, and middy streamed both bodies.
    expect(Object.keys(BUNDLE_ALIASES.mcp)).toEqual([
      'node:stream',
      'node:stream/promises',
      'node:stream/web',
    ]);
    expect(JSON.parse(stdout)).toEqual({ text: 'hello', web: 'from a web stream' });
  }, 60_000);
});
