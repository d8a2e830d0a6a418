/**
 * The oauth bundle's credential chain (lambda/shared/env-credentials.ts, aliased in for
 * `@aws-sdk/credential-provider-node` by lib/bundling.ts): Lambda's environment credentials, as
 * the SDK's default chain finds them there, and a clear error where there are none.
 */
import { build } from 'esbuild';
import { BUNDLE_ALIASES, buildOptions } from '../../../lib/bundling.js';
import { defaultProvider } from '../../../lambda/shared/env-credentials.js';

const saved = { ...process.env };
afterEach(() => {
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_CREDENTIAL_EXPIRATION',
  ]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

test('answers the credentials Lambda puts in the environment, session token and expiry included', async () => {
  process.env.AWS_ACCESS_KEY_ID = 'ASIAEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  process.env.AWS_SESSION_TOKEN = 'session';
  process.env.AWS_CREDENTIAL_EXPIRATION = '2030-01-01T00:00:00Z';
  await expect(defaultProvider()()).resolves.toEqual({
    accessKeyId: 'ASIAEXAMPLE',
    secretAccessKey: 'secret',
    sessionToken: 'session',
    expiration: new Date('2030-01-01T00:00:00Z'),
  });
});

test('refuses, saying what is missing, where the environment has no credentials', async () => {
  delete process.env.AWS_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  await expect(defaultProvider()()).rejects.toThrow(/AWS_ACCESS_KEY_ID/);
});

test("the oauth bundle carries no other part of the SDK's credential chain", async () => {
  expect(BUNDLE_ALIASES.oauth['@aws-sdk/credential-provider-node']).toBe(
    './lambda/shared/env-credentials.ts',
  );
  const result = await build({
    ...buildOptions('oauth', '/tmp/env-credentials-test'),
    metafile: true,
    write: false,
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs).toContain('lambda/shared/env-credentials.ts');
  expect(
    inputs.filter((path) => /credential-provider-(node|ini|sso|process|imds)|nested-clients/.test(path)),
  ).toEqual([]);
});
