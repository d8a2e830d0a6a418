/** The client information response of RFC 7591 §3.2.1 and RFC 7592 §3. */
import type { Config } from '../../shared/config.js';
import type { StoredClient } from '../stores/client-store.js';

export function registrationClientUri(config: Config, clientId: string): string {
  return `${config.issuer}/clients/${encodeURIComponent(clientId)}`;
}

/**
 * What the server says about a client. Secrets are passed in only at the moment they are
 * issued; stored hashes never leave the store.
 */
export function clientInformation(
  client: StoredClient,
  config: Config,
  issued: { clientSecret?: string; registrationAccessToken?: string } = {},
): Record<string, unknown> {
  return {
    client_id: client.clientId,
    ...(issued.clientSecret ? { client_secret: issued.clientSecret, client_secret_expires_at: 0 } : {}),
    client_id_issued_at: client.issuedAt,
    ...(issued.registrationAccessToken ? { registration_access_token: issued.registrationAccessToken } : {}),
    registration_client_uri: registrationClientUri(config, client.clientId),
    ...client.metadata,
  };
}
