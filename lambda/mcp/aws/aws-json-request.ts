/**
 * One signed call to an AWS JSON-protocol API (`X-Amz-Target`, `application/x-amz-json-1.x`)
 * without the AWS SDK client. The SDK client and its credential chain would be about 300 KB of
 * the mcp bundle and most of its cold start (doc/performance.md); this function makes a few reads
 * with the credentials Lambda puts in its environment, so the SDK's own SigV4 signer
 * (`@smithy/signature-v4`, about 14 KB bundled) over `node:http(s)` does.
 */
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';

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
  /** The SigV4 signing name of the service (`ssm`, `dynamodb`). */
  service: string;
  /** The operation, as `X-Amz-Target` names it (`AmazonSSM.GetParameter`). */
  target: string;
  /** The service's JSON protocol version: `1.1` (Systems Manager, the default) or `1.0` (DynamoDB). */
  jsonVersion?: '1.0' | '1.1';
  body: string;
  credentials: AwsCredentials;
  now: Date;
}

/** The checksum the signer asks for, on `node:crypto` (the SDK's own Node implementation). */
class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

/**
 * Signs a JSON-protocol POST with AWS Signature Version 4
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
 */
export async function signAwsJsonRequest(request: AwsJsonRequest): Promise<SignedRequest> {
  const url = new URL(request.endpoint);
  const signer = new SignatureV4({
    service: request.service,
    region: request.region,
    credentials: request.credentials,
    sha256: Sha256,
    uriEscapePath: true,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port && { port: Number(url.port) }),
      path: url.pathname || '/',
      query: {},
      headers: {
        'content-type': `application/x-amz-json-${request.jsonVersion ?? '1.1'}`,
        host: url.host,
        'x-amz-target': request.target,
      },
      body: request.body,
    },
    { signingDate: request.now },
  );
  return { url: url.toString(), headers: signed.headers, body: request.body };
}

/**
 * Sends a signed request; answers the status and body text. `onWritten` is called once the whole
 * request has been handed to the operating system (the connection made, for HTTPS the handshake
 * done), if the sender can tell; otherwise it is called when the answer is in.
 */
export type Send = (
  request: SignedRequest,
  timeoutMs: number,
  onWritten?: () => void,
) => Promise<{ status: number; body: string }>;

/** What every reader built on {@link signAwsJsonRequest} is given: where, as whom, and how long. */
export interface SignedReadOptions {
  /** The service endpoint, given by the stack from its partition's URL suffix, never guessed here. */
  endpoint: string;
  region: string;
  credentials: () => AwsCredentials;
  send?: Send;
  timeoutMs?: number;
  now?: () => Date;
}

/**
 * `node:http(s)` rather than `fetch`: the first `fetch` of a process costs about 15 ms more CPU,
 * which lands on every cold start.
 *
 * Node's global agents keep connections open for reuse. A service closes an idle one after a
 * while, and a Lambda environment frozen between invocations cannot see that happen, so a
 * request may go out on a connection that is already gone, which fails at once (`ECONNRESET`,
 * `EPIPE`). Such a request is sent again, once, on a new connection, as Node's documentation
 * advises for `request.reusedSocket`, within what is left of `timeoutMs`; a read is safe to
 * repeat. A new connection that fails, and a timeout, are not repeated.
 */
export const sendWithNodeHttp: Send = async (signed, timeoutMs, onWritten) => {
  const started = performance.now();
  try {
    return await sendOnce(signed, timeoutMs, onWritten);
  } catch (error) {
    // Within the same deadline: the two attempts together take no longer than one may.
    const left = timeoutMs - (performance.now() - started);
    if (!isStaleConnection(error) || left < 1) throw error;
    return sendOnce(signed, left, onWritten);
  }
};

/** The codes of a connection the other end had closed before the request went out on it. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

function isStaleConnection(error: unknown): boolean {
  const { code, reusedSocket } = error as { code?: unknown; reusedSocket?: unknown };
  return reusedSocket === true && typeof code === 'string' && STALE_CONNECTION_CODES.has(code);
}

/** One attempt; a failure carries `reusedSocket`: whether it went out on a kept-open connection. */
function sendOnce(
  signed: SignedRequest,
  timeoutMs: number,
  onWritten?: () => void,
): Promise<{ status: number; body: string }> {
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
      reject(Object.assign(error, { reusedSocket: request.reusedSocket }));
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
    if (onWritten) request.once('finish', onWritten);
    request.end(signed.body);
  });
}

/** Named as the AWS SDK names its own, so `isDependencyFault` reads both alike. */
function timeoutError(timeoutMs: number): Error {
  return Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' });
}

/**
 * An error answer as the AWS SDK would surface it: named after the error type in `__type`
 * (`ThrottlingException`), with the HTTP status in `$metadata`, so `isDependencyFault` can tell
 * throttling and internal errors from a missing parameter or a denied read.
 */
export function awsServiceError(operation: string, status: number, body: string): Error {
  let type = '';
  try {
    type = String((JSON.parse(body) as { __type?: unknown }).__type ?? '');
  } catch {
    // not JSON (a proxy's error page): the status says enough
  }
  const name = type.split('#').pop() || `HTTP${status}`;
  return Object.assign(new Error(`${operation} answered ${status} ${name}`), {
    name,
    $metadata: { httpStatusCode: status },
  });
}

/** Calls of {@link callAwsJson} whose request is not yet signed and written out. */
const unwritten = new Set<Promise<void>>();

/**
 * Settles once every call of {@link callAwsJson} begun so far has its request written out (or has
 * ended): what the mcp entry waits for at start (`environment.ts`) before evaluating the rest of
 * the bundle, so that the services answer while that runs.
 */
export async function requestsWritten(): Promise<void> {
  await Promise.all(unwritten);
}

/**
 * One call of a JSON-protocol operation with `options`: signed, sent, and its answer parsed; an
 * answer other than 200 throws {@link awsServiceError}, named as the AWS SDK would name it.
 */
export async function callAwsJson(
  options: SignedReadOptions,
  call: { service: string; target: string; jsonVersion?: '1.0' | '1.1'; input: unknown },
): Promise<unknown> {
  let written!: () => void;
  const writing = new Promise<void>((resolve) => (written = resolve));
  unwritten.add(writing);
  void writing.then(() => unwritten.delete(writing));
  let response: { status: number; body: string };
  try {
    const request = await signAwsJsonRequest({
      endpoint: options.endpoint,
      region: options.region,
      service: call.service,
      target: call.target,
      ...(call.jsonVersion && { jsonVersion: call.jsonVersion }),
      body: JSON.stringify(call.input),
      credentials: options.credentials(),
      now: options.now?.() ?? new Date(),
    });
    response = await (options.send ?? sendWithNodeHttp)(request, options.timeoutMs ?? 3000, written);
  } finally {
    written();
  }
  if (response.status !== 200) {
    throw awsServiceError(call.target.split('.').pop()!, response.status, response.body);
  }
  return JSON.parse(response.body) as unknown;
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
