import fc from 'fast-check';
import {
  applyScopePolicy,
  groupsFromClaims,
  MAX_GROUPS,
  parseScopePolicy,
  ScopePolicyError,
  type ScopePolicy,
} from '../../../lambda/shared/scope-policy.js';

const KNOWN = ['mcp:tools', 'mcp:resources', 'finance:tools'];
const POLICY: ScopePolicy = {
  claim: 'groups',
  scopes: { 'finance:tools': ['finance'], 'mcp:resources': ['readers'] },
};
const ALL = 'mcp:tools mcp:resources finance:tools';

describe('parseScopePolicy', () => {
  it('reads the policy, with the default claim when it names none', () => {
    expect(parseScopePolicy('{"scopes":{"finance:tools":["finance"]}}', KNOWN, 'SCOPE_POLICY')).toEqual({
      claim: 'groups',
      scopes: { 'finance:tools': ['finance'] },
    });
    expect(
      parseScopePolicy({ scopes: { 'finance:tools': ['finance'] } }, KNOWN, 'x', 'cognito:groups').claim,
    ).toBe('cognito:groups');
  });

  it.each([
    ['{', 'SCOPE_POLICY is not valid JSON'],
    ['[]', 'must be a JSON object'],
    ['{"scopes":{"admin":["a"]}}', 'names the unknown scope "admin"'],
    ['{"scopes":{"mcp:tools":[]}}', 'scope "mcp:tools" must list at least one group'],
    ['{"scopes":{"mcp:tools":"finance"}}', 'scope "mcp:tools" must list at least one group'],
    ['{"scopes":{"mcp:tools":["fin\\u0000ance"]}}', 'has an invalid group'],
    ['{"claim":7,"scopes":{}}', '"claim" must be a claim name'],
    ['{"scopes":{},"extra":1}', 'unknown field "extra"'],
  ])('refuses %s with a clear message', (text, message) => {
    const act = () => parseScopePolicy(text, KNOWN, 'SCOPE_POLICY');
    expect(act).toThrow(ScopePolicyError);
    expect(act).toThrow(message);
  });
});

describe('applyScopePolicy', () => {
  it('grants a listed scope to members of one of its groups only, and an unlisted scope to everyone', () => {
    expect(applyScopePolicy(POLICY, ALL, new Set(['finance']))).toEqual({
      granted: ['mcp:tools', 'finance:tools'],
      withheld: ['mcp:resources'],
    });
    expect(applyScopePolicy(POLICY, ALL, new Set())).toEqual({
      granted: ['mcp:tools'],
      withheld: ['mcp:resources', 'finance:tools'],
    });
    expect(applyScopePolicy(undefined, ALL, new Set()).granted).toEqual(ALL.split(' '));
  });

  it('reads the groups claim as an array or as a space-separated string', () => {
    expect(groupsFromClaims({ groups: ['finance', 'readers'] }, 'groups')).toEqual(
      new Set(['finance', 'readers']),
    );
    expect(groupsFromClaims({ groups: 'finance readers' }, 'groups')).toEqual(
      new Set(['finance', 'readers']),
    );
    expect(groupsFromClaims({ 'cognito:groups': ['finance'] }, 'cognito:groups')).toEqual(
      new Set(['finance']),
    );
  });
});

/** Claim values an upstream (or whoever controls a user's attributes there) could send. */
const hostileClaim = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.object(),
  fc.array(fc.anything(), { maxLength: 20 }),
  fc.string(),
  // Group names with control characters, padding, case changes, and separators around them.
  fc
    .tuple(
      fc.constantFrom('finance', 'readers'),
      fc.constantFrom('\u0000', '\n', '\t', ' ', '\u200b', '\u00a0', ''),
    )
    .map(([group, extra]) => [`${group}${extra}`, `${extra}${group.toUpperCase()}`]),
  fc.array(fc.constantFrom('finance\u0000', 'Finance', ' finance', 'finance\r\n', 'readers\u0085'), {
    maxLength: 5,
  }),
  fc.constant(Array.from({ length: 10_000 }, (_, i) => (i === 9_999 ? 'finance' : `group-${i}`))),
  fc.constant([['finance'], { finance: true }, 'readers\u0007']),
);

describe('hostile groups claims (generated)', () => {
  it('neither crash nor grant a restricted scope to a user who is not exactly a member', () => {
    fc.assert(
      fc.property(
        hostileClaim,
        fc.constantFrom('groups', 'cognito:groups', '__proto__', 'constructor'),
        (value, claim) => {
          // Act
          const groups = groupsFromClaims({ [claim]: value }, claim);
          const { granted } = applyScopePolicy({ ...POLICY, claim }, ALL, groups);

          // Assess: a restricted scope only for an exact, clean member string.
          const exact = (group: string) =>
            (typeof value === 'string' && value.split(' ').includes(group)) ||
            (Array.isArray(value) && value.length <= MAX_GROUPS && (value as unknown[]).includes(group));
          expect(granted.includes('finance:tools')).toBe(exact('finance'));
          expect(granted.includes('mcp:resources')).toBe(exact('readers'));
          expect(granted).toContain('mcp:tools');
        },
      ),
      { seed: 20261207, numRuns: 500 },
    );
  });

  it('grants nothing restricted from a claim of more than MAX_GROUPS entries, even with the group in it', () => {
    const huge = Array.from({ length: 10_000 }, (_, i) => (i === 0 ? 'finance' : `group-${i}`));
    expect(applyScopePolicy(POLICY, ALL, groupsFromClaims({ groups: huge }, 'groups')).granted).toEqual([
      'mcp:tools',
    ]);
  });

  it('does not read a claim from the prototype chain', () => {
    const policy = { ...POLICY, claim: 'toString' };
    expect(applyScopePolicy(policy, ALL, groupsFromClaims({}, 'toString')).granted).toEqual(['mcp:tools']);
  });
});
