/**
 * The state of user logins, kept in the single DynamoDB table next to the clients: pending
 * authorizations (while the user logs in upstream and consents), authorization codes, grant
 * families with their refresh tokens, and remembered consents. Codes and tokens are stored only
 * as SHA-256 hashes (the callers hash them). Every write that must happen exactly once is a
 * single conditional item write, so the embedded local engine serves the same code and no two
 * concurrent requests can both win.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { MCP_READ_INDEX } from '../../shared/revocations.js';
import { familyIndexAttributes, recordUserLogin } from './access-index.js';

/** Who logged in, as the upstream provider's ID token says. */
export interface UserIdentity {
  /** The upstream provider's subject identifier. */
  sub: string;
  name?: string;
  email?: string;
}

/** What the client asked for at the authorization endpoint, after validation. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  /** Whether `redirect_uri` was on the request; then the token request must repeat it (RFC 6749 §4.1.3). */
  redirectUriSent: boolean;
  /** PKCE S256 challenge (RFC 7636). */
  codeChallenge: string;
  scope: string;
  /** The resource the tokens are for (RFC 8707); becomes `aud`. */
  audience: string;
  state?: string;
  /** `prompt=consent`: show the consent page even when the user approved this client before. */
  forceConsent: boolean;
}

/** A login in progress, keyed by the hash of the `state` sent upstream. Lives 10 minutes. */
export interface PendingAuthorization {
  request: AuthorizationRequest;
  /** What the upstream callback is checked against (PKCE verifier and ID token nonce). */
  upstream: { codeVerifier: string; nonce: string };
  /** SHA-256 of the browser-binding cookie set at `/authorize`. */
  browserHash: string;
  /** Set at the callback, once the user logged in upstream. */
  identity?: UserIdentity;
  /** SHA-256 of the consent form's CSRF token, set with `identity`. */
  csrfHash?: string;
  /** The upstream refresh token, encrypted (`login/upstream-token-cipher.ts`), set with `identity`. */
  upstreamToken?: string;
  /** Epoch seconds. */
  expiresAt: number;
}

/** A grant family: one user's login for one client, shared by every refresh token rotated from it. */
export interface GrantFamily {
  familyId: string;
  clientId: string;
  identity: UserIdentity;
  scope: string;
  audience: string;
  /** Epoch seconds of the login. */
  createdAt: number;
  /** No token of the family is valid after this (epoch seconds). */
  expiresAt: number;
  revoked?: boolean;
  /** Epoch seconds of the last refresh, to the hour (`recordRefresh`); absent until one. */
  lastRefreshAt?: number;
  /**
   * The enterprise identity provider whose ID-JAG started the grant (the jwt-bearer grant,
   * `grants/jwt-bearer.ts`); absent for a login through `/authorize`.
   */
  enterpriseIdp?: string;
  /**
   * The upstream provider's refresh token, encrypted (`login/upstream-token-cipher.ts`); absent
   * when the provider issued none (the family then ends `upstreamSessionMaxSeconds` after login).
   */
  upstreamToken?: string;
  /** Epoch seconds of the last successful check at the upstream provider (the login, then each re-check). */
  upstreamCheckedAt?: number;
  /** Epoch seconds at which a re-check in progress began: one refresh at a time asks the upstream. */
  upstreamCheckStartedAt?: number;
}

/** What a successful upstream re-check changes on the family. */
export interface UpstreamCheck {
  checkedAt: number;
  identity: UserIdentity;
  /** The family's scope, narrowed by the scope policy to the user's current groups. */
  scope: string;
  /** The upstream's new refresh token, encrypted, when it rotated. */
  upstreamToken?: string;
}

export interface AuthorizationCode {
  request: AuthorizationRequest;
  identity: UserIdentity;
  familyId: string;
  /** When the grant family ends (epoch seconds); refresh tokens never outlive it. */
  familyExpiresAt: number;
  expiresAt: number;
  used?: boolean;
}

export interface RefreshToken {
  familyId: string;
  clientId: string;
  /** Epoch seconds after which the token is dead (idle lifetime, capped by the family's). */
  expiresAt: number;
  /** Set when the token was rotated (epoch seconds); it still works for the reuse grace window. */
  rotatedAt?: number;
}

export type CodeRedemption =
  | { outcome: 'redeemed'; code: AuthorizationCode }
  | { outcome: 'replayed'; code: AuthorizationCode }
  | { outcome: 'unknown' };

