/**
 * Writes the revocation list (`lambda/shared/revocations.ts`) that `/mcp` reads, and the three
 * ways the authorization server revokes: a grant family (refresh token revoked, reused after its
 * grace window, or its authorization code replayed), a deleted client, and one access token
 * (RFC 7009). Each records the list entry first, and only then changes the grant or the client:
 * if the entry cannot be written the request fails (503) with nothing changed, and a retry does
 * it all; never a client that is gone while its tokens still work.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { TABLE_SCHEMA } from '../shared/table.js';
import {
  REVOCATION_AFTER_EXPIRY_SECONDS,
  revocationEntryName,
  revocationItemFor,
  type RevokedSubject,
} from '../shared/revocations.js';
import type { OAuthDeps } from './deps.js';

export interface RevocationList {
  /** Records that tokens of `subject` are refused until `until` (epoch seconds). */
  revoke(subject: RevokedSubject, until: number): Promise<void>;
}

export class DynamoRevocationList implements RevocationList {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async revoke(subject: RevokedSubject, until: number): Promise<void> {
    const name = revocationEntryName(subject);
    const item = revocationItemFor(name, until);
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [TABLE_SCHEMA.partitionKey]: item.pk },
          // A later revocation of the same subject can only end later; keep the later end.
          UpdateExpression: 'SET #entry = :until, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#entry) OR #entry < :until',
          ExpressionAttributeNames: { '#entry': name, '#ttl': TABLE_SCHEMA.ttlAttribute },
          ExpressionAttributeValues: { ':until': until, ':ttl': item.expiresAt },
        }),
      )
      .catch((error: unknown) => {
        // Already recorded with a later end: nothing to do.
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      });
  }
}

/** When every access token issued until now has expired, as `/mcp` counts it. */
function afterLongestAccessToken(deps: OAuthDeps): number {
  const now = Math.floor((deps.now?.() ?? Date.now()) / 1000);
  return now + deps.config.accessTokenTtlSeconds + REVOCATION_AFTER_EXPIRY_SECONDS;
}

/** Revokes a grant family: its refresh tokens at once, its access tokens at `/mcp` within the list's bound. */
export async function revokeGrantFamily(deps: OAuthDeps, familyId: string): Promise<void> {
  await deps.revocations.revoke({ grant: familyId }, afterLongestAccessToken(deps));
  await deps.grants.revokeFamily(familyId);
}

/** Records that a client's access tokens stop working; the caller deletes the client after this. */
export async function revokeClientTokens(deps: OAuthDeps, clientId: string): Promise<void> {
  await deps.revocations.revoke({ client: clientId }, afterLongestAccessToken(deps));
}

/**
 * Revokes one access token of `clientId` (RFC 7009 §2.1): only a token this server signed, that
 * has not expired, and that was issued to that client; anything else is ignored, as the RFC asks
 * for tokens the server does not know.
 */
export async function revokeAccessToken(deps: OAuthDeps, clientId: string, token: string): Promise<boolean> {
  const keys: JWTVerifyGetKey = async (header) => {
    const key = typeof header.kid === 'string' ? await deps.keys.verificationKey(header.kid) : undefined;
    if (!key) throw new errors.JWKSNoMatchingKey();
    return key;
  };
  let payload: { client_id?: unknown; jti?: unknown; exp?: number };
  try {
    ({ payload } = await jwtVerify(token, keys, {
      issuer: deps.config.issuer,
      typ: 'at+jwt',
      algorithms: ['RS256'],
      currentDate: new Date(deps.now?.() ?? Date.now()),
    }));
  } catch (error) {
    // Not a valid token of this server; a key read that failed is a fault, not an answer.
    if (error instanceof errors.JOSEError) return false;
    throw error;
  }
  if (payload.client_id !== clientId || typeof payload.jti !== 'string' || payload.exp === undefined)
    return false;
  await deps.revocations.revoke({ token: payload.jti }, payload.exp + REVOCATION_AFTER_EXPIRY_SECONDS);
  return true;
}
