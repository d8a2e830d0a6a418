/**
 * The HTTP routes of the system and the function that serves each. The CDK stack creates one
 * API Gateway route per entry and the local server dispatches with the same table, so the two
 * cannot drift apart.
 */
export type FunctionName = 'oauth' | 'mcp';
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS';

export interface Route {
  /** API Gateway route path; `{name}` is a path parameter. */
  readonly path: string;
  readonly methods: readonly RouteMethod[];
  readonly function: FunctionName;
}

export const ROUTES: readonly Route[] = [
  { path: '/.well-known/oauth-authorization-server', methods: ['GET', 'OPTIONS'], function: 'oauth' },
  { path: '/.well-known/openid-configuration', methods: ['GET', 'OPTIONS'], function: 'oauth' },
  { path: '/.well-known/jwks.json', methods: ['GET', 'OPTIONS'], function: 'oauth' },
  { path: '/register', methods: ['POST', 'OPTIONS'], function: 'oauth' },
  { path: '/dcr', methods: ['POST', 'OPTIONS'], function: 'oauth' },
  { path: '/clients/{client_id}', methods: ['GET', 'PUT', 'DELETE', 'OPTIONS'], function: 'oauth' },
  // POST carries the user's answer on the consent page.
  { path: '/authorize', methods: ['GET', 'POST'], function: 'oauth' },
  { path: '/callback', methods: ['GET'], function: 'oauth' },
  { path: '/token', methods: ['POST', 'OPTIONS'], function: 'oauth' },
  { path: '/revoke', methods: ['POST', 'OPTIONS'], function: 'oauth' },
  { path: '/.well-known/oauth-protected-resource', methods: ['GET', 'OPTIONS'], function: 'mcp' },
  { path: '/.well-known/oauth-protected-resource/mcp', methods: ['GET', 'OPTIONS'], function: 'mcp' },
  // GET and DELETE reach the function so that it can answer 405 with `Allow: POST`.
  { path: '/mcp', methods: ['POST', 'GET', 'DELETE', 'OPTIONS'], function: 'mcp' },
];

/** Matches a concrete path against a route path, returning its parameters, or undefined. */
export function matchPath(routePath: string, path: string): Record<string, string> | undefined {
  const want = routePath.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) {
      return undefined;
    }
  }
  return params;
}

/** The route serving a path, if any. */
export function findRoute(path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const route of ROUTES) {
    const params = matchPath(route.path, path);
    if (params) return { route, params };
  }
  return undefined;
}
