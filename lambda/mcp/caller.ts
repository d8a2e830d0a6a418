/**
 * The verified caller of an MCP request: who the access token was issued to, by whom, and what
 * it allows. Tool handlers receive it; it never holds the token itself.
 */
export interface Caller {
  /** The issuer that signed the token (this server's issuer, or a configured trusted issuer). */
  issuer: string;
  /** The subject: the client for machine grants, the user for user grants. */
  sub: string;
  /** The OAuth client the token was issued to. */
  clientId: string;
  /** Granted scopes (RFC 9068 `scope`, split on spaces). */
  scopes: string[];
  /** Token expiry, epoch seconds. */
  expiresAt: number;
  /** When this server issued the token (epoch milliseconds), which revocation markers compare. */
  issuedAtMs?: number;
  /** This server's tokens: the `jti`, and for a user's login the grant family (`sid`), which revocation names. */
  tokenId?: string;
  grantId?: string;
  /** The user's name and email when a user logged in and the token carries them. */
  name?: string;
  email?: string;
}

/** Whether `caller` holds every scope in `required`. */
export function hasScopes(caller: Caller, required: readonly string[]): boolean {
  return required.every((scope) => caller.scopes.includes(scope));
}
