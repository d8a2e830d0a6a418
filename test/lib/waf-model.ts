/**
 * A model of the web ACL for tests: the common rule set's rules as far as the AWS WAF Developer
 * Guide describes them ("Core rule set (CRS) managed rule group"), and an evaluator for the
 * statements of our own rules, read from the synthesized template. AWS publishes examples, not
 * the patterns, so each managed rule here matches what its description names (an IPv4 host in a
 * URL, `../`, `<script>`, the sizes); a real rule may match more. The model answers whether what
 * interop.md lists real clients sending meets those descriptions, and what our rules then do.
 */

export interface WebRequest {
  readonly description: string;
  readonly method: string;
  /** As sent, not decoded. */
  readonly path: string;
  /** The raw query string, without `?`. */
  readonly query?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface Verdict {
  readonly action: 'allow' | 'block';
  /** The rule that blocked. */
  readonly by?: string;
  readonly labels: string[];
}

const LABEL = 'awswaf:managed:aws:core-rule-set:';
/** `http://`, `https://`, `ftp://`, `ftps://` or `file://` with an IPv4 host, as the RFI rules are described. */
const IPV4_URL = /\b(?:https?|ftps?|file):\/\/(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/i;
const EC2_METADATA = /169\.254\.169\.254|fd00:ec2::254/i;
const TRAVERSAL = /\.\.\//;
const SCRIPT = /<\s*script/i;
const RESTRICTED_EXTENSION = /\.(?:log|ini)$/i;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

const queryValues = (r: WebRequest) => [...new URLSearchParams(r.query ?? '').values()];
/** The body as sent and URL-decoded: whatever transformation the rule applies, both are covered. */
const bodyText = (r: WebRequest) => (r.body === undefined ? '' : `${r.body}\n${decoded(r.body)}`);
const bytes = (text: string | undefined) => Buffer.byteLength(text ?? '', 'utf8');

/** Rule name, label, and the documented condition. */
const COMMON_RULES: readonly [string, string, (r: WebRequest) => boolean][] = [
  ['NoUserAgent_HEADER', 'NoUserAgent_Header', (r) => !r.headers['user-agent']],
  ['SizeRestrictions_QUERYSTRING', 'SizeRestrictions_QueryString', (r) => bytes(r.query) > 2048],
  ['SizeRestrictions_BODY', 'SizeRestrictions_Body', (r) => bytes(r.body) > 8192],
  ['SizeRestrictions_URIPATH', 'SizeRestrictions_URIPath', (r) => bytes(r.path) > 1024],
  ['EC2MetaDataSSRF_BODY', 'EC2MetaDataSSRF_Body', (r) => EC2_METADATA.test(bodyText(r))],
  [
    'EC2MetaDataSSRF_QUERYARGUMENTS',
    'EC2MetaDataSSRF_QueryArguments',
    (r) => queryValues(r).some((v) => EC2_METADATA.test(v)),
  ],
  [
    'GenericLFI_QUERYARGUMENTS',
    'GenericLFI_QueryArguments',
    (r) => queryValues(r).some((v) => TRAVERSAL.test(v)),
  ],
  ['GenericLFI_URIPATH', 'GenericLFI_URIPath', (r) => TRAVERSAL.test(decoded(r.path))],
  ['GenericLFI_BODY', 'GenericLFI_Body', (r) => TRAVERSAL.test(bodyText(r))],
  [
    'RestrictedExtensions_QUERYARGUMENTS',
    'RestrictedExtensions_QueryArguments',
    (r) => queryValues(r).some((v) => RESTRICTED_EXTENSION.test(v)),
  ],
  [
    'GenericRFI_QUERYARGUMENTS',
    'GenericRFI_QueryArguments',
    (r) => queryValues(r).some((v) => IPV4_URL.test(v)),
  ],
  ['GenericRFI_BODY', 'GenericRFI_Body', (r) => IPV4_URL.test(bodyText(r))],
  ['GenericRFI_URIPATH', 'GenericRFI_URIPath', (r) => IPV4_URL.test(decoded(r.path))],
  [
    'CrossSiteScripting_QUERYARGUMENTS',
    'CrossSiteScripting_QueryArguments',
    (r) => queryValues(r).some((v) => SCRIPT.test(v)),
  ],
  ['CrossSiteScripting_BODY', 'CrossSiteScripting_Body', (r) => SCRIPT.test(bodyText(r))],
];

function transform(value: string, transformations: { Type: string }[]): string {
  return transformations.reduce((text, { Type }) => {
    if (Type === 'NONE') return text;
    if (Type === 'URL_DECODE') return decoded(text);
    if (Type === 'LOWERCASE') return text.toLowerCase();
    throw new Error(`the model has no text transformation ${Type}`);
  }, value);
}

function fieldValue(field: Record<string, unknown>, request: WebRequest): string {
  if ('UriPath' in field) return request.path;
  throw new Error(`the model reads no field ${JSON.stringify(field)}`);
}

/** Whether one statement of our own rules matches, given the labels added so far. */
export function statementMatches(statement: any, request: WebRequest, labels: readonly string[]): boolean {
  if (statement.AndStatement)
    return statement.AndStatement.Statements.every((s: any) => statementMatches(s, request, labels));
  if (statement.OrStatement)
    return statement.OrStatement.Statements.some((s: any) => statementMatches(s, request, labels));
  if (statement.NotStatement) return !statementMatches(statement.NotStatement.Statement, request, labels);
  if (statement.LabelMatchStatement) {
    const { Scope, Key } = statement.LabelMatchStatement;
    if (Scope !== 'LABEL') throw new Error(`the model matches labels only, not ${Scope}`);
    return labels.includes(Key);
  }
  if (statement.ByteMatchStatement) {
    const m = statement.ByteMatchStatement;
    const value = transform(fieldValue(m.FieldToMatch, request), m.TextTransformations);
    if (m.PositionalConstraint === 'EXACTLY') return value === m.SearchString;
    if (m.PositionalConstraint === 'STARTS_WITH') return value.startsWith(m.SearchString);
    throw new Error(`the model has no positional constraint ${m.PositionalConstraint}`);
  }
  if (statement.RegexMatchStatement) {
    const m = statement.RegexMatchStatement;
    return new RegExp(m.RegexString).test(
      transform(fieldValue(m.FieldToMatch, request), m.TextTransformations),
    );
  }
  throw new Error(`the model cannot evaluate ${Object.keys(statement).join(', ')}`);
}

/**
 * The web ACL's verdict on one request: rules in priority order; the common rule set adds the
 * label of every rule whose condition holds and blocks unless each such rule is counted. The other
 * managed groups and the rate-based rules do not act on a single request of a real client here.
 */
export function evaluateWebAcl(rules: any[], request: WebRequest): Verdict {
  const labels: string[] = [];
  for (const rule of [...rules].sort((a, b) => a.Priority - b.Priority)) {
    const group = rule.Statement.ManagedRuleGroupStatement;
    if (group?.Name === 'AWSManagedRulesCommonRuleSet') {
      const counted = new Set(
        (group.RuleActionOverrides ?? [])
          .filter((o: any) => o.ActionToUse.Count)
          .map((o: any) => o.Name as string),
      );
      const matched = COMMON_RULES.filter(([, , holds]) => holds(request));
      labels.push(...matched.map(([, label]) => LABEL + label));
      if (matched.some(([name]) => !counted.has(name))) return { action: 'block', by: rule.Name, labels };
    } else if (
      !group &&
      !rule.Statement.RateBasedStatement &&
      statementMatches(rule.Statement, request, labels)
    ) {
      if (rule.Action.Block) return { action: 'block', by: rule.Name, labels };
    }
  }
  return { action: 'allow', labels };
}

const ISSUER = 'https://d111111abcdef8.cloudfront.net';
const CLIENT_ID = 'AbCdEfGhIjKlMnOpQrStUv';
const PKCE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** The clients of interop.md, "Redirect URIs seen in the wild" (a port where it names `<port>`). */
const CLIENTS: readonly {
  name: string;
  redirectUris: string[];
  auth: string;
  native?: boolean;
  metadataDocument?: string;
  userAgent?: string;
}[] = [
  {
    name: 'Claude',
    redirectUris: ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback'],
    auth: 'client_secret_post',
    metadataDocument: 'https://claude.ai/oauth/mcp-oauth-client-metadata',
  },
  {
    name: 'Claude Code',
    redirectUris: ['http://localhost:49152/callback'],
    auth: 'none',
    native: true,
    metadataDocument: 'https://claude.ai/oauth/claude-code-client-metadata',
  },
  {
    name: 'Cursor',
    redirectUris: [
      'cursor://anysphere.cursor-mcp/oauth/callback',
      'https://www.cursor.com/agents/mcp/oauth/callback',
      'http://localhost:8787/callback',
    ],
    auth: 'none',
  },
  {
    name: 'VS Code',
    redirectUris: [
      'https://vscode.dev/redirect',
      'https://insiders.vscode.dev/redirect',
      'http://127.0.0.1/',
      'http://127.0.0.1:33418/',
    ],
    auth: 'none',
    native: true,
    metadataDocument: 'https://vscode.dev/oauth/client-metadata.json',
  },
  {
    name: 'ChatGPT',
    redirectUris: [
      'https://chatgpt.com/connector_platform_oauth_redirect',
      'https://chatgpt.com/connector/oauth/abc123',
    ],
    auth: 'client_secret_post',
    metadataDocument: 'https://chatgpt.com/oauth/app_123/client.json',
  },
  {
    name: 'MCP Inspector',
    redirectUris: ['http://localhost:6274/oauth/callback', 'http://localhost:6274/oauth/callback/debug'],
    auth: 'none',
  },
  { name: 'mcp-remote', redirectUris: ['http://localhost:3335/oauth/callback'], auth: 'none', native: true },
];

function clientRequests(client: (typeof CLIENTS)[number]): WebRequest[] {
  const headers = {
    'user-agent': client.userAgent ?? `${client.name}/1.0`,
    'content-type': 'application/json',
  };
  const formHeaders = { ...headers, 'content-type': 'application/x-www-form-urlencoded' };
  const metadata = {
    client_name: client.name,
    redirect_uris: client.redirectUris,
    token_endpoint_auth_method: client.auth,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...(client.native ? { application_type: 'native' } : {}),
  };
  const uris = client.redirectUris.join(' ');
  const authorize = (clientId: string, redirectUri: string): WebRequest => ({
    description: `${client.name}: GET /authorize (client_id ${clientId}, redirect_uri ${redirectUri})`,
    method: 'GET',
    path: '/authorize',
    query: form({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: PKCE,
      code_challenge_method: 'S256',
      state: PKCE,
      scope: 'mcp:tools',
      resource: `${ISSUER}/mcp`,
      prompt: 'consent',
    }),
    headers,
  });
  return [
    {
      description: `${client.name}: POST /register with ${uris}`,
      method: 'POST',
      path: '/register',
      headers,
      body: JSON.stringify(metadata),
    },
    {
      description: `${client.name}: PUT /clients/<id> (RFC 7592) with ${uris}`,
      method: 'PUT',
      path: `/clients/${CLIENT_ID}`,
      headers: { ...headers, authorization: `Bearer ${PKCE}` },
      body: JSON.stringify({ ...metadata, client_id: CLIENT_ID }),
    },
    ...client.redirectUris.map((uri) => authorize(CLIENT_ID, uri)),
    ...(client.metadataDocument ? [authorize(client.metadataDocument, client.redirectUris[0]!)] : []),
    ...client.redirectUris.map((uri) => ({
      description: `${client.name}: POST /token (authorization_code, redirect_uri ${uri})`,
      method: 'POST',
      path: '/token',
      headers: formHeaders,
      body: form({
        grant_type: 'authorization_code',
        code: PKCE,
        redirect_uri: uri,
        code_verifier: PKCE,
        client_id: client.metadataDocument ?? CLIENT_ID,
        resource: `${ISSUER}/mcp`,
      }),
    })),
    {
      description: `${client.name}: POST /token (refresh_token, resource)`,
      method: 'POST',
      path: '/token',
      headers: formHeaders,
      body: form({
        grant_type: 'refresh_token',
        refresh_token: PKCE,
        client_id: CLIENT_ID,
        resource: `${ISSUER}/mcp`,
      }),
    },
    {
      description: `${client.name}: POST /revoke`,
      method: 'POST',
      path: '/revoke',
      headers: formHeaders,
      body: form({
        token: PKCE,
        token_type_hint: 'refresh_token',
        client_id: client.metadataDocument ?? CLIENT_ID,
      }),
    },
  ];
}

/** Every request shape of interop.md's clients, plus the flows they all share. */
export const INTEROP_REQUESTS: readonly WebRequest[] = [
  ...CLIENTS.flatMap(clientRequests),
  {
    description: 'the consent form: POST /authorize',
    method: 'POST',
    path: '/authorize',
    headers: {
      'user-agent': 'Mozilla/5.0',
      'content-type': 'application/x-www-form-urlencoded',
      cookie: `__Host-b=${PKCE}`,
    },
    body: form({ authorization: PKCE, csrf_token: PKCE, decision: 'approve' }),
  },
  {
    description: "the upstream provider's answer: GET /callback with code, state and iss",
    method: 'GET',
    path: '/callback',
    query: form({
      code: PKCE,
      state: PKCE,
      iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI',
    }),
    headers: { 'user-agent': 'Mozilla/5.0', cookie: `__Host-b=${PKCE}` },
  },
  {
    description: 'a machine client whose HTTP library sends no User-Agent: POST /token (client_credentials)',
    method: 'POST',
    path: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${PKCE}` },
    body: form({ grant_type: 'client_credentials', scope: 'mcp:tools' }),
  },
  {
    description: "mcp-remote's probe: GET /mcp without a token",
    method: 'GET',
    path: '/mcp',
    headers: { 'user-agent': 'mcp-remote/0.1', accept: 'text/event-stream' },
  },
  {
    description: 'discovery: GET /.well-known/oauth-protected-resource/mcp',
    method: 'GET',
    path: '/.well-known/oauth-protected-resource/mcp',
    headers: { 'user-agent': 'node' },
  },
  {
    description: 'POST /mcp initialize',
    method: 'POST',
    path: '/mcp',
    headers: { 'user-agent': 'node', authorization: `Bearer ${PKCE}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'vscode', version: '1.0' },
      },
    }),
  },
];
