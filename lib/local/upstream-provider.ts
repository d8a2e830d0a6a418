/**
 * The local stand-in for the company identity provider: panva's `oidc-provider` (a certified
 * OpenID provider) on a loopback port, with its development login form, which accepts any
 * username and any password. The username becomes the user's `sub` and `name` (and `email` when
 * it looks like one). It knows one client, this server, as Cognito does when deployed, and like
 * Cognito it issues a refresh token with every code and a groups claim (`groups`).
 *
 * So that offboarding can be watched locally, its `/users` page (and `LocalUpstreamControls`, for
 * tests) disables and enables users and sets their groups while it runs: a disabled user cannot
 * log in, and their refresh tokens are refused (`invalid_grant`), as a disabled Cognito user's are.
 *
 * It listens on 127.0.0.1 while the local server's issuer is `localhost`, so the two keep their
 * cookies apart (browsers scope cookies by host, not by port). Local mode only: nothing here
 * enters a Lambda bundle.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { randomToken } from '../../lambda/shared/crypto.js';

/** What can change about the local provider's users while it runs. */
export interface LocalUpstreamControls {
  /** A disabled user cannot log in, and their refresh tokens are refused. */
  disable(user: string): void;
  enable(user: string): void;
  /** The user's `groups` claim from their next login or refresh on. */
  setGroups(user: string, groups: string[]): void;
  /** Tests: while on, every request is answered 503, as a provider in an outage would. */
  setOutage(on: boolean): void;
  /** Tests: every token value the provider issued (refresh and access tokens, codes). */
  issuedTokens(): string[];
}

export interface LocalUpstream {
  issuer: string;
  clientId: string;
  clientSecret: string;
  controls: LocalUpstreamControls;
  close(): Promise<void>;
}

export interface LocalUpstreamOptions {
  /** This server's `/callback`, the one redirect URI the provider allows. */
  callbackUrl: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Whether it issues refresh tokens (default true); false acts as a provider that issues none. */
  refreshTokens?: boolean;
  /** Whether each refresh rotates the refresh token (default true). */
  rotateRefreshTokens?: boolean;
}

interface UserState {
  disabled: boolean;
  groups: string[];
}

/** The users the page knows: those who logged in, and those whose state was set. */
function userStore() {
  const users = new Map<string, UserState>();
  const get = (user: string) => {
    let state = users.get(user);
    if (!state) users.set(user, (state = { disabled: false, groups: [] }));
    return state;
  };
  return { users, get };
}

const CLIENT_ID = 'mcp-oauth-local';

/**
 * Runs `create` without oidc-provider's start-up warnings about its in-memory storage and its
 * development login form: in local mode both are exactly what is wanted.
 */
function quietly<T>(create: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/^oidc-provider WARNING: a quick start development-only/.test(String(args[0]))) warn(...args);
  };
  try {
    return create();
  } finally {
    console.warn = warn;
  }
}

