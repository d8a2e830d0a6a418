/**
 * `npm run admin -- <command> [options]`: see `USAGE` in `run.ts` and doc/operations.md.
 *   npm run admin -- users
 *   npm run admin -- grants --user alice@example.com --json
 *   npm run admin -- revoke --user alice@example.com --stack McpOAuth-prod
 */
import { runAdmin } from './run.js';

// Its output is the listing: the AWS SDK's notice about Node.js 20 would only be noise in it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await runAdmin(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
