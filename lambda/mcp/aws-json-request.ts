/**
 * One signed call to an AWS JSON-protocol API (`X-Amz-Target`, `application/x-amz-json-1.1`)
 * without the AWS SDK. The SDK client and its credential chain would be about 300 KB of the mcp
 * bundle and most of its cold start (doc/performance.md); this function makes one read with the
 * credentials Lambda puts in its environment, so a small SigV4 signer over `node:http(s)` does.
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface AwsJsonRequest {
  /** The service endpoint, for example `https://ssm.eu-west-1.amazonaws.com/`. */
  endpoint: string;
  region: string;
  /** The SigV4 signing name of the service (`ssm`, `secretsmanager`). */
  service: string;
  /** The operation, as `X-Amz-Target` names it (`AmazonSSM.GetParameter`). */
  target: string;
  body: string;
  credentials: AwsCredentials;
  now: Date;
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** `20260115T120000Z` (ISO 8601 basic format, as SigV4 wants it). */
function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * Signs a JSON-protocol POST with AWS Signature Version 4
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
 */
export function signAwsJsonRequest(request: AwsJsonRequest): SignedRequest {
  const url = new URL(request.endpoint);
  const timestamp = amzDate(request.now);
  const day = timestamp.slice(0, 8);
  const payloadHash = sha256Hex(request.body);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host: url.host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': timestamp,
    'x-amz-target': request.target,
  };
  if (request.credentials.sessionToken) headers['x-amz-security-token'] = request.credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const canonicalRequest = [
    'POST',
    url.pathname || '/',
    '',
    ...names.map((name) => `${name}:${headers[name]!.trim()}`),
    '',
    names.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${day}/${request.region}/${request.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', timestamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${request.credentials.secretAccessKey}`, day), request.region), request.service),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${request.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return { url: url.toString(), headers, body: request.body };
}

/** Sends a signed request; answers the status and body text. */
export type Send = (request: SignedRequest, timeoutMs: number) => Promise<{ status: number; body: string }>;

/**
 * `node:http(s)` rather than `fetch`: the first `fetch` of a process costs about 15 ms more CPU,
 * which lands on every cold start.
 */
export const sendWithNodeHttp: Send = async (signed, timeoutMs) => {
  const url = new URL(signed.url);
  // Loaded on first use: only the one the endpoint needs, and off the import path. Not with
  // `import()`: building the ES module namespace of `node:http` reads its lazy WebSocket exports,
  // which loads Node's whole fetch implementation (about 28 ms of CPU).
  const { request: send } =
    url.protocol === 'https:'
      ? process.getBuiltinModule('node:https')
      : process.getBuiltinModule('node:http');
  return new Promise((resolve, reject) => {
    // `timeout` alone bounds only idle time; an answer trickling in must not outlast it either.
    const deadline = setTimeout(() => request.destroy(timeoutError(timeoutMs)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(deadline);
      reject(error);
    };
    const request = send(url, { method: 'POST', headers: signed.headers, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(deadline);
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('error', fail);
    });
    request.on('timeout', () => request.destroy(timeoutError(timeoutMs)));
    request.on('error', fail);
    request.end(signed.body);
  });
};

/** Named as the AWS SDK names its own, so `isDependencyFault` reads both alike. */
function timeoutError(timeoutMs: number): Error {
  return Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' });
}

/** Thrown when the environment lacks what a signed call needs (region, credentials). */
export class AwsEnvironmentError extends Error {
  readonly code = 'ERR_AWS_ENVIRONMENT';
  constructor(message: string) {
    super(message);
    this.name = 'AwsEnvironmentError';
  }
}

/** The region Lambda runs in (`AWS_REGION`). */
export function regionFromEnvironment(env: Record<string, string | undefined>): string {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new AwsEnvironmentError('AWS_REGION is not set');
  return region;
}

/**
 * The execution role's credentials as Lambda puts them in the environment. Read at call time:
 * they are fixed for an execution environment, but tests swap them.
 */
export function credentialsFromEnvironment(env: Record<string, string | undefined>): () => AwsCredentials {
  return () => {
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = env;
    if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY)
      throw new AwsEnvironmentError('no AWS credentials in the environment');
    return {
      accessKeyId: AWS_ACCESS_KEY_ID,
      secretAccessKey: AWS_SECRET_ACCESS_KEY,
      ...(AWS_SESSION_TOKEN && { sessionToken: AWS_SESSION_TOKEN }),
    };
  };
}
