import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import type { BusinessMetrics } from '../shared/metrics.js';
import type { SigningKeys } from '../shared/signing-keys.js';
import type { ClientResolver } from './clients/client-resolver.js';
import type { ClientAssertionVerifier } from './clients/client-assertion.js';
import type { ClientStore } from './stores/client-store.js';
import type { GrantStore } from './stores/grant-store.js';
import type { EnterpriseIdps } from './grants/jwt-bearer.js';
import type { IdentityProvider } from './login/identity-provider.js';
import type { InitialAccessTokens } from './clients/initial-access-token.js';
import type { UpstreamTokenCipher } from './login/upstream-token-cipher.js';
import type { RevocationList } from './stores/revocations.js';

/** What the authorization server's endpoints need; built once per process. */
export interface OAuthDeps {
  config: Config;
  /** Registered clients: registration, management, login bookkeeping. */
  clients: ClientStore;
  /**
   * "The client" for the login and token endpoints: a registered client, or a client ID metadata
   * document fetched from the URL that is its `client_id`.
   */
  clientResolver: ClientResolver;
  /**
   * Checks `private_key_jwt` client assertions at `/token` and `/revoke`; without it, they are
   * refused (`invalid_client`).
   */
  clientAssertions?: ClientAssertionVerifier;
  /** Pending logins, codes, refresh token families and consents. */
  grants: GrantStore;
  /** What `/mcp` must refuse: revoked grants, deleted clients, revoked access tokens. */
  revocations: RevocationList;
  /** The upstream OpenID provider; without one, user login is off and only machine grants work. */
  identityProvider?: IdentityProvider;
  /** Company identity providers whose ID-JAGs the jwt-bearer grant redeems (`ENTERPRISE_IDPS`); none when absent. */
  enterpriseIdps?: EnterpriseIdps;
  /**
   * Encrypts the upstream refresh tokens kept for the re-checks (a key only the oauth role reads).
   * Without it, no upstream refresh token is kept: every grant ends `upstreamSessionMaxSeconds`
   * after its login.
   */
  upstreamTokens?: UpstreamTokenCipher;
  keys: SigningKeys;
  logger: Logger;
  /** The business metrics (lambda/shared/metrics.ts); the local server and most tests count nothing. */
  metrics?: BusinessMetrics;
  /** Checks initial access tokens when the registration policy is `token`. */
  initialAccessTokens?: InitialAccessTokens;
  now?: () => number;
}
