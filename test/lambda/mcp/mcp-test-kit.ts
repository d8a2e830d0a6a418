/** Shared setup for the mcp function's unit tests: a config, real RSA keys, token signing, requests. */
import { constants, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createMcpApp } from '../../../lambda/mcp/app.js';
import type { TrustedIssuer } from '../../../lambda/mcp/auth/trusted-issuers.js';
import { loadConfig, type Config } from '../../../lambda/shared/config.js';
import {
  generateSigningKey,
  toPublicKeySet,
  type SigningKeySet,
  type StoredSigningKey,
} from '../../../lambda/shared/key-set.js';
import { createLogger } from '../../../lambda/shared/logger.js';
import { CachedPublicKeys } from '../../../lambda/shared/signing-keys.js';

export const ISSUER = 'https://auth.example.com';
export const RESOURCE = `${ISSUER}/mcp`;
export const PRM_URL = `${ISSUER}/.well-known/oauth-protected-resource/mcp`;
export const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
export const NOW = NOW_MS / 1000;

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ ISSUER, ALLOWED_ORIGINS: 'https://app.example.com', MAX_BODY_BYTES: '4096', ...env });
}

let signingKey: StoredSigningKey | undefined;
export async function currentKey(): Promise<StoredSigningKey> {
  signingKey ??= await generateSigningKey();
  return signingKey;
}

export function privateKeyOf(key: StoredSigningKey): KeyObject {
  return createPrivateKey({ key: key as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
}

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Signs a compact JWS with RS256 (or with whatever `sign` produces for other algorithms). */
export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject,
  algorithm = 'sha256',
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(algorithm, Buffer.from(input), key).toString('base64url')}`;
}

/**
 * Signs a compact JWS as the `alg` in its header says: RS256/384/512 (PKCS #1 v1.5) or
 * PS256/384/512 (PSS, salt as long as the hash, RFC 7518 §3.5). With the right key and a valid
 * signature, only an algorithm allow-list can refuse such a token.
 */
export function signJwtAs(
  header: Record<string, unknown> & { alg: string },
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  const match = /^(RS|PS)(256|384|512)$/.exec(header.alg);
  if (!match) throw new Error(`signJwtAs signs RS* and PS* only, not ${header.alg}`);
  const input = `${b64(header)}.${b64(payload)}`;
  const bits = Number(match[2]);
  const signature = sign(
    `sha${bits}`,
    Buffer.from(input),
    match[1] === 'PS' ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 } : key,
  );
  return `${input}.${signature.toString('base64url')}`;
}

export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: 'client-1',
    aud: RESOURCE,
    client_id: 'client-1',
    scope: 'mcp:tools mcp:resources',
    iat: NOW - 10,
    exp: NOW + 3600,
    jti: 'jti-1',
    ...overrides,
  };
}

/** A valid access token as the oauth function mints it, with optional claim/header overrides. */
export async function accessToken(
  claimOverrides: Record<string, unknown> = {},
  headerOverrides: Record<string, unknown> = {},
): Promise<string> {
  const key = await currentKey();
  return signJwt(
    { alg: 'RS256', typ: 'at+jwt', kid: key.kid, ...headerOverrides },
    claims(claimOverrides),
    privateKeyOf(key),
  );
}

export function foreignRsaKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

export async function testApp(
  options: {
    env?: Record<string, string>;
    keySet?: SigningKeySet | 'unavailable';
    trustedIssuers?: TrustedIssuer[];
    fetch?: typeof fetch;
    logs?: string[];
    maxResponseBytes?: number;
    now?: () => number;
  } = {},
) {
  const key = await currentKey();
  const set = options.keySet ?? { current: key };
  // As deployed: the mcp app gets the published public keys only.
  const keys = new CachedPublicKeys({
    load: async () => {
      if (set === 'unavailable') throw new Error('public key parameter not readable');
      return toPublicKeySet(set);
    },
  });
  const logs = options.logs ?? [];
  return createMcpApp({
    config: testConfig(options.env),
    keys,
    logger: createLogger('mcp', { level: 'debug', write: (line) => logs.push(line) }),
    now: options.now ?? (() => NOW_MS),
    ...(options.trustedIssuers && { trustedIssuers: options.trustedIssuers }),
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.maxResponseBytes && { maxResponseBytes: options.maxResponseBytes }),
  });
}

export const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1.0.0' } },
};

export function rpc(method: string, params?: Record<string, unknown>, id: number | string = 1) {
  return { jsonrpc: '2.0', id, method, ...(params && { params }) };
}

export function mcpPost(
  body: unknown,
  options: { token?: string; headers?: Record<string, string>; raw?: string } = {},
): Request {
  return new Request(RESOURCE, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(options.token && { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    body: options.raw ?? JSON.stringify(body),
  });
}

export const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'test', version: '1.0.0' },
};

/** A 2026-07-28 request: envelope in `_meta` plus the standard headers. */
export function modernPost(
  method: string,
  params: Record<string, unknown> = {},
  token?: string,
  extraHeaders: Record<string, string> = {},
) {
  const name =
    typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : undefined;
  return mcpPost(rpc(method, { ...params, _meta: MODERN_META }), {
    ...(token && { token }),
    headers: {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(name !== undefined && { 'mcp-name': name }),
      ...extraHeaders,
    },
  });
}
