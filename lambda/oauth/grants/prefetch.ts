/**
 * The token endpoint reads the client and the code or refresh token a request names at the same
 * time: the read of the stored code (or refresh token) starts before client authentication, and
 * the grant's own read of that hash is answered by it. One round trip instead of two; nothing is
 * decided on the prefetched item before the client is authenticated, and nothing is written.
 */
import { sha256 } from '../../shared/crypto.js';
import { isIssuedToken } from '../login/authorization-response.js';
import type { GrantStore } from '../stores/grant-store.js';

type Read = 'getCode' | 'getRefreshToken';
const READS: Record<string, { param: string; read: Read }> = {
  authorization_code: { param: 'code', read: 'getCode' },
  refresh_token: { param: 'refresh_token', read: 'getRefreshToken' },
};

/** `grants`, with the read of the item `params` names already under way (when it names one). */
export function prefetchingGrants(
  grants: GrantStore,
  grantType: string,
  params: URLSearchParams,
  now: number,
): GrantStore {
  const what = Object.hasOwn(READS, grantType) ? READS[grantType]! : undefined;
  const value = what && params.get(what.param);
  if (!what || !isIssuedToken(value)) return grants;
  const hash = sha256(value);
  const started = (grants[what.read] as (h: string, n: number) => Promise<unknown>).call(grants, hash, now);
  started.catch(() => undefined); // a request refused before the grant reads it leaves it unread
  const prefetched = Object.create(grants) as GrantStore;
  (prefetched as unknown as Record<Read, unknown>)[what.read] = (h: string, n: number) =>
    h === hash && n === now ? started : grants[what.read](h, n);
  return prefetched;
}
