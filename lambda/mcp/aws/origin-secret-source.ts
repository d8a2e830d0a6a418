/**
 * Reads the origin secret (`lambda/shared/origin-secret.ts`) for the mcp function with one signed
 * `secretsmanager.GetSecretValue` call (`aws-json-request.ts`), not the AWS SDK client, which
 * would be most of this function's bundle and cold start (doc/performance.md).
 */
import type { OriginSecretSource } from '../../shared/origin-secret.js';
import {
  callAwsJson,
  credentialsFromEnvironment,
  regionFromEnvironment,
  type SignedReadOptions,
} from './aws-json-request.js';

export interface SignedOriginSecretSourceOptions extends SignedReadOptions {
  /** The secret's ARN. */
  secretId: string;
}

/**
 * The options from Lambda's environment when the stack turned the check on (`ORIGIN_SECRET_ARN`
 * and `SECRETS_MANAGER_ENDPOINT`), or undefined when it did not.
 */
export function originSecretOptionsFromEnvironment(
  env: Record<string, string | undefined>,
): SignedOriginSecretSourceOptions | undefined {
  const secretId = env.ORIGIN_SECRET_ARN;
  if (!secretId) return undefined;
  const endpoint = env.SECRETS_MANAGER_ENDPOINT;
  if (!endpoint) throw new Error('SECRETS_MANAGER_ENDPOINT is required with ORIGIN_SECRET_ARN');
  return {
    secretId,
    endpoint,
    region: regionFromEnvironment(env),
    credentials: credentialsFromEnvironment(env),
  };
}

/** The source the stack configured, or undefined when the origin secret check is off. */
export function originSecretSourceFromEnvironment(
  env: Record<string, string | undefined>,
): OriginSecretSource | undefined {
  const options = originSecretOptionsFromEnvironment(env);
  return options ? new SignedOriginSecretSource(options) : undefined;
}

export class SignedOriginSecretSource implements OriginSecretSource {
  constructor(private readonly options: SignedOriginSecretSourceOptions) {}

  async load(): Promise<string> {
    const { SecretString } = (await callAwsJson(this.options, {
      service: 'secretsmanager',
      target: 'secretsmanager.GetSecretValue',
      input: { SecretId: this.options.secretId },
    })) as { SecretString?: unknown };
    if (typeof SecretString !== 'string') throw new Error('GetSecretValue returned no SecretString');
    return SecretString;
  }
}
