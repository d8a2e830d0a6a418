import { createServer, type IncomingHttpHeaders, type RequestListener } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash, createHmac } from 'node:crypto';
import {
  AwsEnvironmentError,
  callAwsJson,
  credentialsFromEnvironment,
  regionFromEnvironment,
  requestsWritten,
  sendWithNodeHttp,
  signAwsJsonRequest,
  type AwsCredentials,
  type SignedRequest,
} from '../../../../lambda/mcp/aws/aws-json-request.js';

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * What the service does with a request: recompute the SigV4 signature from the headers the
 * request says it signed, written from the specification
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), independent of
 * the signer under test.
 */
function expectedAuthorization(
  signed: SignedRequest,
  region: string,
  service: string,
  credentials: AwsCredentials,
) {
  const url = new URL(signed.url);
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const names = /SignedHeaders=([^,]+)/.exec(headers.authorization ?? '')?.[1]?.split(';') ?? [];
  const timestamp = headers['x-amz-date']!;
  const day = timestamp.slice(0, 8);
  const canonicalRequest = [
    'POST',
    url.pathname,
    '',
    ...names.map((name) => `${name}:${headers[name]!.trim()}`),
    '',
    names.join(';'),
    sha256Hex(signed.body),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', timestamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), service),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return {
    names,
    value: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
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
      jsonVersion: '1.1' as const,
      body: JSON.stringify({ Name: '/McpOAuth/signing-keys/public-jwks' }),
      credentials,
    },
    {
      name: 'SSM GetParameter at the FIPS endpoint, without a session token',
      endpoint: 'https://ssm-fips.us-east-1.amazonaws.com/',
      region: 'us-east-1',
      service: 'ssm',
      target: 'AmazonSSM.GetParameter',
      jsonVersion: '1.1' as const,
      body: JSON.stringify({ Name: '/McpOAuth/signing-keys/public-jwks' }),
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    },
    {
      name: 'SSM GetParameter in the China partition',
      endpoint: 'https://ssm.cn-north-1.amazonaws.com.cn/',
      region: 'cn-north-1',
      service: 'ssm',
      target: 'AmazonSSM.GetParameter',
      jsonVersion: '1.1' as const,
      body: JSON.stringify({ Name: 'arn:aws-cn:ssm:cn-north-1:123456789012:parameter/keys' }),
      credentials,
    },
    {
      name: 'DynamoDB BatchGetItem at a loopback endpoint with a port',
      endpoint: 'http://127.0.0.1:8000/',
      region: 'eu-west-1',
      service: 'dynamodb',
      target: 'DynamoDB_20120810.BatchGetItem',
      jsonVersion: '1.0' as const,
      body: JSON.stringify({ RequestItems: { table: { Keys: [{ pk: { S: 'revoked#1#0' } }] } } }),
      credentials,
    },
  ])('signs what the service checks: $name', async (request) => {
    // Act
    const signed = await signAwsJsonRequest({ ...request, now });

    // Assess
    const expected = expectedAuthorization(signed, request.region, request.service, request.credentials);
    expect(signed.headers.authorization).toBe(expected.value);
    expect(expected.names).toEqual(
      expect.arrayContaining(['host', 'x-amz-date', 'x-amz-target', 'content-type']),
    );
    expect(signed.headers.authorization).toContain(
      `/20260115/${request.region}/${request.service}/aws4_request`,
    );
    expect(signed).toMatchObject({ url: request.endpoint, body: request.body });
    expect(signed.headers).toMatchObject({
      'content-type': `application/x-amz-json-${request.jsonVersion}`,
      'x-amz-target': request.target,
      'x-amz-date': '20260115T120000Z',
      host: new URL(request.endpoint).host,
    });
    const token = (request.credentials as AwsCredentials).sessionToken;
    if (token) {
      expect(signed.headers['x-amz-security-token']).toBe(token);
    }
  });

  it('a changed body no longer matches the signature', async () => {
    // Prepare
    const signed = await signAwsJsonRequest({
      endpoint: 'https://ssm.eu-west-1.amazonaws.com/',
      region: 'eu-west-1',
      service: 'ssm',
      target: 'AmazonSSM.GetParameter',
      body: '{"Name":"a"}',
      credentials,
      now,
    });

    // Act
    const tampered = expectedAuthorization(
      { ...signed, body: '{"Name":"b"}' },
      'eu-west-1',
      'ssm',
      credentials,
    );

    // Assess
    expect(signed.headers.authorization).not.toBe(tampered.value);
  });
});

/** A loopback server for the tests of the block it is called in; answers its URL. */
function loopbackServer(handle: RequestListener): () => string {
  const server = createServer(handle);
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  });
  return () => url;
}

describe('sendWithNodeHttp', () => {
  let seen: { method?: string; headers: IncomingHttpHeaders; body: string }[];
  let reply: (res: import('node:http').ServerResponse) => void;
  const url = loopbackServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() });
      reply(res);
    });
  });
  beforeEach(() => {
    seen = [];
    reply = (res) => res.writeHead(200).end('{"ok":true}');
  });

  it('posts the signed headers and body and answers the status and body text', async () => {
    // Prepare
    const signed = await signAwsJsonRequest({
      endpoint: url(),
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
    const signed = { url: url(), headers: {}, body: '{}' };

    // Act
    const result = sendWithNodeHttp(signed, 50);

    // Assess
    await expect(result).rejects.toThrow('no answer within 50 ms');
  });
});

