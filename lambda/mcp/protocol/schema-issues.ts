/**
 * Schema issues as one line that names each failed field, for the error messages a client or a
 * model reads. Bounded: a hostile body can produce thousands of issues and very long keys, and
 * the message must not grow with them.
 */
import type * as z from 'zod/mini';

const MAX_ISSUES = 5;
const MAX_ISSUE_CHARS = 200;

function describeIssue(issue: z.core.$ZodIssue, root: string | undefined): string {
  const segments = [...(root === undefined ? [] : [root]), ...issue.path.map(String)];
  const path = segments.length > 0 ? segments.join('.') : '(root)';
  switch (issue.code) {
    case 'invalid_type':
      return `${path}: expected ${issue.expected}`;
    case 'unrecognized_keys':
      return `${path}: unknown keys ${issue.keys
        .slice(0, MAX_ISSUES)
        .map((k) => JSON.stringify(k))
        .join(', ')}`;
    case 'too_small':
      return `${path}: must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `${path}: must be at most ${String(issue.maximum)}`;
    default:
      return `${path}: ${issue.message}`;
  }
}

/** `a: expected number; b: unknown keys "c"`, paths prefixed with `root` when given. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root?: string): string {
  const lines = issues.slice(0, MAX_ISSUES).map((issue) => {
    const line = describeIssue(issue, root);
    return line.length > MAX_ISSUE_CHARS ? `${line.slice(0, MAX_ISSUE_CHARS)}…` : line;
  });
  if (issues.length > MAX_ISSUES) lines.push(`and ${issues.length - MAX_ISSUES} more`);
  return lines.join('; ');
}
