/**
 * The local stand-in for a company identity provider that issues Identity Assertion JWT
 * Authorization Grants (ID-JAGs), as Okta does for the MCP extension "Enterprise-Managed
 * Authorization": the RFC 8693 token exchange of a user's ID token for an ID-JAG
 * (`typ: oauth-id-jag+jwt`) that this server's jwt-bearer grant redeems
 * (`lambda/oauth/grants/jwt-bearer.ts`). `npm start` runs one and trusts it (`ENTERPRISE_IDPS`);
 * the integration tests run one on HTTPS with their own CA.
 *
 * What a real provider does at single sign-on (step 1 of the extension), the stand-in does with
 * one request: the password grant (RFC 6749 §4.3) with any username and any password returns an
 * ID token for that user, for the client that asked. Every client id is accepted, and the ID-JAG
 * names the same id as the client at this server (a real provider maps its client to ours, by
 * configuration). Local mode and tests only: nothing here enters a Lambda bundle.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

/** How long the stand-in's ID tokens and ID-JAGs live, in seconds. */
const ID_TOKEN_SECONDS = 3600;
const ID_JAG_SECONDS = 300;
const MAX_BODY_BYTES = 64 * 1024;

export interface LocalEnterpriseIdp {
  /** Its issuer: `http(s)://127.0.0.1:<port>`. */
  issuer: string;
  /** Signs a JWT with its key (or `key`), for tests that need an assertion of a chosen shape. */
  sign(claims: JWTPayload, options?: { typ?: string; key?: CryptoKey; kid?: string }): Promise<string>;
  /** Requests answered, by path. */
  requests: Map<string, number>;
  close(): Promise<void>;
}

export interface LocalEnterpriseIdpOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Serve HTTPS with this certificate and key (PEM); plain HTTP without. */
  tls?: { cert: string; key: string };
  /** Where the server writes what went wrong (the answer carries only the OAuth error). */
  onError?: (error: unknown) => void;
}

class ExchangeError extends Error {
  constructor(
    readonly error: string,
    description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_BODY_BYTES) throw new ExchangeError('invalid_request', 'the body is too large');
  }
  return new URLSearchParams(body);
}

/** `client_id` from HTTP Basic or the body; any secret, or none, is accepted. */
function clientId(req: IncomingMessage, form: URLSearchParams): string {
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    try {
      return decodeURIComponent(decoded.slice(0, decoded.indexOf(':')).replace(/\+/g, ' '));
    } catch {
      throw new ExchangeError('invalid_client', 'the Basic credentials are malformed', 401);
    }
  }
  const id = form.get('client_id');
  if (!id) throw new ExchangeError('invalid_client', 'client authentication is required', 401);
  return id;
}

function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (!value) throw new ExchangeError('invalid_request', `"${name}" is required`);
  return value;
}

export async function startLocalEnterpriseIdp(
  options: LocalEnterpriseIdpOptions = {},
): Promise<LocalEnterpriseIdp> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = `local-enterprise-idp-${randomUUID().slice(0, 8)}`;
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } as JWK] };
  const requests = new Map<string, number>();
  let issuer = '';

  const sign: LocalEnterpriseIdp['sign'] = (claims, signOptions = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({
        alg: 'ES256',
        kid: signOptions.kid ?? kid,
        ...(signOptions.typ !== undefined && { typ: signOptions.typ }),
      })
      .sign(signOptions.key ?? privateKey);

  /** Step 1, the stand-in's way: an ID token for any username, for the client that asks. */
  async function signIn(req: IncomingMessage, form: URLSearchParams) {
    const client = clientId(req, form);
    const username = required(form, 'username');
    const now = Math.floor(Date.now() / 1000);
    const idToken = await sign(
      {
        iss: issuer,
        sub: username,
        aud: client,
        iat: now,
        exp: now + ID_TOKEN_SECONDS,
        name: username,
        ...(username.includes('@') && { email: username, email_verified: true }),
      },
      { typ: 'JWT' },
    );
    return {
      id_token: idToken,
      access_token: randomUUID(),
      token_type: 'Bearer',
      expires_in: ID_TOKEN_SECONDS,
    };
  }

  /** The extension's §4: the user's ID token (issued to this client) for an ID-JAG. */
  async function exchange(req: IncomingMessage, form: URLSearchParams) {
    const client = clientId(req, form);
    if (form.get('requested_token_type') !== ID_JAG_TOKEN_TYPE) {
      throw new ExchangeError('invalid_request', `"requested_token_type" must be ${ID_JAG_TOKEN_TYPE}`);
    }
    if (form.get('subject_token_type') !== ID_TOKEN_TYPE) {
      throw new ExchangeError('invalid_request', `"subject_token_type" must be ${ID_TOKEN_TYPE}`);
    }
    const audience = required(form, 'audience');
    const resource = required(form, 'resource');
    let user: JWTPayload;
    try {
      // §4.1: the ID token's audience must be the client making this request.
      ({ payload: user } = await jwtVerify(required(form, 'subject_token'), publicKey, {
        issuer,
        audience: client,
      }));
    } catch {
      throw new ExchangeError('invalid_grant', 'the subject token is not a valid ID token for this client');
    }
    const scope = form.get('scope') ?? undefined;
    const now = Math.floor(Date.now() / 1000);
    const idJag = await sign(
      {
        iss: issuer,
        sub: user.sub,
        aud: audience,
        resource,
        client_id: client,
        jti: randomUUID(),
        iat: now,
        exp: now + ID_JAG_SECONDS,
        ...(scope !== undefined && { scope }),
        ...(typeof user.name === 'string' && { name: user.name }),
        ...(typeof user.email === 'string' && { email: user.email }),
      },
      { typ: 'oauth-id-jag+jwt' },
    );
    return {
      issued_token_type: ID_JAG_TOKEN_TYPE,
      access_token: idJag,
      token_type: 'N_A',
      expires_in: ID_JAG_SECONDS,
      ...(scope !== undefined && { scope }),
    };
  }

  // RFC 8414 requires an authorization endpoint (and the SDK's discovery reads one); the
  // stand-in's answers that it signs users in with the password grant instead.
  const metadata = () => ({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    grant_types_supported: ['password', TOKEN_EXCHANGE],
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    try {
      if (
        req.method === 'GET' &&
        (path === '/.well-known/openid-configuration' || path === '/.well-known/oauth-authorization-server')
      ) {
        return send(200, metadata());
      }
      if (req.method === 'GET' && path === '/jwks') return send(200, jwks);
      if (path === '/authorize') {
        throw new ExchangeError(
          'unsupported_response_type',
          'the stand-in signs users in with the password grant',
        );
      }
      if (req.method === 'POST' && path === '/token') {
        const form = await readForm(req);
        const grant = form.get('grant_type');
        if (grant === 'password') return send(200, await signIn(req, form));
        if (grant === TOKEN_EXCHANGE) return send(200, await exchange(req, form));
        throw new ExchangeError('unsupported_grant_type', 'use the password or token exchange grant');
      }
      send(404, { error: 'not_found' });
    } catch (error) {
      if (error instanceof ExchangeError) {
        return send(error.status, { error: error.error, error_description: error.message });
      }
      options.onError?.(error);
      send(500, { error: 'server_error' });
    }
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => void handle(req, res);
  const server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : createHttpServer(listener);
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => done());
  });
  issuer = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    sign,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
