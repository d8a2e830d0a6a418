import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import type { SigningKeys } from '../shared/signing-keys.js';
import type { ClientStore } from './client-store.js';
import type { InitialAccessTokens } from './initial-access-token.js';

/** What the authorization server's endpoints need; built once per process. */
export interface OAuthDeps {
  config: Config;
  clients: ClientStore;
  keys: SigningKeys;
  logger: Logger;
  /** Checks initial access tokens when the registration policy is `token`. */
  initialAccessTokens?: InitialAccessTokens;
  now?: () => number;
}
