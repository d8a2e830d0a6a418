/**
 * External OpenID issuers whose access tokens this resource also accepts (off unless
 * configured), for agents that already hold, for example, Cognito client-credentials tokens:
 * their configuration (`TRUSTED_ISSUERS`, also the stack's `trustedIssuers` setting), and how an
 * issuer's scopes become this server's. Their keys are `issuer-keys.ts`.
 */
import { RSA_EC_SIGNATURE_ALGORITHMS } from '../../shared/jws-algorithms.js';
import { ConfigError } from '../../shared/config.js';
import type { CallerKind } from './caller.js';

export interface TrustedIssuer {
  /** The `iss` value, exactly as the issuer writes it (Cognito: `https://cognito-idp.<region>.amazonaws.com/<pool id>`). */
  issuer: string;
  /** Accepted `aud` values when the token has one; defaults to this resource (`<issuer>/mcp`). */
  audiences?: string[];
  /**
   * For access tokens without `aud` (Cognito's carry `token_use: "access"` and `client_id`
   * instead): the clients whose tokens are accepted. Without it, tokens without `aud` are refused.
   */
  clientIds?: string[];
  /** Scopes (as the issuer names them) every token from this issuer must carry. */
  requiredScopes?: string[];
  /**
   * The issuer's scopes as this server's: `{"mcp/tools": ["mcp:tools"]}` gives a token with the
   * scope `mcp/tools` the scope `mcp:tools` here, and nothing else. With a map, a scope it does not
   * name grants nothing; without one, the token's scopes are taken as they are. Cognito needs one:
   * its custom scopes are always `<resource server identifier>/<scope name>`.
   */
  scopeMap?: Record<string, string[]>;
  /** Signature algorithms accepted from this issuer; defaults to RS256. */
  algorithms?: string[];
  /**
   * The longest lifetime (`exp - iat`) of this issuer's access tokens; a token claiming more is
   * refused. Defaults to a day, the most Cognito, Entra ID and Okta issue; raise it for an
   * issuer configured for longer (Auth0 allows 30 days).
   */
  maxTokenLifetimeSeconds?: number;
  /**
   * Who this issuer's tokens name ({@link Caller.kind}); `machine` unless set. An issuer is
   * trusted here for agents holding client credentials tokens (Cognito's name the app client as
   * `sub`), and a token alone cannot say which kind it is: Cognito's user and machine access
   * tokens have the same claims. So the operator, who knows what the issuer hands out, says so;
   * `user` for an issuer whose tokens here are only ever users' logins. Guessing `user` wrongly
   * would let a client pass as a person, so the default is the kind that grants a tool nothing a
   * person's identity would.
   */
  callerKind?: CallerKind;
}

/** {@link TrustedIssuer.callerKind} when it is not set. */
export const DEFAULT_TRUSTED_ISSUER_CALLER_KIND: CallerKind = 'machine';

/** {@link TrustedIssuer.maxTokenLifetimeSeconds} when it is not set: one day. */
export const DEFAULT_TRUSTED_ISSUER_MAX_LIFETIME_SECONDS = 86_400;
/** The most {@link TrustedIssuer.maxTokenLifetimeSeconds} may be: 30 days. */
const MAX_TRUSTED_ISSUER_LIFETIME_SECONDS = 30 * 86_400;

/** Asymmetric signature algorithms (RFC 7518 §3.1) an issuer may be configured with. */
export const TRUSTED_ISSUER_ALGORITHMS: string[] = [...RSA_EC_SIGNATURE_ALGORITHMS];

/** A scope token (RFC 6749 §3.3). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Thrown when an issuer's discovery document or JWKS cannot be fetched: a 503, not a bad token. */
export class TrustedIssuerUnavailableError extends Error {
  readonly code = 'ERR_TRUSTED_ISSUER_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrustedIssuerUnavailableError';
  }
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw new ConfigError(`${field} must be an array of non-empty strings`);
  }
  return value as string[];
}

function algorithms(value: unknown, field: string): string[] | undefined {
  const list = stringList(value, field);
  const unknown = list?.find((alg) => !TRUSTED_ISSUER_ALGORITHMS.includes(alg));
  if (unknown !== undefined || list?.length === 0) {
    throw new ConfigError(`${field} must list only ${TRUSTED_ISSUER_ALGORITHMS.join(', ')}`);
  }
  return list;
}

const SCOPE_MAP_EXAMPLE = '{"mcp/tools": ["mcp:tools"]}';