export interface GrantStore {
  savePending(handleHash: string, pending: PendingAuthorization): Promise<void>;
  getPending(handleHash: string, now: number): Promise<PendingAuthorization | undefined>;
  /**
   * Records the logged-in user, once, with the scope the policy leaves them and the encrypted
   * upstream refresh token; false if the pending authorization is gone or already has a user.
   */
  setPendingIdentity(
    handleHash: string,
    login: { identity: UserIdentity; scope: string; upstreamToken?: string },
    csrfHash: string,
    now: number,
  ): Promise<boolean>;
  /** Removes and returns the pending authorization; exactly one caller gets it. */
  takePending(handleHash: string, now: number): Promise<PendingAuthorization | undefined>;

  /** Stores a new family, in its user's partition of the access index, and records the user's login. */
  createFamily(family: GrantFamily): Promise<void>;
  /**
   * Creates the family unless one with its id exists (expired or not): exactly one caller gets
   * true. The jwt-bearer grant derives the id from the assertion's `jti`, so this is its replay check.
   */
  createFamilyOnce(family: GrantFamily): Promise<boolean>;
  getFamily(familyId: string, now: number): Promise<GrantFamily | undefined>;
  /** Marks the family revoked and takes it out of the access index. */
  revokeFamily(familyId: string): Promise<void>;
  /** Records a refresh at `at` (epoch seconds) on the family, for the admin command's listing. */
  recordRefresh(familyId: string, at: number): Promise<void>;
  /**
   * Takes the family's upstream re-check for the caller: true for exactly one caller while the
   * family's last check is still `seenCheckedAt` and no other check began after `staleBefore`.
   */
  claimUpstreamCheck(
    familyId: string,
    seenCheckedAt: number | undefined,
    now: number,
    staleBefore: number,
  ): Promise<boolean>;
  /** Records a successful re-check and ends the claim. */
  recordUpstreamCheck(familyId: string, check: UpstreamCheck): Promise<void>;
  /** Ends a claim without a result (the upstream could not be reached). */
  releaseUpstreamCheck(familyId: string): Promise<void>;

  saveCode(codeHash: string, code: AuthorizationCode): Promise<void>;
  /** The code, used or not, until it expires. */
  getCode(codeHash: string, now: number): Promise<AuthorizationCode | undefined>;
  /** Marks the code used: exactly one caller gets `redeemed`; later ones get `replayed`. */
  redeemCode(codeHash: string, now: number): Promise<CodeRedemption>;

  saveRefreshToken(tokenHash: string, token: RefreshToken): Promise<void>;
  getRefreshToken(tokenHash: string, now: number): Promise<RefreshToken | undefined>;
  /** Marks the token rotated at `now` unless it already was; returns the time it was rotated. */
  markRotated(tokenHash: string, now: number): Promise<{ first: boolean; rotatedAt: number }>;

  /** The scopes the user approved for the client, if they did. */
  getConsent(clientId: string, subjectHash: string, now: number): Promise<string[] | undefined>;
  saveConsent(clientId: string, subjectHash: string, scopes: string[], expiresAt: number): Promise<void>;
}

const keys = {
  pending: (h: string) => ({ pk: `authz#${h}` }),
  family: (id: string) => ({ pk: `family#${id}` }),
  code: (h: string) => ({ pk: `code#${h}` }),
  refresh: (h: string) => ({ pk: `refresh#${h}` }),
  consent: (clientId: string, subjectHash: string) => ({ pk: `consent#${clientId}#${subjectHash}` }),
};

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;

/** Epoch seconds from epoch milliseconds. */
const seconds = (ms: number) => Math.floor(ms / 1000);

