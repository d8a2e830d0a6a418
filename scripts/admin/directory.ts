/**
 * What the admin command reads: registered clients, users with live grants, and grant families,
 * from the access index (`lambda/oauth/stores/access-index.ts`) a page at a time, with the details
 * of each page fetched by key (`BatchGetItem`, at most 100 keys a call). Nothing here scans the
 * table except `backfillAccessIndex`, which runs once on a table written before the index.
 *
 * A grant is live when its family exists, is not revoked or expired, was not revoked with its
 * user (`revoked#user#<sub>` set at or after its login) and its client still exists. Nothing read
 * here is a token or a hash of one: the families' and clients' hashes are never requested.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { CLIENT_ID_PATTERN } from '../../lambda/oauth/stores/client-store.js';
import {
  ACCESS_INDEX,
  clientIndexAttributes,
  familyIndexAttributes,
  recordUserLogin,
} from '../../lambda/oauth/stores/access-index.js';
import type { GrantFamily } from '../../lambda/oauth/stores/grant-store.js';
import { MCP_READ_INDEX, revocationKey } from '../../lambda/shared/revocations.js';

export interface AdminTable {
  db: DynamoDBDocumentClient;
  tableName: string;
  /** Epoch milliseconds. */
  now: () => number;
}

type Item = Record<string, any>;

/** A registered client, or a client ID metadata document client seen in a live grant. */
export interface ClientRow {
  clientId: string;
  name: string | null;
  kind: 'machine' | 'interactive' | 'metadata-document';
  redirectHosts: string[];
  /** Epoch seconds; null for a metadata document client (never registered here). */
  createdAt: number | null;
  lastUsedAt: number | null;
  liveGrants: number;
}

export interface GrantRow {
  grantId: string;
  sub: string;
  name: string | null;
  email: string | null;
  clientId: string;
  clientName: string | null;
  scope: string;
  audience: string;
  createdAt: number;
  lastRefreshAt: number | null;
  upstreamCheckedAt: number | null;
  expiresAt: number;
}

export interface UserRow {
  sub: string;
  name: string | null;
  email: string | null;
  grants: number;
  clients: string[];
  lastLoginAt: number | null;
}

/** The item that says the access index holds everything written before it (`backfillAccessIndex`). */
export const ACCESS_INDEX_READY_KEY = 'meta#access-index';

const PAGE = 100;

/**
 * The attributes read by key: never a client's `secretHash` or `registrationTokenHash`, which no
 * listing shows, so they never leave the table.
 */
