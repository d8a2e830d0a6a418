/**
 * `npm start`: the whole system on http://localhost:3000 with no AWS account.
 * Settings: PORT, HOST, ISSUER, DATA_DIR, IN_MEMORY=1 (true or yes; or --in-memory), and the function settings
 * listed in doc/reference/settings.md (REGISTRATION_POLICY, SCOPES, ACCESS_TOKEN_TTL_SECONDS, ALLOWED_ORIGINS, ...).
 */
import { LocalServerStartError, startLocalServer, type LocalServer } from '../lib/local/server.js';

let server: LocalServer;
try {
  // Without the flag, the server reads IN_MEMORY itself (1, true or yes).
  server = await startLocalServer(process.argv.includes('--in-memory') ? { inMemory: true } : {});
} catch (error) {
  const code = (error as { code?: string }).code;
  if (
    !(error instanceof LocalServerStartError) &&
    !code?.startsWith('ERR_CONFIG') &&
    code !== 'ERR_SETTINGS'
  ) {
    throw error;
  }
  process.stderr.write(`Cannot start: ${(error as Error).message}\n`);
  process.exit(1);
}
const base = server.issuer;
const inMemory = server.dataDir === undefined;

const lines = [
  '',
  `MCP server with OAuth, running locally (${inMemory ? 'in memory' : `data in ${server.dataDir}`})`,
  '',
  `  MCP endpoint            ${base}/mcp`,
  `  Issuer                  ${base}`,
  `  Discovery               ${base}/.well-known/oauth-authorization-server`,
  `  Protected resource      ${base}/.well-known/oauth-protected-resource/mcp`,
  `  Registration (RFC 7591) ${base}/register`,
  `  Authorization           ${base}/authorize`,
  `  Token                   ${base}/token`,
  `  Revocation              ${base}/revoke`,
  `  JWKS                    ${base}/.well-known/jwks.json`,
  '',
  server.localUpstream
    ? `  Users log in at ${server.upstreamIssuer} (local OpenID provider): any username, any password.`
    : `  Users log in at ${server.upstreamIssuer}.`,
  ...(server.localEnterpriseIdp
    ? [
        `  Enterprise IdP (ID-JAGs for the jwt-bearer grant) at ${server.localEnterpriseIdp}: any username;`,
        '  doc/clients.md, "Enterprise-managed authorization", shows a client using it.',
      ]
    : []),
  ...(server.localUpstream
    ? [`  Disable its users or change their groups while it runs: ${server.upstreamIssuer}/users`]
    : []),
  ...governance(server),
  ...(server.generatedKeys && server.dataDir
    ? ['', `  Generated new signing keys in ${server.dataDir}`]
    : []),
  ...(server.initialAccessToken
    ? ['', `  Registration requires this initial access token: ${server.initialAccessToken}`]
    : []),
  '',
  'Connect an MCP client to the MCP endpoint, for example:',
  '',
  `  claude mcp add --transport http local-mcp ${base}/mcp`,
  `  npx mcp-remote ${base}/mcp`,
  '',
  'Or, as a machine client with curl:',
  '',
  `  curl -s ${base}/register -H 'Content-Type: application/json' \\`,
  `    -d '{"client_name":"my-agent","grant_types":["client_credentials"]}'`,
  '',
  `  curl -s ${base}/token -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials`,
  '',
  `  curl -s ${base}/mcp -H "Authorization: Bearer $ACCESS_TOKEN" \\`,
  `    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\`,
  `    -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'`,
  '',
  'Or run the whole walkthrough: scripts/test-api.sh ' + base,
  '',
];
process.stderr.write(lines.join('\n') + '\n');

/** Which mode the upstream's say over grants is in (doc/operations.md, "Offboarding"). */
function governance({ upstreamGovernance: g, localUpstream }: LocalServer): string[] {
  const refresh = localUpstream
    ? 'the local provider issues refresh tokens'
    : `grants the provider issues no refresh token for end ${g.upstreamSessionMaxSeconds} s after login`;
  const policy = g.scopePolicy
    ? `  Scope policy: ${Object.entries(g.scopePolicy.scopes)
        .map(([scope, groups]) => `${scope} for ${groups.join(', ')}`)
        .join('; ')} (claim "${g.scopePolicy.claim}").`
    : '  Scope policy: none, every scope is open to every user.';
  return [
    `  Upstream re-check: every ${g.upstreamRecheckSeconds} s at the next refresh, outage grace ${g.upstreamOutageGraceSeconds} s; ${refresh}.`,
    policy,
  ];
}

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
