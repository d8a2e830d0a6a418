/**
 * The metadata document host is resolved with c-ares, bounded by the fetch's deadline (issue 24,
 * "DNS that never answers"): against a loopback UDP name server that never answers, the fetch
 * fails within its deadline, the queries stop when it does, and `getaddrinfo` (`dns.lookup`, one
 * of libuv's four pool threads that nothing can cancel) is never called. A name server that does
 * answer shows that both A and AAAA are asked and every address still meets the address policy.
 */
import { jest } from '@jest/globals';
import dns from 'node:dns';
import { createSocket, type Socket } from 'node:dgram';
import { isIP, type AddressInfo } from 'node:net';
import ipaddr from 'ipaddr.js';
import { createHostResolver } from '../../../../lambda/oauth/clients/host-resolver.js';
import {
  fetchMetadataDocument,
  MetadataDocumentError,
  parseDocumentUrl,
} from '../../../../lambda/oauth/clients/metadata-document-fetch.js';

const URL_ = parseDocumentUrl('https://docs.example.test/client.json');
const A = 1;
const AAAA = 28;

/** A name server on a loopback UDP port: it records each query's type and answers as told. */
async function nameServer(answers: { A?: string[]; AAAA?: string[] } | 'never') {
  const socket: Socket = createSocket('udp4');
  const queries: number[] = [];
  socket.on('message', (query, from) => {
    // The question: labels from byte 12 to a zero length, then QTYPE and QCLASS.
    let end = 12;
    while (query[end] !== 0) end += query[end]! + 1;
    const type = query.readUInt16BE(end + 1);
    queries.push(type);
    if (answers === 'never') return;
    const records = (type === A ? answers.A : type === AAAA ? answers.AAAA : undefined) ?? [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0); // the query's ID
    header.writeUInt16BE(0x8180, 2); // a response, recursion desired and available, NOERROR
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records.length, 6);
    const answer = records.map((address) => {
      const data = Buffer.from(ipaddr.parse(address).toByteArray());
      const record = Buffer.alloc(12);
      record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      record.writeUInt16BE(type, 2);
      record.writeUInt16BE(1, 4); // IN
      record.writeUInt32BE(60, 6);
      record.writeUInt16BE(data.length, 10);
      return Buffer.concat([record, data]);
    });
    socket.send(Buffer.concat([header, query.subarray(12, end + 5), ...answer]), from.port, from.address);
  });
  await new Promise<void>((done) => socket.bind(0, '127.0.0.1', done));
  const server = `127.0.0.1:${(socket.address() as AddressInfo).port}`;
  return { server, queries, close: () => new Promise<void>((done) => socket.close(done)) };
}

/** The error a fetch fails with, and how long it took. */
async function failure(promise: Promise<unknown>): Promise<{ error: MetadataDocumentError; ms: number }> {
  const started = performance.now();
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MetadataDocumentError);
    return { error: error as MetadataDocumentError, ms: performance.now() - started };
  }
  throw new Error('the fetch succeeded');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let lookups: Array<{ mock: { calls: unknown[][] }; mockRestore(): void }> = [];
beforeEach(() => {
  lookups = [jest.spyOn(dns, 'lookup'), jest.spyOn(dns.promises, 'lookup')];
});
afterEach(() => {
  for (const spy of lookups) spy.mockRestore();
});

/**
 * The names given to `dns.lookup` that would reach `getaddrinfo`. The test's own UDP socket
 * passes its IP literal through `dns.lookup`, which answers a literal without the thread pool.
 */
const namesLookedUp = () =>
  lookups.flatMap((spy) => spy.mock.calls.map(([name]) => name)).filter((name) => !isIP(String(name)));

