/**
 * Jest `setupFiles` entry: keeps notices that say nothing about the code under test out of the
 * output, so that a passing run reads as a summary and a failing one shows its failure. Each is
 * matched exactly; every other warning, log line and console call still prints.
 */

// The AWS SDK's own switch for its "NodeVersionSupportWarning" (Node.js 22 needed from 2027;
// CONTRIBUTING.md, "Build and test"). Without it every test file that loads the SDK prints the notice again,
// since each has its own module registry. Child processes the tests spawn with this environment
// inherit it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// oidc-provider (the local login provider) calls Node.js 20 unsupported when it loads, once per
// test file, and has no switch for it (node_modules/oidc-provider/lib/index.js).
const UNSUPPORTED_RUNTIME = /^(\x1b\[[\d;]*m)?oidc-provider WARNING: Unsupported runtime\./;
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (!UNSUPPORTED_RUNTIME.test(String(args[0]))) warn(...args);
};

// CDK writes one "Bundling asset <path>..." line per function each time a test synthesizes a
// stack, hundreds in all; bundling failures still throw and print esbuild's errors.
const BUNDLING_ASSET = /^Bundling asset \S+\.\.\.\n$/;
const QUIET = Symbol.for('mcp-oauth-aws.quiet-notices');
const stderr = process.stderr as NodeJS.WriteStream & { [QUIET]?: boolean };
// One worker runs many test files, and this file runs before each; wrap the stream once.
if (!stderr[QUIET]) {
  stderr[QUIET] = true;
  const write = stderr.write.bind(stderr) as (...args: unknown[]) => boolean;
  stderr.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string' && BUNDLING_ASSET.test(chunk)
      ? true
      : write(chunk, ...rest)) as typeof stderr.write;
}

export {};
