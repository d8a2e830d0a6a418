/**
 * Synthesizes the stack for tests, offline: an environment-agnostic stack needs no account,
 * region or credentials. Bundling is real (esbuild) unless `bundle: false`.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { McpOAuthStack, type McpOAuthStackProps } from '../../lib/mcp-oauth-stack.js';

export interface Synthesized {
  app: App;
  stack: McpOAuthStack;
  template: Template;
  assembly: CloudAssembly;
}

export function synth(
  props: McpOAuthStackProps = {},
  options: { context?: Record<string, unknown>; bundle?: boolean } = {},
): Synthesized {
  const app = new App({
    context: { ...options.context, ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}) },
  });
  const stack = new McpOAuthStack(app, 'McpOAuth', props);
  const assembly = app.synth();
  return { app, stack, template: Template.fromStack(stack), assembly };
}

export type Resources = Record<
  string,
  { Type: string; Properties?: Record<string, any>; [key: string]: any }
>;

/** The logical id of the one resource of `type` whose id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1)
    throw new Error(`expected one ${type} starting with ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

/**
 * Every permission a role holds, as sorted `"<Effect> <action> <resource>"` lines, one per
 * action and resource, so that tests compare exact sets whatever way the statements are merged.
 */
export function rolePermissions(template: Template, roleId: string): string[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy') as Resources).filter((p) =>
    (p.Properties?.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
  );
  const lines = policies.flatMap((p) =>
    (p.Properties!.PolicyDocument.Statement as any[]).flatMap((s) =>
      [s.Action]
        .flat()
        .flatMap((action: string) =>
          [s.Resource].flat().map((resource: unknown) => `${s.Effect} ${action} ${JSON.stringify(resource)}`),
        ),
    ),
  );
  return [...new Set(lines)].sort();
}

export const ref = (id: string) => JSON.stringify({ Ref: id });
export const arnOf = (id: string) => JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] });

/**
 * The SDK call an `AwsCustomResource` makes on `event` (`Create`, `Update`, `Delete`), parsed:
 * the template holds it as an `Fn::Join` of JSON text and intrinsics, and each intrinsic that
 * stands for a whole JSON string comes back as itself (`{ Ref: ... }`).
 */
export function customResourceCall(resource: { Properties?: Record<string, any> }, event: string): any {
  const value = resource.Properties?.[event];
  if (typeof value === 'string') return JSON.parse(value);
  const parts: unknown[] = value['Fn::Join'][1];
  const intrinsics: unknown[] = [];
  const text = parts
    .map((part) => (typeof part === 'string' ? part : `@@${intrinsics.push(part) - 1}@@`))
    .join('');
  return JSON.parse(text, (_key, v) =>
    typeof v === 'string' && /^@@\d+@@$/.test(v) ? intrinsics[Number(v.slice(2, -2))] : v,
  );
}

/** The stack's own functions (oauth, mcp, rotate-keys), without the budget's deploy-time provider. */
export function serviceFunctions(template: Template): Resources {
  const all = template.findResources('AWS::Lambda::Function') as Resources;
  return Object.fromEntries(
    Object.entries(all).filter(([, fn]) => fn.Properties?.Environment?.Variables?.POWERTOOLS_SERVICE_NAME),
  );
}
