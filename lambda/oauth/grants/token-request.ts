/** Checks shared by every grant: the requested resource (RFC 8707) and scope (RFC 6749 §3.3). */
import type { Config } from '../../shared/config.js';
import { InvalidScopeError, InvalidTargetError } from '../errors.js';
import { quote } from '../excerpt.js';

/**
 * The audience for a token request. Every `resource` must name this server's MCP resource
 * exactly; with none, the MCP resource is the audience.
 */
export function resolveAudience(resources: string[], config: Config): string {
  for (const resource of resources) {
    if (resource !== config.mcpResource) {
      throw new InvalidTargetError(`"resource" must be "${config.mcpResource}"`);
    }
  }
  return config.mcpResource;
}

/** The requested scope narrowed to what is allowed; all of `allowed` when nothing is requested. */
export function narrowScope(requested: string | null, allowed: string): string {
  const allowedSet = new Set(allowed.split(' ').filter(Boolean));
  if (requested === null) return [...allowedSet].join(' ');
  const wanted = [...new Set(requested.split(' ').filter(Boolean))];
  if (wanted.length === 0) throw new InvalidScopeError('"scope" is empty');
  const refused = wanted.filter((s) => !allowedSet.has(s));
  if (refused.length) throw new InvalidScopeError(`the client may not request ${quote(refused.join(' '))}`);
  return wanted.join(' ');
}
