/**
 * The local server: every route of the deployed system on one loopback port, served by the same
 * Lambda handlers (adapter included), with an embedded DynamoDB engine and file-backed signing
 * keys. No AWS account is involved.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { createMcpApp } from '../../lambda/mcp/app.js';
import { McpTableReader } from '../../lambda/mcp/aws/mcp-table-reader.js';
import { TablePublicKeySource, TableRevocationSource } from '../../lambda/mcp/aws/table-sources.js';
import { RevocationList } from '../../lambda/mcp/auth/revocation-list.js';
import type { SdkServerFront } from '../../lambda/mcp/protocol/sdk-server.js';
import { SDK_SERVER } from '../../lambda/mcp/served-server.js';
import { parseTrustedIssuers } from '../../lambda/mcp/auth/trusted-issuers.js';
import { createOAuthApp } from '../../lambda/oauth/app.js';
import { ClientAssertionVerifier } from '../../lambda/oauth/clients/client-assertion.js';
import { ClientKeys } from '../../lambda/oauth/clients/client-keys.js';
import { parseDocumentOverrides } from '../../lambda/oauth/clients/document-overrides.js';
import { DynamoUsedJtis } from '../../lambda/oauth/stores/used-jtis.js';
import { ClientResolver } from '../../lambda/oauth/clients/client-resolver.js';
import { DynamoClientStore } from '../../lambda/oauth/stores/client-store.js';
import { DynamoGrantStore } from '../../lambda/oauth/stores/grant-store.js';
import { DynamoRevocationList } from '../../lambda/oauth/stores/revocations.js';
import { TablePublisher } from '../../lambda/rotate-keys/public-key-publisher.js';
import { toPublicKeySet } from '../../lambda/shared/key-set.js';
import { markerRelevanceMs } from '../../lambda/shared/revocations.js';
import { OpenIdProvider } from '../../lambda/oauth/login/identity-provider.js';
import { StaticInitialAccessToken } from '../../lambda/oauth/clients/initial-access-token.js';
import { DynamoMetadataDocumentCache } from '../../lambda/oauth/stores/metadata-document-cache.js';
import type { FetchOptions } from '../../lambda/oauth/clients/metadata-document-fetch.js';
import { loadConfig } from '../../lambda/shared/config.js';
import { randomToken } from '../../lambda/shared/crypto.js';
import { lambdaHandler, type LambdaHttpHandler } from '../../lambda/shared/lambda-adapter.js';
import { createLogger } from '../../lambda/shared/logger.js';
import { findRoute, type FunctionName } from '../../lambda/shared/routes.js';
import {
  CachedPublicKeys,
  CachedSigningKeys,
  type SigningKeySource,
} from '../../lambda/shared/signing-keys.js';
import { checkLevelDb, startLocalDynamo } from './dynamodb.js';
import { DerivedPublicKeySource, ensureKeyFile, FileKeySource, MemoryKeySource } from './file-key-source.js';
import { LOCAL_TABLE_FILE, normalizeLocalEnv, parseInMemory, parseLogLevel } from './local-env.js';
import { PayloadTooLargeForGatewayError, readBody, toEvent, writeResult } from './http-bridge.js';
import { startLocalEnterpriseIdp, type LocalEnterpriseIdp } from './enterprise-idp.js';
import { parseEnterpriseIdps } from '../../lambda/oauth/grants/enterprise-idps.js';
import { EnterpriseIdps } from '../../lambda/oauth/grants/jwt-bearer.js';
import { startLocalUpstream, type LocalUpstream, type LocalUpstreamOptions } from './upstream-provider.js';
import { newKeyMaterial, UpstreamTokenCipher } from '../../lambda/oauth/login/upstream-token-cipher.js';

export interface LocalServerOptions {
  /** Port to listen on; 0 picks a free one. Default: `PORT` or 3000. */
  port?: number;
  /** Interface to bind. Default: `HOST` or 127.0.0.1 (loopback only). */
  host?: string;
  /** Issuer override, for use behind a proxy or tunnel. Default: `ISSUER` or http://localhost:<port>. */
  issuer?: string;
  /** Folder for the table and the signing keys. Default: `DATA_DIR` or `.local`. */
  dataDir?: string;
  /** Keep the table and keys in memory only. Default: `IN_MEMORY` (1, true or yes). */
  inMemory?: boolean;
  /** Settings as environment variables (REGISTRATION_POLICY, SCOPES, ACCESS_TOKEN_TTL_SECONDS, ...). */
  env?: Record<string, string | undefined>;
  /** Log level of the functions: debug, info, warn, error or silent. */
  logLevel?: string;
  /** Where the local server's own log lines go (one JSON object a line); default stdout. */
  writeLog?: (line: string) => void;
  /** Tests: where the oauth and mcp handlers' log lines go (one JSON object a line); default stdout. */
  writeFunctionLog?: (line: string) => void;
  /** Tests: how client metadata documents are fetched (an injected resolver, a CA). */
  metadataDocumentFetch?: FetchOptions;
  /** Tests: the clock of the metadata document cache (freshness, stale-if-error), instead of `Date.now`. */
  metadataDocumentClock?: () => number;
  /**
   * What `/mcp` serves: an MCP SDK server (`sdkV2Server`, `sdkV1Server`) or `'built-in'` (the
   * built-in tools). Default: what `lambda/mcp/served-server.ts` names, as the deployed function.
   */
  mcpServer?: SdkServerFront | 'built-in';
  /** Tests: how the keys of enterprise identity providers are fetched (a fetch that trusts a test CA). */
  enterpriseIdpFetch?: typeof fetch;
  /** Tests: how the local OpenID provider behaves (refresh tokens, their rotation). */
  localUpstream?: Pick<LocalUpstreamOptions, 'refreshTokens' | 'rotateRefreshTokens'>;
  /** Tests: the oauth function's clock (epoch milliseconds), to reach re-check intervals without waiting. */
  now?: () => number;
}

