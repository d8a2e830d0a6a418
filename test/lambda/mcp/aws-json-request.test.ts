import { SignatureV4 } from '@smithy/signature-v4';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import {
  AwsEnvironmentError,
  credentialsFromEnvironment,
  regionFromEnvironment,
  sendWithNodeHttp,
  signAwsJsonRequest,
} from '../../../lambda/mcp/aws-json-request.js';

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

describe('SigV4 signing of a JSON-protocol request', () => {
  it.each([
    {
      name: 'SSM GetParameter in a commercial region',
      endpoint: 'https://ssm.eu-west-1.amazonaws.com/',
      region: 'eu-west-1',
      service: 'ssm',
      target: 'AmazonSSM.GetParameter',
      body: JSON.stringify({ Name: '/McpOAuth/signing-keys/public-jwks' }),
      credentials,
    },
    {
      name: 'SSM GetParameter at the FIPS endpoint, without a session token',
      endpoint: 'https://ssm-fips.us-east-1.amazonaws.com/',
      region: 'us-east-1',
      service: 'ssm',
      target: 'AmazonSSM.GetParameter',
      body: JSON.stringify({ Name: '/McpOAuth/signing-keys/public-jwks' }),
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    },
    {
      name: 'SSM GetParameter in the China partition',
      endpoint: 'https://ssm.cn-north-1.amazonaws.com.cn/',
      region: 'cn-north-1',
      service: 'ssm',
      target: 'AmazonSSM.GetParameter',
      body: JSON.stringify({ Name: 'arn:aws-cn:ssm:cn-north-1:123456789012:parameter/keys' }),
      credentials,
    },
    {
      name: 'Secrets Manager GetSecretValue',
      endpoint: 'https://secretsmanager.eu-west-1.amazonaws.com/',
      region: 'eu-west-1',
      service: 'secretsmanager',
      target: 'secretsmanager.GetSecretValue',
      body: JSON.stringify({ SecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:keys-AbCdEf' }),
      credentials,
    },
  ])('produces the signature the AWS SDK signer produces: $name', async (request) => {
    // Prepare
    const ours = signAwsJsonRequest({ ...request, now });
    const { authorization, ...unsigned } = ours.headers;
    const reference = new SignatureV4({
      service: request.service,
      region: request.region,
      credentials: request.credentials,
      sha256: Sha256,
    });

    // Act
    const signed = await reference.sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: new URL(request.endpoint).hostname,
        path: '/',
        headers: unsigned,
        body: request.body,
        query: {},
      },
      { signingDate: now },
    );

    // Assess
    expect(authorization).toBe(signed.headers.authorization);
    expect(authorization).toContain(`/20260115/${request.region}/${request.service}/aws4_request`);
    expect(ours).toMatchObject({ url: request.endpoint, body: request.body });
    expect(ours.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': request.target,
      host: new URL(request.endpoint).host,
    });
  });
});

describe('sendWithNodeHttp', () => {
  let seen: { method?: string; headers: IncomingHttpHeaders; body: string }[];
  let reply: (res: import('node:http').ServerResponse) => void;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() });
      reply(res);
    });
  });
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  });
  beforeEach(() => {
    seen = [];
    reply = (res) => res.writeHead(200).end('{"ok":true}');
  });

  it('posts the signed headers and body and answers the status and body text', async () => {
    // Prepare
    const signed = signAwsJsonRequest({
      endpoint: url,
      region: 'eu-west-1',
      service: 'ssm',
      target: 'AmazonSSM.GetParameter',
      body: '{"Name":"keys"}',
      credentials,
      now,
    });
    reply = (res) => res.writeHead(400).end('{"__type":"ParameterNotFound"}');

    // Act
    const response = await sendWithNodeHttp(signed, 1000);

    // Assess
    expect(response).toEqual({ status: 400, body: '{"__type":"ParameterNotFound"}' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      body: '{"Name":"keys"}',
      headers: {
        'x-amz-target': 'AmazonSSM.GetParameter',
        authorization: signed.headers.authorization,
        'x-amz-security-token': 'session-token',
      },
    });
  });

  it('gives up when no answer comes within the timeout', async () => {
    // Prepare
    reply = (res) => setTimeout(() => res.writeHead(200).end('{}'), 500);
    const signed = { url, headers: {}, body: '{}' };

    // Act
    const result = sendWithNodeHttp(signed, 50);

    // Assess
    await expect(result).rejects.toThrow('no answer within 50 ms');
  });
});

describe('the Lambda environment', () => {
  it('reads the region and the execution role credentials, session token included', () => {
    // Prepare
    const env = {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    };

    // Act
    const region = regionFromEnvironment(env);
    const read = credentialsFromEnvironment(env)();

    // Assess
    expect(region).toBe('eu-west-1');
    expect(read).toEqual({ accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'token' });
  });

  it('says what is missing when the region or the credentials are not set', () => {
    // Act
    const noRegion = () => regionFromEnvironment({});
    const noCredentials = credentialsFromEnvironment({ AWS_ACCESS_KEY_ID: 'AKID' });

    // Assess
    expect(noRegion).toThrow(AwsEnvironmentError);
    expect(noRegion).toThrow('AWS_REGION is not set');
    expect(noCredentials).toThrow('no AWS credentials in the environment');
  });
});
