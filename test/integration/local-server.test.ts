/** The local server as a user runs it: `npm start`'s entry, persistence across restarts. */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalServer } from '../../lib/local/server.js';
import { basicAuth, registerClient } from '../support/local-server.js';

it('keeps clients and signing keys across a restart', async () => {
  // Prepare
  const dataDir = await mkdtemp(join(tmpdir(), 'mcp-oauth-'));
  try {
    const first = await startLocalServer({ port: 0, dataDir, logLevel: 'silent' });
    const client = await registerClient(first.issuer, { grant_types: ['client_credentials'] });
    const jwksBefore = await (await fetch(`${first.issuer}/.well-known/jwks.json`)).json();
    await first.close();
    expect(first.generatedKeys).toBe(true);
    expect((await stat(join(dataDir, 'signing-keys.json'))).mode & 0o777).toBe(0o600);

    // Act
    const second = await startLocalServer({ port: 0, dataDir, logLevel: 'silent' });
    try {
      const token = await fetch(`${second.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuth(client.client_id, client.client_secret!),
        },
        body: 'grant_type=client_credentials',
      });
      const jwksAfter = await (await fetch(`${second.issuer}/.well-known/jwks.json`)).json();

      // Assess
      expect(second.generatedKeys).toBe(false);
      expect(token.status).toBe(200);
      expect(jwksAfter).toEqual(jwksBefore);
    } finally {
      await second.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

it('starts from the npm start entry and prints its URLs and an example', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mcp-oauth-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let output = '';
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner in time:\n${output}`)), 30_000);
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Issuer\s+(http:\/\/localhost:\d+)/.exec(output);
        if (match && output.includes('scripts/test-api.sh')) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });
    expect(output).toContain(`${base}/mcp`);
    expect(output).toContain(`curl -s ${base}/register`);
    expect(output).toMatch(
      /Users log in at http:\/\/127\.0\.0\.1:\d+ \(local OpenID provider\): any username, any password/,
    );
    const metadata = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as {
      issuer: string;
    };
    expect(metadata.issuer).toBe(base);
    expect(JSON.parse(await readFile(join(dataDir, 'signing-keys.json'), 'utf8'))).toHaveProperty(
      'current.kid',
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
});

it('refuses, with a clear message, a second server on the same data folder', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mcp-oauth-'));
  const first = await startLocalServer({ port: 0, dataDir, logLevel: 'silent' });
  try {
    await expect(startLocalServer({ port: 0, dataDir, logLevel: 'silent' })).rejects.toThrow(
      /another local server \(pid \d+\) is using/,
    );
    // The first one is unharmed.
    const response = await fetch(`${first.issuer}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
  } finally {
    await first.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

it('refuses, with a clear message, a port that is in use', async () => {
  const first = await startLocalServer({ port: 0, inMemory: true, logLevel: 'silent' });
  try {
    await expect(startLocalServer({ port: first.port, inMemory: true, logLevel: 'silent' })).rejects.toThrow(
      `port ${first.port} on 127.0.0.1 is in use`,
    );
  } finally {
    await first.close();
  }
});
