/**
 * Reads the signing key set from Secrets Manager with one SigV4-signed `GetSecretValue` call
 * over `fetch`, instead of the AWS SDK client. The SDK client and its credential chain are
 * about 300 KB of the mcp bundle and most of its cold-start import time; this function needs one
 * API call with the credentials Lambda puts in its environment, so a small signer does the job.
 * Caching is the caller's (`CachedSigningKeys`).
 */
import { createHash, createHmac } from 'node:crypto';
import { parseSigningKeySet, type SigningKeySet } from '../shared/key-set.js';
import { SigningKeysUnavailableError, type SigningKeySource } from '../shared/signing-keys.js';

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

const SERVICE = 'secretsmanager';
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
 * Signs a Secrets Manager JSON request with AWS Signature Version 4
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
 */
export function signSecretsManagerRequest(options: {
  endpoint: string;
  region: string;
  target: string;
  body: string;
  credentials: AwsCredentials;
  now: Date;
}): SignedRequest {
  const url = new URL(options.endpoint);
  const timestamp = amzDate(options.now);
  const day = timestamp.slice(0, 8);
  const payloadHash = sha256Hex(options.body);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host: url.host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': timestamp,
    'x-amz-target': options.target,
  };
  if (options.credentials.sessionToken) headers['x-amz-security-token'] = options.credentials.sessionToken;
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
  const scope = `${day}/${options.region}/${SERVICE}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', timestamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${options.credentials.secretAccessKey}`, day), options.region), SERVICE),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${options.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return { url: url.toString(), headers, body: options.body };
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
    const request = send(url, { method: 'POST', headers: signed.headers, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(signed.body);
  });
};

export interface SecretsManagerHttpKeySourceOptions {
  secretId: string;
  region: string;
  credentials: () => AwsCredentials;
  /** Defaults to `https://secretsmanager.<region>.amazonaws.com/`. */
  endpoint?: string;
  send?: Send;
  timeoutMs?: number;
  now?: () => Date;
}

/** The options Lambda's environment provides (`AWS_REGION`, the execution role's credentials). */
export function optionsFromEnvironment(
  env: Record<string, string | undefined>,
  secretId: string,
): SecretsManagerHttpKeySourceOptions {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new SigningKeysUnavailableError('AWS_REGION is not set');
  const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL;
  return {
    secretId,
    region,
    ...(endpoint && { endpoint }),
    // Read at call time: the runtime's credentials are fixed for the environment, but tests swap them.
    credentials: () => {
      const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = env;
      if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY)
        throw new SigningKeysUnavailableError('no AWS credentials in the environment');
      return {
        accessKeyId: AWS_ACCESS_KEY_ID,
        secretAccessKey: AWS_SECRET_ACCESS_KEY,
        ...(AWS_SESSION_TOKEN && { sessionToken: AWS_SESSION_TOKEN }),
      };
    },
  };
}

export class SecretsManagerHttpKeySource implements SigningKeySource {
  constructor(private readonly options: SecretsManagerHttpKeySourceOptions) {}

  async load(): Promise<SigningKeySet> {
    const { region, secretId } = this.options;
    const request = signSecretsManagerRequest({
      endpoint: this.options.endpoint ?? `https://secretsmanager.${region}.amazonaws.com/`,
      region,
      target: 'secretsmanager.GetSecretValue',
      body: JSON.stringify({ SecretId: secretId }),
      credentials: this.options.credentials(),
      now: this.options.now?.() ?? new Date(),
    });
    let payload: { SecretString?: unknown; __type?: unknown };
    try {
      const response = await (this.options.send ?? sendWithNodeHttp)(request, this.options.timeoutMs ?? 3000);
      payload = JSON.parse(response.body) as typeof payload;
      if (response.status !== 200)
        throw new Error(`GetSecretValue answered ${response.status} ${String(payload.__type ?? '')}`);
    } catch (error) {
      throw new SigningKeysUnavailableError('could not read the signing key secret', { cause: error });
    }
    if (typeof payload.SecretString !== 'string' || payload.SecretString === '') {
      throw new SigningKeysUnavailableError('the signing key secret has no value yet');
    }
    return parseSigningKeySet(payload.SecretString);
  }
}
