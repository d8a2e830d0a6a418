/**
 * The two calls the admin command makes to AWS besides DynamoDB: CloudFormation
 * `DescribeStacks` (the stack's `TableName` output) and STS `GetCallerIdentity` (who runs the
 * command, for its audit line). Both speak the AWS Query protocol (a signed form POST, an XML
 * answer); signing them here with the SDK's own SigV4 signer saves two SDK clients for two calls.
 * Endpoints follow the SDK's variables (`AWS_ENDPOINT_URL_CLOUDFORMATION`, `AWS_ENDPOINT_URL_STS`,
 * `AWS_ENDPOINT_URL`), which the tests point at a loopback stand-in.
 */
import { randomUUID } from 'node:crypto';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { callAwsJson } from '../../lambda/mcp/aws/aws-json-request.js';

class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

/** An AWS call that failed: the service's error code and message, or the transport's. */
export class AwsCallError extends Error {
  readonly code = 'ERR_AWS_CALL';
}

export interface AwsContext {
  region: string;
  credentials: () => Promise<AwsCredentialIdentity>;
  env: Record<string, string | undefined>;
}

const SERVICES = {
  cloudformation: { version: '2010-05-15', envName: 'CLOUDFORMATION' },
  sts: { version: '2011-06-15', envName: 'STS' },
} as const;

function endpointOf(service: keyof typeof SERVICES, context: AwsContext): string {
  const { env } = context;
  return (
    env[`AWS_ENDPOINT_URL_${SERVICES[service].envName}`] ??
    env.AWS_ENDPOINT_URL ??
    `https://${service}.${context.region}.amazonaws.com/`
  );
}

/** The text of the first `<name>` element in `xml`, unescaped. */
export function xmlText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match?.[1]
    ?.replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

async function callQuery(
  service: keyof typeof SERVICES,
  action: string,
  params: Record<string, string>,
  context: AwsContext,
): Promise<string> {
  const url = new URL(endpointOf(service, context));
  const body = new URLSearchParams({
    Action: action,
    Version: SERVICES[service].version,
    ...params,
  }).toString();
  const signer = new SignatureV4({
    service,
    region: context.region,
    credentials: context.credentials,
    sha256: Sha256,
    uriEscapePath: true,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port && { port: Number(url.port) }),
    path: url.pathname || '/',
    query: {},
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', host: url.host },
    body,
  });
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: signed.headers, body });
  } catch (error) {
    throw new AwsCallError(`${service} ${action} failed: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    const code = xmlText(text, 'Code') ?? `HTTP ${response.status}`;
    const message = xmlText(text, 'Message');
    throw new AwsCallError(`${service} ${action} failed: ${code}${message ? `: ${message}` : ''}`);
  }
  return text;
}

/** The stack's outputs, by key. */
export async function stackOutputs(stackName: string, context: AwsContext): Promise<Record<string, string>> {
  const xml = await callQuery('cloudformation', 'DescribeStacks', { StackName: stackName }, context);
  const outputs: Record<string, string> = {};
  for (const member of xml.split('<member>')) {
    const key = xmlText(member, 'OutputKey');
    const value = xmlText(member, 'OutputValue');
    if (key && value) outputs[key] = value;
  }
  return outputs;
}

/**
 * Sends one line to a new stream (`admin/<date>/<uuid>`) of `logGroupName`, so the admin
 * command's audit lines sit beside the oauth function's and the same queries find them.
 * CloudWatch Logs speaks the JSON protocol: `callAwsJson` signs it as the mcp function's reads.
 */
export async function putLogLine(
  logGroupName: string,
  line: string,
  timestamp: number,
  context: AwsContext,
): Promise<void> {
  const credentials = await context.credentials();
  const options = {
    endpoint:
      context.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS ??
      context.env.AWS_ENDPOINT_URL ??
      `https://logs.${context.region}.amazonaws.com/`,
    region: context.region,
    credentials: () => credentials,
    timeoutMs: 10_000,
  };
  const logStreamName = `admin/${new Date(timestamp).toISOString().slice(0, 10)}/${randomUUID()}`;
  const call = (operation: string, input: unknown) =>
    callAwsJson(options, { service: 'logs', target: `Logs_20140328.${operation}`, input });
  await call('CreateLogStream', { logGroupName, logStreamName });
  await call('PutLogEvents', { logGroupName, logStreamName, logEvents: [{ timestamp, message: line }] });
}

/** The ARN of whoever's credentials the command runs with. */
export async function callerArn(context: AwsContext): Promise<string> {
  const xml = await callQuery('sts', 'GetCallerIdentity', {}, context);
  const arn = xmlText(xml, 'Arn');
  if (!arn) throw new AwsCallError('sts GetCallerIdentity answered without an Arn');
  return arn;
}
