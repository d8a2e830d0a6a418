/**
 * The anchor of the oauth function's benchmark, as a Lambda entry bundled with the same esbuild
 * options: panva's `oidc-provider` (certified), as a team would run it instead of this project,
 * configured for what the oauth function serves and measured against the same stand-ins:
 *
 * - `client_credentials` with JWT access tokens for the resource `${ISSUER}/mcp` (RFC 8707
 *   resource indicators, RS256, `at+jwt`), and the authorization code flow with PKCE and
 *   refresh tokens rotated on use, for public (native) clients registered dynamically;
 * - its storage in the same DynamoDB table through the AWS SDK (a small adapter of the kind its
 *   documentation asks for: one item per model instance, `GetItem`, `PutItem`, `UpdateItem`);
 * - its signing keys read from the same Secrets Manager secret at start;
 * - behind the same Lambda adapter (`lambda/shared/lambda-adapter.ts`), with a bridge to the
 *   Node `(req, res)` callback its Koa application takes, as Lambda adapters for Koa do.
 *
 * Paths are this server's (`/authorize`, `/token`, `/register`). Login itself (the interaction
 * pages) is not served: `/authorize` answers the redirect to the interaction, which is the part
 * comparable with the oauth function's redirect to the upstream. `bench` exports what the
 * benchmark needs to mint codes as a finished login would, without pages.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import { awsClientOptions } from '../../lambda/shared/aws-client-options.js';
import { PlainResponse, type PlainRequest } from '../../lambda/shared/http-message.js';
import { parseSigningKeySet, publishedKeys } from '../../lambda/shared/key-set.js';
import { lambdaHandler } from '../../lambda/shared/lambda-adapter.js';

const issuer = process.env.ISSUER!;
const tableName = process.env.TABLE_NAME!;
const resource = `${issuer}/mcp`;
const SCOPE = 'mcp:tools mcp:resources';

const db = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientOptions()), {
  marshallOptions: { removeUndefinedValues: true },
});
const secrets = new SecretsManagerClient(awsClientOptions());

/** oidc-provider's storage in the table: one item per model instance, expiring by TTL. */
class DynamoAdapter implements Adapter {
  constructor(private readonly model: string) {}
  private key(id: string) {
    return { pk: `oidc#${this.model}#${id}` };
  }
  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    await db.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...this.key(id),
          payload,
          ...(expiresIn ? { expiresAt: Math.floor(Date.now() / 1000) + expiresIn } : {}),
        },
      }),
    );
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    const { Item } = await db.send(new GetCommand({ TableName: tableName, Key: this.key(id) }));
    if (!Item || (Item.expiresAt && Item.expiresAt < Date.now() / 1000)) return undefined;
    return { ...(Item.payload as AdapterPayload), ...(Item.consumed ? { consumed: Item.consumed } : {}) };
  }
  async consume(id: string): Promise<void> {
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: this.key(id),
        UpdateExpression: 'SET #consumed = :now',
        ExpressionAttributeNames: { '#consumed': 'consumed' },
        ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
      }),
    );
  }
  async destroy(id: string): Promise<void> {
    await db.send(new DeleteCommand({ TableName: tableName, Key: this.key(id) }));
  }
  // Sessions by uid, device codes and revocation by grant are off every path this bench drives.
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async revokeByGrantId(): Promise<void> {}
}

const keySet = parseSigningKeySet(
  (await secrets.send(new GetSecretValueCommand({ SecretId: process.env.SIGNING_KEYS_SECRET_ARN! })))
    .SecretString!,
);

const provider = new Provider(issuer, {
  adapter: DynamoAdapter,
  jwks: { keys: publishedKeys(keySet).map((k) => ({ ...k, use: 'sig', alg: 'RS256' })) as never },
  cookies: { keys: [process.env.COOKIE_KEY ?? 'bench-cookie-key-0123456789abcdef'] },
  routes: {
    authorization: '/authorize',
    token: '/token',
    registration: '/register',
    jwks: '/.well-known/jwks.json',
  },
  scopes: ['openid', 'offline_access', 'mcp:tools', 'mcp:resources'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    registration: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: SCOPE,
        audience: resource,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 3600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  pkce: { required: () => true },
  async findAccount(_ctx, sub) {
    return { accountId: sub, claims: async () => ({ sub }) };
  },
  // As the oauth function: every code exchange returns a refresh token, rotated on each use.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  ttl: {
    AccessToken: 3600,
    IdToken: 3600,
    ClientCredentials: 3600,
    AuthorizationCode: 600,
    Interaction: 600,
    Grant: 30 * 86_400,
    Session: 86_400,
    RefreshToken: 30 * 86_400,
  },
});
provider.proxy = true;
// A bench that hides a server error measures the wrong thing.
provider.on('server_error', (_ctx, error) => console.error(error));
const callback = provider.callback();

/** The Lambda adapter's request, answered by the Koa application's Node callback. */
async function bridge(request: PlainRequest): Promise<PlainResponse> {
  const url = new URL(request.url);
  const body = ['GET', 'HEAD'].includes(request.method)
    ? undefined
    : Buffer.from(await request.arrayBuffer());
  const req = new IncomingMessage(new Socket());
  req.method = request.method;
  req.url = `${url.pathname}${url.search}`;
  request.headers.forEach((value, name) => (req.headers[name] = value));
  if (body) req.headers['content-length'] = String(body.length);
  if (body) req.push(body);
  req.push(null);
  const res = new ServerResponse(req);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const collect = (chunk: unknown, encoding?: unknown) => {
      if (chunk !== undefined && chunk !== null && typeof chunk !== 'function')
        chunks.push(
          Buffer.from(
            chunk as string,
            typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined,
          ),
        );
    };
    res.write = ((chunk: unknown, encoding?: unknown) => (
      collect(chunk, encoding),
      true
    )) as typeof res.write;
    res.end = ((chunk?: unknown, encoding?: unknown) => {
      collect(chunk, encoding);
      const headers: [string, string][] = [];
      for (const [name, value] of Object.entries(res.getHeaders())) {
        for (const v of Array.isArray(value) ? value : [value]) headers.push([name, String(v)]);
      }
      resolve(new PlainResponse(Buffer.concat(chunks).toString('utf8'), { status: res.statusCode, headers }));
      return res;
    }) as typeof res.end;
    void callback(req, res);
  });
}

export const handler = lambdaHandler((request) => bridge(request as PlainRequest));

/**
 * For the benchmark only: an authorization code as a finished login leaves it (a grant for the
 * user with the resource's scope and `offline_access`, the code saved with its PKCE challenge).
 */
export const bench = {
  async mintCode(input: { clientId: string; sub: string; redirectUri: string; challenge: string }) {
    const client = await provider.Client.find(input.clientId);
    if (!client) throw new Error('no such client');
    const grant = new provider.Grant({ accountId: input.sub, clientId: input.clientId });
    grant.addOIDCScope('offline_access');
    grant.addResourceScope(resource, SCOPE);
    const grantId = await grant.save();
    const code = new provider.AuthorizationCode({
      accountId: input.sub,
      client,
      grantId,
      redirectUri: input.redirectUri,
      scope: `offline_access ${SCOPE}`,
      codeChallenge: input.challenge,
      codeChallengeMethod: 'S256',
      resource,
    } as never);
    return code.save();
  },
};
