/**
 * Local signing keys: the same key set format as the Secrets Manager secret, kept in a file that
 * is generated on first start and readable by its owner only. The local mcp side reads only the
 * public keys derived from it, as the deployed mcp function reads only what the rotation publishes.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  parseSigningKeySet,
  rotateSigningKeySet,
  serializeSigningKeySet,
  toPublicKeySet,
  type SigningKeySet,
} from '../../lambda/shared/key-set.js';
import type { PublicKeySet } from '../../lambda/shared/public-key-set.js';
import type { PublicKeySource, SigningKeySource } from '../../lambda/shared/signing-keys.js';

export class FileKeySource implements SigningKeySource {
  constructor(private readonly path: string) {}

  async load(): Promise<SigningKeySet> {
    return parseSigningKeySet(await readFile(this.path, 'utf8'));
  }
}

/** Creates the key file with a current and a next key unless it exists; returns whether it did. */
export async function ensureKeyFile(path: string): Promise<boolean> {
  try {
    await readFile(path, 'utf8');
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const set = await rotateSigningKeySet({});
  await writeFile(path, serializeSigningKeySet(set), { mode: 0o600, flag: 'wx' });
  return true;
}

/** A key source held in memory, for throwaway local runs. */
export class MemoryKeySource implements SigningKeySource {
  private set: Promise<SigningKeySet> | undefined;
  async load(): Promise<SigningKeySet> {
    this.set ??= rotateSigningKeySet({});
    return this.set;
  }
}

/** The public half of a private key source: what the rotation publishes for the mcp function in AWS. */
export class DerivedPublicKeySource implements PublicKeySource {
  constructor(private readonly source: SigningKeySource) {}

  async load(): Promise<PublicKeySet> {
    return toPublicKeySet(await this.source.load());
  }
}
