/**
 * A loopback stand-in for what the rotate-keys bundle calls: Secrets Manager's `DescribeSecret`,
 * `GetSecretValue`, `PutSecretValue` and `UpdateSecretVersionStage` on one secret with versions
 * and staging labels, and Systems Manager's `PutParameter` on the public key parameter. The
 * state and its rules are the in-memory fakes of the rotation unit tests (`FakeSecret`,
 * `FakeParameter`), served over HTTP in the services' JSON protocol, so the deployed bundle
 * runs its real AWS SDK clients against them. `faults` throttles, fails, hangs or drops chosen
 * operations before they touch the state, so a faulted call changes nothing.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { FakeParameter } from '../lambda/rotate-keys/fake-parameter.js';
import type { FakeSecret } from '../lambda/rotate-keys/fake-secret.js';
import { faultSwitch, type FaultSwitch } from './faults.js';

type Operation = (input: Record<string, unknown>) => unknown;

export interface FakeRotationAws {
  url: string;
  /** Operations called, as `X-Amz-Target` names them, in order, faulted ones included. */
  calls: string[];
  /** Faults by `X-Amz-Target` (`secretsmanager.PutSecretValue`, `AmazonSSM.PutParameter`, ...). */
  faults: FaultSwitch;
  close(): Promise<void>;
}

const ERRORS = {
  secretsmanager: { throttle: 'ThrottlingException', fail: 'InternalServiceError' },
  ssm: { throttle: 'ThrottlingException', fail: 'InternalServerError' },
};

/**
 * The fakes register their operations on an aws-sdk-client-mock stub (`mock.on(Command)
 * .callsFake(fn)`); this collects them by command name instead, to serve them over HTTP.
 */
function operationsOf(wire: (stub: never) => void, prefix: string, into: Map<string, Operation>): void {
  const stub = {
    on: (command: { name: string }) => ({
      callsFake: (operation: Operation) => {
        into.set(`${prefix}.${command.name.replace(/Command$/, '')}`, operation);
        return stub;
      },
    }),
  };
  wire(stub as never);
}

export async function startFakeRotationAws(
  secret: () => FakeSecret,
  parameter: () => FakeParameter,
): Promise<FakeRotationAws> {
  const calls: string[] = [];
  const faults = faultSwitch();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      calls.push(target);
      const isSsm = target.startsWith('AmazonSSM.');
      const types = {
        ...(isSsm ? ERRORS.ssm : ERRORS.secretsmanager),
        contentType: 'application/x-amz-json-1.1',
      };
      if (faults.inject(req, res, target, types)) return;
      // The fakes in use now (a test may swap them between cases), their operations by target.
      const operations = new Map<string, Operation>();
      operationsOf(
        (stub) => secret().wire(stub as AwsClientStub<SecretsManagerClient>),
        'secretsmanager',
        operations,
      );
      operationsOf((stub) => parameter().wire(stub as AwsClientStub<SSMClient>), 'AmazonSSM', operations);
      const answer = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': types.contentType }).end(JSON.stringify(body));
      const operation = operations.get(target);
      if (!operation) return answer(400, { __type: 'UnknownOperationException', message: target });
      try {
        answer(200, operation(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')) ?? {});
      } catch (error) {
        // The SDK names the error it throws after `__type`, as the service's own answer does.
        answer(400, { __type: (error as Error).name, message: (error as Error).message });
      }
    });
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