export class DynamoGrantStore implements GrantStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Told when a user's item of the access index could not be written (the grant stands). */
    private readonly onUserItemFailure?: (error: unknown) => void,
  ) {}

  private async put(item: Record<string, unknown>, condition = 'attribute_not_exists(pk)'): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: condition }),
    );
  }

  /** Reads an item, ignoring it once expired (DynamoDB's TTL deletes lazily). */
  private async get(key: { pk: string }, nowMs: number): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    if (!Item || (typeof Item.expiresAt === 'number' && Item.expiresAt <= seconds(nowMs))) return undefined;
    return Item;
  }

  async savePending(handleHash: string, pending: PendingAuthorization): Promise<void> {
    await this.put({ ...keys.pending(handleHash), type: 'pending', ...pending });
  }

  async getPending(handleHash: string, now: number): Promise<PendingAuthorization | undefined> {
    return (await this.get(keys.pending(handleHash), now)) as PendingAuthorization | undefined;
  }

  async setPendingIdentity(
    handleHash: string,
    login: { identity: UserIdentity; scope: string; upstreamToken?: string },
    csrfHash: string,
    now: number,
  ): Promise<boolean> {
    const token = login.upstreamToken !== undefined;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.pending(handleHash),
          UpdateExpression: `SET #identity = :identity, #csrf = :csrf, #request.#scope = :scope${
            token ? ', #upstream = :upstream' : ''
          }`,
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#identity) AND #exp > :now',
          ExpressionAttributeNames: {
            '#identity': 'identity',
            '#csrf': 'csrfHash',
            '#exp': 'expiresAt',
            '#request': 'request',
            '#scope': 'scope',
            ...(token ? { '#upstream': 'upstreamToken' } : {}),
          },
          ExpressionAttributeValues: {
            ':identity': login.identity,
            ':csrf': csrfHash,
            ':now': seconds(now),
            ':scope': login.scope,
            ...(token ? { ':upstream': login.upstreamToken } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async takePending(handleHash: string, now: number): Promise<PendingAuthorization | undefined> {
    try {
      const { Attributes } = await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.pending(handleHash),
          ConditionExpression: 'attribute_exists(pk) AND #exp > :now',
          ExpressionAttributeNames: { '#exp': 'expiresAt' },
          ExpressionAttributeValues: { ':now': seconds(now) },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes as PendingAuthorization | undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async createFamily(family: GrantFamily): Promise<void> {
    // The family and its user's item wait on nothing of each other: one round trip.
    await Promise.all([this.putFamily(family), this.recordUserGrant(family)]);
  }

  async createFamilyOnce(family: GrantFamily): Promise<boolean> {
    try {
      await this.putFamily(family);
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    // Only for a family this call created: a refused replay writes nothing.
    await this.recordUserGrant(family);
    return true;
  }

  private async putFamily(family: GrantFamily): Promise<void> {
    await this.put({
      ...keys.family(family.familyId),
      type: 'family',
      ...family,
      ...familyIndexAttributes(family),
    });
  }

  /**
   * The user's item lists them in `npm run admin -- users`. Best effort: if its write fails while
   * the family's succeeds, the grant works and is listed under its user's partition anyway, and
   * a request that failed here could not be retried (its code or ID-JAG would be spent).
   */
  private async recordUserGrant(family: GrantFamily): Promise<void> {
    await recordUserLogin(this.db, this.tableName, family.identity, family.createdAt, family.expiresAt).catch(
      (error: unknown) => {
        this.onUserItemFailure?.(error);
      },
    );
  }

  async getFamily(familyId: string, now: number): Promise<GrantFamily | undefined> {
    return (await this.get(keys.family(familyId), now)) as GrantFamily | undefined;
  }

  async revokeFamily(familyId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.family(familyId),
          // Out of the access index too: the index lists live grants only.
          UpdateExpression: 'SET #revoked = :true REMOVE #part, #changed',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: {
            '#revoked': 'revoked',
            '#part': MCP_READ_INDEX.partitionKey,
            '#changed': MCP_READ_INDEX.sortKey,
          },
          ExpressionAttributeValues: { ':true': true },
        }),
      );
    } catch (error) {
      // Already gone (expired or never written): nothing left to revoke.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async recordRefresh(familyId: string, at: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.family(familyId),
          UpdateExpression: 'SET #at = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#at': 'lastRefreshAt' },
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async claimUpstreamCheck(
    familyId: string,
    seenCheckedAt: number | undefined,
    now: number,
    staleBefore: number,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.family(familyId),
          UpdateExpression: 'SET #started = :now',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(#revoked) AND ' +
            `${seenCheckedAt === undefined ? 'attribute_not_exists(#checked)' : '#checked = :seen'} AND ` +
            '(attribute_not_exists(#started) OR #started < :stale)',
          ExpressionAttributeNames: {
            '#started': 'upstreamCheckStartedAt',
            '#checked': 'upstreamCheckedAt',
            '#revoked': 'revoked',
          },
          ExpressionAttributeValues: {
            ':now': now,
            ':stale': staleBefore,
            ...(seenCheckedAt === undefined ? {} : { ':seen': seenCheckedAt }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async recordUpstreamCheck(familyId: string, check: UpstreamCheck): Promise<void> {
    const token = check.upstreamToken !== undefined;
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.family(familyId),
        UpdateExpression: `SET #checked = :checked, #identity = :identity, #scope = :scope${
          token ? ', #upstream = :upstream' : ''
        } REMOVE #started`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: {
          '#checked': 'upstreamCheckedAt',
          '#identity': 'identity',
          '#scope': 'scope',
          '#started': 'upstreamCheckStartedAt',
          ...(token ? { '#upstream': 'upstreamToken' } : {}),
        },
        ExpressionAttributeValues: {
          ':checked': check.checkedAt,
          ':identity': check.identity,
          ':scope': check.scope,
          ...(token ? { ':upstream': check.upstreamToken } : {}),
        },
      }),
    );
  }

  async releaseUpstreamCheck(familyId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.family(familyId),
          UpdateExpression: 'REMOVE #started',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#started': 'upstreamCheckStartedAt' },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async saveCode(codeHash: string, code: AuthorizationCode): Promise<void> {
    await this.put({ ...keys.code(codeHash), type: 'code', ...code, used: false });
  }

  async getCode(codeHash: string, now: number): Promise<AuthorizationCode | undefined> {
    return (await this.get(keys.code(codeHash), now)) as AuthorizationCode | undefined;
  }

  async redeemCode(codeHash: string, now: number): Promise<CodeRedemption> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.code(codeHash),
          UpdateExpression: 'SET #used = :true',
          ConditionExpression: 'attribute_exists(pk) AND #used = :false AND #exp > :now',
          ExpressionAttributeNames: { '#used': 'used', '#exp': 'expiresAt' },
          ExpressionAttributeValues: { ':true': true, ':false': false, ':now': seconds(now) },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return { outcome: 'redeemed', code: Attributes as AuthorizationCode };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    // The code is unknown, expired or used. Only a used one is a replay (RFC 6749 §10.5).
    const item = await this.get(keys.code(codeHash), now);
    return item?.used === true
      ? { outcome: 'replayed', code: item as unknown as AuthorizationCode }
      : { outcome: 'unknown' };
  }

  async saveRefreshToken(tokenHash: string, token: RefreshToken): Promise<void> {
    await this.put({ ...keys.refresh(tokenHash), type: 'refresh', ...token });
  }

  async getRefreshToken(tokenHash: string, now: number): Promise<RefreshToken | undefined> {
    return (await this.get(keys.refresh(tokenHash), now)) as RefreshToken | undefined;
  }

  async markRotated(tokenHash: string, now: number): Promise<{ first: boolean; rotatedAt: number }> {
    const at = seconds(now);
    const { Attributes } = await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.refresh(tokenHash),
          UpdateExpression: 'SET #rotated = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#rotated)',
          ExpressionAttributeNames: { '#rotated': 'rotatedAt' },
          ExpressionAttributeValues: { ':at': at },
        }),
      )
      .then(() => ({ Attributes: undefined }))
      .catch(async (error: unknown) => {
        if (!isConditionFailure(error)) throw error;
        // Lost the race (or it was rotated before): report when the winner rotated it.
        const { Item } = await this.db.send(
          new GetCommand({ TableName: this.tableName, Key: keys.refresh(tokenHash), ConsistentRead: true }),
        );
        return { Attributes: Item ?? { rotatedAt: 0 } };
      });
    if (!Attributes) return { first: true, rotatedAt: at };
    return { first: false, rotatedAt: typeof Attributes.rotatedAt === 'number' ? Attributes.rotatedAt : 0 };
  }

  async getConsent(clientId: string, subjectHash: string, now: number): Promise<string[] | undefined> {
    const item = await this.get(keys.consent(clientId, subjectHash), now);
    return Array.isArray(item?.scopes) ? (item.scopes as string[]) : undefined;
  }

  async saveConsent(
    clientId: string,
    subjectHash: string,
    scopes: string[],
    expiresAt: number,
  ): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.consent(clientId, subjectHash), type: 'consent', scopes, expiresAt },
      }),
    );
  }
}
