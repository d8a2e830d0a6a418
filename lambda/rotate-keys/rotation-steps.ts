/**
 * The four steps of the Secrets Manager rotation protocol for the signing key set, following the
 * AWS rotation function template:
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
 *
 * Every step can be retried by Secrets Manager, so every step is idempotent: a retried
 * `createSecret` keeps the keys it generated the first time; `finishSecret` publishes the public
 * key set again (the same set) before it moves AWSCURRENT, and does nothing when the version is
 * already AWSCURRENT.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerRotationEvent, SecretsManagerRotationEventStep } from 'aws-lambda';
import {
  parseSigningKeySet,
  publishedKeys,
  rotateSigningKeySet,
  serializeSigningKeySet,
  toPublicKeySet,
} from '../shared/key-set.js';
import type { Logger } from '../shared/logger.js';
import { checkPendingKeySet } from './check-key-set.js';
import { RotationError } from './errors.js';
import type { PublicKeyPublisher } from './public-key-publisher.js';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';

export interface RotationDeps {
  client: SecretsManagerClient;
  /** Where verifiers that may not read the secret (the mcp function) find the public keys. */
  publisher: PublicKeyPublisher;
  logger: Logger;
  now?: () => Date;
}

interface Step {
  secretId: string;
  token: string;
  /** Version id → staging labels, as DescribeSecret returned them at the start of the step. */
  versions: Record<string, string[]>;
}

const STEPS: Record<SecretsManagerRotationEventStep, (step: Step, deps: RotationDeps) => Promise<void>> = {
  createSecret,
  setSecret,
  testSecret,
  finishSecret,
};

/** Runs one rotation step after the checks the AWS template makes before any step. */
export async function rotateSecret(event: SecretsManagerRotationEvent, deps: RotationDeps): Promise<void> {
  const { SecretId: secretId, ClientRequestToken: token, Step: name } = event;
  const run = Object.hasOwn(STEPS, name) ? STEPS[name] : undefined;
  if (!run) throw new RotationError('ERR_UNKNOWN_STEP', `unknown rotation step "${String(name)}"`);

  const metadata = await deps.client.send(new DescribeSecretCommand({ SecretId: secretId }));
  if (!metadata.RotationEnabled) {
    throw new RotationError('ERR_ROTATION_DISABLED', `secret ${secretId} is not enabled for rotation`);
  }
  const versions = metadata.VersionIdsToStages ?? {};
  const stages = versions[token];
  if (!stages) {
    throw new RotationError(
      'ERR_VERSION_NOT_STAGED',
      `version ${token} has no stage for rotation of ${secretId}`,
    );
  }
  if (stages.includes(AWSCURRENT)) {
    deps.logger.info('version is already AWSCURRENT; nothing to do', {
      step: name,
      secretId,
      version: token,
    });
    return;
  }
  if (!stages.includes(AWSPENDING)) {
    throw new RotationError('ERR_VERSION_NOT_STAGED', `version ${token} is not AWSPENDING for ${secretId}`);
  }
  await run({ secretId, token, versions }, deps);
}

/** Stores the rotated key set as the AWSPENDING version, unless a retry finds it already there. */
async function createSecret({ secretId, token }: Step, { client, logger, now }: RotationDeps): Promise<void> {
  const existing = await readVersion(client, secretId, { VersionId: token, VersionStage: AWSPENDING });
  if (existing !== undefined) {
    logger.info('pending key set already exists; keeping it', {
      step: 'createSecret',
      secretId,
      version: token,
    });
    return;
  }
  const active = parseSigningKeySet(
    (await readVersion(client, secretId, { VersionStage: AWSCURRENT })) ?? '{}',
  );
  const rotated = await rotateSigningKeySet(active, now?.() ?? new Date());
  await client.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      ClientRequestToken: token,
      SecretString: serializeSigningKeySet(rotated),
      VersionStages: [AWSPENDING],
    }),
  );
  logger.info('created pending key set', {
    step: 'createSecret',
    secretId,
    version: token,
    current: rotated.current?.kid,
    next: rotated.next?.kid,
    previous: rotated.previous?.kid,
  });
}

/** The keys live only in the secret: there is no external system to update. */
async function setSecret({ secretId, token }: Step, { logger }: RotationDeps): Promise<void> {
  logger.info('no external system to update', { step: 'setSecret', secretId, version: token });
}

/** Refuses a pending key set that cannot sign, or whose rollover would break live tokens. */
async function testSecret({ secretId, token }: Step, { client, logger }: RotationDeps): Promise<void> {
  const pendingText = await readVersion(client, secretId, { VersionId: token, VersionStage: AWSPENDING });
  if (pendingText === undefined) {
    throw new RotationError('ERR_VERSION_NOT_STAGED', `version ${token} of ${secretId} has no value`);
  }
  const pending = parseSigningKeySet(pendingText);
  const active = parseSigningKeySet(
    (await readVersion(client, secretId, { VersionStage: AWSCURRENT })) ?? '{}',
  );
  await checkPendingKeySet(pending, active);
  logger.info('pending key set passed its checks', {
    step: 'testSecret',
    secretId,
    version: token,
    published: publishedKeys(pending).map((k) => k.kid),
  });
}

/**
 * Publishes the pending set's public keys, then moves AWSCURRENT to the pending version (the old
 * version keeps AWSPREVIOUS automatically). In that order, no key ever signs before it is in the
 * published set: until the move the signing key is the old `current`, which the pending set
 * still publishes as `previous` (`testSecret` checked it). If the move fails, the step is
 * retried and publishes the same set again; the first rotation, from the `{}` placeholder,
 * publishes like any other.
 */
async function finishSecret(
  { secretId, token, versions }: Step,
  { client, publisher, logger }: RotationDeps,
): Promise<void> {
  const pendingText = await readVersion(client, secretId, { VersionId: token, VersionStage: AWSPENDING });
  if (pendingText === undefined) {
    throw new RotationError('ERR_VERSION_NOT_STAGED', `version ${token} of ${secretId} has no value`);
  }
  const published = toPublicKeySet(parseSigningKeySet(pendingText));
  await publisher.publish(published);
  logger.info('published the public key set', {
    step: 'finishSecret',
    secretId,
    version: token,
    published: published.keys.map((k) => k.kid),
  });

  const currentVersion = Object.keys(versions).find((id) => versions[id]?.includes(AWSCURRENT));
  await client.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretId,
      VersionStage: AWSCURRENT,
      MoveToVersionId: token,
      ...(currentVersion ? { RemoveFromVersionId: currentVersion } : {}),
    }),
  );
  logger.info('pending key set is now AWSCURRENT', {
    step: 'finishSecret',
    secretId,
    version: token,
    replaced: currentVersion,
  });
}

/** The SecretString of a version, or undefined when that version or stage does not exist. */
async function readVersion(
  client: SecretsManagerClient,
  secretId: string,
  selector: { VersionId?: string; VersionStage: string },
): Promise<string | undefined> {
  try {
    const result = await client.send(new GetSecretValueCommand({ SecretId: secretId, ...selector }));
    return result.SecretString;
  } catch (error) {
    if ((error as { name?: unknown }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}
