/**
 * The upstream OpenID provider users log in with (Amazon Cognito when deployed, a local provider
 * under `npm start`). This server is an OpenID Connect relying party of it, through panva's
 * `openid-client`: discovery, the authorization URL with PKCE, state and nonce, and the code
 * exchange with ID token validation are the library's; only the mapping to our errors is here.
 */
import * as oidc from 'openid-client';
import type { UpstreamConfig } from '../../shared/config.js';
import { displayText, isDisplaySafe } from './display-text.js';
import type { UserIdentity } from '../stores/grant-store.js';

export interface UpstreamLoginChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * What the upstream says about the user: the identity, every verified claim (the scope policy
 * reads its groups claim), and its refresh token when it issued one. Never logged.
 */
export interface UpstreamLogin {
  identity: UserIdentity;
  claims: Record<string, unknown>;
  refreshToken?: string;
}

export interface IdentityProvider {
  /** Where to send the browser to log in; `callbackUrl` is this server's `/callback`. */
  authorizationUrl(input: UpstreamLoginChecks & { callbackUrl: string; prompt?: string }): Promise<URL>;
  /** Verifies the upstream's redirect to `/callback` (the URL as received) and returns the user. */
  completeLogin(callback: URL, checks: UpstreamLoginChecks): Promise<UpstreamLogin>;
  /**
   * Asks the upstream again, with its refresh token, whether `sub` may still act: the current
   * claims, and the new refresh token if it rotated. Throws `UpstreamRefusedError` when the
   * upstream says no, `UpstreamUnavailableError` when it cannot answer.
   */
  refresh(refreshToken: string, sub: string): Promise<UpstreamLogin>;
}

/**
 * The upstream refused the refresh (`invalid_grant`: the user was disabled or deleted, reset
 * their password, signed out everywhere, or revoked the consent), or answered for another user.
 */
export class UpstreamRefusedError extends Error {
  readonly code = 'ERR_UPSTREAM_REFUSED';
}

/** The upstream cannot be reached or described (discovery failed); the login cannot start. */
export class UpstreamUnavailableError extends Error {
  readonly code = 'ERR_UPSTREAM_UNAVAILABLE';
}

/**
 * The upstream login did not produce a verified user: the user cancelled, the provider refused,
 * or its response failed validation. `cancelled` tells the first apart, for the message.
 */
export class UpstreamLoginError extends Error {
  readonly code = 'ERR_UPSTREAM_LOGIN';
  constructor(
    message: string,
    readonly cancelled: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const TIMEOUT_SECONDS = 5;

function text(value: unknown, max = 320): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= max ? value : undefined;
}

/**
 * The identity taken from verified ID token claims. Cognito sends no `name` unless the pool
 * maps one, and its `cognito:username` is a generated id when users sign in with their email,
 * so it is not used as a name.
 *
 * The name and email are shown on the consent page and passed to tools, so they are held to the
 * display rules of `display-text.ts`. Refusing them would lock the user out (they cannot change
 * what the upstream says about them, often not even see it), so a name loses its hidden
 * characters, and an email that has any is left out: without them it could read as, and be
 * matched by a tool as, somebody else's address. `sub` is an identifier, never changed.
 */
export function identityFromClaims(claims: Record<string, unknown>): UserIdentity {
  const sub = text(claims.sub, 255);
  if (!sub) throw new UpstreamLoginError('the ID token has no usable "sub" claim', false);
  // An address the provider says is unverified is not passed on as the user's.
  const unverified = claims.email_verified === false || claims.email_verified === 'false';
  const email = unverified ? undefined : text(claims.email);
  const name = displayName(claims.name) ?? displayName(claims.preferred_username);
  return {
    sub,
    ...(name ? { name } : {}),
    ...(email && isDisplaySafe(email) ? { email } : {}),
  };
}

function displayName(value: unknown): string | undefined {
  return typeof value === 'string' ? text(displayText(value).trim(), 200) : undefined;
}

export class OpenIdProvider implements IdentityProvider {
  private configuration: Promise<oidc.Configuration> | undefined;

