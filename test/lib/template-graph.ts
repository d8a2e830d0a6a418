/**
 * The dependency graph CloudFormation builds from a template: resource A depends on B when A's
 * properties, `UpdatePolicy` or `CreationPolicy` name B through `Ref`, `Fn::GetAtt` or `Fn::Sub`,
 * or when A's `DependsOn` lists B. CloudFormation refuses a template whose graph has a cycle
 * ("Circular dependency between resources").
 */

type Template = { [key: string]: any };

/** The resources `value` names, among `ids`. */
function references(value: unknown, ids: Set<string>, found: Set<string>, locals = new Set<string>()): void {
  if (Array.isArray(value)) {
    for (const item of value) references(item, ids, found, locals);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'Ref' && typeof inner === 'string') {
      if (ids.has(inner)) found.add(inner);
    } else if (key === 'Fn::GetAtt') {
      const target = Array.isArray(inner)
        ? inner[0]
        : typeof inner === 'string'
          ? inner.split('.')[0]
          : undefined;
      if (typeof target === 'string' && ids.has(target)) found.add(target);
      else references(inner, ids, found, locals);
    } else if (key === 'Fn::Sub') {
      const [text, variables] = Array.isArray(inner) ? inner : [inner, {}];
      const own = new Set([...locals, ...Object.keys((variables as object) ?? {})]);
      if (typeof text === 'string') {
        for (const [, name] of text.matchAll(/\$\{(?!!)([^}]+)\}/g)) {
          const target = name!.split('.')[0]!;
          if (!own.has(target) && ids.has(target)) found.add(target);
        }
      }
      references(variables, ids, found, locals);
    } else {
      references(inner, ids, found, locals);
    }
  }
}

/** Each resource's dependencies, by logical id. */
export function dependencyGraph(template: Template): Map<string, Set<string>> {
  const ids = new Set(Object.keys(template.Resources ?? {}));
  const graph = new Map<string, Set<string>>();
  for (const [id, resource] of Object.entries(
    template.Resources as Record<string, Record<string, unknown>>,
  )) {
    const found = new Set<string>();
    for (const part of ['Properties', 'UpdatePolicy', 'CreationPolicy'])
      references(resource[part], ids, found);
    for (const dependency of [resource.DependsOn ?? []].flat()) {
      if (typeof dependency === 'string' && ids.has(dependency)) found.add(dependency);
    }
    graph.set(id, found);
  }
  return graph;
}

/** Every cycle of the graph, one per strongly connected component, as a path of logical ids. */
export function dependencyCycles(template: Template): string[][] {
  const graph = dependencyGraph(template);
  // Tarjan's strongly connected components, iteratively: large templates stay off the call stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: [string, Iterator<string>][] = [];
    const enter = (node: string) => {
      index.set(node, next);
      low.set(node, next++);
      stack.push(node);
      onStack.add(node);
      work.push([node, graph.get(node)!.values()]);
    };
    enter(root);
    while (work.length) {
      const [node, edges] = work[work.length - 1]!;
      const edge = edges.next();
      if (!edge.done) {
        const target = edge.value;
        if (!index.has(target)) enter(target);
        else if (onStack.has(target)) low.set(node, Math.min(low.get(node)!, index.get(target)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]![0];
        low.set(parent, Math.min(low.get(parent)!, low.get(node)!));
      }
      if (low.get(node) === index.get(node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== node);
        if (component.length > 1 || graph.get(node)!.has(node)) components.push(component.reverse());
      }
    }
  }
  return components;
}
