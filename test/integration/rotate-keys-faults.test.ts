/**
 * The rotate-keys bundle as deployed, in one living process (one execution environment), against
 * a loopback Secrets Manager and Systems Manager (`fake-rotation-aws.ts`) told to throttle, fail,
 * hang or drop one operation of one step. The step must throw, so that Secrets Manager retries
 * it, and leave the secret's versions and stages as they were; once the fault clears, the same
 * step run again completes, and so does the rest of the rotation, in the same process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretsManagerRotationEventStep } from 'aws-lambda';
import { build } from 'esbuild';
import { BUNDLE_FILE, buildOptions } from '../../lib/bundling.js';
import {
  parseSigningKeySet,
  rotateSigningKeySet,
  serializeSigningKeySet,
  toPublicKeySet,
  type SigningKeySet,
} from '../../lambda/shared/key-set.js';
import { parsePublicKeySet, serializePublicKeySet } from '../../lambda/shared/public-key-set.js';
import { LAMBDA_RUNTIME_ENV, startBundle, type BundleProcess } from '../support/bundle-process.js';
import { startFakeRotationAws, type FakeRotationAws } from '../support/fake-rotation-aws.js';
import type { FaultKind } from '../support/faults.js';
import { startLocalDynamo, type LocalDynamo } from '../../lib/local/dynamodb.js';
import { FakeParameter, PARAMETER_NAME } from '../lambda/rotate-keys/fake-parameter.js';
import { FakeSecret, SECRET_ARN } from '../lambda/rotate-keys/fake-secret.js';

const STEPS: SecretsManagerRotationEventStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
const TOKEN = 'rotation-token-0001';
const TABLE = 'McpOAuth-Table';

let outdir: string;
let aws: FakeRotationAws;
let rotation: BundleProcess;
let initial: SigningKeySet;
let secret: FakeSecret;
let parameter: FakeParameter;
let dynamo: LocalDynamo;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'rotate-faults-'));
  await build(buildOptions('rotate-keys', join(outdir, 'rotate-keys')));
  initial = await rotateSigningKeySet({});
  aws = await startFakeRotationAws(
    () => secret,
    () => parameter,
  );
  // The table the rotation also publishes the public keys to (the embedded engine, not faulted).
  dynamo = await startLocalDynamo({ tableName: TABLE });
  rotation = await startBundle(join(outdir, 'rotate-keys', BUNDLE_FILE), {
    ...LAMBDA_RUNTIME_ENV,
    LOG_LEVEL: 'info',
    TABLE_NAME: TABLE,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    SSM_ENDPOINT: aws.url,
    PUBLIC_KEYS_PARAMETER_NAME: PARAMETER_NAME,
  });
}, 60_000);

beforeEach(() => {
  // Every case starts a rotation of the same initial key set, as Secrets Manager would.
  secret = new FakeSecret(serializeSigningKeySet(initial));
  parameter = new FakeParameter(serializePublicKeySet(toPublicKeySet(initial)));
  secret.startRotation(TOKEN);
});

afterEach(() => aws.faults.set(undefined));

afterAll(async () => {
  await rotation?.close();
  await aws?.close();
  await dynamo?.close();
  rmSync(outdir, { recursive: true, force: true });
});

function step(name: SecretsManagerRotationEventStep) {
  return rotation.invoke({ Step: name, SecretId: SECRET_ARN, ClientRequestToken: TOKEN });
}

/** Every version's value and stages, and the published parameter: what a failed step must not change. */
function state() {
  return {
    versions: Object.fromEntries(
      [...secret.versions].map(([id, v]) => [id, { value: v.value, stages: [...v.stages].sort() }]),
    ),
    parameter: parameter.value,
  };
}

const kids = (set: { keys: Array<{ kid: string }> }) => set.keys.map((k) => k.kid);

it.each<[SecretsManagerRotationEventStep, string, FaultKind]>([
  ['createSecret', 'secretsmanager.DescribeSecret', 'throttle'],
  ['createSecret', 'secretsmanager.GetSecretValue', 'fail'],
  ['createSecret', 'secretsmanager.PutSecretValue', 'throttle'],
  ['createSecret', 'secretsmanager.PutSecretValue', 'drop'],
  ['testSecret', 'secretsmanager.GetSecretValue', 'drop'],
  ['finishSecret', 'AmazonSSM.PutParameter', 'fail'],
  ['finishSecret', 'AmazonSSM.PutParameter', 'throttle'],
  ['finishSecret', 'secretsmanager.UpdateSecretVersionStage', 'fail'],
  ['finishSecret', 'secretsmanager.UpdateSecretVersionStage', 'hang'],
])(
  '%s throws while %s is told to %s, changes no version or stage, and completes when retried after the fault clears',
  async (failing, target, kind) => {
    // Prepare: the steps before the failing one, without faults
    for (const earlier of STEPS.slice(0, STEPS.indexOf(failing))) {
      expect((await step(earlier)).error).toBeUndefined();
    }
    const before = state();
    aws.faults.set(kind, { targets: [target] });

    // Act
    const refused = await step(failing);
    const during = state();
    const pendingDuring = secret.valueAt('AWSPENDING');
    aws.faults.set(undefined);
    const retried = await step(failing);
    for (const later of STEPS.slice(STEPS.indexOf(failing) + 1)) {
      expect((await step(later)).error).toBeUndefined();
    }

    // Assess: the failure is the invocation's error, logged once with its step
    expect(refused.error).toEqual(expect.objectContaining({ name: expect.any(String) }));
    expect(refused.logs.filter((l) => l.level === 'ERROR').map((l) => [l.message, l.step])).toEqual([
      ['rotation step failed', failing],
    ]);
    // The rotation publishes the pending set before it moves AWSCURRENT, so a move that fails
    // leaves that set published (the old signing key is in it as "previous"); nothing else moves.
    const published = target === 'secretsmanager.UpdateSecretVersionStage';
    expect(during.versions).toEqual(before.versions);
    expect(during.parameter).toBe(
      published
        ? serializePublicKeySet(toPublicKeySet(parseSigningKeySet(pendingDuring!)))
        : before.parameter,
    );
    if (published) expect(kids(parsePublicKeySet(during.parameter))).toContain(initial.current!.kid);
    expect(retried.error).toBeUndefined();
    // The rotation completed: the initial "next" key signs, and the parameter publishes the new set.
    const rotated = parseSigningKeySet(secret.valueAt('AWSCURRENT')!);
    // (Secrets Manager itself removes AWSPENDING once finishSecret returns; the fake does not.)
    expect([...secret.versions.get(TOKEN)!.stages]).toContain('AWSCURRENT');
    expect(secret.versions.get('initial-version')!.stages).toEqual(new Set(['AWSPREVIOUS']));
    expect(rotated.current!.kid).toBe(initial.next!.kid);
    expect(rotated.previous!.kid).toBe(initial.current!.kid);
    expect(kids(parsePublicKeySet(parameter.value))).toEqual(kids(toPublicKeySet(rotated)));
  },
  30_000,
);
