/**
 * Client metadata (RFC 7591 §2): validated as a whole on registration and on update (RFC 7592).
 * Unknown fields are ignored as RFC 7591 §2 requires; empty optional strings are dropped so that
 * responses never carry `""` (which breaks some clients).
 */
import * as z from 'zod/mini';
import { InvalidClientMetadataError, InvalidRedirectUriError } from '../errors.js';
import { displayTextProblem, isDisplaySafe } from '../login/display-text.js';
import { redirectUriProblem } from './redirect-uris.js';
import { quote } from '../excerpt.js';
import { CLIENT_ASSERTION_ALGORITHMS, publicJwksProblem, type PublicJwks } from './client-keys.js';

/** The JWT bearer grant (RFC 7523 §2.1), which redeems enterprise ID-JAGs (`grants/jwt-bearer.ts`). */
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', JWT_BEARER] as const;
/** Last, `private_key_jwt` (RFC 7523 §2.2): clients that pick the first method they know keep their pick. */
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
export type AuthMethod = (typeof AUTH_METHODS)[number];

export interface ClientMetadata {
  redirect_uris?: string[];
  grant_types: GrantType[];
  response_types: 'code'[];
  token_endpoint_auth_method: AuthMethod;
  scope: string;
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  contacts?: string[];
  software_id?: string;
  software_version?: string;
  application_type?: 'web' | 'native';
  /** `private_key_jwt` clients only: their public keys, inline or at a URL (never both). */
  jwks?: PublicJwks;
  jwks_uri?: string;
  /** `private_key_jwt` clients only: the one algorithm their assertions may use, when they name one. */
  token_endpoint_auth_signing_alg?: string;
}

/**
 * Any text of a registration may end up in front of a person (the consent page, an operator's
 * console), so every string is held to the display rules of `display-text.ts`: no control, bidi,
 * invisible or ill-formed characters. Refused, not removed: the registering client reads the
 * message and can fix its metadata.
 */
const safeText = (max: number) =>
  z.string().check(
    z.maxLength(max),
    z.refine(isDisplaySafe, {
      error: (issue) => displayTextProblem(issue.input as string) ?? 'is not valid text',
    }),
  );

/** An optional string; `""` counts as absent. */
const optionalText = (max: number) =>
  z.pipe(
    z.optional(safeText(max)),
    z.transform((v) => (v === '' ? undefined : v)),
  );

/**
 * Whether `value` is an absolute https URL with a host. The prefix test comes first because the
 * URL parser is lenient where a person reading the value would not be: it turns `https:///x` and
 * `https:\\x` into `https://x/`.
 */