const READ_ATTRIBUTES = [
  'pk',
  'type',
  'clientId',
  'metadata',
  'issuedAt',
  'lastLoginAt',
  'expiresAt',
  'familyId',
  'identity',
  'scope',
  'audience',
  'createdAt',
  'lastRefreshAt',
  'upstreamCheckedAt',
  'revoked',
  'sub',
  'name',
  'email',
  'notBefore',
];
const PROJECTION = {
  ProjectionExpression: READ_ATTRIBUTES.map((_, i) => `#r${i}`).join(', '),
  ExpressionAttributeNames: Object.fromEntries(READ_ATTRIBUTES.map((name, i) => [`#r${i}`, name])),
};
const seconds = (ms: number) => Math.floor(ms / 1000);
const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** One partition of the access index, a page of at most 100 items at a time, expired items left out. */
async function* indexPages(t: AdminTable, partition: string): AsyncGenerator<Item[]> {
  let start: Item | undefined;
  do {
    const page = await t.db.send(
      new QueryCommand({
        TableName: t.tableName,
        IndexName: MCP_READ_INDEX.name,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': MCP_READ_INDEX.partitionKey },
        ExpressionAttributeValues: { ':p': partition },
        Limit: PAGE,
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    const nowSeconds = seconds(t.now());
    const items = (page.Items ?? []).filter(
      (item) => typeof item.expiresAt !== 'number' || item.expiresAt > nowSeconds,
    );
    if (items.length) yield items;
    start = page.LastEvaluatedKey;
  } while (start);
}

/** Items by key (`pk`), 100 keys a call, retrying what DynamoDB leaves unprocessed. */
export async function getItems(t: AdminTable, keys: string[]): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  const unique = [...new Set(keys)];
  for (let i = 0; i < unique.length; i += PAGE) {
    let request: Item[] | undefined = unique.slice(i, i + PAGE).map((pk) => ({ pk }));
    for (let attempt = 0; request?.length; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
      const output: BatchGetCommandOutput = await t.db.send(
        new BatchGetCommand({
          RequestItems: { [t.tableName]: { Keys: request, ConsistentRead: true, ...PROJECTION } },
        }),
      );
      for (const item of output.Responses?.[t.tableName] ?? []) found.set(item.pk, item);
      request = output.UnprocessedKeys?.[t.tableName]?.Keys;
    }
  }
  return found;
}

const isMetadataDocumentId = (clientId: string) => !CLIENT_ID_PATTERN.test(clientId);

function redirectHosts(uris: unknown): string[] {
  if (!Array.isArray(uris)) return [];
  const hosts = uris.map((uri) => {
    try {
      const url = new URL(String(uri));
      return url.host || `${url.protocol}`;
    } catch {
      return '?';
    }
  });
  return [...new Set(hosts)];
}

/** The live registered client of an item, or undefined (gone or expired). */
function clientRow(item: Item | undefined, nowSeconds: number): Omit<ClientRow, 'liveGrants'> | undefined {
  if (!item || item.type !== 'client') return undefined;
  if (typeof item.expiresAt === 'number' && item.expiresAt <= nowSeconds) return undefined;
  const metadata = (item.metadata ?? {}) as Item;
  const grantTypes: unknown[] = Array.isArray(metadata.grant_types) ? metadata.grant_types : [];
  return {
    clientId: item.clientId,
    name: text(metadata.client_name),
    kind: grantTypes.includes('client_credentials') ? 'machine' : 'interactive',
    redirectHosts: redirectHosts(metadata.redirect_uris),
    createdAt: num(item.issuedAt),
    lastUsedAt: num(item.lastLoginAt),
  };
}

/** Whether a family item is a live grant (see the file comment), given its user's marker. */
function isLive(family: Item | undefined, userNotBefore: number | undefined, nowSeconds: number): boolean {
  if (!family || family.type !== 'family' || family.revoked === true) return false;
  if (typeof family.expiresAt !== 'number' || family.expiresAt <= nowSeconds) return false;
  return userNotBefore === undefined || family.createdAt * 1000 > userNotBefore;
}

/** The user markers (`revokeUser`) of some users, by `sub`. */
async function userMarkers(t: AdminTable, subs: string[]): Promise<Map<string, number>> {
  const items = await getItems(
    t,
    subs.map((sub) => revocationKey({ user: sub })),
  );
  const nowSeconds = seconds(t.now());
  const markers = new Map<string, number>();
  for (const sub of subs) {
    const item = items.get(revocationKey({ user: sub }));
    if (typeof item?.notBefore === 'number' && !(item.expiresAt <= nowSeconds))
      markers.set(sub, item.notBefore);
  }
  return markers;
}

/** The live families of the given users, as items, with their clients checked. */
async function liveFamiliesOf(
  t: AdminTable,
  subs: string[],
  clients: Map<string, Item | undefined>,
): Promise<Item[]> {
  const markers = await userMarkers(t, subs);
  const keys: string[] = [];
  for (const sub of subs) {
    for await (const page of indexPages(t, ACCESS_INDEX.grantsOf(sub))) keys.push(...page.map((i) => i.pk));
  }
  const nowSeconds = seconds(t.now());
  const families = [...(await getItems(t, keys)).values()].filter((family) =>
    isLive(family, markers.get(family.identity?.sub), nowSeconds),
  );
  const unknown = families
    .map((family) => family.clientId as string)
    .filter((id) => !isMetadataDocumentId(id) && !clients.has(id));
  const fetched = await getItems(
    t,
    unknown.map((id) => `client#${id}`),
  );
  for (const id of new Set(unknown)) clients.set(id, fetched.get(`client#${id}`));
  return families.filter(
    (family) => isMetadataDocumentId(family.clientId) || clientRow(clients.get(family.clientId), nowSeconds),
  );
}

function grantRow(family: Item, clients: Map<string, Item | undefined>): GrantRow {
  const client = clients.get(family.clientId);
  return {
    grantId: family.familyId,
    sub: family.identity.sub,
    name: text(family.identity.name),
    email: text(family.identity.email),
    clientId: family.clientId,
    clientName: text(client?.metadata?.client_name),
    scope: family.scope,
    audience: family.audience,
    createdAt: family.createdAt,
    lastRefreshAt: num(family.lastRefreshAt),
    upstreamCheckedAt: num(family.upstreamCheckedAt),
    expiresAt: family.expiresAt,
  };
}

/** Every user with an item in the access index, a page at a time (their items, by key). */
async function* userPages(t: AdminTable): AsyncGenerator<Item[]> {
  for await (const page of indexPages(t, ACCESS_INDEX.users)) {
    const items = await getItems(
      t,
      page.map((i) => i.pk),
    );
    yield page.map((i) => items.get(i.pk)).filter((item): item is Item => item?.type === 'user');
  }
}

/** Live grants, of one user or of everyone, optionally of one client only; oldest login first. */
export async function listGrants(
  t: AdminTable,
  filter: { sub?: string; clientId?: string } = {},
): Promise<GrantRow[]> {
  const clients = new Map<string, Item | undefined>();
  const rows: GrantRow[] = [];
  const add = (families: Item[]) => {
    for (const family of families) {
      if (filter.clientId === undefined || family.clientId === filter.clientId)
        rows.push(grantRow(family, clients));
    }
  };
  if (filter.sub !== undefined) add(await liveFamiliesOf(t, [filter.sub], clients));
  else {
    for await (const users of userPages(t))
      add(
        await liveFamiliesOf(
          t,
          users.map((u) => u.sub),
          clients,
        ),
      );
  }
  return rows.sort((a, b) => a.createdAt - b.createdAt || a.grantId.localeCompare(b.grantId));
}

/** Users with at least one live grant, with how many and through which clients. */
export async function listUsers(t: AdminTable): Promise<UserRow[]> {
  const clients = new Map<string, Item | undefined>();
  const rows: UserRow[] = [];
  for await (const users of userPages(t)) {
    const families = await liveFamiliesOf(
      t,
      users.map((u) => u.sub),
      clients,
    );
    for (const user of users) {
      const own = families.filter((family) => family.identity.sub === user.sub);
      if (own.length === 0) continue;
      rows.push({
        sub: user.sub,
        name: text(user.name),
        email: text(user.email),
        grants: own.length,
        clients: [...new Set(own.map((family) => family.clientId as string))].sort(),
        lastLoginAt: num(user.lastLoginAt),
      });
    }
  }
  return rows.sort((a, b) => a.sub.localeCompare(b.sub));
}

/** Registered clients (and metadata document clients with live grants), with their live grants. */
export async function listClients(t: AdminTable): Promise<ClientRow[]> {
  const grants = await listGrants(t);
  const counts = new Map<string, number>();
  for (const grant of grants) counts.set(grant.clientId, (counts.get(grant.clientId) ?? 0) + 1);
  const nowSeconds = seconds(t.now());
  const rows: ClientRow[] = [];
  for await (const page of indexPages(t, ACCESS_INDEX.clients)) {
    const items = await getItems(
      t,
      page.map((i) => i.pk),
    );
    for (const entry of page) {
      const row = clientRow(items.get(entry.pk), nowSeconds);
      if (row) rows.push({ ...row, liveGrants: counts.get(row.clientId) ?? 0 });
    }
  }
  for (const [clientId, liveGrants] of counts) {
    if (!isMetadataDocumentId(clientId)) continue;
    rows.push({
      clientId,
      name: null,
      kind: 'metadata-document',
      redirectHosts: [],
      createdAt: null,
      lastUsedAt: null,
      liveGrants,
    });
  }
  return rows;
}

/** A registered client, live, or undefined. */
export async function getClient(t: AdminTable, clientId: string): Promise<ClientRow | undefined> {
  if (!CLIENT_ID_PATTERN.test(clientId)) return undefined;
  const item = (await getItems(t, [`client#${clientId}`])).get(`client#${clientId}`);
  const row = clientRow(item, seconds(t.now()));
  return row && { ...row, liveGrants: 0 };
}

/** One grant family, live, or undefined. */
export async function getGrant(t: AdminTable, grantId: string): Promise<GrantRow | undefined> {
  const family = (await getItems(t, [`family#${grantId}`])).get(`family#${grantId}`);
  if (!family?.identity?.sub) return undefined;
  const clients = new Map<string, Item | undefined>();
  const live = await liveFamiliesOf(t, [family.identity.sub], clients);
  const found = live.find((item) => item.familyId === grantId);
  return found && grantRow(found, clients);
}

/** Whether the access index holds everything written before it (the backfill ran). */
export async function isAccessIndexReady(t: AdminTable): Promise<boolean> {
  const { Item } = await t.db.send(
    new GetCommand({ TableName: t.tableName, Key: { pk: ACCESS_INDEX_READY_KEY }, ConsistentRead: true }),
  );
  return Item !== undefined;
}

const ignoreConditionFailure = (error: unknown) => {
  if (!(error instanceof ConditionalCheckFailedException)) throw error;
};

/**
 * Adds to the access index the clients and live grant families written before it existed, then
 * records that it did (`ACCESS_INDEX_READY_KEY`). Idempotent: each write is conditional on the
 * item not being indexed yet, and a user's item only moves to a later login.
 */
export async function backfillAccessIndex(t: AdminTable): Promise<{ clients: number; grants: number }> {
  const counts = { clients: 0, grants: 0 };
  const nowSeconds = seconds(t.now());
  let start: Item | undefined;
  do {
    const page = await t.db.send(
      new ScanCommand({
        TableName: t.tableName,
        FilterExpression: '(#type = :client OR #type = :family) AND attribute_not_exists(#part)',
        ExpressionAttributeNames: { '#type': 'type', '#part': MCP_READ_INDEX.partitionKey },
        ExpressionAttributeValues: { ':client': 'client', ':family': 'family' },
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    for (const item of page.Items ?? []) {
      if (typeof item.expiresAt === 'number' && item.expiresAt <= nowSeconds) continue;
      if (item.type === 'client') {
        await indexItem(t, item.pk, clientIndexAttributes(item.clientId, item.issuedAt));
        counts.clients++;
      } else if (item.revoked !== true && item.identity?.sub) {
        await indexItem(t, item.pk, familyIndexAttributes(item as GrantFamily));
        await recordUserLogin(t.db, t.tableName, item.identity, item.createdAt, item.expiresAt);
        counts.grants++;
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
  await t.db.send(
    new PutCommand({
      TableName: t.tableName,
      Item: { pk: ACCESS_INDEX_READY_KEY, type: 'meta', backfilledAt: nowSeconds },
    }),
  );
  return counts;
}

async function indexItem(t: AdminTable, pk: string, attributes: Record<string, string | number>) {
  const [part, changed] = [MCP_READ_INDEX.partitionKey, MCP_READ_INDEX.sortKey];
  await t.db
    .send(
      new UpdateCommand({
        TableName: t.tableName,
        Key: { pk },
        UpdateExpression: 'SET #part = :part, #changed = :changed',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#part)',
        ExpressionAttributeNames: { '#part': part, '#changed': changed },
        ExpressionAttributeValues: { ':part': attributes[part], ':changed': attributes[changed] },
      }),
    )
    .catch(ignoreConditionFailure);
}
