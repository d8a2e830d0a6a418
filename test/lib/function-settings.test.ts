/**
 * One schema for the settings the functions read: every integer setting the stack resolves is
 * accepted or refused by the stack exactly as by the functions' `loadConfig`, and reaches the
 * functions under the variable `loadConfig` reads, with the value the stack resolved.
 */
import fc from 'fast-check';
import { loadConfig, type Config } from '../../lambda/shared/config.js';
import { INTEGER_SETTINGS, type IntegerSettingKey } from '../../lambda/shared/function-settings.js';
import { resolveSettings, type DeploymentSettings } from '../../lib/settings.js';
import { synth, type Resources } from './synth.js';

/** The integer settings the stack has (all but the functions' own `maxBodyBytes`). */
const STACK_KEYS = (Object.keys(INTEGER_SETTINGS) as IntegerSettingKey[]).filter(
  (key) => key !== 'maxBodyBytes',
);

function stackAccepts(key: IntegerSettingKey, value: number): boolean {
  try {
    resolveSettings({ [key]: value } as Partial<DeploymentSettings>);
    return true;
  } catch {
    return false;
  }
}

function functionsAccept(key: IntegerSettingKey, value: number): boolean {
  try {
    loadConfig({ ISSUER: 'https://as.example', [INTEGER_SETTINGS[key].env]: String(value) });
    return true;
  } catch {
    return false;
  }
}

describe('the settings both the stack and the functions read', () => {
  it.each(STACK_KEYS)('%s: the stack and the functions accept and refuse the same values', (key) => {
    // Prepare: the edges of the range, one step beyond each, and generated values around it.
    const { min, max } = INTEGER_SETTINGS[key];
    const edges = [min - 1, min, max, max + 1];

    // Act / Assess
    for (const value of edges)
      expect([key, value, stackAccepts(key, value)]).toEqual([key, value, functionsAccept(key, value)]);
    fc.assert(
      fc.property(fc.integer({ min: Math.max(-1, min - 1000), max: max + 1000 }), (value) => {
        expect(stackAccepts(key, value)).toBe(functionsAccept(key, value));
      }),
      { seed: 20261122, numRuns: 60 },
    );
  });

  it('reaches the functions under the variables loadConfig reads, with the values the stack resolved', () => {
    // Prepare: a value other than the default for every setting, keeping the rules between them.
    const values = Object.fromEntries(
      STACK_KEYS.map((key) => {
        const { min, max, default: fallback } = INTEGER_SETTINGS[key];
        return [key, fallback + 1 <= max ? fallback + 1 : Math.max(min, fallback - 1)];
      }),
    ) as Record<IntegerSettingKey, number>;
    values.refreshTokenAbsoluteTtlSeconds = Math.max(
      values.refreshTokenAbsoluteTtlSeconds,
      values.refreshTokenIdleTtlSeconds,
    );
    const { template } = synth(
      // Rotation spacing must outlive the longer access token (lib/settings.ts).
      { ...values, signingKeyRotationDays: 30 } as Partial<DeploymentSettings>,
      { bundle: false },
    );
    const environments = Object.values(template.findResources('AWS::Lambda::Function') as Resources)
      .map((f) => f.Properties?.Environment?.Variables as Record<string, unknown> | undefined)
      .filter((env): env is Record<string, unknown> => env?.ISSUER !== undefined);

    // Act / Assess
    for (const key of STACK_KEYS) {
      const name = INTEGER_SETTINGS[key].env;
      const carriers = environments.filter((env) => env[name] !== undefined);
      expect([key, carriers.length > 0]).toEqual([key, true]);
      for (const env of carriers) {
        const strings = Object.fromEntries(
          Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
        );
        const config: Config = loadConfig({ ...strings, ISSUER: 'https://as.example' });
        expect([key, config[key]]).toEqual([key, values[key]]);
      }
    }
  });
});
