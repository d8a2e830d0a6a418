/**
 * Resolves the host of a client ID metadata document URL with c-ares (`dns.promises.Resolver`),
 * not `dns.lookup`. `dns.lookup` is `getaddrinfo` on one of libuv's four thread-pool threads, and
 * a call of it cannot be cancelled: a host whose name server never answers keeps a thread past the
 * fetch's deadline, and a few such hosts stall everything else that needs the pool (the AWS SDK's
 * own lookups, file reads, crypto). c-ares queries run on the event loop and stop at `cancel()`.
 *
 * Both record types are asked (A and AAAA, as `getaddrinfo` would); the caller checks every
 * address returned against the address policy. What c-ares does not read: `/etc/hosts`, and
 * search domains for a dotted name. A metadata document's host is a public DNS name, so neither
 * applies; `localhost` names are refused before any resolver is asked.
 */
import { Resolver as DnsResolver } from 'node:dns/promises';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/**
 * Resolves a host name to all its addresses, stopping when `signal` aborts; injectable so that
 * tests can play a hostile DNS server.
 */
export type Resolver = (hostname: string, signal?: AbortSignal) => Promise<ResolvedAddress[]>;

export interface HostResolverOptions {
  /** Name servers (`address` or `address:port`); without them, the system's (`/etc/resolv.conf`). */
  servers?: string[];
  /** How long c-ares waits for the first answer of a query; it doubles with each try. */
  attemptTimeoutMs?: number;
  /** How many times c-ares sends a query to each server. */
  tries?: number;
}

/** Answers that mean "no address of this type", which the other type may still have. */
const NO_ADDRESS = new Set(['ENODATA', 'ENOTFOUND']);

const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code;

/**
 * A {@link Resolver} over c-ares. Each resolution has its own channel, so that aborting one
 * cancels only its own queries. With the defaults c-ares gives up on its own after about 4 s
 * (c-ares 1.34 asks again 2 s in), inside the metadata fetch's 5 s deadline; the deadline
 * aborts the signal and cancels the queries in any case.
 */
export function createHostResolver(options: HostResolverOptions = {}): Resolver {
  const timeout = options.attemptTimeoutMs ?? 1_000;
  const tries = options.tries ?? 2;
  return async (hostname, signal) => {
    signal?.throwIfAborted();
    const resolver = new DnsResolver({ timeout, tries });
    if (options.servers) resolver.setServers(options.servers);
    const cancel = () => resolver.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
      const addresses = [
        ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
        ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
      ];
      if (addresses.length > 0) return addresses;
      // Neither type has an address: the more telling failure (a timeout or a refusal over
      // "no such record"), else the A query's.
      const failures = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      throw (
        failures.find((e) => !NO_ADDRESS.has(codeOf(e) as string)) ?? failures[0] ?? new Error('no address')
      );
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  };
}

/** The resolver metadata document fetches use unless a test gives another. */
export const resolveHost: Resolver = createHostResolver();
