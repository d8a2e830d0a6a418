import { App, Stack } from 'aws-cdk-lib';
import { defaultDomainPrefix } from '../../lib/constructs/user-pool.js';

/** The prefix as CloudFormation receives it: `<name>-<account id>`. */
function resolved(stackName: string): unknown {
  return new Stack(new App(), 'Resolver').resolve(defaultDomainPrefix(stackName));
}

const joined = (name: string) => ({ 'Fn::Join': ['-', [name, { Ref: 'AWS::AccountId' }]] });

describe('defaultDomainPrefix', () => {
  it('joins the lowercased stack name and the account id, unique across accounts and stacks', () => {
    // Assess
    expect(resolved('McpOAuth')).toEqual(joined('mcpoauth'));
    expect(resolved('Team-Tools')).toEqual(joined('team-tools'));
  });

  it('turns characters Cognito refuses into single hyphens and trims them from the ends', () => {
    // Assess
    expect(resolved('Mcp_OAuth..Prod')).toEqual(joined('mcp-oauth-prod'));
    expect(resolved('-Mcp-')).toEqual(joined('mcp'));
  });

  it('removes the words Cognito reserves, even where removing one forms another', () => {
    // Assess
    expect(resolved('McpAwsProd')).toEqual(joined('mcpprod'));
    expect(resolved('AmazonCognitoMcp')).toEqual(joined('mcp'));
    expect(resolved('AwAmazonS-Team')).toEqual(joined('team'));
  });

  it('falls back to "mcp" when nothing of the stack name is left', () => {
    // Assess
    expect(resolved('AWS')).toEqual(joined('mcp'));
    expect(resolved('___')).toEqual(joined('mcp'));
  });

  it('keeps the whole prefix within 63 characters', () => {
    // Act
    const prefix = resolved('a'.repeat(80)) as { 'Fn::Join': [string, [string, unknown]] };

    // Assess
    const name = prefix['Fn::Join'][1][0];
    expect(name).toBe('a'.repeat(50));
    expect(`${name}-123456789012`).toHaveLength(63);
  });
});
