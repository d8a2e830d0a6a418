import { App } from 'aws-cdk-lib';
import { McpOAuthStack } from '../lib/mcp-oauth-stack.js';
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new McpOAuthStack(app, 'McpOAuth', JSON.parse(process.argv[2] ?? '{}'));
const a = app.synth();
const t = a.getStackByName(stack.stackName).template;
console.log(JSON.stringify(t, null, 1));
