import { App } from 'aws-cdk-lib';
import { McpOAuthStack } from '../../lib/mcp-oauth-stack.js';
import { SettingsError } from '../../lib/settings.js';
import { logicalId, synth } from './synth.js';

const REGIONAL_CERTIFICATE =
  'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';
const DOMAIN = { customDomainName: 'mcp.example.com', customDomainCertificateArn: REGIONAL_CERTIFICATE };

describe('a regional custom domain on the HTTP API', () => {
  it("fails the deployment of an environment-agnostic stack outside the certificate's region, by a CloudFormation rule", () => {
    // Act
    const { template } = synth(DOMAIN, { bundle: false });

    // Assess
    expect(template.toJSON().Rules.CertificateRegion).toEqual({
      Assertions: [
        {
          Assert: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] },
          AssertDescription:
            "customDomainCertificateArn is in eu-west-1, and an HTTP API's regional custom domain needs a certificate " +
            "in the stack's own region: deploy this stack to eu-west-1",
        },
      ],
    });
  });

  it("fails the synth of a stack whose region is not the certificate's, naming both", () => {
    // Act
    const build = () =>
      new McpOAuthStack(new App(), 'McpOAuth', {
        ...DOMAIN,
        env: { account: '123456789012', region: 'us-east-1' },
      });

    // Assess
    expect(build).toThrow(SettingsError);
    expect(build).toThrow(
      "customDomainCertificateArn is in eu-west-1, and an HTTP API's regional custom domain needs a certificate " +
        "in the stack's own region, but the stack deploys to us-east-1",
    );
  });

  it('turns the execute-api endpoint off and outputs the alias target and its hosted zone', () => {
    // Act
    const { template } = synth(DOMAIN, { bundle: false });
    const outputs = template.toJSON().Outputs;
    const domainId = logicalId(template, 'AWS::ApiGatewayV2::DomainName', 'Api');

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
    expect(outputs.CustomDomainTarget.Value).toEqual({ 'Fn::GetAtt': [domainId, 'RegionalDomainName'] });
    expect(outputs.CustomDomainHostedZoneId.Value).toEqual({
      'Fn::GetAtt': [domainId, 'RegionalHostedZoneId'],
    });
    expect(outputs.Issuer.Value).toBe('https://mcp.example.com');
  });

  it('adds no region rule without a custom domain', () => {
    // Act
    const { template } = synth({}, { bundle: false });

    // Assess
    expect(Object.keys(template.toJSON().Rules ?? {})).not.toContain('CertificateRegion');
  });
});
