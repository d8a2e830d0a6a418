/**
 * Client ID metadata documents in the real world, through the local server: a document whose
 * host starts answering 403 (the challenge page bot protection gives cloud addresses) keeps
 * working from its last good copy for seven days after it was fetched, and stops after that; a
 * document never fetched successfully fails; and a document the operator supplies
 * (`CLIENT_METADATA_DOCUMENTS`) is used without any fetch. The document cache's clock is
 * injected: no test waits.
 */
import * as oauth from 'oauth4webapi';
import type { LocalServer } from '../../lib/local/server.js';
import { STALE_IF_ERROR_SECONDS } from '../../lambda/oauth/stores/metadata-document-cache.js';
import { DocumentServer } from '../support/document-server.js';
import { startTestServer } from '../support/local-server.js';

const REDIRECT = 'http://127.0.0.1:41234/callback';
const SUPPLIED = 'https://claude.ai/oauth/mcp-oauth-client-metadata';
const CLAUDE_CALLBACK = 'https://claude.ai/api/mcp/auth_callback';
const MINUTE = 60_000;

describe('client metadata documents: stale-if-error and supplied documents', () => {
  let server: LocalServer;
  const documents = new DocumentServer();
  let clock = Date.now();
  let resolved: string[] = [];

  beforeAll(async () => {
    await documents.start();
    server = await startTestServer({
      env: {
        CIMD_ALLOW_HTTP_LOOPBACK: '1',
        CLIENT_METADATA_DOCUMENTS: JSON.stringify({
          [SUPPLIED]: {
            client_id: SUPPLIED,
            client_name: 'Claude',
            redirect_uris: [CLAUDE_CALLBACK],
            token_endpoint_auth_method: 'none',
          },
        }),
      },
      metadataDocumentClock: () => clock,
      // Only https documents are resolved: a name looked up here is a fetch attempted.
      metadataDocumentFetch: {
        resolve: async (hostname) => {
          resolved.push(hostname);
          throw new Error('no network in tests');
        },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await documents.close();
  });
  beforeEach(() => {
    documents.reset();
    resolved = [];
  });

  /** Opens /authorize for `clientId`: a usable client is sent on to the upstream login. */
  async function authorize(
    clientId: string,
    redirectUri = REDIRECT,
  ): Promise<{ status: number; text: string; upstream: boolean }> {
    const verifier = oauth.generateRandomCodeVerifier();
    const response = await fetch(
      `${server.issuer}/authorize?${new URLSearchParams({
        client_id: clientId,
        redirect_uri: redirectUri,
        response_type: 'code',
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: 's',
        resource: `${server.issuer}/mcp`,
      })}`,
      { redirect: 'manual' },
    );
    const location = response.headers.get('location') ?? '';
    return {
      status: response.status,
      text: await response.text(),
      upstream: location.startsWith(server.upstreamIssuer),
    };
  }

  const challenge = (res: import('node:http').ServerResponse) =>
    res.writeHead(403, { 'content-type': 'text/html' }).end('<html>Just a moment...</html>');

  it('answers from the last good copy while the host answers 403, for seven days after the last fetch, then fails', async () => {
    // Prepare: a good document, fetched once at t0, fresh for a minute
    const path = '/challenged.json';
    const clientId = `${documents.origin()}${path}`;
    documents.json(
      path,
      {
        client_id: clientId,
        client_name: 'Challenged app',
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'none',
      },
      { 'cache-control': 'max-age=60' },
    );
    const t0 = Date.now();
    clock = t0;
    const first = await authorize(clientId);
    documents.handlers.set(path, (_req, res) => challenge(res));

    // Act: past freshness, the host challenges every fetch
    clock = t0 + 2 * MINUTE;
    const soonAfter = await authorize(clientId);
    clock = t0 + STALE_IF_ERROR_SECONDS * 1000 - MINUTE;
    const lastMinute = await authorize(clientId);
    clock = t0 + STALE_IF_ERROR_SECONDS * 1000 + MINUTE;
    const afterBound = await authorize(clientId);

    // Assess
    expect(first.upstream).toBe(true);
    expect(soonAfter.upstream).toBe(true);
    expect(lastMinute.upstream).toBe(true);
    expect(afterBound.status).toBe(400);
    expect(afterBound.upstream).toBe(false);
    expect(afterBound.text).toContain('the document URL answered HTTP 403');
    // One fetch at t0, then one refetch attempt at each later time: each was tried and failed.
    expect(documents.requests).toHaveLength(4);
  });

  it('fails a document whose host has answered 403 from the start', async () => {
    // Prepare
    const path = '/never-fetched.json';
    documents.handlers.set(path, (_req, res) => challenge(res));
    clock = Date.now();

    // Act
    const answer = await authorize(`${documents.origin()}${path}`);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('the document URL answered HTTP 403');
  });

  it('does not stand in with the last good copy when the host serves a document that is no longer valid', async () => {
    // Prepare
    const path = '/changed.json';
    const clientId = `${documents.origin()}${path}`;
    const good = {
      client_id: clientId,
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
    };
    documents.json(path, good, { 'cache-control': 'max-age=60' });
    const t0 = Date.now();
    clock = t0;
    const first = await authorize(clientId);
    documents.json(path, { ...good, client_id: 'https://elsewhere.example/client.json' });

    // Act
    clock = t0 + 2 * MINUTE;
    const changed = await authorize(clientId);

    // Assess
    expect(first.upstream).toBe(true);
    expect(changed.status).toBe(400);
    expect(changed.text).toContain('is not its own URL');
  });

  it('uses a document the operator supplies, without fetching it', async () => {
    // Act
    const answer = await authorize(SUPPLIED, CLAUDE_CALLBACK);
    const wrongRedirect = await authorize(SUPPLIED, 'https://evil.example/callback');

    // Assess
    expect(answer.upstream).toBe(true);
    expect(wrongRedirect.status).toBe(400);
    expect(resolved).toEqual([]);
  });

  it('refuses to start with a supplied document that is not valid, saying which', async () => {
    await expect(
      startTestServer({
        env: {
          CLIENT_METADATA_DOCUMENTS: JSON.stringify({
            [SUPPLIED]: { client_id: SUPPLIED, client_secret: 'x' },
          }),
        },
      }),
    ).rejects.toThrow(
      `CLIENT_METADATA_DOCUMENTS: the document for "${SUPPLIED}": the document contains "client_secret"`,
    );
  });
});
