/** The CDK app: one stack, checked by cdk-nag's AwsSolutions pack on every synth. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { McpOAuthStack } from '../lib/mcp-oauth-stack.js';

const app = new App();
// Environment-agnostic: synth needs no account or credentials; deploy uses the CLI's.
new McpOAuthStack(app, app.node.tryGetContext('stackName') ?? 'McpOAuth', {
  description: 'Remote MCP server with its own OAuth 2.1 authorization server',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
