/** Who a token names: see {@link Caller.kind}. */
export type CallerKind = 'user' | 'machine';

/**
 * The verified caller of an MCP request: who the access token was issued to, by whom, and what
 * it allows. Tool handlers receive it; it never holds the token itself.
 */
export interface Caller {
  /** The issuer that signed the token (this server's issuer, or a configured trusted issuer). */
  issuer: string;
  /**
   * Who `sub` names: a person who logged in (`user`) or a client acting for itself (`machine`).
   * Users' and clients' subjects share one namespace (a client's `sub` is its `client_id`, a
   * user's is the upstream's), so anything that authorizes on a subject keys on
   * `issuer` + `kind` + `sub`, never on `sub` alone (doc/adding-tools.md).
   */
  kind: CallerKind;
  /** The subject: the client (`client_id`) for machine grants, the upstream's user for user grants. */
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
