/**
 * Every documented way to deploy the stack, synthesized as `cdk synth` would (bundling off: the
 * template is the same but for asset hashes). The template tests (cfn-lint, the dependency graph)
 * run over all of them, so a setting that adds or removes resources belongs here.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { McpOAuthStack, type McpOAuthStackProps } from '../../lib/mcp-oauth-stack.js';
import { applyStage, STAGES_DIR } from '../../lib/stages.js';

export interface Variant {
  /** What it is, as a sentence fragment. */
  readonly name: string;
  readonly props?: McpOAuthStackProps;
  /** A stage file of the repository (`stages/<file>`), deployed with `-c stageConfig=<name>`. */
  readonly stageFile?: string;
}

export interface SynthesizedVariant {
  readonly name: string;
  /** The region the stack is bound to (a stage file's), or undefined when environment-agnostic. */
  readonly region?: string;
  readonly template: Record<string, any>;
}

const REGIONAL_CERTIFICATE =
  'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';
const CLOUDFRONT_CERTIFICATE = REGIONAL_CERTIFICATE.replace('eu-west-1', 'us-east-1');

export const VARIANTS: readonly Variant[] = [
  { name: 'default' },
  { name: 'canary off', props: { canaryIntervalMinutes: 0 } },
  { name: 'cloudFrontWaf', props: { cloudFrontWaf: true } },
  {
    name: 'cloudFrontWaf with a custom domain',
    props: {
      cloudFrontWaf: true,
      customDomainName: 'mcp.example.com',
      customDomainCertificateArn: CLOUDFRONT_CERTIFICATE,
    },
  },
  { name: 'safeRollouts', props: { safeRollouts: true } },
  { name: 'stages/prod.json.example', stageFile: 'prod.json.example' },
  { name: 'stages/dev.json', stageFile: 'dev.json' },
  {
    name: 'a regional custom domain',
    props: { customDomainName: 'mcp.example.com', customDomainCertificateArn: REGIONAL_CERTIFICATE },
  },
  {
    name: 'another OpenID provider',
    props: {
      upstreamIssuer: 'https://login.example.com',
      upstreamClientId: 'mcp-server',
      upstreamClientSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp-upstream-AbCdEf',
    },
  },
  { name: 'cognitoMachineClient', props: { cognitoMachineClient: true } },
  {
    name: 'a scope policy (Cognito groups)',
    props: { scopePolicy: { scopes: { 'mcp:resources': ['readers', 'finance'] } } },
  },
  { name: 'a Cognito domain prefix', props: { cognitoDomainPrefix: 'acme-mcp-login' } },
  { name: 'no budget', props: { monthlyBudgetUsd: 0 } },
  { name: 'open registration (no initial access token)', props: { registrationPolicy: 'open' } },
  { name: 'tracing and FIPS endpoints', props: { tracing: true, fipsEndpoints: true } },
  {
    name: 'a production stage with an alarm email, an existing topic and a break-glass role',
    props: {
      stage: 'prod',
      owner: 'platform-team@example.com',
      alarmEmail: 'ops@example.com',
      alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:ops-alerts',
      breakGlassRoleArn: 'arn:aws:iam::123456789012:role/BreakGlass',
    },
  },
  {
    name: 'every option at once',
    props: {
      stage: 'prod',
      alarmEmail: 'ops@example.com',
      cloudFrontWaf: true,
      safeRollouts: true,
      canaryIntervalMinutes: 5,
      cognitoMachineClient: true,
      tracing: true,
      removalPolicy: 'destroy',
      oauthReservedConcurrency: 20,
      mcpReservedConcurrency: 200,
      trustedIssuers: [
        {
          issuer: 'https://issuer.example.com',
          audiences: ['mcp'],
          scopeMap: { 'mcp/tools': ['mcp:tools'] },
        },
      ],
    },
  },
];

/** Synthesizes one variant; a stage file is read from a copy, as a team's `stages/prod.json` would be. */
export function synthVariant(variant: Variant): SynthesizedVariant {
  const app = new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      ...(variant.stageFile ? { stageConfig: variant.stageFile.replace(/\.json.*$/, '') } : {}),
    },
  });
  let stackName = 'McpOAuth';
  let region: string | undefined;
  if (variant.stageFile) {
    const dir = mkdtempSync(join(tmpdir(), 'stage-'));
    writeFileSync(
      join(dir, variant.stageFile.replace('.example', '')),
      readFileSync(join(STAGES_DIR, variant.stageFile)),
    );
    const target = applyStage(app, dir);
    stackName = target.stackName;
    region = target.env?.region;
    const stack = new McpOAuthStack(app, stackName, { ...(target.env ? { env: target.env } : {}) });
    return { name: variant.name, region, template: app.synth().getStackByName(stack.stackName).template };
  }
  const stack = new McpOAuthStack(app, stackName, variant.props ?? {});
  return { name: variant.name, template: app.synth().getStackByName(stack.stackName).template };
}
