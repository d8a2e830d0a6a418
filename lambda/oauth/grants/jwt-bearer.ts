/**
 * The JWT bearer grant (RFC 7523 §2.1) redeeming an Identity Assertion JWT Authorization Grant
 * (ID-JAG, draft-ietf-oauth-identity-assertion-authz-grant; the MCP extension
 * "Enterprise-Managed Authorization", `io.modelcontextprotocol/enterprise-managed-authorization`):
 * a company identity provider named in `ENTERPRISE_IDPS` vouches that one of its users may use
 * one of our clients with this server, and the client gets an access token for that user with no
 * browser and no consent page here.
 *
 * Every check runs before anything is written (RFC 7521 §5.2, the extension's §5.1): `typ`, a
 * configured `iss`, the signature with that issuer's keys, `aud` exactly this server's issuer,
 * `client_id` the authenticated client, short-lived `exp`/`iat`, `resource` this server's MCP
 * resource, and the scope. Then one conditional write starts the grant family, keyed by the
 * assertion's `jti`: a replay finds it there and gets nothing.
 *
 * No refresh token: the draft's §"Refresh Token" says the server SHOULD NOT return one; the client
 * gets a new ID-JAG from the company's provider when the access token expires, so the provider
 * stays in charge of every token. (The draft lets a client re-submit the same ID-JAG; this server
 * takes each `jti` once, as RFC 7523 §3 allows, so the client asks the provider again: the SDK's
 * `CrossAppAccessProvider` does so for every token.)
 */
import { decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import { audit } from '../../shared/audit.js';
import { sha256 } from '../../shared/crypto.js';
import { applyScopePolicy, groupsFromClaims, type ScopePolicy } from '../../shared/scope-policy.js';
import { RemoteJwks } from '../../mcp/auth/issuer-keys.js';
import { InvalidTokenError } from '../../mcp/auth/jwt.js';
import { TRUSTED_ISSUER_ALGORITHMS, TrustedIssuerUnavailableError } from '../../mcp/auth/trusted-issuers.js';
import { issueAccessToken } from './access-token.js';
import { quote } from '../excerpt.js';
import {
  InvalidGrantError,
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
  TemporarilyUnavailableError,
  UnsupportedGrantTypeError,
} from '../errors.js';
import type { UserIdentity } from '../stores/grant-store.js';
import { identityFromClaims } from '../login/identity-provider.js';
import { narrowScope, resolveAudience } from './token-request.js';
import type { EnterpriseIdp } from './enterprise-idps.js';
import type { GrantHandler } from './grant.js';

/** The `typ` of an ID-JAG (the draft's §3; RFC 8725 §3.11). */
export const ID_JAG_TYPE = 'oauth-id-jag+jwt';

/** Clock difference tolerated between this server and a provider, in seconds. */
export const ASSERTION_CLOCK_SKEW_SECONDS = 60;

/**
 * The longest lifetime (`exp - iat`) of an ID-JAG accepted, in seconds. The draft calls them
 * short-lived; Okta issues them for 5 minutes.
 */
export const MAX_ASSERTION_LIFETIME_SECONDS = 600;

const MAX_CLAIM_LENGTH = 255;

/** The configured enterprise identity providers, each with its keys (fetched on first use, cached). */
export class EnterpriseIdps {
  private readonly keys = new Map<string, RemoteJwks>();

  constructor(
    readonly idps: readonly EnterpriseIdp[],
    /** How the keys are fetched: the global `fetch` unless a test trusts its own CA. */
    private readonly options: { fetch?: typeof fetch; now?: () => number } = {},
  ) {}

  get size(): number {
    return this.idps.length;
  }

  find(issuer: string): EnterpriseIdp | undefined {
    return this.idps.find((idp) => idp.issuer === issuer);
  }

  keysOf(idp: EnterpriseIdp): RemoteJwks {
    let keys = this.keys.get(idp.issuer);
    if (!keys) {
      keys = new RemoteJwks(idp.issuer, {
        ...this.options,
        ...(idp.jwksUri !== undefined && { jwksUri: idp.jwksUri }),
      });
      this.keys.set(idp.issuer, keys);
    }
    return keys;
  }
}

const refused = (why: string) => new InvalidGrantError(`the assertion ${why}`);

/** The payload, checked for everything the signature cannot say. */
async function verifiedAssertion(
  assertion: string,
  idp: EnterpriseIdp,
  idps: EnterpriseIdps,
  expected: { audience: string; now: number },
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(assertion, idps.keysOf(idp).resolve, {
      issuer: idp.issuer,
      audience: expected.audience,
      typ: ID_JAG_TYPE,
      algorithms: TRUSTED_ISSUER_ALGORITHMS,
      requiredClaims: ['iat', 'exp', 'jti', 'sub'],
      clockTolerance: ASSERTION_CLOCK_SKEW_SECONDS,
      currentDate: new Date(expected.now),
    });
    return payload;
  } catch (error) {
    if (error instanceof TrustedIssuerUnavailableError) {
      throw new TemporarilyUnavailableError(
        `the keys of the identity provider ${quote(idp.issuer)} cannot be fetched right now; retry shortly`,
      );
    }
    if (error instanceof InvalidTokenError) throw refused('is not signed by a key of its issuer');
    if (error instanceof errors.JWTExpired) throw refused('has expired');
    if (error instanceof errors.JWTClaimValidationFailed) {
      throw refused(`has an invalid ${quote(error.claim)} claim: ${error.reason}`);
    }
    if (error instanceof errors.JOSEError) throw refused('is not a valid signed JWT of its issuer');
    throw error;
  }
}

