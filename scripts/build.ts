/**
 * `npm run build`: bundles every function exactly as the stack deploys it (same options from
 * `lib/bundling.ts`) into `dist/<name>/index.mjs`, and prints the sizes. Type-checking is
 * separate (`npm run typecheck`).
 */
import { readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { build } from 'esbuild';
import {
  BUNDLE_FILE,
  buildOptions,
  distDir,
  FUNCTION_ENTRIES,
  fromRoot,
  type DeployedFunction,
} from '../lib/bundling.js';

// Usage: tsx scripts/build.ts [--outdir <dir>] [function ...]; by default every function into dist/.
const args = process.argv.slice(2);
const outdirFlag = args.indexOf('--outdir');
const outRoot = outdirFlag >= 0 ? args.splice(outdirFlag, 2)[1] : undefined;
const requested = args as DeployedFunction[];
const names = requested.length > 0 ? requested : (Object.keys(FUNCTION_ENTRIES) as DeployedFunction[]);
for (const name of names) {
  if (!(name in FUNCTION_ENTRIES)) {
    console.error(`unknown function "${name}"; known: ${Object.keys(FUNCTION_ENTRIES).join(', ')}`);
    process.exit(2);
  }
}

const rows: string[][] = [['function', 'bundle', 'bytes', 'gzip bytes', 'map bytes']];
for (const name of names) {
  const outdir = outRoot ? join(outRoot, name) : distDir(name);
  await rm(outdir, { recursive: true, force: true });
  await build(buildOptions(name, outdir));
  const file = `${outdir}/${BUNDLE_FILE}`;
  rows.push([
    name,
    fromRoot(file),
    String(statSync(file).size),
    String(gzipSync(readFileSync(file)).length),
    String(statSync(`${file}.map`).size),
  ]);
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
