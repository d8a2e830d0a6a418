/**
 * The local stand-in for the company identity provider: panva's `oidc-provider` (a certified
 * OpenID provider) on a loopback port, with its development login form, which accepts any
 * username and any password. The username becomes the user's `sub` and `name` (and `email` when
 * it looks like one). It knows one client, this server, as Cognito does when deployed.
 *
 * It listens on 127.0.0.1 while the local server's issuer is `localhost`, so the two keep their
 * cookies apart (browsers scope cookies by host, not by port). Local mode only: nothing here
 * enters a Lambda bundle.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { randomToken } from '../../lambda/shared/crypto.js';

export interface LocalUpstream {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

export interface LocalUpstreamOptions {
  /** This server's `/callback`, the one redirect URI the provider allows. */
  callbackUrl: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
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
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_post',
          },
        ],
        async findAccount(_ctx, id) {
          return {
            accountId: id,
            async claims() {
              return { sub: id, name: id, ...(id.includes('@') ? { email: id, email_verified: true } : {}) };
            },
          };
        },
        claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
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
          Grant: 3600,
          AuthorizationCode: 60,
          IdToken: 300,
          AccessToken: 300,
        },
      }),
  );
  server.on('request', provider.callback());

  return {
    issuer,
    clientId: CLIENT_ID,
    clientSecret,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
