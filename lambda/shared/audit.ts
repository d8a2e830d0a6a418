/**
 * The audit trail: every security-relevant event is one JSON log line, written by the function
 * that saw it, with an `audit` field naming the event and the fields below (doc/operations.md,
 * "Audit trail", lists them and gives the CloudWatch Logs Insights queries). The line is an
 * ordinary Powertools line at INFO, so it carries the invocation's `correlation_id` and lands in
 * the function's log group.
 *
 * Never a token, secret, code, registration access token or a hash of one: the fields are
 * identifiers (client id, `sub`, grant family id, the access token's `jti`), scopes and outcomes.
 */
import type { Logger } from './logger.js';

/** What happened. */
export type AuditEvent = 'login' | 'consent' | 'token' | 'refresh' | 'revoke' | 'client' | 'refused';

/** The fields an audit line may carry, by name; each event's own set is in doc/operations.md. */
export interface AuditFields {
  /** The client the event concerns. */
  clientId?: string;
  /** The user (upstream subject identifier); absent for machine clients. */
  sub?: string;
  /** The grant family (a user's login for one client): the `sid` of its access tokens. */
  grantId?: string;
  /** `consent`: `granted`, `remembered` or `denied`. */
  decision?: 'granted' | 'remembered' | 'denied';
  /** Space-separated scopes granted or issued. */
  scope?: string;
  /** `token`: the grant type. */
  grantType?: string;
  /** `token`, `refresh`: the access token's audience (RFC 8707 resource). */
  audience?: string;
  /** `token`, `refresh`: the access token's `jti`, an identifier, not the token. */
  tokenId?: string;
  /** `revoke`: what was revoked. */
  target?: 'grant' | 'client' | 'user' | 'token';
  /** `revoke`: who revoked it. */
  by?: 'client' | 'admin' | 'reuse' | 'replay' | 'upstream';
  /** `client`: what happened to the registration. */
  action?: 'registered' | 'updated' | 'deleted';
  /** `refused`: why (`refresh_token_reuse`, `code_replay`, `user_revoked`, ...). */
  reason?: string;
  /** The admin command: the AWS caller identity (ARN) deployed, the local user name locally. */
  caller?: string;
}

/** Writes one audit line. */
export function audit(logger: Logger, event: AuditEvent, fields: AuditFields): void {
  logger.info(`audit: ${event}`, { audit: event, ...fields });
}
