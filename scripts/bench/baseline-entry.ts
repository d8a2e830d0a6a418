/**
 * The baseline as a Lambda entry, bundled with the same esbuild options as the real function:
 * the SDK's stateless `createMcpHandler` (a fresh server per request) and `jose` verification
 * against the issuer's JWKS, fetched over HTTP (`JWKS_URL`) and cached by `jose`.
 */
import type { PlainRequest } from '../../lambda/shared/http-message.js';
import { lambdaHandler } from '../../lambda/shared/lambda-adapter.js';
import { createBaselineHandler } from './baseline-mcp-handler.js';

const issuer = process.env.ISSUER!;

const baseline = createBaselineHandler({
  issuer,
  resource: `${issuer}/mcp`,
  jwks: new URL(process.env.JWKS_URL!),
});

// The SDK handler takes a web Request, as the usual Lambda adapters build it.
export const handler = lambdaHandler(async (request) => {
  const plain = request as PlainRequest;
  const body = ['GET', 'HEAD'].includes(plain.method) ? undefined : await plain.arrayBuffer();
  return baseline(new Request(plain.url, { method: plain.method, headers: [...plain.headers], body }));
});
