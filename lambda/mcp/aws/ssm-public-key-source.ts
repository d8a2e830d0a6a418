/**
 * Reads the public signing key set the rotation publishes to an SSM parameter, with one
 * SigV4-signed `GetParameter` call (`lambda/mcp/aws/aws-json-request.ts`). The mcp function's role
 * may read that parameter and nothing else: it verifies tokens and never sees a private key.
 * Caching is the caller's (`CachedPublicKeys`).
 */
import { ConfigError } from '../../shared/config.js';
import { parsePublicKeySet, type PublicKeySet } from '../../shared/public-key-set.js';
import { SigningKeysUnavailableError, type PublicKeySource } from '../../shared/signing-keys.js';
import {
  callAwsJson,
  credentialsFromEnvironment,
  regionFromEnvironment,
  type SignedReadOptions,
} from './aws-json-request.js';

export interface SsmPublicKeySourceOptions extends SignedReadOptions {
  /** The parameter's name (or ARN). */
  parameterName: string;
}

/**
 * The options Lambda's environment provides: `PUBLIC_KEYS_PARAMETER_NAME` and `SSM_ENDPOINT` from
 * the stack, `AWS_REGION` and the execution role's credentials from the runtime.
 */
export function ssmOptionsFromEnvironment(
  env: Record<string, string | undefined>,
): SsmPublicKeySourceOptions {
  const parameterName = env.PUBLIC_KEYS_PARAMETER_NAME;
  if (!parameterName) throw new ConfigError('PUBLIC_KEYS_PARAMETER_NAME is required');
  const endpoint = env.SSM_ENDPOINT;
  if (!endpoint) throw new ConfigError('SSM_ENDPOINT is required');
  return {
    parameterName,
    endpoint,
    region: regionFromEnvironment(env),
    credentials: credentialsFromEnvironment(env),
  };
}

export class SsmPublicKeySource implements PublicKeySource {
  constructor(private readonly options: SsmPublicKeySourceOptions) {}

  async load(): Promise<PublicKeySet> {
    let payload: { Parameter?: { Value?: unknown } };
    try {
      payload = (await callAwsJson(this.options, {
        service: 'ssm',
        target: 'AmazonSSM.GetParameter',
        input: { Name: this.options.parameterName },
      })) as typeof payload;
    } catch (error) {
      throw new SigningKeysUnavailableError('could not read the public signing key parameter', {
        cause: error,
      });
    }
    const value = payload.Parameter?.Value;
    if (typeof value !== 'string' || value === '') {
      throw new SigningKeysUnavailableError('the public signing key parameter has no value');
    }
    return parsePublicKeySet(value);
  }
}
