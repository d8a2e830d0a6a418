/**
 * Initial access tokens (RFC 7591 §3): when the registration policy is `token`, registration
 * requires one as a bearer token. In AWS it is a Secrets Manager secret, read once and cached;
 * locally it comes from the environment.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { matchesHash, sha256 } from '../../shared/crypto.js';

export interface InitialAccessTokens {
  verify(token: string): Promise<boolean>;
}

/** Accepts exactly one token, held only as its hash. */
export class StaticInitialAccessToken implements InitialAccessTokens {
  private readonly hash: string;
  constructor(token: string) {
    this.hash = sha256(token);
  }
  async verify(token: string): Promise<boolean> {
    return matchesHash(token, this.hash);
  }
}

/** Reads the token from a Secrets Manager secret, re-reading at most every `maxAgeMs`. */
export class SecretsManagerInitialAccessToken implements InitialAccessTokens {
  private cached: { hash: string; at: number } | undefined;
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly maxAgeMs = 5 * 60_000,
  ) {}

  async verify(token: string): Promise<boolean> {
    if (!this.cached || Date.now() - this.cached.at > this.maxAgeMs) {
      const { SecretString } = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
      if (!SecretString) return false;
      this.cached = { hash: sha256(SecretString.trim()), at: Date.now() };
    }
    return matchesHash(token, this.cached.hash);
  }
}