/**
 * A service that drops a request without answering, by which request of its connection it is:
 * the connection's number (1, 2, ... as they open) and the request's place on it.
 */
function droppingServer(drops: (request: number) => boolean) {
  const numbers = new WeakMap<Socket, number>();
  const servedOn = new Map<number, number>();
  let opened = 0;
  const arrivals: number[] = [];
  const url = loopbackServer((req, res) => {
    let connection = numbers.get(req.socket);
    if (connection === undefined) numbers.set(req.socket, (connection = ++opened));
    const request = (servedOn.get(connection) ?? 0) + 1;
    servedOn.set(connection, request);
    arrivals.push(connection);
    req.resume();
    req.on('end', () => (drops(request) ? req.socket.destroy() : res.writeHead(200).end('{}')));
  });
  return { url, arrivals };
}

describe('sendWithNodeHttp on a kept-open connection the service has since closed', () => {
  // The service closes each connection after its first answer, as one closes an idle connection.
  const service = droppingServer((request) => request > 1);

  it('sends the request again, once, on a new connection', async () => {
    // Prepare: a first read leaves its connection open in Node's global agent
    const signed = { url: service.url(), headers: {}, body: '{}' };
    await sendWithNodeHttp(signed, 1000);

    // Act
    const response = await sendWithNodeHttp(signed, 1000);

    // Assess: out on connection 1 (dropped), then on connection 2 (answered)
    expect(response).toEqual({ status: 200, body: '{}' });
    expect(service.arrivals).toEqual([1, 1, 2]);
  });
});

describe('sendWithNodeHttp when a kept-open connection is reset late', () => {
  // The first answer keeps its connection open; the second request on it is reset after 300 ms,
  // and a new connection is never answered.
  const held: import('node:http').ServerResponse[] = [];
  const numbers = new WeakMap<Socket, number>();
  let opened = 0;
  const url = loopbackServer((req, res) => {
    let connection = numbers.get(req.socket);
    const first = connection === undefined;
    if (first) numbers.set(req.socket, (connection = ++opened));
    req.resume();
    req.on('end', () => {
      if (connection === 1 && first) res.writeHead(200).end('{}');
      else if (connection === 1) setTimeout(() => req.socket.destroy(), 300);
      else held.push(res);
    });
  });
  afterAll(() => held.forEach((res) => res.destroy()));

  it('sends again only within what is left of the deadline', async () => {
    // Prepare
    const signed = { url: url(), headers: {}, body: '{}' };
    await sendWithNodeHttp(signed, 1000);

    // Act
    const started = Date.now();
    const result = sendWithNodeHttp(signed, 500);

    // Assess: sent again on a new connection, and given up 500 ms after the start, not 800
    await expect(result).rejects.toThrow(/no answer within/);
    expect(Date.now() - started).toBeLessThan(700);
    expect(opened).toBe(2);
  });
});

describe('sendWithNodeHttp on a new connection the service drops', () => {
  const service = droppingServer(() => true);

  it('does not send the request again', async () => {
    // Act
    const result = sendWithNodeHttp({ url: service.url(), headers: {}, body: '{}' }, 1000);

    // Assess
    await expect(result).rejects.toMatchObject({ code: 'ECONNRESET', reusedSocket: false });
    expect(service.arrivals).toEqual([1]);
  });
});

describe('requestsWritten', () => {
  let arrived: string[];
  let answer: (() => void) | undefined;
  const url = loopbackServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrived.push(String(req.headers['x-amz-target']));
      answer = () => res.writeHead(200).end('{}');
    });
  });
  beforeEach(() => {
    arrived = [];
    answer = undefined;
  });

  const options = (endpoint: string) => ({ endpoint, region: 'eu-west-1', credentials: () => credentials });
  const call = { service: 'ssm', target: 'AmazonSSM.GetParameter', input: { Name: 'keys' } };

  it('settles once the request is written out, while its answer is still to come', async () => {
    // Prepare
    let answered = false;
    // Settles either way, so a failed call is an assertion below, never an unhandled rejection
    // while an earlier assertion fails.
    const reading = callAwsJson(options(url()), call).then(
      () => (answered = true),
      (error: unknown) => ({ error }),
    );

    // Act
    await requestsWritten();

    // Assess: the request is out and reaches the service, which has not answered yet
    for (let i = 0; i < 100 && arrived.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(arrived).toEqual(['AmazonSSM.GetParameter']);
    expect(answered).toBe(false);
    answer!();
    expect(await reading).toBe(true);
    expect(answered).toBe(true);
  });

  it('settles when a call ends without writing its request (connection refused)', async () => {
    // Prepare: a port nobody listens on
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const reading = callAwsJson(options(`http://127.0.0.1:${port}/`), call).catch((e: unknown) => e);

    // Act
    await requestsWritten();

    // Assess
    expect(await reading).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('settles at once when no call is under way', async () => {
    // Act and assess: does not wait for anything
    await expect(requestsWritten()).resolves.toBeUndefined();
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
