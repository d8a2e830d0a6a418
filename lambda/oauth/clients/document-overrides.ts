/**
 * Client ID metadata documents the operator supplies (`clientMetadataDocuments`, the oauth
 * function's `CLIENT_METADATA_DOCUMENTS`): a JSON object from a document's URL to the document
 * itself, for a document this server can never fetch (its host challenges requests from cloud
 * addresses). Each is held to every rule a fetched document is (`validateMetadataDocument`), at
 * synth and at start, and is then used for that URL without any fetch. A block
 * (`blockedClientMetadataDocuments`) still wins.
 */
import type { ClientMetadata } from './client-metadata.js';
import { validateMetadataDocument } from './client-resolver.js';
import { parseDocumentUrl } from './metadata-document-fetch.js';

export type DocumentOverrides = ReadonlyMap<string, ClientMetadata>;

export const NO_DOCUMENT_OVERRIDES: DocumentOverrides = new Map();

/**
 * Lambda allows 4 KB of environment variables in all, the others included: a few documents fit,
 * more must be fetched (or served from a host that answers Lambda).
 */
export const MAX_DOCUMENT_OVERRIDES_LENGTH = 3000;

/** Parses and validates the setting; throws an `Error` whose message names `name` and the URL. */
export function parseDocumentOverrides(
  raw: string | undefined,
  scopesSupported: readonly string[],
  name = 'CLIENT_METADATA_DOCUMENTS',
): DocumentOverrides {
  if (raw === undefined || raw.trim() === '') return NO_DOCUMENT_OVERRIDES;
  if (raw.length > MAX_DOCUMENT_OVERRIDES_LENGTH)
    throw new Error(
      `${name} is longer than ${MAX_DOCUMENT_OVERRIDES_LENGTH} characters; Lambda allows 4 KB of environment in all`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`${name} must be a JSON object from document URL to document`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${name} must be a JSON object from document URL to document`);
  const overrides = new Map<string, ClientMetadata>();
  for (const [url, document] of Object.entries(parsed)) {
    try {
      parseDocumentUrl(url);
      overrides.set(url, validateMetadataDocument(url, document, scopesSupported));
    } catch (error) {
      throw new Error(`${name}: the document for ${JSON.stringify(url)}: ${(error as Error).message}`);
    }
  }
  return overrides;
}
