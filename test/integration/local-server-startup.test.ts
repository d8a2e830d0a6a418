/**
 * Start-up failures of `npm start` that say what to do: a corrupt key file, a broken data
 * directory and local variables parsed as the stack parses its settings each end in one line
 * and exit code 1, leaving no pid file behind.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalServer } from '../../lib/local/server.js';

/** Runs `bin/local.ts` until it exits; its stderr lines, stdout and exit code. */
async function runLocal(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'silent', NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, lines: stderr.trim().split('\n'), stdout };
}

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mcp-oauth-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('a corrupt signing key file', () => {
  it.each([
    ['is not valid JSON', 'not json {'],
    ['is not a signing key set', '{"current": 1}'],
  ])(
    'refuses to start: the file %s, delete it',
    async (what, content) => {
      // Prepare
      const keyFile = join(dataDir, 'signing-keys.json');
      await writeFile(keyFile, content);

      // Act
      const { code, lines, stdout } = await runLocal({ DATA_DIR: dataDir });

      // Assess
      expect(code).toBe(1);
      expect(lines).toEqual([
        `Cannot start: ${keyFile} ${what} (delete it to generate new keys; tokens issued with the old keys stop working)`,
      ]);
      expect(stdout).toBe('');
      expect(await readdir(dataDir)).not.toContain('server.pid');
    },
    30_000,
  );
});

describe('a broken data directory', () => {
  it('refuses a LevelDB folder with a garbage CURRENT file, naming the directory', async () => {
    // Prepare
    await mkdir(join(dataDir, 'dynamodb'));
    await writeFile(join(dataDir, 'dynamodb', 'CURRENT'), 'garbage\n');

    // Act
    const { code, lines } = await runLocal({ DATA_DIR: dataDir });

    // Assess
    expect(code).toBe(1);
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Cannot start: the data directory ${dataDir} cannot be used \\(its table cannot be opened: .+\\); ` +
            'delete it to start fresh, or start with --in-memory \\(IN_MEMORY=1\\)$',
        ),
      ),
    ]);
    expect(await readdir(dataDir)).not.toContain('server.pid');
  }, 30_000);

  it('refuses a DATA_DIR that names a regular file', async () => {
    // Prepare
    const file = join(dataDir, 'a-file');
    await writeFile(file, '');

    // Act
    const { code, lines } = await runLocal({ DATA_DIR: file });

    // Assess
    expect(code).toBe(1);
    expect(lines).toEqual([
      `Cannot start: the data directory ${file} cannot be used (it is not a directory); delete it to start fresh, or start with --in-memory (IN_MEMORY=1)`,
    ]);
  }, 30_000);
});

describe('local variables, parsed as the stack parses its settings', () => {
  it.each([
    ['LOG_LEVEL', 'verbose', '"LOG_LEVEL" must be one of debug, info, warn, error, silent, got "verbose"'],
    [
      'ALLOWED_ORIGINS',
      'notaurl',
      '"ALLOWED_ORIGINS" has "notaurl", which is not an origin such as https://app.example.com',
    ],
    [
      'ISSUER',
      'localhost:3418',
      'ISSUER "localhost:3418" has no scheme: write https://localhost:3418 (or http://localhost:3418 on a loopback host)',
    ],
    ['IN_MEMORY', 'maybe', '"IN_MEMORY" must be 1, true or yes (or 0, false, no), got "maybe"'],
    ['SCOPES', 'mcp:tools,"quoted"', '"SCOPES" has an invalid scope ""quoted""'],
    [
      'ENTERPRISE_IDPS',
      '[{"issuer":"http://idp.example.com"}]',
      'ENTERPRISE_IDPS[0].issuer must be an https URL without query, fragment or credentials',
    ],
  ])(
    'refuses %s=%s with one line',
    async (name, value, message) => {
      // Act
      const { code, lines } = await runLocal({ DATA_DIR: dataDir, [name]: value });

      // Assess
      expect(code).toBe(1);
      expect(lines).toEqual([`Cannot start: ${message}`]);
      expect(await readdir(dataDir)).toEqual([]);
    },
    30_000,
  );

  it('splits SCOPES on commas as the stack does', async () => {
    // Act
    const server = await startLocalServer({
      port: 0,
      inMemory: true,
      logLevel: 'silent',
      env: { SCOPES: 'mcp:tools,mcp:resources' },
    });
    try {
      const metadata = (await (
        await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)
      ).json()) as { scopes_supported: string[] };

      // Assess
      expect(metadata.scopes_supported).toEqual(['mcp:tools', 'mcp:resources']);
    } finally {
      await server.close();
    }
  });

  it.each(['yes', 'true', 'TRUE', '1'])('keeps data in memory with IN_MEMORY=%s', async (value) => {
    // Act
    const server = await startLocalServer({
      port: 0,
      dataDir,
      logLevel: 'silent',
      env: { IN_MEMORY: value },
    });
    await server.close();

    // Assess
    expect(server.dataDir).toBeUndefined();
    expect(await readdir(dataDir)).toEqual([]);
  });
});
