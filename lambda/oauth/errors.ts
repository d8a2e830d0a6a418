/**
 * OAuth errors as classes, each carrying the error code of the RFC that defines it and the HTTP
 * status it is answered with. Handlers throw them; `oauthErrorResponse` turns one into a
 * spec-shaped response, and the app's single catch (`createOAuthApp`) turns anything unknown into
 * a generic `server_error`.
 */
import { PlainResponse } from '../shared/http-message.js';
import { json } from '../shared/http.js';

export class OAuthError extends Error {
  static errorCode = 'server_error';
  readonly status: number = 400;
  /** Extra response headers, such as `WWW-Authenticate`. */
  readonly headers: Record<string, string> = {};

  constructor(description: string, options?: { cause?: unknown }) {
    super(description, options);
    this.name = new.target.name;
  }

  get errorCode(): string {
    return (this.constructor as typeof OAuthError).errorCode;
  }

  toResponseObject(): { error: string; error_description?: string } {
    return { error: this.errorCode, ...(this.message ? { error_description: this.message } : {}) };
  }
}

/** An unexpected failure; the description never carries internals. */
export class ServerError extends OAuthError {
  static override errorCode = 'server_error';
  override readonly status = 500;
}

/** RFC 6749 §5.2: a missing or malformed parameter. */
export class InvalidRequestError extends OAuthError {
  static override errorCode = 'invalid_request';
}

/** RFC 6749 §5.2: client authentication failed. Answered with 401. */
export class InvalidClientError extends OAuthError {
  static override errorCode = 'invalid_client';
  override readonly status = 401;
  /** Set when the client tried HTTP Basic, so the challenge names that scheme (RFC 6749 §5.2). */
  constructor(description: string, usedBasic = false) {
    super(description);
    if (usedBasic) this.headers['www-authenticate'] = 'Basic realm="token", charset="UTF-8"';
  }
}

/** RFC 6749 §5.2: the client may not use this grant type. */
export class UnauthorizedClientError extends OAuthError {
  static override errorCode = 'unauthorized_client';
}

/** RFC 6749 §5.2: the server does not support this grant type. */
export class UnsupportedGrantTypeError extends OAuthError {
  static override errorCode = 'unsupported_grant_type';
}

/** RFC 6749 §5.2: the requested scope is unknown or exceeds what the client may ask for. */
export class InvalidScopeError extends OAuthError {
  static override errorCode = 'invalid_scope';
}

/** RFC 8707 §2: the requested resource is not one this server issues tokens for. */
export class InvalidTargetError extends OAuthError {
  static override errorCode = 'invalid_target';
}

/** RFC 6749 §5.2: the code or refresh token is invalid, expired, revoked or not this client's. */
export class InvalidGrantError extends OAuthError {
  static override errorCode = 'invalid_grant';
}

/** RFC 6749 §4.1.2.1: the authorization server does not support this response type. */
export class UnsupportedResponseTypeError extends OAuthError {
  static override errorCode = 'unsupported_response_type';
}

/** OpenID Connect Core §3.1.2.6: `prompt=none`, but this server always needs an interactive login. */
export class LoginRequiredError extends OAuthError {
  static override errorCode = 'login_required';
}

/** RFC 7591 §3.2.2: a metadata field is invalid. */
export class InvalidClientMetadataError extends OAuthError {
  static override errorCode = 'invalid_client_metadata';
}

/** RFC 7591 §3.2.2: a redirect URI is invalid. */
export class InvalidRedirectUriError extends OAuthError {
  static override errorCode = 'invalid_redirect_uri';
}

/** RFC 6750 §3.1: a bearer token (registration or initial access token) is missing or invalid. Answered with 401. */
export class InvalidTokenError extends OAuthError {
  static override errorCode = 'invalid_token';
  override readonly status = 401;
  constructor(description: string, realm: string) {
    super(description);
    this.headers['www-authenticate'] = `Bearer realm="${realm}", error="invalid_token"`;
  }
}

/** A bearer token is required but none was sent (RFC 6750 §3.1: no error code). */
export class MissingTokenError extends OAuthError {
  static override errorCode = 'invalid_token';
  override readonly status = 401;
  constructor(description: string, realm: string) {
    super(description);
    this.headers['www-authenticate'] = `Bearer realm="${realm}"`;
  }
}

/** The operation is not permitted by this server's policy. */
export class AccessDeniedError extends OAuthError {
  static override errorCode = 'access_denied';
  override readonly status = 403;
}

/** The body is larger than the endpoint accepts. */
export class PayloadTooLargeOAuthError extends OAuthError {
  static override errorCode = 'invalid_request';
  override readonly status = 413;
}

/**
 * The body is not of the media type the endpoint reads (RFC 9110 §15.5.16). Answered before the
 * body is read, with 415 and an OAuth error object.
 */
export class UnsupportedMediaTypeError extends OAuthError {
  static override errorCode = 'invalid_request';
  override readonly status = 415;
}

/**
 * RFC 6749 §4.1.2.1: a dependency (the signing keys, storage, the identity provider) is not
 * available right now; answered 503 with `Retry-After` so the client retries the same request.
 */
export class TemporarilyUnavailableError extends OAuthError {
  static override errorCode = 'temporarily_unavailable';
  override readonly status = 503;
  constructor(description: string, retryAfterSeconds = 30) {
    super(description);
    this.headers['retry-after'] = String(retryAfterSeconds);
  }
}

/** Credential-bearing responses must never be cached (RFC 6749 §5.1). */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

export function oauthErrorResponse(error: OAuthError): PlainResponse {
  return json(error.status, error.toResponseObject(), { ...NO_STORE, ...error.headers });
}
