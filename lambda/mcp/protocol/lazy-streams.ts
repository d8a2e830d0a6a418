/**
 * What the mcp bundle's dependencies import from `node:stream`, `node:stream/promises` and
 * `node:stream/web`, loaded when first used: `@middy/core`, which needs them only to stream a
 * response (this function never does), and stream helpers of `@smithy/core` that the bundle
 * carries but never calls. In the mcp bundle those imports resolve to this module
 * (`BUNDLE_ALIASES` in `lib/bundling.ts`). Importing a built-in as an ES module builds its whole
 * namespace at start-up; the three imports cost about 2.7 ms of every cold start
 * (doc/performance.md).
 *
 * Each export stands for the real one and loads its module the first time it is read, called,
 * constructed or used with `instanceof`. A module of the bundle that imports any other name from
 * these three fails the build (esbuild: "No matching export"), so nothing is silently left out.
 */
import type * as Stream from 'node:stream';
import type * as StreamPromises from 'node:stream/promises';
import type * as StreamWeb from 'node:stream/web';

/** Modules `process.getBuiltinModule` can load, by the name they are imported with. */
interface Builtins {
  'node:stream': typeof Stream;
  'node:stream/promises': typeof StreamPromises;
  'node:stream/web': typeof StreamWeb;
}

/**
 * A stand-in for `name` of the built-in `specifier`: every operation on it is the operation on
 * the real export, which is looked up when the stand-in is first used.
 */
function lazyExport<M extends keyof Builtins, N extends keyof Builtins[M]>(
  specifier: M,
  name: N,
): Builtins[M][N] {
  let real: object | undefined;
  const load = () =>
    (real ??= (process.getBuiltinModule(specifier) as unknown as Builtins[M])[name] as object);
  // A function target, so that the stand-in can be called and constructed as the real one is.
  const target = function () {} as unknown as object;
  const standIn: object = new Proxy(target, {
    get: (_, key) => Reflect.get(load(), key),
    has: (_, key) => Reflect.has(load(), key),
    apply: (_, self, args) => Reflect.apply(load() as (...a: unknown[]) => unknown, self, args),
    // `new` on the stand-in builds the real class; a subclass (`extends`) keeps its own prototype.
    construct: (_, args, newTarget) => {
      const real = load() as new (...a: unknown[]) => object;
      return Reflect.construct(real, args, newTarget === standIn ? real : newTarget);
    },
  });
  return standIn as Builtins[M][N];
}

export const Readable = lazyExport('node:stream', 'Readable');
export const Writable = lazyExport('node:stream', 'Writable');
export const PassThrough = lazyExport('node:stream', 'PassThrough');
export const pipeline = lazyExport('node:stream/promises', 'pipeline');
export const ReadableStream = lazyExport('node:stream/web', 'ReadableStream');
