/**
 * A loopback HTTPS stand-in for an Amazon Cognito user pool as a resource server sees it: the
 * issuer `https://127.0.0.1:<port>/<pool id>`, its OpenID discovery document and its JWKS at the
 * paths Cognito serves them, and access tokens shaped as Cognito's client credentials grant issues
 * them (header `kid` and `alg` only; `token_use: "access"`, `client_id`, `scope`, no `aud`). It
 * counts the requests on each path, so a test can tell how often a verifier fetched the keys.
 *
 * The certificate comes from `createTestCertificates`: a client trusts it through
 * `NODE_EXTRA_CA_CERTS`, with TLS verified as against the real service.
 */
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCertificates } from './test-certificates.js';

export interface CognitoStandIn {
  /** `https://127.0.0.1:<port>/<pool id>`: the `iss` of its tokens. */
  issuer: string;
  /** Requests served, by path. */
  requests: Map<string, number>;
  /** A Cognito-shaped client credentials access token, with claim and header overrides. */
  accessToken(
    claims?: Record<string, unknown>,
    options?: { kid?: string; key?: KeyObject; header?: Record<string, unknown> },
  ): string;
  close(): Promise<void>;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function startCognitoStandIn(
  certificates: TestCertificates,
  options: { poolId?: string; clientId: string; scope: string },
): Promise<CognitoStandIn> {
  const poolId = options.poolId ?? 'eu-west-1_StandIn1';
  const kid = `stand-in-${randomUUID()}`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = {
    keys: [
      { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: 'RS256', use: 'sig' },
    ],
  };
  const requests = new Map<string, number>();
  let issuer = '';

  const server = createServer({ cert: certificates.certPem, key: certificates.keyPem }, (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === `/${poolId}/.well-known/openid-configuration`) {
      return send({
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        token_endpoint: `${issuer}/oauth2/token`,
        response_types_supported: ['code', 'token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (path === `/${poolId}/.well-known/jwks.json`) return send(jwks);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}/${poolId}`;

  return {
    issuer,
    requests,
    accessToken(claims = {}, { kid: tokenKid = kid, key = privateKey, header = {} } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload = Object.fromEntries(
        Object.entries({
          sub: options.clientId,
          token_use: 'access',
          scope: options.scope,
          auth_time: now,
          iss: issuer,
          exp: now + 3600,
          iat: now,
          version: 2,
          jti: randomUUID(),
          client_id: options.clientId,
          ...claims,
        }).filter(([, value]) => value !== undefined),
      );
      const input = `${b64({ kid: tokenKid, alg: 'RS256', ...header })}.${b64(payload)}`;
      return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
