/**
 * The baseline as a Lambda entry, bundled with the same esbuild options as the real function:
 * the SDK's stateless `createMcpHandler` (a fresh server per request) and `jose` verification
 * against the issuer's JWKS, fetched over HTTP (`JWKS_URL`) and cached by `jose`.
 */
import { lambdaHandler } from '../../lambda/shared/lambda-adapter.js';
import { createBaselineHandler } from './baseline-mcp-handler.js';

const issuer = process.env.ISSUER!;

export const handler = lambdaHandler(
  createBaselineHandler({ issuer, resource: `${issuer}/mcp`, jwks: new URL(process.env.JWKS_URL!) }),
);
