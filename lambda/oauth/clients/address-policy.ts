/**
 * Which network addresses this server may connect to when it fetches a client ID metadata
 * document. The `oauth` function has no VPC, so this policy is the only thing between a `client_id`
 * chosen by anyone and the function's network: loopback, private networks, link-local (where the
 * instance metadata endpoints live) and every other special-purpose range are refused.
 *
 * Classification is `ipaddr.js`'s (its IANA special-purpose registries); the policy is one rule:
 * only addresses it calls `unicast` (global unicast) are public.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { quote } from '../excerpt.js';

/**
 * Why `address` (an IP address in text, as DNS returns it or a URL names it) may not be
 * connected to, or undefined when it is a public unicast address.
 */
export function addressProblem(address: string): string | undefined {
  const literal = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // A zone index (`fe80::1%eth0`) names an interface, never a public host.
  if (!isIP(literal) || literal.includes('%')) return `${quote(literal)} is not an IP address`;
  // WHATWG URL serialisation is canonical (`::8.8.8.8` → `::808:808`); ipaddr.js would read the
  // dotted form as IPv4-mapped, which it is not.
  const canonical = isIP(literal) === 6 ? new URL(`http://[${literal}]`).hostname.slice(1, -1) : literal;
  let parsed = ipaddr.parse(canonical);
  const v6 = parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6) : undefined;
  // `::ffff:a.b.c.d` reaches a.b.c.d; judge the IPv4 address it carries.
  if (v6?.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
  const range = parsed.range();
  if (range !== 'unicast') return `${literal} is a ${describeRange(range)} address`;
  // `::a.b.c.d` (IPv4-compatible, deprecated by RFC 4291 §2.5.5.1) has no use but to smuggle one.
  if (v6 && parsed === v6 && v6.parts.slice(0, 6).every((part) => part === 0))
    return `${literal} is an IPv4-compatible address`;
  return undefined;
}

export function isPublicAddress(address: string): boolean {
  return addressProblem(address) === undefined;
}

const RANGE_NAMES: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT (shared)',
  private: 'private',
  uniqueLocal: 'unique local (private)',
  reserved: 'reserved',
};

function describeRange(range: string): string {
  return RANGE_NAMES[range] ?? `special-purpose (${range})`;
}
