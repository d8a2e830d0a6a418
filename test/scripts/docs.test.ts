/**
 * `npm run docs`: the committed settings reference is what the settings' definitions generate, and
 * every environment variable the local server and the functions read is either in it or named
 * below as one the stack or the local server sets itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/bundling.js';
import { LOCAL_VARIABLES } from '../../lib/local/local-env.js';
import { SETTING_KEYS } from '../../lib/settings.js';
import { INTEGER_SETTINGS, POLICY_SETTINGS } from '../../lambda/shared/function-settings.js';
import { SETTINGS_REFERENCE, settingDocs, settingsMarkdown, settingsReference } from '../../scripts/docs.js';

const read = (file: string) => readFileSync(join(PROJECT_ROOT, file), 'utf8');

/** Set by the stack (AWS resources, the runtime) or by the local server for the functions. */
const SET_FOR_YOU = [
  'TABLE_NAME',
  'PUBLIC_KEYS_PARAMETER_NAME',
  'SSM_ENDPOINT',
  'SECRETS_MANAGER_ENDPOINT',
  'ORIGIN_SECRET_ARN',
  'UPSTREAM_CLIENT_SECRET_ARN',
  'INITIAL_ACCESS_TOKEN_SECRET_ARN',
  'DYNAMODB_ENDPOINT',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_LOG_LEVEL',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_LAMBDA_FUNCTION_VERSION',
];

function envReads(file: string): string[] {
  return [...read(file).matchAll(/\benv(?:\.([A-Z][A-Z0-9_]+)|\['([A-Z][A-Z0-9_]+)'\])/g)].map(
    (m) => m[1] ?? m[2]!,
  );
}

describe('npm run docs', () => {
  it('generated the committed doc/reference/settings.md (run `npm run docs` after changing a setting)', async () => {
    expect(read(SETTINGS_REFERENCE)).toBe(await settingsReference());
  });

  it('has a JSDoc sentence, a line of what it accepts and a default for every stack setting', () => {
    const markdown = settingsMarkdown(read('lib/settings.ts'));
    for (const key of SETTING_KEYS) {
      const section = markdown.split(`### \`${key}\`\n`)[1]?.split('\n### ')[0] ?? '';
      expect({ key, hasSentence: section.trim().length > 0 }).toEqual({ key, hasSentence: true });
      expect(section).toMatch(/- Accepts: \S/);
      expect(section).toMatch(/- Default: \S/);
    }
  });

  it('refuses a setting without a JSDoc sentence', () => {
    const source = read('lib/settings.ts').replace(/\/\*\* Lifetime of issued access tokens\. \*\/\n/, '');
    expect(settingDocs(source).has('accessTokenTtlSeconds')).toBe(false);
    expect(() => settingsMarkdown(source)).toThrow('DeploymentSettings.accessTokenTtlSeconds has no JSDoc');
  });

  it('lists every variable npm start and the functions read, except those set for you', () => {
    const documented = new Set([
      ...LOCAL_VARIABLES.map((v) => v.name),
      ...Object.values(INTEGER_SETTINGS).map((s) => s.env),
      ...Object.values(POLICY_SETTINGS).map((s) => s.env),
      ...SET_FOR_YOU,
    ]);
    const files = [
      'bin/local.ts',
      'lambda/shared/config.ts',
      ...readdirSync(join(PROJECT_ROOT, 'lib/local'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `lib/local/${f}`),
    ];
    const read_ = files.flatMap((file) => envReads(file).map((name) => `${file}: ${name}`));
    expect(read_.length).toBeGreaterThan(10);
    expect(read_.filter((entry) => !documented.has(entry.split(': ')[1]!))).toEqual([]);
  });

  it('lists no variable that nothing reads', () => {
    const sources = ['lambda/shared/config.ts', 'lib/local/server.ts', 'lib/local/local-env.ts']
      .map(read)
      .join('\n')
      .replace(/export const LOCAL_VARIABLES[\s\S]*?\n\];\n/, '');
    expect(LOCAL_VARIABLES.map((v) => v.name).filter((name) => !sources.includes(name))).toEqual([]);
  });
});
