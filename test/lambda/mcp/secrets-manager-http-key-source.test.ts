import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import {
  SecretsManagerHttpKeySource,
  type SignedRequest,
  signSecretsManagerRequest,
} from '../../../lambda/mcp/secrets-manager-http-key-source.js';
import { SigningKeysUnavailableError } from '../../../lambda/shared/signing-keys.js';
import { currentKey } from './mcp-test-kit.js';

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The checksum constructor the SDK signer expects, on node:crypto (what the SDK uses in Node). */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.hash.update(toBytes(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token',
};
const now = new Date(Date.UTC(2026, 0, 15, 12, 0, 0));
const endpoint = 'https://secretsmanager.eu-west-1.amazonaws.com/';

describe('SigV4 signing of GetSecretValue', () => {
  it('produces the signature the AWS SDK signer produces for the same request', async () => {
    // Prepare
    const body = JSON.stringify({
      SecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:keys-AbCdEf',
    });
    const ours = signSecretsManagerRequest({
      endpoint,
      region: 'eu-west-1',
      target: 'secretsmanager.GetSecretValue',
      body,
      credentials,
      now,
    });
    const { authorization, ...unsigned } = ours.headers;
    const reference = new SignatureV4({
      service: 'secretsmanager',
      region: 'eu-west-1',
      credentials,
      sha256: Sha256,
    });

    // Act
    const signed = await reference.sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: 'secretsmanager.eu-west-1.amazonaws.com',
        path: '/',
        headers: unsigned,
        body,
        query: {},
      },
      { signingDate: now },
    );

    // Assess
    expect(authorization).toBe(signed.headers.authorization);
  });
});

describe('SecretsManagerHttpKeySource', () => {
  it('reads and parses the key set from the secret', async () => {
    // Prepare
    const key = await currentKey();
    const calls: SignedRequest[] = [];
    const source = new SecretsManagerHttpKeySource({
      secretId: 'keys',
      region: 'eu-west-1',
      credentials: () => credentials,
      send: async (request) => {
        calls.push(request);
        return { status: 200, body: JSON.stringify({ SecretString: JSON.stringify({ current: key }) }) };
      },
    });

    // Act
    const set = await source.load();

    // Assess
    expect(set.current?.kid).toBe(key.kid);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe(endpoint);
    expect(calls[0]!.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
  });

  it('turns an AWS error into SigningKeysUnavailableError', async () => {
    const source = new SecretsManagerHttpKeySource({
      secretId: 'keys',
      region: 'eu-west-1',
      credentials: () => credentials,
      send: async () => ({ status: 400, body: JSON.stringify({ __type: 'AccessDeniedException' }) }),
    });
    await expect(source.load()).rejects.toBeInstanceOf(SigningKeysUnavailableError);
  });

  it('reports a secret without a value yet as unavailable', async () => {
    const source = new SecretsManagerHttpKeySource({
      secretId: 'keys',
      region: 'eu-west-1',
      credentials: () => credentials,
      send: async () => ({ status: 200, body: JSON.stringify({ Name: 'keys' }) }),
    });
    await expect(source.load()).rejects.toThrow('has no value yet');
  });
});
