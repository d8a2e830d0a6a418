/**
 * Reads the origin secret (`lambda/shared/origin-secret.ts`) for the mcp function with one signed
 * `secretsmanager.GetSecretValue` call (`aws-json-request.ts`), not the AWS SDK client, which
 * would be most of this function's bundle and cold start (doc/performance.md).
 */
import type { OriginSecretSource } from '../shared/origin-secret.js';
import {
  credentialsFromEnvironment,
  regionFromEnvironment,
  sendWithNodeHttp,
  signAwsJsonRequest,
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
    const { endpoint, region, secretId } = this.options;
    const request = await signAwsJsonRequest({
      endpoint,
      region,
      service: 'secretsmanager',
      target: 'secretsmanager.GetSecretValue',
      body: JSON.stringify({ SecretId: secretId }),
      credentials: this.options.credentials(),
      now: this.options.now?.() ?? new Date(),
    });
    const response = await (this.options.send ?? sendWithNodeHttp)(request, this.options.timeoutMs ?? 3000);
    if (response.status !== 200) {
      // The body names the error type only; no part of a secret is in an error answer.
      throw Object.assign(new Error(`GetSecretValue answered ${response.status}`), {
        $metadata: { httpStatusCode: response.status },
      });
    }
    const { SecretString } = JSON.parse(response.body) as { SecretString?: unknown };
    if (typeof SecretString !== 'string') throw new Error('GetSecretValue returned no SecretString');
    return SecretString;
  }
}
