/**
 * `npm run map-stack -- <oauth|mcp|rotate-keys> [map file] < trace.txt`: prints a stack trace (or a
 * whole log line holding one) with every position in a function's bundle (`index.mjs:line:column`)
 * mapped back to the TypeScript source.
 *
 * The oauth and mcp functions run without `--enable-source-maps`, which would cost every cold
 * start the parsing of their source map (`NODE_OPTIONS` in lib/bundling.ts), so their logged
 * traces name positions in the minified bundle. Without a map file, the bundle is built from this
 * checkout with the deployed options: at the deployed commit it is the deployed bundle byte for
 * byte (test/lib/bundling.test.ts), and so is its map.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  BUNDLE_FILE,
  buildOptions,
  FUNCTION_ENTRIES,
  PROJECT_ROOT,
  type DeployedFunction,
} from '../lib/bundling.js';

/** `index.mjs:line:column`, with the bundle's path or URL before it if there is one. */
const POSITION = new RegExp(`(?:[^\\s()"]*/)?${BUNDLE_FILE.replace('.', '\\.')}:(\\d+):(\\d+)`, 'g');

/**
 * `trace` with each `index.mjs:line:column` the map knows replaced by `source.ts:line:column`,
 * sources named from the repository root; positions the map does not cover are left as they are.
 */
export function mapStack(trace: string, map: SourceMapPayload, mapPath: string): string {
  const sourceMap = new SourceMap(map);
  return trace.replace(POSITION, (position, line: string, column: string) => {
    const entry = sourceMap.findEntry(Number(line) - 1, Number(column) - 1) as {
      generatedLine?: number;
      originalSource?: string;
      originalLine?: number;
      originalColumn?: number;
    };
    // The nearest mapping before the position may sit on an earlier line: then nothing maps it.
    if (entry.originalSource === undefined || entry.generatedLine !== Number(line) - 1) return position;
    const source = relative(PROJECT_ROOT, resolve(dirname(mapPath), entry.originalSource));
    return `${source}:${entry.originalLine! + 1}:${entry.originalColumn! + 1}`;
  });
}

/** Builds a function's bundle with the deployed options into a temporary directory; its map. */
export async function buildMap(name: DeployedFunction): Promise<{ map: SourceMapPayload; mapPath: string }> {
  const outdir = mkdtempSync(join(tmpdir(), `map-stack-${name}-`));
  try {
    await build(buildOptions(name, outdir));
    const mapPath = join(outdir, `${BUNDLE_FILE}.map`);
    return { map: JSON.parse(readFileSync(mapPath, 'utf8')) as SourceMapPayload, mapPath };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [name, mapFile] = process.argv.slice(2);
  if (!name || !(name in FUNCTION_ENTRIES)) {
    console.error(
      `usage: npm run map-stack -- <${Object.keys(FUNCTION_ENTRIES).join('|')}> [map file] < trace.txt`,
    );
    process.exit(2);
  }
  const { map, mapPath } = mapFile
    ? { map: JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload, mapPath: resolve(mapFile) }
    : await buildMap(name as DeployedFunction);
  process.stdout.write(mapStack(readFileSync(0, 'utf8'), map, mapPath));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
