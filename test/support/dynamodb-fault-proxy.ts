/**
 * A loopback stand-in for DynamoDB that can be told to misbehave: it forwards every call to a
 * real engine (the embedded dynalite of lib/local/dynamodb.ts) unless a fault is set, and then
 * answers as DynamoDB does when throttled (`ProvisionedThroughputExceededException`) or failing
 * (`InternalServerError`), or hangs, or drops the connection.
 */
import { createServer, request as forward } from 'node:http';
import type { AddressInfo } from 'node:net';
import { faultSwitch, type FaultSwitch } from './faults.js';

const DYNAMODB_ERRORS = {
  throttle: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  fail: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
  contentType: 'application/x-amz-json-1.0',
};

export interface DynamoFaultProxy {
  /** The endpoint to give the SDK (`AWS_ENDPOINT_URL_DYNAMODB`). */
  url: string;
  /** Faults, by operation (`PutItem`, `GetItem`, ...; all when no targets are given). */
  faults: FaultSwitch;
  /** Operations called, in order, including faulted ones. */
  calls: string[];
  close(): Promise<void>;
}

export async function startDynamoFaultProxy(engine: string): Promise<DynamoFaultProxy> {
  const faults = faultSwitch();
  const calls: string[] = [];
  const target = new URL(engine);
  const server = createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
    calls.push(operation);
    if (faults.inject(req, res, operation, DYNAMODB_ERRORS)) {
      req.resume();
      return;
    }
    const upstream = forward(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    calls,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
