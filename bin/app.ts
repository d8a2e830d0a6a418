/** The CDK app: one stack, checked by cdk-nag's AwsSolutions pack on every synth. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { McpOAuthStack } from '../lib/mcp-oauth-stack.js';
import { applyStage } from '../lib/stages.js';

const app = new App();
// With -c stageConfig=<name>: stages/<name>.json's account, region, stack name and settings.
// Without: environment-agnostic (synth needs no account or credentials; deploy uses the CLI's).
const { stackName, env } = applyStage(app);
new McpOAuthStack(app, stackName, {
  description: 'Remote MCP server with its own OAuth 2.1 authorization server',
  ...(env ? { env } : {}),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
