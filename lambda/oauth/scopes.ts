/** What each scope lets a client do, in words a user can judge on the consent page. */
const DESCRIPTIONS: Record<string, (resource: string) => string> = {
  'mcp:tools': (resource) => `Use the tools of ${resource}, as you`,
  'mcp:resources': (resource) => `Read the resources of ${resource}`,
};

export function describeScope(scope: string, resourceName: string): string {
  return DESCRIPTIONS[scope]?.(resourceName) ?? `Use the "${scope}" permission of ${resourceName}`;
}
