import { createSign, createVerify } from 'node:crypto';
import type { SignedRequest } from '../../../../lambda/mcp/aws/aws-json-request.js';
import {
  SsmPublicKeySource,
  ssmOptionsFromEnvironment,
} from '../../../../lambda/mcp/aws/ssm-public-key-source.js';
import {
  rotateSigningKeySet,
  toPublicKeySet,
  type SigningKeySet,
} from '../../../../lambda/shared/key-set.js';
import { CachedPublicKeys, SigningKeysUnavailableError } from '../../../../lambda/shared/signing-keys.js';
import { privateKeyOf } from '../mcp-test-kit.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session-token' };
const PARAMETER = '/McpOAuth/signing-keys/public-jwks';
const ENDPOINT = 'https://ssm.eu-west-1.amazonaws.com/';

let set: SigningKeySet;

beforeAll(async () => {
  set = await rotateSigningKeySet(await rotateSigningKeySet({}));
});

/** A source whose `GetParameter` answers `status` and `body`, recording the requests. */
function sourceAnswering(status: number, body: unknown, calls: SignedRequest[] = []) {
  return new SsmPublicKeySource({
    parameterName: PARAMETER,
    region: 'eu-west-1',
    endpoint: ENDPOINT,
    credentials: () => credentials,
    now: () => new Date(Date.UTC(2026, 0, 15, 12, 0, 0)),
    send: async (request) => {
      calls.push(request);
      return { status, body: typeof body === 'string' ? body : JSON.stringify(body) };
    },
  });
}

const parameter = (value: string) => ({
  Parameter: { Name: PARAMETER, Type: 'String', Value: value, Version: 3, DataType: 'text' },
});

describe('SsmPublicKeySource', () => {
  it('reads the public key set with one signed GetParameter at the endpoint it was given', async () => {
    // Prepare
    const calls: SignedRequest[] = [];
    const source = sourceAnswering(200, parameter(JSON.stringify(toPublicKeySet(set))), calls);

    // Act
    const loaded = await source.load();

    // Assess
    expect(loaded).toEqual(toPublicKeySet(set));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe(ENDPOINT);
    expect(JSON.parse(calls[0]!.body)).toEqual({ Name: PARAMETER });
    expect(calls[0]!.headers).toMatchObject({
      'x-amz-target': 'AmazonSSM.GetParameter',
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-security-token': 'session-token',
    });
    expect(calls[0]!.headers.authorization).toContain(
      'Credential=AKIDEXAMPLE/20260115/eu-west-1/ssm/aws4_request',
    );
  });

  it('turns an AWS error into SigningKeysUnavailableError that keeps the error type as its cause', async () => {
    // Prepare
    const source = sourceAnswering(400, { __type: 'AccessDeniedException', message: 'not authorized' });

    // Act
    const result = source.load();

    // Assess
    await expect(result).rejects.toBeInstanceOf(SigningKeysUnavailableError);
    await expect(result).rejects.toMatchObject({
      message: 'could not read the public signing key parameter',
      cause: expect.objectContaining({ message: 'GetParameter answered 400 AccessDeniedException' }),
    });
  });

  it('reports missing credentials as unavailable keys rather than failing the request', async () => {
    // Prepare
    const source = new SsmPublicKeySource({
      ...ssmOptionsFromEnvironment({
        AWS_REGION: 'eu-west-1',
        PUBLIC_KEYS_PARAMETER_NAME: PARAMETER,
        SSM_ENDPOINT: ENDPOINT,
      }),
      send: async () => {
        throw new Error('must not be called');
      },
    });

    // Act
    const result = source.load();

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'SigningKeysUnavailableError',
      cause: expect.objectContaining({ message: 'no AWS credentials in the environment' }),
    });
  });

  it('reports a parameter without a value as unavailable', async () => {
    // Act
    const result = sourceAnswering(200, { Parameter: { Name: PARAMETER } }).load();

    // Assess
    await expect(result).rejects.toThrow('the public signing key parameter has no value');
  });

  it('refuses a parameter that holds private key material', async () => {
    // Prepare
    const leaked = JSON.stringify({ keys: [set.current] });

    // Act
    const result = sourceAnswering(200, parameter(leaked)).load();

    // Assess
    await expect(result).rejects.toMatchObject({
      code: 'ERR_INVALID_PUBLIC_KEY_SET',
      message: 'keys[0] holds private key material ("d")',
    });
  });

  it('serves CachedPublicKeys: verifies a token signed by the current key, and cannot sign', async () => {
    // Prepare
    const keys = new CachedPublicKeys(sourceAnswering(200, parameter(JSON.stringify(toPublicKeySet(set)))));
    const signature = createSign('sha256').update('payload').sign(privateKeyOf(set.current!));

    // Act
    const key = await keys.verificationKey(set.current!.kid);

    // Assess
    expect(key?.type).toBe('public');
    expect(createVerify('sha256').update('payload').verify(key!, signature)).toBe(true);
    expect((await keys.publicJwks()).keys.map((k) => k.kid)).toEqual([
      set.current!.kid,
      set.next!.kid,
      set.previous!.kid,
    ]);
    expect('signingKey' in keys).toBe(false);
  });
});

describe('ssmOptionsFromEnvironment', () => {
  it('takes the parameter and the endpoint from the stack and the region from the runtime', () => {
    // Act
    const options = ssmOptionsFromEnvironment({
      AWS_REGION: 'cn-north-1',
      PUBLIC_KEYS_PARAMETER_NAME: PARAMETER,
      SSM_ENDPOINT: 'https://ssm.cn-north-1.amazonaws.com.cn/',
    });

    // Assess
    expect(options).toMatchObject({
      parameterName: PARAMETER,
      region: 'cn-north-1',
      endpoint: 'https://ssm.cn-north-1.amazonaws.com.cn/',
    });
  });

  it.each([
    ['PUBLIC_KEYS_PARAMETER_NAME', { SSM_ENDPOINT: ENDPOINT }],
    ['SSM_ENDPOINT', { PUBLIC_KEYS_PARAMETER_NAME: PARAMETER }],
  ])('refuses to start without %s rather than guess it', (name, env) => {
    // Act
    const start = () => ssmOptionsFromEnvironment({ AWS_REGION: 'eu-west-1', ...env });

    // Assess
    expect(start).toThrow(`${name} is required`);
  });
});