export function isHttpsUrlWithHost(value: string): boolean {
  if (!/^https:\/\/[^/\\?#]/i.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '';
  } catch {
    return false;
  }
}

const optionalUrl = z.pipe(
  optionalText(2000),
  z.optional(z.string().check(z.refine(isHttpsUrlWithHost, 'must be an absolute https URL with a host'))),
);

const strings = (maxItems: number, maxLength = 2000) =>
  z.optional(z.array(safeText(maxLength)).check(z.maxLength(maxItems)));

const MetadataSchema = z.object({
  redirect_uris: strings(20),
  grant_types: strings(GRANT_TYPES.length, 100),
  response_types: strings(3, 100),
  token_endpoint_auth_method: z.optional(z.string()),
  scope: z.optional(z.string().check(z.maxLength(1000))),
  client_name: optionalText(200),
  client_uri: optionalUrl,
  logo_uri: optionalUrl,
  tos_uri: optionalUrl,
  policy_uri: optionalUrl,
  // Kept for `private_key_jwt` clients only; checked (and dropped) for the others.
  jwks_uri: optionalText(2000),
  jwks: z.optional(z.unknown()),
  token_endpoint_auth_signing_alg: z.optional(z.string().check(z.maxLength(20))),
  contacts: strings(10, 320),
  software_id: optionalText(200),
  software_version: optionalText(100),
  application_type: z.optional(z.enum(['web', 'native'])),
});

function describe(issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? `"${issue.path.join('.')}"` : 'the body';
  return `${field} ${issue.message.replace(/^Invalid input: /, '')}`;
}

/**
 * Validates registration metadata and fills in defaults: grant types `authorization_code`,
 * auth method `client_secret_basic`, every supported scope.
 */
export function validateClientMetadata(
  input: unknown,
  scopesSupported: readonly string[],
  /** Local mode's metadata documents only: a loopback `http` `jwks_uri` is allowed, as their `client_id` is. */
  options: { allowHttpLoopback?: boolean } = {},
): ClientMetadata {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidClientMetadataError('the body must be a JSON object');
  }
  const parsed = MetadataSchema.safeParse(input);
  if (!parsed.success) throw new InvalidClientMetadataError(describe(parsed.error.issues[0]!));
  const m = parsed.data;

  const grantTypes = [...new Set(m.grant_types ?? ['authorization_code'])];
  for (const g of grantTypes) {
    if (!(GRANT_TYPES as readonly string[]).includes(g)) {
      throw new InvalidClientMetadataError(`"grant_types" has the unsupported value ${quote(g)}`);
    }
  }
  if (grantTypes.length === 0) throw new InvalidClientMetadataError('"grant_types" must not be empty');
  const usesCode = grantTypes.includes('authorization_code');
  if (grantTypes.includes('refresh_token') && !usesCode) {
    throw new InvalidClientMetadataError('"refresh_token" requires the "authorization_code" grant type');
  }

  const responseTypes = [...new Set(m.response_types ?? (usesCode ? ['code'] : []))];
  for (const r of responseTypes) {
    if (r !== 'code')
      throw new InvalidClientMetadataError(`"response_types" has the unsupported value ${quote(r)}`);
  }
  if (usesCode !== responseTypes.includes('code')) {
    throw new InvalidClientMetadataError(
      '"response_types" must include "code" exactly when "grant_types" includes "authorization_code"',
    );
  }

  const authMethod = m.token_endpoint_auth_method ?? 'client_secret_basic';
  if (!(AUTH_METHODS as readonly string[]).includes(authMethod)) {
    throw new InvalidClientMetadataError(
      `"token_endpoint_auth_method" ${quote(authMethod)} is not supported`,
    );
  }
  const keys = clientKeysMetadata(m, authMethod, options.allowHttpLoopback ?? false);
  for (const grant of ['client_credentials', JWT_BEARER]) {
    if (authMethod === 'none' && grantTypes.includes(grant)) {
      throw new InvalidClientMetadataError(`a public client ("none") cannot use the "${grant}" grant`);
    }
  }

  const redirectUris = m.redirect_uris;
  if (usesCode && (!redirectUris || redirectUris.length === 0)) {
    throw new InvalidRedirectUriError('"redirect_uris" is required for the "authorization_code" grant');
  }
  for (const uri of redirectUris ?? []) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new InvalidRedirectUriError(`redirect URI ${quote(uri)} ${problem}`);
  }

  const scopes =
    m.scope === undefined ? [...scopesSupported] : [...new Set(m.scope.split(' ').filter(Boolean))];
  for (const s of scopes) {
    if (!scopesSupported.includes(s))
      throw new InvalidClientMetadataError(`"scope" has the unknown scope ${quote(s)}`);
  }
  if (scopes.length === 0) throw new InvalidClientMetadataError('"scope" must name at least one scope');

  const metadata: ClientMetadata = {
    ...(redirectUris?.length ? { redirect_uris: [...new Set(redirectUris)] } : {}),
    grant_types: grantTypes as GrantType[],
    response_types: responseTypes as 'code'[],
    token_endpoint_auth_method: authMethod as AuthMethod,
    scope: scopes.join(' '),
  };
  for (const field of [
    'client_name',
    'client_uri',
    'logo_uri',
    'tos_uri',
    'policy_uri',
    'software_id',
    'software_version',
    'application_type',
  ] as const) {
    if (m[field] !== undefined) (metadata as unknown as Record<string, unknown>)[field] = m[field];
  }
  if (m.contacts?.length) metadata.contacts = m.contacts;
  return { ...metadata, ...keys };
}

const LOOPBACK_HTTP = /^http:\/\/(localhost|127\.0\.0\.1)[:/]/;

/**
 * The key fields of a `private_key_jwt` client: `jwks` or `jwks_uri`, exactly one (RFC 7591 §2),
 * public asymmetric keys only. Other clients may send them (they are checked) but nothing is kept.
 */
function clientKeysMetadata(
  m: { jwks?: unknown; jwks_uri?: string | undefined; token_endpoint_auth_signing_alg?: string },
  authMethod: string,
  allowHttpLoopback: boolean,
): Pick<ClientMetadata, 'jwks' | 'jwks_uri' | 'token_endpoint_auth_signing_alg'> {
  const uri = m.jwks_uri;
  if (uri !== undefined && !isHttpsUrlWithHost(uri) && !(allowHttpLoopback && LOOPBACK_HTTP.test(uri)))
    throw new InvalidClientMetadataError('"jwks_uri" must be an absolute https URL with a host');
  if (m.jwks !== undefined) {
    const problem = publicJwksProblem(m.jwks);
    if (problem) throw new InvalidClientMetadataError(`"jwks" ${problem}`);
  }
  const alg = m.token_endpoint_auth_signing_alg;
  if (alg !== undefined && !(CLIENT_ASSERTION_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new InvalidClientMetadataError(
      `"token_endpoint_auth_signing_alg" ${quote(alg)} is not supported; use one of ${CLIENT_ASSERTION_ALGORITHMS.join(', ')}`,
    );
  }
  if (authMethod !== 'private_key_jwt') return {};
  if (m.jwks !== undefined && m.jwks_uri !== undefined)
    throw new InvalidClientMetadataError('"jwks" and "jwks_uri" must not both be present');
  if (m.jwks === undefined && m.jwks_uri === undefined)
    throw new InvalidClientMetadataError('"private_key_jwt" requires "jwks" or "jwks_uri"');
  return {
    ...(m.jwks !== undefined ? { jwks: m.jwks as PublicJwks } : { jwks_uri: m.jwks_uri! }),
    ...(alg !== undefined ? { token_endpoint_auth_signing_alg: alg } : {}),
  };
}
