/**
 * The two calls the admin command makes to AWS besides DynamoDB: CloudFormation
 * `DescribeStacks` (the stack's `TableName` output) and STS `GetCallerIdentity` (who runs the
 * command, for its audit line). Both speak the AWS Query protocol (a signed form POST, an XML
 * answer); signing them here with the SDK's own SigV4 signer saves two SDK clients for two calls.
 * Endpoints follow the SDK's variables (`AWS_ENDPOINT_URL_CLOUDFORMATION`, `AWS_ENDPOINT_URL_STS`,
 * `AWS_ENDPOINT_URL`), which the tests point at a loopback stand-in.
 */
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@aws-sdk/types';

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

/** The stack's `TableName` output. */
export async function stackTableName(stackName: string, context: AwsContext): Promise<string> {
  const xml = await callQuery('cloudformation', 'DescribeStacks', { StackName: stackName }, context);
  for (const member of xml.split('<member>')) {
    if (xmlText(member, 'OutputKey') === 'TableName') {
      const value = xmlText(member, 'OutputValue');
      if (value) return value;
    }
  }
  throw new AwsCallError(`the stack ${stackName} has no TableName output (deployed before it existed?)`);
}

/** The ARN of whoever's credentials the command runs with. */
export async function callerArn(context: AwsContext): Promise<string> {
  const xml = await callQuery('sts', 'GetCallerIdentity', {}, context);
  const arn = xmlText(xml, 'Arn');
  if (!arn) throw new AwsCallError('sts GetCallerIdentity answered without an Arn');
  return arn;
}
