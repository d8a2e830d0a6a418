/**
 * The local server facing a client that walks away and settings that are wrong: one structured
 * log line instead of a stack trace, and a refusal to start that leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { startLocalServer } from '../../lib/local/server.js';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as AddressInfo;
  await new Promise((done) => probe.close(done));
  return port;
}

async function canListen(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

it('logs one structured line, and no stack trace, when a client disconnects mid-request', async () => {
  // Prepare
  const lines: string[] = [];
  const errors = jest.spyOn(console, 'error').mockImplementation(() => {});
  const server = await startLocalServer({
    port: 0,
    inMemory: true,
    logLevel: 'info',
    writeLog: (line) => lines.push(line),
    env: { LOG_LEVEL: 'silent' },
  });
  try {
    // Act: half a registration body, then the connection is dropped
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((done) => socket.once('connect', done));
    socket.write(
      'POST /register HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"client_name":',
    );
    await new Promise((done) => setTimeout(done, 100));
    socket.destroy();
    await new Promise((done) => setTimeout(done, 200));

    // Assess
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({
        level: 'INFO',
        service: 'local',
        message: 'client disconnected mid-request',
        method: 'POST',
        path: '/register',
      }),
    ]);
    expect(lines.join('\n')).not.toMatch(/\bat \S+ \(/);
    expect(errors).not.toHaveBeenCalled();
    // The server still serves.
    expect((await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).status).toBe(200);
  } finally {
    errors.mockRestore();
    await server.close();
  }
});

it('refuses a bad setting with one clear line and exit code 1, leaving no port open and no pid file', async () => {
  // Prepare
  const dataDir = await mkdtemp(join(tmpdir(), 'mcp-oauth-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      ACCESS_TOKEN_TTL_SECONDS: 'an hour',
      LOG_LEVEL: 'silent',
      NODE_OPTIONS: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    // Act
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    // Assess
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^Cannot start: ACCESS_TOKEN_TTL_SECONDS/),
    ]);
    expect(stdout).toBe('');
    expect(await readdir(dataDir)).toEqual([]);
    expect(await canListen(port)).toBe(true);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  }
}, 30_000);