describe('resolving the host of a metadata document URL', () => {
  it('fails within the deadline when the name server never answers, stops asking, and uses no getaddrinfo', async () => {
    // Prepare: the default resolver's timeouts, under which c-ares asks again about 2 s in and
    // gives up about 4 s in, both past the deadline
    const silent = await nameServer('never');
    const resolve = createHostResolver({ servers: [silent.server] });
    try {
      // Act
      const { error, ms } = await failure(fetchMetadataDocument(URL_, { resolve, timeoutMs: 300 }));
      const askedByDeadline = silent.queries.length;
      await sleep(2_500); // past c-ares's retry, had the queries not been cancelled

      // Assess
      expect(error.code).toBe('ERR_CIMD_TIMEOUT');
      expect(ms).toBeLessThan(1_000);
      expect([...new Set(silent.queries)].sort()).toEqual([A, AAAA]);
      expect(silent.queries).toHaveLength(askedByDeadline);
      expect(namesLookedUp()).toEqual([]);
    } finally {
      await silent.close();
    }
  });

  it('gives up on its own within its tries when nothing else stops it', async () => {
    // Prepare
    const silent = await nameServer('never');
    const resolve = createHostResolver({ servers: [silent.server], attemptTimeoutMs: 100, tries: 2 });
    try {
      // Act
      const started = performance.now();
      const outcome = await resolve('docs.example.test').catch((e: unknown) => e);

      // Assess
      expect(outcome).toMatchObject({ code: 'ETIMEOUT' });
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      await silent.close();
    }
  });

  it('asks for A and AAAA and returns both, A first', async () => {
    // Prepare
    const answering = await nameServer({
      A: ['93.184.215.14'],
      AAAA: ['2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    });
    try {
      // Act
      const addresses = await createHostResolver({ servers: [answering.server] })('docs.example.test');

      // Assess
      expect(addresses).toEqual([
        { address: '93.184.215.14', family: 4 },
        { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
      ]);
      expect(namesLookedUp()).toEqual([]);
    } finally {
      await answering.close();
    }
  });

  it.each<[string, { A?: string[]; AAAA?: string[] }, string]>([
    ['a loopback A record', { A: ['127.0.0.1'] }, '127.0.0.1 is a loopback address'],
    ['a private AAAA record beside a public A', { A: ['93.184.215.14'], AAAA: ['fd00::1'] }, 'fd00::1'],
    ['the instance metadata address', { A: ['169.254.169.254'] }, '169.254.169.254 is a link-local address'],
  ])('refuses a host that resolves to %s, without connecting', async (_, records, problem) => {
    // Prepare
    const answering = await nameServer(records);
    try {
      // Act
      const { error } = await failure(
        fetchMetadataDocument(URL_, { resolve: createHostResolver({ servers: [answering.server] }) }),
      );

      // Assess
      expect(error.code).toBe('ERR_CIMD_ADDRESS');
      expect(error.message).toContain(problem);
    } finally {
      await answering.close();
    }
  });

  it('refuses a host with no address of either type', async () => {
    const empty = await nameServer({});
    try {
      const resolve = createHostResolver({ servers: [empty.server] });
      const { error } = await failure(fetchMetadataDocument(URL_, { resolve }));
      expect(error.message).toBe('the host "docs.example.test" could not be resolved');
    } finally {
      await empty.close();
    }
  });

  it('is what a fetch uses when no resolver is given: c-ares, never getaddrinfo', async () => {
    // Prepare: the system's c-ares resolver, answering with a private address
    const { Resolver } = dns.promises;
    const resolve4 = jest.spyOn(Resolver.prototype, 'resolve4').mockResolvedValue(['10.0.0.7']);
    const resolve6 = jest.spyOn(Resolver.prototype, 'resolve6').mockResolvedValue([]);
    try {
      // Act
      const { error } = await failure(fetchMetadataDocument(URL_));

      // Assess
      expect(error.code).toBe('ERR_CIMD_ADDRESS');
      expect(resolve4).toHaveBeenCalledWith('docs.example.test');
      expect(resolve6).toHaveBeenCalledWith('docs.example.test');
      expect(namesLookedUp()).toEqual([]);
    } finally {
      resolve4.mockRestore();
      resolve6.mockRestore();
    }
  });
});
