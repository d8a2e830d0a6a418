/**
 * `cdk synth` with a bad setting: the CDK app (bin/app.ts, which `cdk.json` runs) prints the
 * settings message as one line and exits 1, without the stack trace around it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/bundling.js';

function synth(context: Record<string, unknown>) {
  const outdir = mkdtempSync(join(tmpdir(), 'app-test-'));
  try {
    const run = spawnSync(join(PROJECT_ROOT, 'node_modules/.bin/tsx'), ['bin/app.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
      encoding: 'utf8',
    });
    return { ...run, written: readdirSync(outdir) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('bin/app.ts', () => {
  it.each([
    [{ accessTokenTtlSeconds: '5' }, '"accessTokenTtlSeconds" must be an integer from 60 to 86400, got "5"'],
    [{ stage: 'prod' }, 'stage "prod" needs'],
    [{ stageConfig: 'no-such-stage' }, 'stages/no-such-stage.json does not exist'],
  ])('refuses %j with one line naming the setting, and no stack trace', (context, message) => {
    const run = synth(context);

    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid settings: /);
    expect(lines[0]).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.written).toEqual([]);
  });
});
