/**
 * The one classifier both functions answer dependency faults with: how AWS SDK v3 surfaces
 * throttling, internal errors, timeouts and lost connections, and what the oauth function
 * answers for each when its stores and key source are mocked with aws-sdk-client-mock.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import {
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import {
  GetSecretValueCommand,
  InternalServiceError,
  ResourceNotFoundException as SecretNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createOAuthApp } from '../../../lambda/oauth/app.js';
import { ClientResolver } from '../../../lambda/oauth/clients/client-resolver.js';
import { DynamoClientStore } from '../../../lambda/oauth/stores/client-store.js';
import type { GrantStore } from '../../../lambda/oauth/stores/grant-store.js';
import { DynamoRevocationList } from '../../../lambda/oauth/stores/revocations.js';
import { awsClientOptions } from '../../../lambda/shared/aws-client-options.js';
import { loadConfig } from '../../../lambda/shared/config.js';
import {
  classifyDependencyFault,
  isDependencyFault,
  type DependencyFault,
} from '../../../lambda/shared/dependency-fault.js';
import { createLogger } from '../../../lambda/shared/logger.js';
import { SecretsManagerKeySource } from '../../../lambda/shared/secrets-manager-key-source.js';
import { CachedSigningKeys, SigningKeysUnavailableError } from '../../../lambda/shared/signing-keys.js';

const run = promisify(execFile);
const $metadata = { httpStatusCode: 400 };
const serverMetadata = { httpStatusCode: 500 };
const withCode = (message: string, name: string, code: string) =>
  Object.assign(new Error(message), { name, code });

const FAULTS: Array<[string, unknown, DependencyFault]> = [
  [
    'ProvisionedThroughputExceededException',
    new ProvisionedThroughputExceededException({ message: 'slow down', $metadata }),
    'throttled',
  ],
  ['ThrottlingException', new ThrottlingException({ message: 'Rate exceeded', $metadata }), 'throttled'],
  ['RequestLimitExceeded', new RequestLimitExceeded({ message: 'account limit', $metadata }), 'throttled'],
  [
    'Secrets Manager ThrottlingException',
    new SecretsManagerServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      message: 'Rate exceeded',
      $metadata,
    }),
    'throttled',
  ],
  [
    'DynamoDB InternalServerError',
    new InternalServerError({ message: 'internal', $metadata: serverMetadata }),
    'failed',
  ],
  [
    'Secrets Manager InternalServiceError',
    new InternalServiceError({ message: 'internal', $metadata: serverMetadata }),
    'failed',
  ],
  [
    'ServiceUnavailable',
    Object.assign(new Error('unavailable'), {
      name: 'ServiceUnavailable',
      $metadata: { httpStatusCode: 503 },
    }),
    'failed',
  ],
  [
    'an unnamed 5xx',
    Object.assign(new Error('UnknownError'), {
      name: 'Error',
      $fault: 'server',
      $metadata: { httpStatusCode: 502 },
    }),
    'failed',
  ],
  [
    'the request timeout',
    withCode('exceeded 2000 ms requestTimeout', 'TimeoutError', 'ETIMEDOUT'),
    'timeout',
  ],
  [
    'the connection timeout',
    Object.assign(new Error('did not establish a connection'), { name: 'TimeoutError' }),
    'timeout',
  ],
  ['RequestTimeout', Object.assign(new Error('timed out'), { name: 'RequestTimeout' }), 'timeout'],
  [
    'a refused connection',
    withCode('connect ECONNREFUSED 127.0.0.1:1', 'Error', 'ECONNREFUSED'),
    'unreachable',
  ],
  ['a reset connection', withCode('read ECONNRESET', 'TimeoutError', 'ECONNRESET'), 'unreachable'],
  ['socket hang up', withCode('socket hang up', 'TimeoutError', 'ECONNRESET'), 'unreachable'],
  [
    'a fault wrapped by a key source',
    new SigningKeysUnavailableError('could not read', {
      cause: new ThrottlingException({ message: 'Rate exceeded', $metadata }),
    }),
    'throttled',
  ],
];

const NOT_FAULTS: Array<[string, unknown]> = [
  ['a plain Error', new Error('bug')],
  ['a TypeError', new TypeError('x is undefined')],
  [
    'ResourceNotFoundException (a missing table)',
    new ResourceNotFoundException({ message: 'no table', $metadata }),
  ],
  ['a missing secret', new SecretNotFoundException({ message: 'no secret', $metadata })],
  [
    'AccessDeniedException',
    Object.assign(new Error('not authorized'), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata,
    }),
  ],
  [
    'ValidationException',
    Object.assign(new Error('key too long'), { name: 'ValidationException', $metadata }),
  ],
  ['a string', 'ThrottlingException'],
  ['undefined', undefined],
];

describe('classifyDependencyFault', () => {
  it.each(FAULTS)('classifies %s', (_name, error, fault) => {
    expect(classifyDependencyFault(error)).toBe(fault);
    expect(isDependencyFault(error)).toBe(true);
  });

  it.each(NOT_FAULTS)('leaves %s to be answered as a server error', (_name, error) => {
    expect(classifyDependencyFault(error)).toBeUndefined();
  });

  it('classifies a refused connection as the SDK surfaces it, after its retries', async () => {
    // Prepare: a port nothing listens on. The call runs in a plain Node process: in Jest's module
    // realm Node's errors are not `instanceof Error`, and the SDK would wrap them.
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const { port } = probe.address() as AddressInfo;
    await new Promise((done) => probe.close(done));
    const script = `
      import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
      const options = ${JSON.stringify(awsClientOptions())};
      const client = new DynamoDBClient({ ...options, endpoint: 'http://127.0.0.1:${port}', region: 'eu-west-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      const e = await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } } })).catch((e) => e);
      console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, $metadata: e.$metadata }));
    `;

    // Act
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH },
    });
    const error = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;

    // Assess
    expect(error).toMatchObject({ code: 'ECONNREFUSED', $metadata: { attempts: 3 } });
    expect(classifyDependencyFault(error)).toBe('unreachable');
  });
});

describe('the oauth function over mocked AWS clients', () => {
  const dynamo = mockClient(DynamoDBDocumentClient);
  const secrets = mockClient(SecretsManagerClient);
  const config = loadConfig({ ISSUER: 'https://as.example' });
  let lines: Array<Record<string, unknown>>;

  beforeEach(() => {
    dynamo.reset();
    secrets.reset();
    lines = [];
  });

  function app() {
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
    const sm = new SecretsManagerClient({ region: 'eu-west-1' });
    const clients = new DynamoClientStore(db, 'table');
    return createOAuthApp({
      config,
      clients,
      clientResolver: new ClientResolver(clients),
      grants: {} as GrantStore,
      revocations: new DynamoRevocationList(db, 'table'),
      keys: new CachedSigningKeys(new SecretsManagerKeySource(sm, 'signing-keys')),
      logger: createLogger('oauth', { write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
    });
  }

  const register = () =>
    new Request('https://as.example/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_types: ['client_credentials'] }),
    });

  it.each(FAULTS.filter(([, error]) => !(error instanceof SigningKeysUnavailableError)))(
    'answers registration 503 temporarily_unavailable with Retry-After when DynamoDB raises %s',
    async (_name, error, fault) => {
      // Prepare
      dynamo.on(PutCommand).rejects(error as Error);

      // Act
      const response = await app()(register());

      // Assess
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'the server cannot complete this request right now; retry shortly',
      });
      expect(lines.map((l) => [l.level, l.message, l.fault])).toEqual([
        ['WARN', 'dependency unavailable', fault],
      ]);
    },
  );

  it.each(NOT_FAULTS.filter(([, error]) => error instanceof Error))(
    'answers registration 500 server_error, without internals, when DynamoDB raises %s',
    async (_name, error) => {
      dynamo.on(PutCommand).rejects(error as Error);
      const response = await app()(register());
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({
        error: 'server_error',
        error_description: 'an internal error occurred',
      });
      expect(lines.map((l) => l.message)).toEqual(['request failed']);
    },
  );

  it('answers the token endpoint 503 when Secrets Manager is throttled while reading the signing keys', async () => {
    // Prepare: a registered client, and a throttled secret
    dynamo.on(PutCommand).resolves({});
    const oauth = app();
    const client = (await (await oauth(register())).json()) as { client_id: string; client_secret: string };
    const stored = dynamo.commandCalls(PutCommand)[0]!.args[0].input.Item;
    dynamo.on(GetCommand).resolves({ Item: stored });
    secrets.on(GetSecretValueCommand).rejects(
      new SecretsManagerServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata,
      }),
    );

    // Act
    const response = await oauth(
      new Request('https://as.example/token', {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      }),
    );

    // Assess
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(((await response.json()) as { error: string }).error).toBe('temporarily_unavailable');
    expect(lines.filter((l) => l.level !== 'INFO').map((l) => [l.message, l.fault])).toEqual([
      ['dependency unavailable', 'throttled'],
    ]);
  });
});
