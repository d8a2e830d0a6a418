/**
 * What the mcp function's execution environment reads from AWS, started before anything else in
 * the bundle is evaluated: the public key set and the revocation markers, with one `Query` of the
 * table's `mcp-reads` index (`mcp-table-reader.ts`). The entry (`index.ts`) imports this module
 * first, so the signed request is on the network while the rest of the function (the protocol's
 * schemas, the tools, Powertools' middlewares) is being evaluated, instead of after it: its round
 * trip overlaps the init work rather than follows it. On a stack upgraded from the earlier layout,
 * until its next rotation, the SSM parameter and the earlier list are read too (`table-sources.ts`).
 *
 * Signing is asynchronous (the SDK's signer hashes through promises), and neither promise jobs nor
 * socket events run while a module is being evaluated: the top-level `await` below waits until
 * the request is signed and written out (bounded), and evaluation continues while it is
 * answered. doc/performance.md has the figures.
 */
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { CachedPublicKeys } from '../../shared/signing-keys.js';
import { requestsWritten } from './aws-json-request.js';
import { LegacyRevocationReader } from './legacy-revocation-reader.js';
import { dynamoDbOptionsFromEnvironment, McpTableReader } from './mcp-table-reader.js';
import { RevocationList } from '../auth/revocation-list.js';
import { ssmOptionsFromEnvironment, SsmPublicKeySource } from './ssm-public-key-source.js';
import { TablePublicKeySource, TableRevocationSource } from './table-sources.js';
import { markerRelevanceMs } from '../../shared/revocations.js';

/**
 * The longest init waits for the reads' requests to be written out: enough for a connection and
 * a TLS handshake to an AWS endpoint in the region, far less than the read's own timeout.
 */
const START_WRITE_WAIT_MS = 100;

/** The most `ACCESS_TOKEN_TTL_SECONDS` may be (`loadConfig`). */
const LONGEST_ACCESS_TOKEN_TTL_SECONDS = 86_400;

export const logger = createLogger('mcp');
export const config = loadConfig(process.env);

const tableOptions = dynamoDbOptionsFromEnvironment(process.env);
// The SSM parameter, for a stack upgraded from the earlier layout until its next rotation.
const ssm = process.env.PUBLIC_KEYS_PARAMETER_NAME
  ? new SsmPublicKeySource(ssmOptionsFromEnvironment(process.env))
  : undefined;

// Tokens may live no longer than the oauth function issues them for. Where this function is not
// told that lifetime, it takes the longest the settings allow (ACCESS_TOKEN_TTL_SECONDS is at
// most a day), so that a deployment with a longer lifetime than the default is not locked out.
export const maxTokenLifetimeSeconds = process.env.ACCESS_TOKEN_TTL_SECONDS
  ? config.accessTokenTtlSeconds
  : LONGEST_ACCESS_TOKEN_TTL_SECONDS;

const table = new McpTableReader({
  ...tableOptions,
  markerRelevanceMs: markerRelevanceMs(maxTokenLifetimeSeconds),
});
export const keys = new CachedPublicKeys(new TablePublicKeySource(table, ssm));

export const revocations = new RevocationList({
  source: new TableRevocationSource({
    reader: table,
    legacy: new LegacyRevocationReader(tableOptions),
    maxTokenLifetimeSeconds,
  }),
  maxAgeSeconds: config.revocationMaxAgeSeconds,
  refreshSeconds: config.revocationRefreshSeconds,
  onReadFailure: (error) => logger.warn('revocation list not read', { error }),
});

// A failure here is retried by the first request (`prime`).
keys
  .prime()
  .catch((error: unknown) => logger.warn('signing keys not loaded at start; will retry', { error }));
revocations.prime().catch(() => {});

// Let the request be signed and written out before the rest of the bundle is evaluated; an
// unreachable service must not hold init, so the wait is bounded (the reads go on regardless).
let bound: NodeJS.Timeout | undefined;
await Promise.race([
  requestsWritten(),
  new Promise((resolve) => (bound = setTimeout(resolve, START_WRITE_WAIT_MS))),
]);
clearTimeout(bound);
