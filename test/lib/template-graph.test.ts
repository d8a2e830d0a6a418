import { logicalId, synth } from './synth.js';
import { dependencyCycles, dependencyGraph } from './template-graph.js';

const resources = (entries: Record<string, Record<string, unknown>>) => ({ Resources: entries });

describe('the template dependency graph', () => {
  it('follows Ref, Fn::GetAtt in both forms, Fn::Sub, DependsOn and UpdatePolicy', () => {
    // Prepare
    const template = resources({
      A: {
        Properties: {
          X: { Ref: 'B' },
          Y: { 'Fn::GetAtt': ['C', 'Arn'] },
          Z: { 'Fn::GetAtt': 'D.Arn' },
          S: { 'Fn::Sub': ['${E.Arn}/${local}/${!F}/${AWS::Region}', { local: { Ref: 'G' } }] },
        },
        DependsOn: ['H'],
        UpdatePolicy: { CodeDeployLambdaAliasUpdate: { DeploymentGroupName: { Ref: 'I' } } },
      },
      ...Object.fromEntries(['B', 'C', 'D', 'E', 'F', 'G', 'H', 'I'].map((id) => [id, {}])),
    });

    // Act
    const graph = dependencyGraph(template);

    // Assess: F is a literal `${!F}`, AWS::Region a pseudo parameter.
    expect([...graph.get('A')!].sort()).toEqual(['B', 'C', 'D', 'E', 'G', 'H', 'I']);
  });

  it('finds a cycle, and none in a graph without one', () => {
    // Prepare
    const acyclic = resources({ A: { DependsOn: 'B' }, B: { Properties: { X: { Ref: 'C' } } }, C: {} });
    const cyclic = resources({
      A: { DependsOn: 'B' },
      B: { Properties: { X: { Ref: 'C' } } },
      C: { Properties: { Y: { 'Fn::Sub': '${A}' } } },
    });

    // Act & Assess
    expect(dependencyCycles(acyclic)).toEqual([]);
    expect(dependencyCycles(cyclic)).toEqual([[expect.any(String), expect.any(String), expect.any(String)]]);
    expect(dependencyCycles(cyclic)[0]!.sort()).toEqual(['A', 'B', 'C']);
  });

  it("finds the cycle safe rollouts had when the CodeDeploy role's policy named the alias", () => {
    // Prepare: the real template, with the policy naming the alias as it once did.
    const { template } = synth({ safeRollouts: true }, { bundle: false });
    const json = template.toJSON();
    const alias = logicalId(template, 'AWS::Lambda::Alias', 'SafeRolloutoauthLive');
    const policy = logicalId(template, 'AWS::IAM::Policy', 'SafeRolloutRoleDefaultPolicy');
    const broken = structuredClone(json);
    broken.Resources[policy].Properties.PolicyDocument.Statement.push({
      Action: 'lambda:UpdateAlias',
      Effect: 'Allow',
      Resource: { Ref: alias },
    });

    // Act & Assess
    expect(dependencyCycles(json)).toEqual([]);
    expect(dependencyCycles(broken)).toEqual([
      expect.arrayContaining([
        alias,
        policy,
        logicalId(template, 'AWS::CodeDeploy::DeploymentGroup', 'SafeRolloutoauthDeployment'),
      ]),
    ]);
  });
});
