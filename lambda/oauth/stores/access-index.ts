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
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
 * when, and, with `expiresAt`, until when they hold a grant. Only a later login changes who and
 * when; only a later expiry changes the item's expiry, so that the item lasts as long as the
 * user's longest family, whatever order families are created in (a one-hour ID-JAG grant after
 * a 90-day login must not hide the login from the listings).
 */
export function userItemUpdate(identity: UserIdentity, loginAt: number, expiresAt?: number) {
  return {
    Key: { pk: userItemKey(identity.sub) },
    UpdateExpression: `SET #type = :type, #sub = :sub, #name = :name, #email = :email, #login = :login, #part = :part, #changed = :changed${
      expiresAt === undefined ? '' : ', #exp = :exp'
    }`,
    ConditionExpression: `(attribute_not_exists(#login) OR #login <= :login)${
      expiresAt === undefined ? '' : ' AND (attribute_not_exists(#exp) OR #exp <= :exp)'
    }`,
    ExpressionAttributeNames: {
      '#type': 'type',
      '#sub': 'sub',
      '#name': 'name',
      '#email': 'email',
      '#login': 'lastLoginAt',
      '#part': MCP_READ_INDEX.partitionKey,
      '#changed': MCP_READ_INDEX.sortKey,
      ...(expiresAt === undefined ? {} : { '#exp': 'expiresAt' }),
    },
    ExpressionAttributeValues: {
      ':type': 'user',
      ':sub': identity.sub,
      ':name': identity.name ?? null,
      ':email': identity.email ?? null,
      ':login': loginAt,
      ':part': ACCESS_INDEX.users,
      ':changed': sortValue(loginAt, userItemKey(identity.sub)),
      ...(expiresAt === undefined ? {} : { ':exp': expiresAt }),
    },
  };
}

/**
 * Records a login on the user's item (`userItemUpdate`): one write when the family is both the
 * latest login and the longest-lived, as it is for logins of one kind; else a second write keeps
 * the longer expiry and records who and when only.
 */
export async function recordUserLogin(
  db: DynamoDBDocumentClient,
  tableName: string,
  identity: UserIdentity,
  loginAt: number,
  expiresAt: number,
): Promise<void> {
  try {
    await db.send(
      new UpdateCommand({ TableName: tableName, ...userItemUpdate(identity, loginAt, expiresAt) }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // A longer-lived family, or a later login, is recorded already: keep its expiry.
    await db
      .send(new UpdateCommand({ TableName: tableName, ...userItemUpdate(identity, loginAt) }))
      .catch((again: unknown) => {
        if (!(again instanceof ConditionalCheckFailedException)) throw again;
      });
  }
}