export interface LocalServer {
  /** The issuer; the MCP endpoint is `${issuer}/mcp`. */
  issuer: string;
  port: number;
  dataDir: string | undefined;
  /** Set when the registration policy is `token`. */
  initialAccessToken: string | undefined;
  /** True when this start generated the signing keys. */
  generatedKeys: boolean;
  /** The upstream OpenID provider users log in at. */
  upstreamIssuer: string;
  /** True when that is the built-in local provider (any username and password). */
  localUpstream: boolean;
  /**
   * The local enterprise identity provider (`enterprise-idp.ts`) whose ID-JAGs the jwt-bearer
   * grant redeems; absent when `ENTERPRISE_IDPS` names the providers instead.
   */
  localEnterpriseIdp: string | undefined;
  /** How the upstream provider governs grants (the banner says which mode the server is in). */
  upstreamGovernance: Pick<
    import('../../lambda/shared/config.js').Config,
    'upstreamRecheckSeconds' | 'upstreamOutageGraceSeconds' | 'upstreamSessionMaxSeconds' | 'scopePolicy'
  >;
  /** The built-in local provider's controls (disable a user, set groups), when it runs; `/users` on it too. */
  upstreamControls: LocalUpstream['controls'] | undefined;
  /** The embedded DynamoDB engine and the table, for tests that check what a request stored. */
  table: { endpoint: string; name: string };
  /** How many entries each in-process cache of the handlers holds now (`npm run soak` reports them). */
  cacheSizes(): Record<string, number>;
  close(): Promise<void>;
}

/** MCP Inspector's default origin, so the browser-based inspector works against the local server. */
const LOCAL_ALLOWED_ORIGINS = 'http://localhost:6274,http://127.0.0.1:6274';
const TABLE_NAME = 'mcp-oauth';

/** Thrown when the local server cannot start; the message says what to do. */
export class LocalServerStartError extends Error {
  readonly code = 'ERR_LOCAL_SERVER_START';
}