  constructor(
    private readonly upstream: UpstreamConfig,
    /** The client secret at the upstream (read from Secrets Manager when deployed). */
    private readonly clientSecret: () => Promise<string>,
  ) {}

  /** Discovery runs once per process and is retried on the next login if it failed. */
  private discover(): Promise<oidc.Configuration> {
    this.configuration ??= (async () => {
      const url = new URL(this.upstream.issuer);
      const insecure = url.protocol === 'http:';
      const config = await oidc.discovery(
        url,
        this.upstream.clientId,
        undefined,
        oidc.ClientSecretPost(await this.clientSecret()),
        {
          timeout: TIMEOUT_SECONDS,
          // http is allowed for loopback issuers only (checked by loadConfig): the local provider.
          ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
        },
      );
      config.timeout = TIMEOUT_SECONDS;
      return config;
    })().catch((error: unknown) => {
      this.configuration = undefined;
      throw new UpstreamUnavailableError('the identity provider could not be discovered', { cause: error });
    });
    return this.configuration;
  }

  async authorizationUrl(
    input: UpstreamLoginChecks & { callbackUrl: string; prompt?: string },
  ): Promise<URL> {
    const config = await this.discover();
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: input.callbackUrl,
      scope: this.upstream.scopes,
      state: input.state,
      nonce: input.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(input.codeVerifier),
      code_challenge_method: 'S256',
      ...(input.prompt ? { prompt: input.prompt } : {}),
    });
  }

  async completeLogin(callback: URL, checks: UpstreamLoginChecks): Promise<UpstreamLogin> {
    const config = await this.discover();
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      if (error instanceof oidc.AuthorizationResponseError) {
        const cancelled = error.error === 'access_denied';
        throw new UpstreamLoginError(
          cancelled ? 'the login was cancelled' : `the identity provider answered "${error.error}"`,
          cancelled,
          { cause: error },
        );
      }
      throw new UpstreamLoginError('the login could not be verified', false, { cause: error });
    }
    const claims = tokens.claims();
    if (!claims) throw new UpstreamLoginError('the identity provider returned no ID token', false);
    return {
      identity: identityFromClaims(claims as Record<string, unknown>),
      claims: claims as Record<string, unknown>,
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    };
  }

  async refresh(refreshToken: string, sub: string): Promise<UpstreamLogin> {
    const config = await this.discover();
    let claims: Record<string, unknown>;
    let rotated: string | undefined;
    try {
      const tokens = await oidc.refreshTokenGrant(config, refreshToken);
      rotated = tokens.refresh_token;
      // Cognito and most providers send a new ID token; the others are asked at userinfo.
      claims =
        (tokens.claims() as Record<string, unknown> | undefined) ??
        ((await oidc.fetchUserInfo(config, tokens.access_token, sub)) as Record<string, unknown>);
    } catch (error) {
      // Only the provider's own "no" to this grant is a refusal. Its other errors (a 5xx, a
      // timeout, `invalid_client` after a misconfiguration, a response that does not validate)
      // say nothing about the user, and are never taken for one. Neither carries the token.
      if (error instanceof oidc.ResponseBodyError && error.status < 500 && error.error === 'invalid_grant') {
        throw new UpstreamRefusedError('the identity provider refused the refresh');
      }
      const detail =
        error instanceof oidc.ResponseBodyError ? `"${error.error}" (${error.status})` : 'no answer';
      throw new UpstreamUnavailableError(`the identity provider could not refresh: ${detail}`);
    }
    if (claims.sub !== sub) throw new UpstreamRefusedError('the identity provider answered for another user');
    let identity: UserIdentity;
    try {
      identity = identityFromClaims(claims);
    } catch {
      throw new UpstreamRefusedError('the identity provider answered without a usable user');
    }
    return { identity, claims, ...(rotated && rotated !== refreshToken ? { refreshToken: rotated } : {}) };
  }
}