/** A claim that must be a non-empty string of bounded length. */
function text(payload: JWTPayload, claim: string): string {
  const value = payload[claim];
  if (typeof value !== 'string' || value === '' || value.length > MAX_CLAIM_LENGTH) {
    throw refused(`has no valid ${quote(claim)} claim`);
  }
  return value;
}

/** `exp`, `iat` and `aud` beyond what `jwtVerify` checks: short-lived, not from the future, for us alone. */
function checkTimesAndAudience(payload: JWTPayload, audience: string, nowSeconds: number): void {
  const { iat, exp, aud } = payload as { iat: number; exp: number; aud?: unknown };
  if (iat > nowSeconds + ASSERTION_CLOCK_SKEW_SECONDS) throw refused('was issued in the future');
  if (exp - iat > MAX_ASSERTION_LIFETIME_SECONDS) {
    throw refused(`lives longer than ${MAX_ASSERTION_LIFETIME_SECONDS} seconds`);
  }
  // Exactly this server's issuer: an assertion also meant for another audience is not ours alone.
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (audiences.length !== 1 || audiences[0] !== audience) {
    throw refused(`must have exactly this server's issuer ${quote(audience)} as "aud"`);
  }
}

/**
 * The user: the assertion's `sub` at its provider. The login upstream's users keep their `sub`
 * as it is, so the same person is the same user through the browser login and through an ID-JAG
 * of that provider; another provider's subjects are prefixed with its issuer (`<issuer>#<sub>`),
 * so two providers' subjects never name one user here.
 */
function userIdentity(
  payload: JWTPayload,
  idp: EnterpriseIdp,
  upstreamIssuer: string | undefined,
): UserIdentity {
  const sub = text(payload, 'sub');
  const { name, email } = identityFromClaims(payload as Record<string, unknown>);
  return {
    sub: idp.issuer === upstreamIssuer ? sub : `${idp.issuer}#${sub}`,
    ...(name !== undefined && { name }),
    ...(email !== undefined && { email }),
  };
}

/**
 * The scopes the user may hold through this client: the client's registration, narrowed to the
 * assertion's `scope` when it has one (the provider's policy), then to the scope policy
 * (`SCOPE_POLICY`), with the groups the assertion carries in the policy's claim: an ID-JAG
 * without them gets only the scopes the policy does not restrict, as a login would.
 */
