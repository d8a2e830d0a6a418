/**
 * Client ID metadata document clients an operator has blocked (`blockedClientMetadataDocuments`,
 * `BLOCKED_CLIENT_METADATA_DOCUMENTS`). A URL client has no record to delete, so without this
 * nothing could end a misbehaving one's access: a blocked document URL, or every document of a
 * blocked host, is refused at `/authorize` and `/token` (so its refresh tokens stop too), and its
 * access tokens are refused at `/mcp` as soon as the functions run with the setting.
 *
 * An entry is either a document URL (`https://app.example.com/oauth/client.json`, matched exactly
 * as the client id) or a host name (`app.example.com`, matching every document served from that
 * host, in any letter case). Comma-separated.
 */

export interface BlockedClients {
  /** Document URLs, as `URL.href`. */
  readonly urls: readonly string[];
  /** Host names, lower case. */
  readonly hosts: readonly string[];
}

export const NO_BLOCKED_CLIENTS: BlockedClients = { urls: [], hosts: [] };

/** A host name: labels of letters, digits and hyphens, with at least one dot. */
const HOST = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Parses the setting; a problem is thrown as an `Error` whose message names the entry. */
export function parseBlockedClients(raw: string | undefined, name: string): BlockedClients {
  const urls: string[] = [];
  const hosts: string[] = [];
  for (const entry of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (entry.includes('://')) {
      let url: URL;
      try {
        url = new URL(entry);
      } catch {
        throw new Error(`${name} has "${entry}", which is not a URL`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new Error(`${name} has "${entry}": a client metadata document URL is https`);
      }
      urls.push(url.href);
    } else if (HOST.test(entry.toLowerCase())) {
      hosts.push(entry.toLowerCase());
    } else {
      throw new Error(
        `${name} has "${entry}", which is neither a document URL (https://…) nor a host name (app.example.com)`,
      );
    }
  }
  return { urls, hosts };
}

/** Whether `clientId`, a document URL, is blocked; a registered client's id never is. */
export function isBlockedClient(clientId: string, blocked: BlockedClients): boolean {
  if (blocked.urls.length === 0 && blocked.hosts.length === 0) return false;
  if (!/^https?:\/\//i.test(clientId)) return false;
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return false;
  }
  return blocked.urls.includes(url.href) || blocked.hosts.includes(url.hostname.toLowerCase());
}