export async function startLocalUpstream(options: LocalUpstreamOptions): Promise<LocalUpstream> {
  // Loaded on demand: oidc-provider (Koa) is a development dependency of local mode only.
  const { default: Provider } = await import('oidc-provider');
  const server: Server = createServer();
  const { users, get: user } = userStore();
  const issued: string[] = [];
  let outage = false;
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => done());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientSecret = randomToken();
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'local-upstream', alg: 'RS256', use: 'sig' };

  const provider = quietly(
    () =>
      new Provider(issuer, {
        clients: [
          {
            client_id: CLIENT_ID,
            client_secret: clientSecret,
            redirect_uris: [options.callbackUrl],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_post',
          },
        ],
        async findAccount(_ctx, id) {
          // A disabled user is no account: their login and their refresh tokens are refused.
          if (user(id).disabled) return undefined;
          return {
            accountId: id,
            async claims() {
              return {
                sub: id,
                name: id,
                groups: [...user(id).groups],
                ...(id.includes('@') ? { email: id, email_verified: true } : {}),
              };
            },
          };
        },
        claims: { openid: ['sub'], profile: ['name', 'groups'], email: ['email', 'email_verified'] },
        // Like Cognito: a refresh token with every code, not only for `offline_access`, and one
        // that does not end with the provider's browser session.
        issueRefreshToken: async (_ctx, client) =>
          options.refreshTokens !== false && client.grantTypeAllowed('refresh_token'),
        expiresWithSession: async () => false,
        rotateRefreshToken: options.rotateRefreshTokens !== false,
        // Like Cognito: the ID token carries the profile and email claims, no userinfo call needed.
        conformIdTokenClaims: false,
        pkce: { required: () => true },
        features: { devInteractions: { enabled: true } },
        // The one client is this server, which asks the user for consent itself: grant it up front.
        async loadExistingGrant(ctx) {
          const accountId = ctx.oidc.session?.accountId;
          if (!accountId) return undefined;
          const grant = new ctx.oidc.provider.Grant({ clientId: CLIENT_ID, accountId });
          grant.addOIDCScope('openid email profile');
          await grant.save();
          return grant;
        },
        jwks: { keys: [signingKey] },
        cookies: { keys: [randomToken()] },
        ttl: {
          Session: 3600,
          Interaction: 600,
          Grant: 14 * 86_400,
          RefreshToken: 14 * 86_400,
          AuthorizationCode: 60,
          IdToken: 300,
          AccessToken: 300,
        },
      }),
  );
  const record = (token: { jti: string }) => void issued.push(token.jti);
  provider.on('refresh_token.saved', record);
  provider.on('access_token.saved', record);
  provider.on('authorization_code.saved', record);
  const oidc = provider.callback();
  server.on('request', (req, res) => {
    if (outage) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
      return;
    }
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (path === '/users') {
      void usersPage(req, res, issuer, users, user);
      return;
    }
    void oidc(req, res);
  });

  return {
    issuer,
    clientId: CLIENT_ID,
    clientSecret,
    controls: {
      disable: (id) => void (user(id).disabled = true),
      enable: (id) => void (user(id).disabled = false),
      setGroups: (id, groups) => void (user(id).groups = [...groups]),
      setOutage: (on) => void (outage = on),
      issuedTokens: () => [...issued],
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * `/users`: the local provider's users, with a form per user to disable or enable them and to set
 * their groups (space-separated). A POST from another origin is refused, so a web page the
 * developer visits cannot change them.
 */
async function usersPage(
  req: IncomingMessage,
  res: ServerResponse,
  issuer: string,
  users: Map<string, UserState>,
  user: (id: string) => UserState,
): Promise<void> {
  if (req.method === 'POST') {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== issuer) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('cross-origin request refused');
      return;
    }
    let body = '';
    for await (const chunk of req) {
      body += String(chunk);
      if (body.length > 10_000) break;
    }
    const form = new URLSearchParams(body);
    const id = form.get('user')?.trim();
    if (id) {
      const state = user(id);
      const action = form.get('action');
      if (action === 'disable') state.disabled = true;
      if (action === 'enable') state.disabled = false;
      if (action === 'groups') state.groups = (form.get('groups') ?? '').split(/[\s,]+/).filter(Boolean);
    }
    res.writeHead(303, { location: '/users' }).end();
    return;
  }
  const rows = [...users]
    .map(
      ([id, state]) => `<tr><td>${escape(id)}</td><td>${state.disabled ? 'disabled' : 'enabled'}</td>
<td><form method="post"><input type="hidden" name="user" value="${escape(id)}">
<input name="groups" value="${escape(state.groups.join(' '))}"><button name="action" value="groups">Set groups</button>
<button name="action" value="${state.disabled ? 'enable' : 'disable'}">${state.disabled ? 'Enable' : 'Disable'}</button></form></td></tr>`,
    )
    .join('\n');
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-frame-options': 'DENY' }).end(
    `<!doctype html><title>Local identity provider: users</title>
<h1>Users of the local identity provider</h1>
<p>A disabled user cannot log in, and the MCP server's next re-check of their grants revokes them.
Groups are the <code>groups</code> claim of the user's next login or refresh.</p>
<table><tr><th>User</th><th>State</th><th></th></tr>
${rows}</table>
<form method="post"><input name="user" placeholder="username"><input name="groups" placeholder="groups">
<button name="action" value="groups">Add or set groups</button>
<button name="action" value="disable">Disable</button></form>`,
  );
}
