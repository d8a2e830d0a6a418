/**
 * Loopback stand-ins for what the functions reach on a cold start: Secrets Manager's
 * `GetSecretValue` (for the mcp function) and the issuer's JWKS (for the baseline), so the
 * benchmark's first call includes that network round trip for both, as in Lambda.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  publishedKeys,
  serializeSigningKeySet,
  toPublicJwk,
  type SigningKeySet,
} from '../../lambda/shared/key-set.js';

export async function startFakeAws(set: SigningKeySet): Promise<{ url: string; close(): Promise<void> }> {
  const secret = JSON.stringify({ SecretString: serializeSigningKeySet(set) });
  const jwks = JSON.stringify({ keys: publishedKeys(set).map(toPublicJwk) });
  const server = createServer((req, res) => {
    req.resume().on('end', () => {
      if (req.method === 'GET' && req.url === '/jwks')
        res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
      else if (req.method === 'POST' && req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue') {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(secret);
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
