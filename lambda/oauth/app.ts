/**
 * The authorization server: one fetch-style handler for every OAuth route, with one top-level
 * catch that turns known errors into RFC-shaped responses and anything else into `server_error`.
 */
import { PlainResponse, type Handler, type HttpRequest } from '../shared/http-message.js';
import { json, PayloadTooLargeError } from '../shared/http.js';
import { matchPath, ROUTES, type RouteMethod } from '../shared/routes.js';
import { classifyDependencyFault, DEPENDENCY_RETRY_AFTER_SECONDS } from '../shared/dependency-fault.js';
import { SigningKeysUnavailableError } from '../shared/signing-keys.js';
import { authorize } from './endpoints/authorize.js';
import { callback } from './endpoints/callback.js';
import { consent } from './endpoints/consent.js';
import { deleteClient, readClient, updateClient } from './endpoints/client-configuration.js';
import type { OAuthDeps } from './deps.js';
import {
  MissingTokenError,
  OAuthError,
  oauthErrorResponse,
  PayloadTooLargeOAuthError,
  ServerError,
  TemporarilyUnavailableError,
} from './errors.js';
import { jwksResponse, metadataResponse } from './endpoints/metadata.js';
import { registerClient } from './endpoints/register.js';
import { revoke } from './endpoints/revoke.js';
import { token } from './endpoints/token.js';

type Endpoint = (
  request: HttpRequest,
  params: Record<string, string>,
  deps: OAuthDeps,
) => Promise<PlainResponse>;

/** Authorization server metadata: the grants offered follow what is configured. */
const metadataOf = (d: OAuthDeps) =>
  metadataResponse(d.config, Boolean(d.identityProvider), Boolean(d.enterpriseIdps?.size));

const ENDPOINTS: Record<string, Partial<Record<RouteMethod, Endpoint>>> = {
  '/.well-known/oauth-authorization-server': {
    GET: async (_r, _p, d) => metadataOf(d),
  },
  '/.well-known/openid-configuration': {
    GET: async (_r, _p, d) => metadataOf(d),
  },
  '/.well-known/jwks.json': { GET: async (_r, _p, d) => jwksResponse(d.keys) },
  '/register': { POST: (r, _p, d) => registerClient(r, d) },
  '/dcr': { POST: (r, _p, d) => registerClient(r, d) },
  '/clients/{client_id}': {
    GET: (r, p, d) => readClient(r, p.client_id!, d),
    PUT: (r, p, d) => updateClient(r, p.client_id!, d),
    DELETE: (r, p, d) => deleteClient(r, p.client_id!, d),
  },
  '/authorize': { GET: (r, _p, d) => authorize(r, d), POST: (r, _p, d) => consent(r, d) },
  '/callback': { GET: (r, _p, d) => callback(r, d) },
  '/token': { POST: (r, _p, d) => token(r, d) },
  '/revoke': { POST: (r, _p, d) => revoke(r, d) },
};

const OAUTH_ROUTES = ROUTES.filter((r) => r.function === 'oauth');

/**
 * These endpoints carry no cookies or other ambient credentials, so any origin may call them:
 * browser-based MCP clients (MCP Inspector) register and fetch tokens from their own origin.
 */
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'WWW-Authenticate',
};

function preflight(methods: string[]): PlainResponse {
  return new PlainResponse(null, {
    status: 204,
    headers: {
      ...CORS,
      'access-control-allow-methods': methods.join(', '),
      'access-control-allow-headers': 'Authorization, Content-Type, MCP-Protocol-Version',
      'access-control-max-age': '86400',
    },
  });
}

export function createOAuthApp(deps: OAuthDeps): Handler {
  /** The spec-shaped error for a known failure (logged here, once), or undefined for a bug. */
  const toError = (error: unknown, route: string): OAuthError | undefined => {
    if (error instanceof OAuthError) return error;
    if (error instanceof PayloadTooLargeError) return new PayloadTooLargeOAuthError(error.message);
    const fault = classifyDependencyFault(error);
    if (fault) {
      deps.logger.warn('dependency unavailable', { route, fault, error });
      return new TemporarilyUnavailableError(
        'the server cannot complete this request right now; retry shortly',
        DEPENDENCY_RETRY_AFTER_SECONDS,
      );
    }
    if (error instanceof SigningKeysUnavailableError) {
      // No key yet (a first deployment before rotation ran), or one that cannot be read.
      deps.logger.warn('signing keys unavailable', { route, error });
      return new TemporarilyUnavailableError('the signing keys are not ready yet; retry shortly');
    }
    return undefined;
  };

  return async (request) => {
    const path = new URL(request.url).pathname;
    const route = OAUTH_ROUTES.map((r) => ({ r, params: matchPath(r.path, path) })).find((m) => m.params);
    if (!route) return json(404, { error: 'not_found', error_description: 'no such endpoint' });
    const methods = ENDPOINTS[route.r.path] ?? {};
    if (request.method === 'OPTIONS') return preflight([...Object.keys(methods), 'OPTIONS']);
    const endpoint = methods[request.method as RouteMethod];
    let response: PlainResponse;
    if (!endpoint) {
      response = json(
        405,
        { error: 'invalid_request', error_description: `${request.method} is not allowed here` },
        { allow: Object.keys(methods).join(', ') },
      );
    } else {
      try {
        response = await endpoint(request, route.params!, deps);
      } catch (error) {
        const known = toError(error, `${request.method} ${route.r.path}`);
        if (!known)
          deps.logger.error('request failed', { path: route.r.path, method: request.method, error });
        else if (known.status < 500) deps.metrics?.count('Refusals', refusalReason(known));
        response = oauthErrorResponse(known ?? new ServerError('an internal error occurred'));
      }
    }
    return withCors(response);
  };
}

/** The `reason` of a refusal: the error code answered, or `missing_token` when no credentials came. */
function refusalReason(error: OAuthError): string {
  return error instanceof MissingTokenError ? 'missing_token' : error.errorCode;
}

function withCors(response: PlainResponse): PlainResponse {
  for (const [name, value] of Object.entries(CORS)) response.headers.set(name, value);
  return response;
}
