/**
 * The company identity providers whose Identity Assertion JWT Authorization Grants (ID-JAGs) the
 * jwt-bearer grant redeems (`jwt-bearer.ts`): the `ENTERPRISE_IDPS` setting (the stack's
 * `enterpriseIdps`), a JSON array of {@link EnterpriseIdp}. Off unless configured.
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-identity-assertion-authz-grant/
 */
import { ConfigError } from '../../shared/config.js';

export interface EnterpriseIdp {
  /** The `iss` of its ID-JAGs, exactly as the provider writes it (its OpenID issuer). */
  issuer: string;
  /**
   * Where its keys are, when it serves no OpenID discovery document
   * (`<issuer>/.well-known/openid-configuration`); without it, discovery finds `jwks_uri`.
   */
  jwksUri?: string;
  /** This server's clients that may redeem its grants; without it, any client registered for the grant. */
  clientIds?: string[];
}

/** Whether `url` is http on a loopback host: the local stand-in, never a deployed provider. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** An https URL without query, fragment or credentials (http on loopback hosts, for local use). */
function url(value: unknown, field: string): string {
  const problem = `${field} must be an https URL without query, fragment or credentials`;
  if (typeof value !== 'string' || !/^https?:\/\/[^\s]+$/.test(value)) throw new ConfigError(problem);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(problem);
  }
  if (parsed.protocol !== 'https:' && !isLoopbackHttp(parsed)) throw new ConfigError(problem);
  if (parsed.search || parsed.hash || parsed.username || parsed.password) throw new ConfigError(problem);
  return value;
}

function enterpriseIdp(entry: unknown, at: string): EnterpriseIdp {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new ConfigError(`${at} must be an object`);
  }
  const e = entry as Record<string, unknown>;
  const unknown = Object.keys(e).find((key) => !['issuer', 'jwksUri', 'clientIds'].includes(key));
  // A misspelt `clientIds` would silently open the provider to every client: refuse it.
  if (unknown !== undefined) {
    throw new ConfigError(
      `${at} has the unknown field ${JSON.stringify(unknown)} (issuer, jwksUri, clientIds)`,
    );
  }
  const idp: EnterpriseIdp = { issuer: url(e.issuer, `${at}.issuer`) };
  if (e.jwksUri !== undefined) idp.jwksUri = url(e.jwksUri, `${at}.jwksUri`);
  if (e.clientIds !== undefined) {
    const ids = e.clientIds;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string' && id !== '')) {
      throw new ConfigError(`${at}.clientIds must be a non-empty array of client ids`);
    }
    idp.clientIds = [...new Set(ids as string[])];
  }
  return idp;
}

/** Parses `ENTERPRISE_IDPS`: a JSON array of {@link EnterpriseIdp}. Unset or empty → none. */
export function parseEnterpriseIdps(raw: string | undefined, name = 'ENTERPRISE_IDPS'): EnterpriseIdp[] {
  if (!raw || raw.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} must be a JSON array of {"issuer": "<url>", "jwksUri"?, "clientIds"?}`);
  }
  if (!Array.isArray(value)) {
    throw new ConfigError(`${name} must be a JSON array of {"issuer": "<url>", "jwksUri"?, "clientIds"?}`);
  }
  const idps = value.map((entry: unknown, i) => enterpriseIdp(entry, `${name}[${i}]`));
  idps.forEach((idp, i) => {
    const first = idps.findIndex((other) => other.issuer === idp.issuer);
    if (first !== i) throw new ConfigError(`${name}[${i}].issuer repeats ${name}[${first}].issuer`);
  });
  return idps;
}
