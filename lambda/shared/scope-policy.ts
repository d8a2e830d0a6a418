/**
 * `SCOPE_POLICY` (stack setting `scopePolicy`): which upstream groups may hold which scopes.
 * `{"claim": "groups", "scopes": {"finance:tools": ["finance", "controllers"]}}`: a scope listed
 * is granted only to a user whose upstream `claim` (an array of strings, or one space-separated
 * string) holds one of its groups; a scope not listed is open to every user. Machine clients
 * (`client_credentials`) and trusted issuers are not users and are never subject to it.
 *
 * The claim comes from the upstream provider, so it is read defensively: only exact, whole
 * strings count as groups; a number, an object, a nested array or a string with control
 * characters grants nothing, and no amount of input can widen what the policy allows.
 */

export interface ScopePolicy {
  /** The ID token (or userinfo) claim that holds the user's groups. */
  claim: string;
  /** Scope → the groups whose members may hold it. */
  scopes: Record<string, string[]>;
}

export class ScopePolicyError extends Error {
  readonly code = 'ERR_SCOPE_POLICY';
}

/** The default claim: Cognito's when the stack's own user pool is the upstream, `groups` otherwise. */
export const COGNITO_GROUPS_CLAIM = 'cognito:groups';
export const DEFAULT_GROUPS_CLAIM = 'groups';

/** A group name as the policy may write it: printable, no spaces (the claim may be space-separated). */
const GROUP = /^[\x21-\x7E\u00A0-\uD7FF\uE000-\uFFFD]{1,128}$/;
const CLAIM = /^[\x21-\x7E]{1,128}$/;
/** More claim entries than this are not read: a user in more groups is refused the listed scopes. */
export const MAX_GROUPS = 1000;

/**
 * Parses and checks a policy: `value` is its JSON text or the object; `known` the server's scopes;
 * `name` what messages call the setting; `defaultClaim` the claim when the policy names none.
 */
export function parseScopePolicy(
  value: unknown,
  known: readonly string[],
  name: string,
  defaultClaim = DEFAULT_GROUPS_CLAIM,
): ScopePolicy {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ScopePolicyError(
        `${name} is not valid JSON; write {"claim": "groups", "scopes": {"<scope>": ["<group>", ...]}}`,
      );
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ScopePolicyError(`${name} must be a JSON object {"claim"?: string, "scopes": {...}}`);
  }
  const { claim = defaultClaim, scopes, ...rest } = parsed as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new ScopePolicyError(`${name} has an unknown field "${extra[0]}"`);
  if (typeof claim !== 'string' || !CLAIM.test(claim)) {
    throw new ScopePolicyError(`${name} "claim" must be a claim name (printable characters, no spaces)`);
  }
  if (typeof scopes !== 'object' || scopes === null || Array.isArray(scopes)) {
    throw new ScopePolicyError(`${name} "scopes" must be an object mapping each scope to its groups`);
  }
  const out: Record<string, string[]> = {};
  for (const [scope, groups] of Object.entries(scopes)) {
    if (!known.includes(scope)) {
      throw new ScopePolicyError(
        `${name} names the unknown scope "${scope}" (the server's scopes: ${known.join(', ')})`,
      );
    }
    if (!Array.isArray(groups) || groups.length === 0) {
      throw new ScopePolicyError(`${name} scope "${scope}" must list at least one group`);
    }
    for (const group of groups) {
      if (typeof group !== 'string' || !GROUP.test(group)) {
        throw new ScopePolicyError(
          `${name} scope "${scope}" has an invalid group ${JSON.stringify(group)} (1 to 128 printable characters, no spaces)`,
        );
      }
    }
    out[scope] = [...new Set(groups as string[])];
  }
  return { claim, scopes: out };
}

/** The user's groups from their claims; anything that is not a clean string is ignored. */
export function groupsFromClaims(claims: Record<string, unknown>, claim: string): Set<string> {
  const value = Object.prototype.hasOwnProperty.call(claims, claim) ? claims[claim] : undefined;
  const entries = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
  if (entries.length > MAX_GROUPS) return new Set();
  const groups = new Set<string>();
  for (const entry of entries) {
    if (typeof entry === 'string' && GROUP.test(entry)) groups.add(entry);
  }
  return groups;
}

/** Splits `scope` (space-separated) into what the user's groups allow and what they do not. */
export function applyScopePolicy(
  policy: ScopePolicy | undefined,
  scope: string,
  groups: Set<string>,
): { granted: string[]; withheld: string[] } {
  const granted: string[] = [];
  const withheld: string[] = [];
  for (const s of scope.split(' ').filter(Boolean)) {
    const needed =
      policy && Object.prototype.hasOwnProperty.call(policy.scopes, s) ? policy.scopes[s] : undefined;
    if (!needed || needed.some((group) => groups.has(group))) granted.push(s);
    else withheld.push(s);
  }
  return { granted, withheld };
}
