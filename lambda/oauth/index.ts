/**
 * Lambda entry of the authorization server. Clients are created once per execution environment.
 * The handler is wrapped as Lambda users expect: middy with Powertools' `injectLambdaContext`
 * (request id, cold start, function name and the API Gateway request id on every log line) and
 * `logMetrics` (the business metrics counted during the invocation, flushed at its end).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import { awsClientOptions } from '../shared/aws-client-options.js';
import { loadConfig } from '../shared/config.js';
import { lambdaHandler } from '../shared/lambda-adapter.js';
import { createLogger, HTTP_LOG_CONTEXT } from '../shared/logger.js';
import { createBusinessMetrics } from '../shared/metrics.js';
import { SecretsManagerKeySource } from '../shared/secrets-manager-key-source.js';
import { CachedSigningKeys } from '../shared/signing-keys.js';
import { createOAuthApp } from './app.js';
import { ClientResolver } from './clients/client-resolver.js';
import { ClientAssertionVerifier } from './clients/client-assertion.js';
import { ClientKeys } from './clients/client-keys.js';
import { parseDocumentOverrides } from './clients/document-overrides.js';
import { DynamoUsedJtis } from './stores/used-jtis.js';
import { DynamoClientStore } from './stores/client-store.js';
import { DynamoGrantStore } from './stores/grant-store.js';
import { parseEnterpriseIdps } from './grants/enterprise-idps.js';
import { EnterpriseIdps } from './grants/jwt-bearer.js';
import { OpenIdProvider } from './login/identity-provider.js';
import { SecretsManagerInitialAccessToken } from './clients/initial-access-token.js';
import { DynamoMetadataDocumentCache } from './stores/metadata-document-cache.js';
import { DynamoRevocationList } from './stores/revocations.js';
import { UpstreamTokenCipher } from './login/upstream-token-cipher.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const logger = createLogger('oauth');
const metrics = createBusinessMetrics('oauth', logger);
const config = loadConfig();
const enterpriseIdps = parseEnterpriseIdps(process.env.ENTERPRISE_IDPS);
// Bounded time and retries, so a slow dependency is answered 503 inside the function timeout.
const secrets = new SecretsManagerClient(awsClientOptions());
const db = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientOptions()), {
  marshallOptions: { removeUndefinedValues: true },
});
const initialTokenSecret = process.env.INITIAL_ACCESS_TOKEN_SECRET_ARN;
const originSecret = process.env.ORIGIN_SECRET_ARN;
// The key of the upstream refresh tokens kept for the re-checks: readable by this role only.
const upstreamTokenKey = process.env.UPSTREAM_TOKEN_KEY_SECRET_ARN;
const tableName = required('TABLE_NAME');

/** A secret's value as stored (the origin secret's JSON), read at start and every 5 minutes. */
async function readSecretString(secretId: string): Promise<string> {
  return (await secrets.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString ?? '';
}
/** The upstream client secret, read from Secrets Manager at the first login of the process. */
async function readUpstreamSecret(secretId: string): Promise<string> {
  const value = await readSecretString(secretId);
  if (!value) throw new Error('the upstream client secret is empty');
  return value.trim();
}
const { upstream } = config;
const clients = new DynamoClientStore(db, tableName);

const keys = new CachedSigningKeys(new SecretsManagerKeySource(secrets, required('SIGNING_KEYS_SECRET_ARN')));
// The signing keys' read starts at init, so that a cold start's first token does not wait for it
// after the client's read: the two overlap (doc/performance.md, "The oauth function's cold
// start"). A failure here is nobody's: the first request that needs the keys reads again.
keys.prime().catch(() => undefined);

const app = lambdaHandler(
  createOAuthApp({
    config,
    logger,
    metrics,
    clients,
    // Deployed, documents are fetched under every guard: there is no loopback allowance here.
    clientResolver: new ClientResolver(clients, {
      cache: new DynamoMetadataDocumentCache(db, tableName),
      scopesSupported: config.scopesSupported,
      blocked: config.blockedClients,
      overrides: parseDocumentOverrides(process.env.CLIENT_METADATA_DOCUMENTS, config.scopesSupported),
      metrics,
      logger,
    }),
    // `jwks_uri` key sets are fetched under the metadata documents' guards, with no allowance either.
    clientAssertions: new ClientAssertionVerifier({
      issuer: config.issuer,
      keys: new ClientKeys(),
      usedJtis: new DynamoUsedJtis(db, tableName),
      logger,
    }),
    grants: new DynamoGrantStore(db, tableName, (error) =>
      logger.warn('user item of the access index not written; the grant stands', { error }),
    ),
    revocations: new DynamoRevocationList(db, tableName),
    ...(enterpriseIdps.length > 0 && { enterpriseIdps: new EnterpriseIdps(enterpriseIdps) }),
    ...(upstream
      ? {
          identityProvider: new OpenIdProvider(upstream, async () =>
            upstream.clientSecret !== undefined
              ? upstream.clientSecret
              : readUpstreamSecret(upstream.clientSecretArn!),
          ),
        }
      : {}),
    keys,
    ...(upstreamTokenKey
      ? { upstreamTokens: new UpstreamTokenCipher(() => readSecretString(upstreamTokenKey)) }
      : {}),
    ...(initialTokenSecret
      ? { initialAccessTokens: new SecretsManagerInitialAccessToken(secrets, initialTokenSecret) }
      : {}),
  }),
  logger,
  // Behind CloudFront (cloudFrontWaf), requests without its origin secret are answered 403.
  originSecret ? { load: () => readSecretString(originSecret) } : undefined,
  // Every 5xx answer, counted by version for the safe-rollout alarms.
  metrics,
);

export const handler = middy(app)
  .use(injectLambdaContext(logger.powertools, HTTP_LOG_CONTEXT))
  .use(logMetrics(metrics));
