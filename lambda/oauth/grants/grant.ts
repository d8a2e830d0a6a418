/**
 * The shape every grant type implements. The token endpoint authenticates the client and checks
 * that it registered the grant; a grant handler does the rest. New grants (authorization code,
 * refresh token) are one file each plus one line in `GRANTS`.
 */
import type { OAuthDeps } from '../deps.js';
import type { StoredClient } from '../stores/client-store.js';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

export interface GrantContext {
  client: StoredClient;
  params: URLSearchParams;
  deps: OAuthDeps;
  now: number;
}

export type GrantHandler = (context: GrantContext) => Promise<TokenResponse>;
