/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, RFC 7521 §4.2): the client
 * signs a short-lived JWT with a key whose public half it registered (`jwks`, `jwks_uri`) or
 * publishes in its metadata document. Checked with `jose`: an asymmetric algorithm, a signature
 * by the client's key chosen by `kid`, `iss` = `sub` = the client's id, `aud` this server's
 * issuer or token endpoint, `exp` soon, and a `jti` used once (a conditional write that lasts
 * until the assertion has expired). Every refusal is `invalid_client`, and a refused assertion
 * writes nothing.
 */
import { createLocalJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { StoredClient } from '../stores/client-store.js';
import { InvalidClientError } from '../errors.js';
import { quote } from '../excerpt.js';
import { audit } from '../../shared/audit.js';
import type { Logger } from '../../shared/logger.js';
import type { UsedJtis } from '../stores/used-jtis.js';
import { CLIENT_ASSERTION_ALGORITHMS, ClientKeys, ClientKeysError, type PublicJwks } from './client-keys.js';

export { CLIENT_ASSERTION_ALGORITHMS } from './client-keys.js';

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** How far ahead an assertion's `exp` may be: it is made for one request. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
/** Clock difference tolerated between the client and this server, on `exp`, `nbf` and `iat`. */
export const ASSERTION_CLOCK_SKEW_SECONDS = 60;
const MAX_JTI_LENGTH = 256;
/** The `kind` of these JWTs in the used-`jti` store. */
const JTI_KIND = 'client-assertion';

export interface ClientAssertionOptions {
  /** This server's issuer; the token endpoint is `${issuer}/token`. */
  issuer: string;
  keys: ClientKeys;
  usedJtis: UsedJtis;
  /** Where the audit line of a replayed assertion goes (`refused`, `client_assertion_replay`). */
  logger?: Logger;
  now?: () => number;
}

/**
 * The client an assertion claims to come from (its `iss`), read without verifying anything:
 * clients may leave `client_id` out of the request (RFC 7521 §4.2), and the claim is only used
 * to find whose keys must verify the assertion.
 */
export function assertionClientId(assertion: string): string {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(assertion);
  } catch {
    throw new InvalidClientError('the client assertion is not a JWT');
  }
  if (typeof claims.iss !== 'string' || claims.iss === '')
    throw new InvalidClientError('the client assertion has no "iss" claim naming the client');
  return claims.iss;
}

export class ClientAssertionVerifier {
  constructor(private readonly options: ClientAssertionOptions) {}

  /** Verifies `assertion` as `client`'s authentication and uses up its `jti`; throws `InvalidClientError`. */
  async verify(assertion: string, client: StoredClient): Promise<void> {
    const nowMs = this.options.now?.() ?? Date.now();
    const { metadata } = client;
    const algorithms = metadata.token_endpoint_auth_signing_alg
      ? [metadata.token_endpoint_auth_signing_alg]
      : [...CLIENT_ASSERTION_ALGORITHMS];
    const verifyWith = async (jwks: PublicJwks) =>
      (
        await jwtVerify(assertion, createLocalJWKSet(jwks) as JWTVerifyGetKey, {
          algorithms,
          issuer: client.clientId,
          subject: client.clientId,
          audience: this.options.issuer,
          requiredClaims: ['exp', 'jti'],
          currentDate: new Date(nowMs),
          clockTolerance: ASSERTION_CLOCK_SKEW_SECONDS,
        })
      ).payload;

    let payload: JWTPayload;
    try {
      payload = await verifyWith(await this.keySet(client));
    } catch (error) {
      if (error instanceof InvalidClientError) throw error;
      // A key the cached set lacks: the client may have rotated; its URL is asked again.
      if (!(error instanceof errors.JWKSNoMatchingKey) || !this.options.keys.canRefetch(metadata))
        throw new InvalidClientError(refusal(error));
      try {
        payload = await verifyWith(await this.keySet(client, true));
      } catch (again) {
        if (again instanceof InvalidClientError) throw again;
        throw new InvalidClientError(refusal(again));
      }
    }

    const nowSeconds = Math.floor(nowMs / 1000);
    if (payload.exp! > nowSeconds + MAX_ASSERTION_LIFETIME_SECONDS + ASSERTION_CLOCK_SKEW_SECONDS)
      throw new InvalidClientError(
        `the client assertion's "exp" is more than ${MAX_ASSERTION_LIFETIME_SECONDS} s ahead; assertions are for one request`,
      );
    // This server's issuer as the sole audience (draft-ietf-oauth-rfc7523bis): an assertion
    // also, or only, addressed to the token endpoint could have been obtained by another server
    // that named our token endpoint as its own (the audience-injection attack).
    const aud = payload.aud;
    if (Array.isArray(aud) && aud.length !== 1)
      throw new InvalidClientError(`the client assertion's "aud" must be this server's issuer alone`);
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH)
      throw new InvalidClientError(
        `the client assertion's "jti" must be a string of 1 to ${MAX_JTI_LENGTH} characters`,
      );
    // Last, and only for an assertion that passed every check: a refused one writes nothing.
    const expiresAt = payload.exp! + ASSERTION_CLOCK_SKEW_SECONDS;
    if (!(await this.options.usedJtis.use(JTI_KIND, client.clientId, jti, expiresAt))) {
      // A signed assertion seen twice: its key or a request carrying it was copied.
      if (this.options.logger)
        audit(this.options.logger, 'refused', {
          reason: 'client_assertion_replay',
          clientId: client.clientId,
        });
      throw new InvalidClientError('the client assertion was already used ("jti" seen before)');
    }
  }

  private async keySet(client: StoredClient, missingKid = false): Promise<PublicJwks> {
    try {
      return await this.options.keys.keySet(client.metadata, missingKid);
    } catch (error) {
      if (error instanceof ClientKeysError) throw new InvalidClientError(error.message);
      throw error;
    }
  }
}

/**
 * What was wrong with an assertion, in words the client can act on. Verifying is computation on
 * the assertion and keys the client chose, with no I/O, so whatever fails in it is the client's
 * (a key `jose` cannot import, an RSA key shorter than 2048 bits): never a server error.
 */
function refusal(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the client assertion has expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `the client assertion's ${quote(error.claim)} claim is not valid (${error.reason})`;
  if (error instanceof errors.JOSEAlgNotAllowed)
    return `the client assertion's algorithm is not accepted; use one of ${CLIENT_ASSERTION_ALGORITHMS.join(', ')}`;
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return "the client assertion's signature does not verify with the client's key";
  if (error instanceof errors.JWKSNoMatchingKey)
    return 'no key of the client matches the client assertion\'s "kid" and algorithm';
  if (error instanceof errors.JWKSMultipleMatchingKeys)
    return 'the client assertion has no "kid" and several keys of the client could verify it';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'the client assertion is not a valid signed JWT';
  return "the client assertion could not be verified with the client's keys";
}