/** Data folders claimed by servers of this process (tests start several). */
const claimedDirs = new Set<string>();

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Marks the data folder as in use. The embedded engine's files can have one owner only, and a
 * second server on the same folder would otherwise fail later with an obscure storage error.
 */
async function claimDataDir(dir: string): Promise<() => Promise<void>> {
  const found = await stat(dir).catch(() => undefined);
  if (found && !found.isDirectory()) throw new DataDirError(dir, 'it is not a directory');
  const pidFile = join(dir, 'server.pid');
  const holder = Number(await readFile(pidFile, 'utf8').catch(() => ''));
  const inUse = holder === process.pid ? claimedDirs.has(dir) : holder > 0 && isRunning(holder);
  if (inUse) {
    throw new LocalServerStartError(
      `another local server (pid ${holder}) is using ${dir}; stop it, or start with DATA_DIR=<another folder> or --in-memory`,
    );
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(pidFile, String(process.pid));
  claimedDirs.add(dir);
  return async () => {
    claimedDirs.delete(dir);
    await rm(pidFile, { force: true });
  };
}

/** A path as the user would write it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** The data folder cannot hold the table: deleting it, or running in memory, starts fresh. */
class DataDirError extends LocalServerStartError {
  constructor(dir: string, reason: string) {
    super(
      `the data directory ${shown(dir)} cannot be used (${reason}); delete it to start fresh, or start with --in-memory (IN_MEMORY=1)`,
    );
  }
}

/**
 * Reads the key file once before serving: a corrupt one would otherwise start a server whose
 * `/token` and JWKS answer 503 for ever.
 */
async function checkKeyFile(path: string): Promise<void> {
  const text = await readFile(path, 'utf8');
  const what = (() => {
    try {
      JSON.parse(text);
    } catch {
      return 'is not valid JSON';
    }
    return 'is not a signing key set';
  })();
  try {
    await new FileKeySource(path).load();
  } catch {
    throw new LocalServerStartError(
      `${shown(path)} ${what} (delete it to generate new keys; tokens issued with the old keys stop working)`,
    );
  }
}

/** Node's codes for a request its client abandoned. */
function isDisconnect(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE';
}

/**
 * The functions' settings as the local server runs them. Before the local OpenID provider has
 * started (to check the settings first), its issuer and client are loopback placeholders.
 */
function localSettings(
  env: Record<string, string | undefined>,
  issuer: string,
  upstream?: Pick<LocalUpstream, 'issuer' | 'clientId' | 'clientSecret'>,
): Record<string, string | undefined> {
  return {
    ...env,
    ISSUER: issuer,
    ALLOWED_ORIGINS: env.ALLOWED_ORIGINS ?? LOCAL_ALLOWED_ORIGINS,
    ...(!env.UPSTREAM_ISSUER && {
      UPSTREAM_ISSUER: upstream?.issuer ?? 'http://127.0.0.1:9',
      UPSTREAM_CLIENT_ID: upstream?.clientId ?? 'local',
      UPSTREAM_CLIENT_SECRET: upstream?.clientSecret ?? 'local',
    }),
  };
}

export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  // Every setting is checked before anything starts: a bad one leaves no port open and no pid file.
  const env = normalizeLocalEnv({ ...process.env, ...options.env });
  const port = options.port ?? Number(env.PORT ?? 3000);
  const host = options.host ?? env.HOST ?? '127.0.0.1';
  const inMemory = options.inMemory ?? parseInMemory(env.IN_MEMORY);
  const dataDir = inMemory ? undefined : resolve(options.dataDir ?? env.DATA_DIR ?? '.local');
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new LocalServerStartError(`PORT must be an integer from 0 to 65535, not "${env.PORT}"`);
  }
  loadConfig(localSettings(env, options.issuer ?? env.ISSUER ?? `http://localhost:${port || 3000}`));
  parseEnterpriseIdps(env.ENTERPRISE_IDPS);
  const logLevel = parseLogLevel(
    options.logLevel ?? env.LOG_LEVEL,
    options.logLevel ? 'logLevel' : 'LOG_LEVEL',
  );
  const localLogger = createLogger('local', {
    level: logLevel,
    ...(options.writeLog && { write: options.writeLog }),
  });

  let releaseDataDir = async () => {};
  let keySource: SigningKeySource = new MemoryKeySource();
  let upstreamKeyMaterial = newKeyMaterial();
  let generatedKeys = true;
  if (dataDir) {
    try {
      releaseDataDir = await claimDataDir(dataDir);
    } catch (error) {
      if (error instanceof LocalServerStartError) throw error;
      throw new DataDirError(dataDir, (error as Error).message);
    }
    try {
      await checkLevelDb(join(dataDir, 'dynamodb')).catch((error: Error) => {
        throw new DataDirError(dataDir, `its table cannot be opened: ${error.message}`);
      });
      upstreamKeyMaterial = await ensureUpstreamTokenKey(join(dataDir, 'upstream-token-key.json'));
      const keyFile = join(dataDir, 'signing-keys.json');
      generatedKeys = await ensureKeyFile(keyFile);
      await checkKeyFile(keyFile);
      keySource = new FileKeySource(keyFile);
    } catch (error) {
      await releaseDataDir();
      throw error;
    }
  }
  const dynamo = await startLocalDynamo({
    tableName: TABLE_NAME,
    ...(dataDir ? { path: join(dataDir, 'dynamodb') } : {}),
  });
  // The embedded engine's files have one owner, this process: `npm run admin` reaches the table
  // through the engine's loopback endpoint, which this file names while the server runs.
  if (dataDir) {
    const release = releaseDataDir;
    const endpointFile = join(dataDir, LOCAL_TABLE_FILE);
    await writeFile(
      endpointFile,
      JSON.stringify({ endpoint: dynamo.endpoint, table: TABLE_NAME, pid: process.pid }) + '\n',
      { mode: 0o600 },
    );
    releaseDataDir = async () => {
      await rm(endpointFile, { force: true });
      await release();
    };
  }

  const handlers: Partial<Record<FunctionName, LambdaHttpHandler>> = {};
  const server: Server = createServer((req, res) => {
    void serve(req, res);
  });
  const serve = async (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    try {
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      const match = findRoute(path);
      const handler = match && handlers[match.route.function];
      if (!match || !handler || !match.route.methods.includes((req.method ?? '') as never)) {
        // API Gateway answers unmatched routes itself, without calling a function.
        await readBody(req).catch(() => undefined);
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: 'Not Found' }));
        return;
      }
      const body = await readBody(req);
      writeResult(res, await handler(toEvent(req, body, { path: match.route.path, params: match.params })));
    } catch (error) {
      if (req.destroyed && (req.readableAborted || res.destroyed || isDisconnect(error))) {
        // The client went away mid-request: nothing to answer, and nothing wrong with the server.
        localLogger.info('client disconnected mid-request', {
          method: req.method,
          path: new URL(req.url ?? '/', 'http://local').pathname,
          code: (error as NodeJS.ErrnoException).code,
        });
        return;
      }
      const tooLarge = error instanceof PayloadTooLargeForGatewayError;
      if (!tooLarge) localLogger.error('local server error', { error });
      res
        .writeHead(tooLarge ? 413 : 500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: tooLarge ? 'Request Entity Too Large' : 'Internal Server Error' }));
    }
  };
  try {
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(port, host, () => done());
    });
  } catch (error) {
    await dynamo.close();
    await releaseDataDir();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new LocalServerStartError(`port ${port} on ${host} is in use; start with PORT=<another port>`);
    }
    throw error;
  }
  const actualPort = (server.address() as AddressInfo).port;

  const issuer = (options.issuer ?? env.ISSUER ?? `http://localhost:${actualPort}`).replace(/\/$/, '');
  // Unless an upstream is configured (UPSTREAM_ISSUER, ...), users log in at a local provider.
  let upstream: LocalUpstream | undefined;
  if (!env.UPSTREAM_ISSUER) {
    upstream = await startLocalUpstream({
      ...options.localUpstream,
      callbackUrl: `${issuer}/callback`,
      ...(env.UPSTREAM_PORT ? { port: Number(env.UPSTREAM_PORT) } : {}),
    });
  }
  // Unless ENTERPRISE_IDPS names the providers, a local one issues ID-JAGs for the jwt-bearer grant.
  let enterpriseIdp: LocalEnterpriseIdp | undefined;
  if (!env.ENTERPRISE_IDPS?.trim()) {
    enterpriseIdp = await startLocalEnterpriseIdp({
      ...(env.ENTERPRISE_IDP_PORT ? { port: Number(env.ENTERPRISE_IDP_PORT) } : {}),
      onError: (error) => localLogger.error('local enterprise identity provider error', { error }),
    });
  }
  const enterpriseIdps = enterpriseIdp
    ? [{ issuer: enterpriseIdp.issuer }]
    : parseEnterpriseIdps(env.ENTERPRISE_IDPS);
  let config;
  let overrides;
  try {
    config = loadConfig(localSettings(env, issuer, upstream));
    overrides = parseDocumentOverrides(env.CLIENT_METADATA_DOCUMENTS, config.scopesSupported);
  } catch (error) {
    server.closeAllConnections();
    server.close();
    await enterpriseIdp?.close();
    await upstream?.close();
    await dynamo.close();
    await releaseDataDir();
    throw error;
  }
  const keys = new CachedSigningKeys(keySource);
  const initialAccessToken =
    config.registrationPolicy === 'token' || config.interactiveRegistrationPolicy === 'token'
      ? (env.INITIAL_ACCESS_TOKEN ?? randomToken())
      : undefined;
  const upstreamConfig = config.upstream!;

  const write = options.writeFunctionLog ? { write: options.writeFunctionLog } : {};
  const oauthLogger = createLogger('oauth', { level: logLevel, ...write });
  const clients = new DynamoClientStore(dynamo.documentClient, TABLE_NAME);
  const clientResolver = new ClientResolver(clients, {
    cache: new DynamoMetadataDocumentCache(dynamo.documentClient, TABLE_NAME),
    scopesSupported: config.scopesSupported,
    blocked: config.blockedClients,
    overrides,
    logger: oauthLogger,
    ...(options.metadataDocumentClock ? { now: options.metadataDocumentClock } : {}),
    fetch: {
      ...options.metadataDocumentFetch,
      // Local mode only, off by default: lets tests serve documents from a loopback server.
      allowHttpLoopback: env.CIMD_ALLOW_HTTP_LOOPBACK === '1',
    },
  });
  const clientKeys = new ClientKeys({
    fetch: { ...options.metadataDocumentFetch, allowHttpLoopback: env.CIMD_ALLOW_HTTP_LOOPBACK === '1' },
  });
  const clientAssertions = new ClientAssertionVerifier({
    issuer: config.issuer,
    keys: clientKeys,
    usedJtis: new DynamoUsedJtis(dynamo.documentClient, TABLE_NAME),
    logger: oauthLogger,
  });
  // The deployed mcp function's one read, against the embedded engine (which takes any
  // credentials): the keys are published into the table at start, as the rotation does.
  const mcpTable = new McpTableReader({
    tableName: TABLE_NAME,
    endpoint: dynamo.endpoint,
    region: 'local',
    credentials: () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
    markerRelevanceMs: markerRelevanceMs(config.accessTokenTtlSeconds),
  });
  await publishLocalKeys(keySource, new TablePublisher(dynamo.documentClient, TABLE_NAME));
  const mcpKeys = new CachedPublicKeys(
    new TablePublicKeySource(mcpTable, new DerivedPublicKeySource(keySource)),
  );
  handlers.oauth = lambdaHandler(
    createOAuthApp({
      config,
      logger: oauthLogger,
      keys,
      clients,
      clientResolver,
      clientAssertions,
      grants: new DynamoGrantStore(dynamo.documentClient, TABLE_NAME, (error) =>
        oauthLogger.warn('user item of the access index not written; the grant stands', { error }),
      ),
      revocations: new DynamoRevocationList(dynamo.documentClient, TABLE_NAME),
      ...(enterpriseIdps.length > 0 && {
        enterpriseIdps: new EnterpriseIdps(enterpriseIdps, {
          ...(options.enterpriseIdpFetch && { fetch: options.enterpriseIdpFetch }),
        }),
      }),
      identityProvider: new OpenIdProvider(upstreamConfig, async () => {
        if (upstreamConfig.clientSecret === undefined) {
          throw new Error('locally, give the upstream client secret as UPSTREAM_CLIENT_SECRET');
        }
        return upstreamConfig.clientSecret;
      }),
      // Locally the key lives beside the signing keys, in the data directory (or in memory).
      upstreamTokens: new UpstreamTokenCipher(async () => upstreamKeyMaterial),
      ...(options.now ? { now: options.now } : {}),
      ...(initialAccessToken
        ? { initialAccessTokens: new StaticInitialAccessToken(initialAccessToken) }
        : {}),
    }),
    oauthLogger,
  );
  const mcpLogger = createLogger('mcp', { level: logLevel, ...write });
  const mcpServer = options.mcpServer ?? SDK_SERVER ?? 'built-in';
  const revocations = new RevocationList({
    source: new TableRevocationSource({
      reader: mcpTable,
      maxTokenLifetimeSeconds: config.accessTokenTtlSeconds,
    }),
    maxAgeSeconds: config.revocationMaxAgeSeconds,
    refreshSeconds: config.revocationRefreshSeconds,
    onReadFailure: (error) => mcpLogger.warn('revocation list not read', { error }),
  });
  handlers.mcp = lambdaHandler(
    createMcpApp({
      config,
      logger: mcpLogger,
      revocations,
      keys: mcpKeys,
      trustedIssuers: parseTrustedIssuers(env.TRUSTED_ISSUERS, config.scopesSupported),
      ...(mcpServer !== 'built-in' && { sdkServer: mcpServer }),
    }),
    mcpLogger,
  );

  return {
    issuer: config.issuer,
    port: actualPort,
    dataDir,
    initialAccessToken,
    generatedKeys,
    upstreamIssuer: upstreamConfig.issuer,
    localUpstream: upstream !== undefined,
    localEnterpriseIdp: enterpriseIdp?.issuer,
    upstreamControls: upstream?.controls,
    upstreamGovernance: {
      upstreamRecheckSeconds: config.upstreamRecheckSeconds,
      upstreamOutageGraceSeconds: config.upstreamOutageGraceSeconds,
      upstreamSessionMaxSeconds: config.upstreamSessionMaxSeconds,
      ...(config.scopePolicy ? { scopePolicy: config.scopePolicy } : {}),
    },
    table: { endpoint: dynamo.endpoint, name: TABLE_NAME },
    cacheSizes: () => ({
      oauthPublicKeys: keys.size,
      oauthPrivateKeys: keys.privateKeyCount,
      mcpPublicKeys: mcpKeys.size,
      metadataDocumentFailures: clientResolver.failureCacheSize,
      clientKeySets: clientKeys.size,
      revocationListEntries: revocations.size,
    }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await upstream?.close();
      await enterpriseIdp?.close();
      await dynamo.close();
      await releaseDataDir();
    },
  };
}

/** The upstream token key file: generated on first start, readable by its owner only. */
async function ensureUpstreamTokenKey(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const material = newKeyMaterial();
  await writeFile(path, material, { mode: 0o600, flag: 'wx' });
  return material;
}

/**
 * Publishes the local key set's public half to the table, as the rotation does when deployed. A
 * key file that cannot be read is left to the oauth function's own error; the mcp function then
 * derives the keys from the file as before.
 */
async function publishLocalKeys(source: SigningKeySource, publisher: TablePublisher): Promise<void> {
  let set;
  try {
    set = await source.load();
  } catch {
    return;
  }
  await publisher.publish(toPublicKeySet(set));
}
