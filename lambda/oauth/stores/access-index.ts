/**
 * What the admin command (`scripts/admin/`) lists, indexed in the table's one secondary index,
 * `mcp-reads` (`MCP_READ_INDEX`), under partition values of their own, so that no second index is
 * needed (CloudFormation adds one global secondary index per stack update, and a stack upgraded
 * from before `mcp-reads` would have to add two: doc/architecture.md, "The access index"):
 *
 * | partition (`mcpRead`) | items | sort (`changedAt`, epoch ms) |
 * | --- | --- | --- |
 * | `clients` | registered clients (`client#<id>`) | registration |
 * | `users` | one item per user with a grant (`user#<sha256(sub)>`) | last login |
 * | `grants#<sha256(sub)>` | that user's grant families (`family#<id>`) | the family's login |
 *
 * The mcp function's role may query this index (its partition `mcp`). A query of a global
 * secondary index returns only what the index holds: the keys and `notBefore`, `jwks`,
 * `expiresAt`, never an attribute of the table item. So no partition value or item key here holds
 * a name, an email, a scope or a `sub` in clear; the admin command reads those by key from the
 * table, which the mcp role cannot.
 *
 * A revoked family leaves the index (`revokeFamily` removes its partition attribute); an expired
 * one stays until DynamoDB's TTL deletes it, and readers skip it by its `expiresAt`.
 */
import { createHash } from 'node:crypto';
import { sha256 } from '../../shared/crypto.js';
import { MCP_READ_INDEX } from '../../shared/revocations.js';
import type { GrantFamily, UserIdentity } from './grant-store.js';

export const ACCESS_INDEX = {
  clients: 'clients',
  users: 'users',
  /** The partition of one user's grant families. */
  grantsOf: (sub: string) => `grants#${sha256(sub)}`,
} as const;

/** The key of a user's item: the user, by a hash of `sub`, so the index never shows one. */
export const userItemKey = (sub: string) => `user#${sha256(sub)}`;

/**
 * The sort value of an item changed at `epochSeconds`: that second in milliseconds, plus a
 * millisecond offset drawn from the item's key. Items of one second then rarely share a value,
 * which the embedded engine needs: dynalite keeps one index entry per index key and 24-bit hash of
 * the table key, so thousands of clients registered in one second would lose entries (seen with
 * 10,000). DynamoDB needs no such care; the order by second is the same either way.
 */
export function sortValue(epochSeconds: number, pk: string): number {
  return epochSeconds * 1000 + (createHash('sha256').update(pk).digest().readUInt16BE(0) % 1000);
}

/** The index attributes a registered client is written with. */
export function clientIndexAttributes(clientId: string, issuedAt: number): Record<string, string | number> {
  return {
    [MCP_READ_INDEX.partitionKey]: ACCESS_INDEX.clients,
    [MCP_READ_INDEX.sortKey]: sortValue(issuedAt, `client#${clientId}`),
  };
}

/** The index attributes a grant family is written with. */
export function familyIndexAttributes(
  family: Pick<GrantFamily, 'familyId' | 'identity' | 'createdAt'>,
): Record<string, string | number> {
  return {
    [MCP_READ_INDEX.partitionKey]: ACCESS_INDEX.grantsOf(family.identity.sub),
    [MCP_READ_INDEX.sortKey]: sortValue(family.createdAt, `family#${family.familyId}`),
  };
}

/**
 * The update that records a user's login on their item: who they are (as the upstream last said),
 * when, and until when they hold a grant (the item expires with their latest family).
 */
export function userItemUpdate(identity: UserIdentity, loginAt: number, expiresAt: number) {
  return {
    Key: { pk: userItemKey(identity.sub) },
    UpdateExpression:
      'SET #type = :type, #sub = :sub, #name = :name, #email = :email, #login = :login, #part = :part, #changed = :changed, #exp = :exp',
    ExpressionAttributeNames: {
      '#type': 'type',
      '#sub': 'sub',
      '#name': 'name',
      '#email': 'email',
      '#login': 'lastLoginAt',
      '#part': MCP_READ_INDEX.partitionKey,
      '#changed': MCP_READ_INDEX.sortKey,
      '#exp': 'expiresAt',
    },
    ExpressionAttributeValues: {
      ':type': 'user',
      ':sub': identity.sub,
      ':name': identity.name ?? null,
      ':email': identity.email ?? null,
      ':login': loginAt,
      ':part': ACCESS_INDEX.users,
      ':changed': sortValue(loginAt, userItemKey(identity.sub)),
      ':exp': expiresAt,
    },
  };
}
