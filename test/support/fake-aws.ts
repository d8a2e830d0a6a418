/**
 * Loopback stand-ins for the two key stores the deployed bundles read (used by the bundle test
 * and the benchmark): Secrets Manager's
 * `GetSecretValue` (the private key set, for the oauth function) and Systems Manager's
 * `GetParameter` (the public key set as an mcp function of the earlier layout reads it); and
 * DynamoDB's `Query` of the `mcp-reads` index answering the public key item and no revocation
 * marker (and `BatchGetItem` answering an empty earlier list), for the benchmark's mcp function. Each call is
 * recorded with the service its SigV4 credential scope names, so a test can tell who read what.
 * `faults` makes both misbehave as the services do (throttle, fail, hang, drop the connection).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serializeSigningKeySet, toPublicKeySet, type SigningKeySet } from '../../lambda/shared/key-set.js';
import { serializePublicKeySet } from '../../lambda/shared/public-key-set.js';
import {
  MCP_READ_INDEX,
  PUBLIC_KEYS_ITEM_KEY,
  PUBLIC_KEYS_SORT_VALUE,
} from '../../lambda/shared/revocations.js';
import { TABLE_SCHEMA } from '../../lambda/shared/table.js';
import { faultSwitch, type FaultSwitch } from './faults.js';

export interface FakeAwsCall {
  target: string;
  path: string;
  /** `<date>/<region>/<service>/aws4_request` from the Authorization header. */
  scope: string | undefined;
  body: string;
}

export interface FakeAws {
  url: string;
  calls: FakeAwsCall[];
  /** Faults, by `X-Amz-Target` (`secretsmanager.GetSecretValue`, `AmazonSSM.GetParameter`). */
  faults: FaultSwitch;
  close(): Promise<void>;
}

const ERRORS = {
  secretsmanager: { throttle: 'ThrottlingException', fail: 'InternalServiceError' },
  ssm: { throttle: 'ThrottlingException', fail: 'InternalServerError' },
};

/**
 * A `Query` answer of the `mcp-reads` index: the public key item, which every read returns (it
 * sorts last), and no revocation marker.
 */
function keysQuery(jwks: string): string {
  const item = {
    [TABLE_SCHEMA.partitionKey]: { S: PUBLIC_KEYS_ITEM_KEY },
    jwks: { S: jwks },
    [MCP_READ_INDEX.partitionKey]: { S: MCP_READ_INDEX.partition },
    [MCP_READ_INDEX.sortKey]: { N: String(PUBLIC_KEYS_SORT_VALUE) },
  };
  return JSON.stringify({ Items: [item], Count: 1, ScannedCount: 1 });
}

/** A `BatchGetItem` answer that finds none of the keys asked for: an empty revocation list. */
function emptyBatch(body: string): string {
  const tables = Object.keys((JSON.parse(body) as { RequestItems?: object }).RequestItems ?? {});
  return JSON.stringify({ Responses: Object.fromEntries(tables.map((t) => [t, []])), UnprocessedKeys: {} });
}

export interface FakeAwsOptions {
  /** How long each answer waits, as a service's own latency would (the benchmark's option). */
  latencyMs?: number;
}

export async function startFakeAws(set: SigningKeySet, options: FakeAwsOptions = {}): Promise<FakeAws> {
  const secret = JSON.stringify({ SecretString: serializeSigningKeySet(set) });
  const parameter = JSON.stringify({
    Parameter: { Type: 'String', Value: serializePublicKeySet(toPublicKeySet(set)), Version: 1 },
  });
  // The issuer's JWKS, for verifiers that fetch it over HTTP (the benchmark's baseline).
  const jwks = serializePublicKeySet(toPublicKeySet(set));
  const calls: FakeAwsCall[] = [];
  const faults = faultSwitch();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => (options.latencyMs ? setTimeout(answer, options.latencyMs) : answer()));
    const answer = () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const scope = /Credential=[^/]+\/([^,]+),/.exec(String(req.headers.authorization ?? ''))?.[1];
      calls.push({ target, path: req.url ?? '', scope, body: Buffer.concat(chunks).toString('utf8') });
      const errors = target.startsWith('AmazonSSM.') ? ERRORS.ssm : ERRORS.secretsmanager;
      const types = { ...errors, contentType: 'application/x-amz-json-1.1' };
      if (req.method === 'POST' && faults.inject(req, res, target, types)) return;
      const json = (body: string) =>
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(body);
      if (req.method === 'GET' && req.url === '/jwks') json(jwks);
      else if (req.method !== 'POST') res.writeHead(404).end();
      else if (target === 'secretsmanager.GetSecretValue') json(secret);
      else if (target === 'AmazonSSM.GetParameter') json(parameter);
      else if (target === 'DynamoDB_20120810.Query') json(keysQuery(jwks));
      else if (target === 'DynamoDB_20120810.BatchGetItem')
        json(emptyBatch(Buffer.concat(chunks).toString('utf8')));
      else res.writeHead(400).end(JSON.stringify({ __type: 'UnknownOperationException' }));
    };
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    faults,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
