/** `npm run deploy -- --help` (scripts/deploy.sh) prints its usage and calls nothing: no AWS CLI, no cdk. */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/bundling.js';

describe('scripts/deploy.sh', () => {
  let bin: string;
  const calls = () => join(bin, 'calls.log');

  beforeEach(() => {
    // Stand-ins for every command the script could reach AWS with: each records that it ran.
    bin = mkdtempSync(join(tmpdir(), 'deploy-test-'));
    for (const command of ['aws', 'npx', 'cdk', 'curl']) {
      const file = join(bin, command);
      writeFileSync(file, `#!/bin/sh\necho "${command} $*" >> "${calls()}"\nexit 1\n`);
      chmodSync(file, 0o755);
    }
  });

  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  const deploy = (...args: string[]) =>
    spawnSync('bash', ['scripts/deploy.sh', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: 'utf8',
    });

  it.each([['--help'], ['-h'], ['--stage', 'prod', '--help']])(
    'prints its usage for %s and calls nothing',
    (...args) => {
      const run = deploy(...args);

      expect(run.status).toBe(0);
      expect(run.stdout).toContain('npm run deploy -- --stage prod');
      expect(run.stdout).toContain('Plain `npx cdk deploy`');
      expect(run.stdout).not.toMatch(/^#/m);
      expect(existsSync(calls())).toBe(false);
    },
  );

  it('reaches the AWS CLI without --help (the stand-in shows the check above is real)', () => {
    const run = deploy();

    expect(run.status).not.toBe(0);
    expect(existsSync(calls())).toBe(true);
  });
});
