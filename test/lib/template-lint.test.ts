/**
 * Every documented variant's template, as CloudFormation would receive it, checked by `cfn-lint`
 * (AWS's linter, which knows each region's resource types and property schemas) for a region with
 * every service and for one without AWS Budgets, and walked for dependency cycles. A template that
 * fails here fails `npx cdk deploy` before any resource is created.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dependencyCycles } from './template-graph.js';
import { synthVariant, VARIANTS, type SynthesizedVariant } from './variants.js';

/** A region with every service this stack uses, and one where `AWS::Budgets::Budget` does not exist. */
export const LINT_REGIONS = ['us-east-1', 'eu-north-1'] as const;

/**
 * Findings of cfn-lint that are not defects of the template, each with its reason. A finding is
 * accepted only where rule, region and resource type all match.
 */
export const ACCEPTED_FINDINGS: readonly {
  rule: string;
  regions?: readonly string[];
  resourceType?: string;
  reason: string;
}[] = [
  {
    rule: 'E3002',
    regions: ['us-east-1'],
    resourceType: 'AWS::CloudWatch::Dashboard',
    reason:
      "cfn-lint 1.51's us-east-1 schema refuses Tags on AWS::CloudWatch::Dashboard; every other region's schema " +
      'and CloudFormation itself accept them (the dashboard is tagged like every other resource).',
  },
  {
    rule: 'W3005',
    reason:
      'The CDK writes DependsOn on a role (and its policy) beside the Fn::GetAtt that already orders them, so ' +
      'the policy exists before a function is created; the extra edge is redundant, never wrong.',
  },
];

interface Finding {
  Rule: { Id: string };
  Level: string;
  Message: string;
  Filename: string;
  Location: { Path: (string | number)[] };
}

function cfnLintVersion(): string {
  const result = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(
      'cfn-lint is not installed, so no template can be checked: install it (pip install cfn-lint==1.51.0) ' +
        'and run the tests again. These tests never skip.',
    );
  }
  return result.stdout.trim();
}

const accepted = (finding: Finding, region: string, type: string | undefined) =>
  ACCEPTED_FINDINGS.some(
    (a) =>
      a.rule === finding.Rule.Id &&
      (!a.regions || a.regions.includes(region)) &&
      (!a.resourceType || a.resourceType === type),
  );

function lint(variants: readonly SynthesizedVariant[], region: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'cfn-lint-'));
  const files = variants.map((variant, i) => {
    const file = join(dir, `${i}.json`);
    writeFileSync(file, JSON.stringify(variant.template));
    return file;
  });
  let output: string;
  try {
    output = execFileSync('cfn-lint', ['--format', 'json', '--regions', region, '--', ...files], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    // cfn-lint exits non-zero when it finds something; its report is still on stdout.
    output = (error as { stdout?: string }).stdout ?? '';
    if (!output.trim().startsWith('[')) throw error;
  }
  return (JSON.parse(output) as Finding[]).flatMap((finding) => {
    const variant = variants[files.indexOf(finding.Filename)]!;
    const path = finding.Location.Path;
    const type = path[0] === 'Resources' ? variant.template.Resources[path[1] as string]?.Type : undefined;
    if (accepted(finding, region, type)) return [];
    return [`${variant.name} (${region}): ${finding.Rule.Id} ${path.join('/')}: ${finding.Message}`];
  });
}

/** cfn-lint reads a few MB of schemas per run and checks some 150 resources per template. */
const LINT_TIMEOUT_MS = 240_000;

let variants: SynthesizedVariant[];

beforeAll(() => {
  cfnLintVersion();
  variants = VARIANTS.map(synthVariant);
}, LINT_TIMEOUT_MS);

describe('cfn-lint over every documented variant', () => {
  it('is installed (the template tests never skip)', () => {
    // Assess
    expect(cfnLintVersion()).toMatch(/^cfn-lint \d+\.\d+/);
  });

  it.each(LINT_REGIONS)(
    'finds nothing in %s but the accepted findings',
    (region) => {
      // Act: a variant bound to a region (a stage file) is linted there only.
      const findings = lint(
        variants.filter((v) => v.region === undefined || v.region === region),
        region,
      );

      // Assess
      expect(findings).toEqual([]);
    },
    LINT_TIMEOUT_MS,
  );

  it(
    'lints every stage-bound variant in its own region',
    () => {
      // Act
      const bound = variants.filter((v) => v.region !== undefined);
      const findings = [...new Set(bound.map((v) => v.region!))].flatMap((region) =>
        lint(
          bound.filter((v) => v.region === region),
          region,
        ),
      );

      // Assess
      expect(bound.length).toBeGreaterThan(0);
      expect(findings).toEqual([]);
    },
    LINT_TIMEOUT_MS,
  );

  it(
    'would report a resource type a region lacks, so the Budgets check is real',
    () => {
      // Prepare: a template with the resource type eu-north-1 does not have.
      const template = {
        Resources: {
          Budget: {
            Type: 'AWS::Budgets::Budget',
            Properties: {
              Budget: { BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 1, Unit: 'USD' } },
            },
          },
        },
      };

      // Act
      const findings = lint([{ name: 'a native budget', template }], 'eu-north-1');

      // Assess
      expect(findings).toEqual([expect.stringContaining('E3006')]);
    },
    LINT_TIMEOUT_MS,
  );
});

describe('the dependency graph of every documented variant', () => {
  it('has no cycle through Ref, Fn::GetAtt, Fn::Sub, DependsOn or UpdatePolicy', () => {
    // Act
    const cycles = variants.flatMap((v) =>
      dependencyCycles(v.template).map((c) => `${v.name}: ${c.join(' → ')}`),
    );

    // Assess
    expect(cycles).toEqual([]);
  });
});