function scopeMap(value: unknown, field: string): Record<string, string[]> | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.keys(value).length === 0
  ) {
    throw new ConfigError(
      `${field} must be an object from the issuer's scopes to lists of this server's scopes, such as ${SCOPE_MAP_EXAMPLE}`,
    );
  }
  // Object.entries and Object.fromEntries keep a "__proto__" key an own property.
  return Object.fromEntries(
    Object.entries(value).map(([external, granted]) => {
      if (!SCOPE_TOKEN.test(external))
        throw new ConfigError(`${field} has an invalid scope ${JSON.stringify(external)}`);
      const name = `${field}[${JSON.stringify(external)}]`;
      if (
        !Array.isArray(granted) ||
        granted.length === 0 ||
        !granted.every((s) => typeof s === 'string' && SCOPE_TOKEN.test(s))
      ) {
        throw new ConfigError(`${name} must be a non-empty array of scopes, such as ["mcp:tools"]`);
      }
      return [external, granted as string[]];
    }),
  );
}

function lifetime(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 60 ||
    value > MAX_TRUSTED_ISSUER_LIFETIME_SECONDS
  ) {
    throw new ConfigError(`${field} must be an integer from 60 to ${MAX_TRUSTED_ISSUER_LIFETIME_SECONDS}`);
  }
  return value;
}

function callerKind(value: unknown, field: string): CallerKind | undefined {
  if (value === undefined) return undefined;
  if (value !== 'user' && value !== 'machine') throw new ConfigError(`${field} must be "user" or "machine"`);
  return value;
}

function trustedIssuer(entry: unknown, at: string): TrustedIssuer {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw new ConfigError(`${at} must be an object`);
  const e = entry as Record<string, unknown>;
  if (typeof e.issuer !== 'string' || !/^https:\/\/[^\s]+$/.test(e.issuer)) {
    throw new ConfigError(`${at}.issuer must be an https URL`);
  }
  const parsed = {
    audiences: stringList(e.audiences, `${at}.audiences`),
    clientIds: stringList(e.clientIds, `${at}.clientIds`),
    requiredScopes: stringList(e.requiredScopes, `${at}.requiredScopes`),
    scopeMap: scopeMap(e.scopeMap, `${at}.scopeMap`),
    algorithms: algorithms(e.algorithms, `${at}.algorithms`),
    maxTokenLifetimeSeconds: lifetime(e.maxTokenLifetimeSeconds, `${at}.maxTokenLifetimeSeconds`),
    callerKind: callerKind(e.callerKind, `${at}.callerKind`),
  };
  const issuer: TrustedIssuer = { issuer: e.issuer };
  for (const [key, value] of Object.entries(parsed)) {
    if (value !== undefined) Object.assign(issuer, { [key]: value });
  }
  return issuer;
}

/**
 * Refuses a `scopeMap` that grants a scope this server does not know: a typo there would
 * accept the tokens and then refuse every call with `insufficient_scope`.
 */
export function checkMappedScopes(
  issuers: readonly TrustedIssuer[],
  scopesSupported: readonly string[],
  name = 'TRUSTED_ISSUERS',
): void {
  issuers.forEach((issuer, i) => {
    for (const [external, granted] of Object.entries(issuer.scopeMap ?? {})) {
      const unknown = granted.find((scope) => !scopesSupported.includes(scope));
      if (unknown !== undefined) {
        throw new ConfigError(
          `${name}[${i}].scopeMap[${JSON.stringify(external)}] grants "${unknown}", which is not one of this ` +
            `server's scopes (${scopesSupported.join(' ')})`,
        );
      }
    }
  });
}

/**
 * Parses the `TRUSTED_ISSUERS` setting: a JSON array of {@link TrustedIssuer}. Empty → none.
 * With `scopesSupported`, a `scopeMap` may grant only those scopes.
 */
export function parseTrustedIssuers(
  raw: string | undefined,
  scopesSupported?: readonly string[],
): TrustedIssuer[] {
  if (!raw || raw.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError('TRUSTED_ISSUERS must be a JSON array');
  }
  if (!Array.isArray(value)) throw new ConfigError('TRUSTED_ISSUERS must be a JSON array');
  const issuers = value.map((entry: unknown, i) => trustedIssuer(entry, `TRUSTED_ISSUERS[${i}]`));
  issuers.forEach((issuer, i) => {
    const first = issuers.findIndex((other) => other.issuer === issuer.issuer);
    if (first !== i)
      throw new ConfigError(`TRUSTED_ISSUERS[${i}].issuer repeats TRUSTED_ISSUERS[${first}].issuer`);
  });
  if (scopesSupported) checkMappedScopes(issuers, scopesSupported);
  return issuers;
}

/**
 * The scopes a token of `issuer` grants here: through the issuer's `scopeMap` when it has one
 * (a scope the map does not name grants nothing), else the token's own.
 */
export function grantedScopes(issuer: TrustedIssuer, tokenScopes: readonly string[]): string[] {
  const map = issuer.scopeMap;
  if (!map) return [...tokenScopes];
  return [...new Set(tokenScopes.flatMap((scope) => (Object.hasOwn(map, scope) ? map[scope]! : [])))];
}