function allowedScopes(payload: JWTPayload, registered: string, policy: ScopePolicy | undefined): string[] {
  let allowed = registered.split(' ').filter(Boolean);
  if (payload.scope !== undefined) {
    if (typeof payload.scope !== 'string') throw refused('has a "scope" claim that is not a string');
    const granted = new Set(payload.scope.split(' '));
    allowed = allowed.filter((s) => granted.has(s));
  }
  if (policy) {
    allowed = applyScopePolicy(policy, allowed.join(' '), groupsFromClaims(payload, policy.claim)).granted;
  }
  if (allowed.length === 0) throw new InvalidScopeError('the assertion grants no scope this client may hold');
  return allowed;
}

export const jwtBearerGrant: GrantHandler = async ({ client, params, deps, now }) => {
  const idps = deps.enterpriseIdps;
  if (!idps || idps.size === 0) {
    throw new UnsupportedGrantTypeError('no enterprise identity provider is configured on this server');
  }
  const assertion = params.get('assertion');
  if (!assertion) throw new InvalidRequestError('"assertion" is required');
  if (params.getAll('assertion').length > 1) throw new InvalidRequestError('send one "assertion"');

  let issuer: unknown;
  try {
    issuer = decodeJwt(assertion).iss;
  } catch {
    throw refused('is not a JWT');
  }
  const idp = typeof issuer === 'string' ? idps.find(issuer) : undefined;
  if (!idp) throw refused('is not from an identity provider this server trusts');
  if (idp.clientIds && !idp.clientIds.includes(client.clientId)) {
    throw refused(`of ${quote(idp.issuer)} may not be redeemed by this client`);
  }

  const { config } = deps;
  const payload = await verifiedAssertion(assertion, idp, idps, { audience: config.issuer, now });
  const nowSeconds = Math.floor(now / 1000);
  checkTimesAndAudience(payload, config.issuer, nowSeconds);
  const jti = text(payload, 'jti');
  if (payload.client_id !== client.clientId) throw refused('was issued to another client');
  const resource = payload.resource;
  if (resource === undefined) throw refused('has no "resource" claim');
  if (resource !== config.mcpResource) {
    throw new InvalidTargetError(`the assertion's "resource" must be "${config.mcpResource}"`);
  }
  const audience = resolveAudience(params.getAll('resource'), config);
  const identity = userIdentity(payload, idp, config.upstream?.issuer);
  const scope = narrowScope(
    params.get('scope'),
    allowedScopes(payload, client.metadata.scope, deps.config.scopePolicy).join(' '),
  );

  // The signing key first: a key that cannot be read must not spend the assertion.
  await deps.keys.signingKey();
  const familyId = sha256(`${idp.issuer}\n${jti}`).slice(0, 22);
  const started = await deps.grants.createFamilyOnce({
    familyId,
    clientId: client.clientId,
    identity,
    scope,
    audience,
    createdAt: nowSeconds,
    // Kept until the assertion has expired (its replay is refused until then) and the access
    // token too (revocation names the family).
    expiresAt: Math.max(
      (payload.exp as number) + ASSERTION_CLOCK_SKEW_SECONDS,
      nowSeconds + config.accessTokenTtlSeconds,
    ),
    enterpriseIdp: idp.issuer,
  });
  if (!started) {
    deps.logger.warn('ID-JAG replayed', { clientId: client.clientId, familyId });
    audit(deps.logger, 'refused', {
      reason: 'id_jag_replay',
      clientId: client.clientId,
      sub: identity.sub,
      grantId: familyId,
    });
    throw refused('was already used');
  }
  const issued = await issueAccessToken(
    deps.keys,
    config.issuer,
    config.accessTokenTtlSeconds,
    {
      sub: identity.sub,
      clientId: client.clientId,
      audience,
      scope,
      extra: {
        // The grant family, which revocation names, as for a browser login (`user-tokens.ts`).
        sid: familyId,
        ...(identity.name !== undefined && { name: identity.name }),
        ...(identity.email !== undefined && { email: identity.email }),
      },
    },
    now,
  );
  return { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope };
};
