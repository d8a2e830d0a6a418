import { App } from 'aws-cdk-lib';
import { McpOAuthStack } from '../../lib/mcp-oauth-stack.js';
import { SettingsError } from '../../lib/settings.js';
import { synth } from './synth.js';

const UPSTREAM = {
  upstreamIssuer: 'https://example.okta.com/oauth2/default',
  upstreamClientId: '0oa1b2c3d4',
  upstreamClientSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/upstream-client-AbC123',
};

describe('the upstream client secret of another OpenID provider (upstreamClientSecretArn)', () => {
  it("fails the deployment of an environment-agnostic stack outside the secret's region or account, by CloudFormation rules", () => {
    // Act
    const { template } = synth(UPSTREAM, { bundle: false });
    const rules = template.toJSON().Rules;

    // Assess
    expect(rules.UpstreamSecretRegion.Assertions).toEqual([
      {
        Assert: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] },
        AssertDescription:
          "upstreamClientSecretArn is in eu-west-1, and the oauth function reads it from the stack's own region: " +
          'deploy this stack to eu-west-1',
      },
    ]);
    expect(rules.UpstreamSecretAccount.Assertions).toEqual([
      {
        Assert: { 'Fn::Equals': [{ Ref: 'AWS::AccountId' }, '123456789012'] },
        AssertDescription:
          "upstreamClientSecretArn is in account 123456789012, and the oauth function reads it from the stack's " +
          'own account: deploy this stack to account 123456789012',
      },
    ]);
  });

  it.each([
    [
      { account: '123456789012', region: 'us-east-1' },
      "upstreamClientSecretArn is in eu-west-1, and the oauth function reads it from the stack's own region, " +
        'but the stack deploys to us-east-1',
    ],
    [
      { account: '210987654321', region: 'eu-west-1' },
      'upstreamClientSecretArn is in account 123456789012, and the oauth function reads it from the ' +
        "stack's own account, but the stack deploys to account 210987654321",
    ],
  ])('fails the synth of a stack deployed elsewhere (%j), naming both', (env, message) => {
    // Act
    const build = () => new McpOAuthStack(new App(), 'McpOAuth', { ...UPSTREAM, env });

    // Assess
    expect(build).toThrow(SettingsError);
    expect(build).toThrow(message);
  });

  it("accepts a stack in the secret's own region and account, with no rule", () => {
    // Act
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new McpOAuthStack(app, 'McpOAuth', {
      ...UPSTREAM,
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    const rules = app.synth().getStackByName(stack.stackName).template.Rules ?? {};

    // Assess
    expect(Object.keys(rules)).not.toContain('UpstreamSecretRegion');
    expect(Object.keys(rules)).not.toContain('UpstreamSecretAccount');
  });

  it("adds no rule with the stack's own user pool", () => {
    // Act
    const { template } = synth({}, { bundle: false });

    // Assess
    expect(Object.keys(template.toJSON().Rules ?? {})).toEqual(['CheckBootstrapVersion']);
  });
});
