/**
 * The admin command's output: a table for people, or with `--json` one JSON object whose field
 * names are part of the interface (doc/operations.md lists them). Times are ISO 8601 in UTC, or
 * null when unknown. Nothing printed is a token or a hash of one: the rows hold none.
 */
import type { ClientRow, GrantRow, UserRow } from './directory.js';

export type Listing =
  | { kind: 'clients'; rows: ClientRow[] }
  | { kind: 'grants'; rows: GrantRow[] }
  | { kind: 'users'; rows: UserRow[] }
  | {
      kind: 'revoked';
      target: 'user' | 'client' | 'grant';
      id: string;
      /** The live grants that were revoked with it. */
      rows: GrantRow[];
      note?: string;
    };

const iso = (epochSeconds: number | null) =>
  epochSeconds === null ? null : new Date(epochSeconds * 1000).toISOString();

const clientJson = (row: ClientRow) => ({
  clientId: row.clientId,
  name: row.name,
  kind: row.kind,
  redirectHosts: row.redirectHosts,
  createdAt: iso(row.createdAt),
  lastUsedAt: iso(row.lastUsedAt),
  liveGrants: row.liveGrants,
});

const grantJson = (row: GrantRow) => ({
  grantId: row.grantId,
  sub: row.sub,
  name: row.name,
  email: row.email,
  clientId: row.clientId,
  clientName: row.clientName,
  scope: row.scope,
  audience: row.audience,
  createdAt: iso(row.createdAt),
  lastRefreshAt: iso(row.lastRefreshAt),
  upstreamCheckedAt: iso(row.upstreamCheckedAt),
  expiresAt: iso(row.expiresAt),
});

const userJson = (row: UserRow) => ({
  sub: row.sub,
  name: row.name,
  email: row.email,
  grants: row.grants,
  clients: row.clients,
  lastLoginAt: iso(row.lastLoginAt),
});

export function toJson(listing: Listing): Record<string, unknown> {
  switch (listing.kind) {
    case 'clients':
      return { clients: listing.rows.map(clientJson) };
    case 'grants':
      return { grants: listing.rows.map(grantJson) };
    case 'users':
      return { users: listing.rows.map(userJson) };
    case 'revoked':
      return {
        revoked: {
          target: listing.target,
          id: listing.id,
          grants: listing.rows.map(grantJson),
          ...(listing.note && { note: listing.note }),
        },
      };
  }
}

/** Columns padded to their widest cell; `-` for an unknown value. */
function table(header: string[], rows: Array<Array<string | number | null>>): string {
  const cells = [
    header,
    ...rows.map((row) => row.map((cell) => (cell === null || cell === '' ? '-' : String(cell)))),
  ];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return (
    cells
      .map((row) =>
        row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

const shortTime = (epochSeconds: number | null) => iso(epochSeconds)?.slice(0, 16).replace('T', ' ') ?? null;

function grantTable(rows: GrantRow[]): string {
  return table(
    [
      'GRANT',
      'USER',
      'NAME',
      'EMAIL',
      'CLIENT',
      'CLIENT NAME',
      'SCOPES',
      'CREATED',
      'LAST REFRESH',
      'UPSTREAM CHECK',
    ],
    rows.map((r) => [
      r.grantId,
      r.sub,
      r.name,
      r.email,
      r.clientId,
      r.clientName,
      r.scope,
      shortTime(r.createdAt),
      shortTime(r.lastRefreshAt),
      shortTime(r.upstreamCheckedAt),
    ]),
  );
}

export function render(listing: Listing, json: boolean): string {
  if (json) return JSON.stringify(toJson(listing), null, 2) + '\n';
  switch (listing.kind) {
    case 'clients':
      if (listing.rows.length === 0) return 'No clients.\n';
      return table(
        ['CLIENT', 'NAME', 'KIND', 'REDIRECT HOSTS', 'CREATED', 'LAST USED', 'LIVE GRANTS'],
        listing.rows.map((r) => [
          r.clientId,
          r.name,
          r.kind,
          r.redirectHosts.join(','),
          shortTime(r.createdAt),
          shortTime(r.lastUsedAt),
          r.liveGrants,
        ]),
      );
    case 'grants':
      return listing.rows.length === 0 ? 'No live grants.\n' : grantTable(listing.rows);
    case 'users':
      if (listing.rows.length === 0) return 'No users with live grants.\n';
      return table(
        ['USER', 'NAME', 'EMAIL', 'GRANTS', 'CLIENTS', 'LAST LOGIN'],
        listing.rows.map((r) => [
          r.sub,
          r.name,
          r.email,
          r.grants,
          r.clients.join(','),
          shortTime(r.lastLoginAt),
        ]),
      );
    case 'revoked': {
      const head = `Revoked ${listing.target} ${listing.id}: ${listing.rows.length} live grant${listing.rows.length === 1 ? '' : 's'}${listing.rows.length ? ':' : '.'}\n`;
      return (
        head +
        (listing.rows.length ? grantTable(listing.rows) : '') +
        (listing.note ? `Note: ${listing.note}\n` : '')
      );
    }
  }
}
