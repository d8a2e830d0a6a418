import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseSigningKeySet, type SigningKeySet } from './key-set.js';
import { SigningKeysUnavailableError, type SigningKeySource } from './signing-keys.js';

/**
 * Reads the signing key set from the AWSCURRENT version of a Secrets Manager secret. Caching is
 * the caller's (`CachedSigningKeys`); this makes exactly one API call per `load()`.
 */
export class SecretsManagerKeySource implements SigningKeySource {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  async load(): Promise<SigningKeySet> {
    let secretString: string | undefined;
    try {
      const result = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
      secretString = result.SecretString;
    } catch (error) {
      throw new SigningKeysUnavailableError('could not read the signing key secret', { cause: error });
    }
    if (!secretString) throw new SigningKeysUnavailableError('the signing key secret has no value yet');
    return parseSigningKeySet(secretString);
  }
}
