/** The CDK app: one stack, checked by cdk-nag's AwsSolutions pack on every synth. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { McpOAuthStack } from '../lib/mcp-oauth-stack.js';
import { SettingsError } from '../lib/settings.js';
import { applyStage } from '../lib/stages.js';

const app = new App();
try {
  // With -c stageConfig=<name>: stages/<name>.json's account, region, stack name and settings.
  // Without: environment-agnostic (synth needs no account or credentials; deploy uses the CLI's).
  const { stackName, env } = applyStage(app);
  new McpOAuthStack(app, stackName, {
    description: 'Remote MCP server with its own OAuth 2.1 authorization server',
    ...(env ? { env } : {}),
  });
} catch (error) {
  // A settings message is the whole story: one line, no stack trace around it.
  if (!(error instanceof SettingsError)) throw error;
  console.error(`Invalid settings: ${error.message} (doc/reference/settings.md)`);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
