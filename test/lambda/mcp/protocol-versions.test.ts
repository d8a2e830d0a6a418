/**
 * The mcp function copies the protocol versions rather than importing the SDK at run time
 * (bundle size); these keep the copy honest when the SDK is upgraded. It also decides which era
 * a version belongs to more strictly than a text comparison would.
 */
import {
  DEFAULT_NEGOTIATED_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/server';
import {
  DEFAULT_LEGACY_VERSION,
  isModernVersion,
  LEGACY_PROTOCOL_VERSIONS,
} from '../../../lambda/mcp/protocol/protocol.js';
import { accessToken, mcpPost, rpc, testApp } from './mcp-test-kit.js';

it('serves exactly the 2025-era protocol versions the SDK supports', () => {
  expect([...LEGACY_PROTOCOL_VERSIONS]).toEqual(SUPPORTED_PROTOCOL_VERSIONS);
});

it('assumes the SDK default version for 2025-era requests without MCP-Protocol-Version', () => {
  expect(DEFAULT_LEGACY_VERSION).toBe(DEFAULT_NEGOTIATED_PROTOCOL_VERSION);
});

describe('protocol versions compare exactly, not as text', () => {
  it.each([
    ['2026-07-28', true],
    ['2027-01-01', true],
    ['2026-07-27', false],
    ['2025-11-25', false],
    ['9', false],
    ['zz', false],
    ['2026-07-28x', false],
    ['2026-07-280', false],
    ['2026-7-28', false],
    ['2026-13-01', false],
    ['9999-99-99', false],
    ['', false],
  ])('%j is a 2026-era revision: %s', (version, modern) => {
    expect(isModernVersion(version)).toBe(modern);
  });

  it.each(['9', 'zz', '2026-07-28x', '3000'])(
    'answers a request whose MCP-Protocol-Version is %j with 400 unsupported version',
    async (version) => {
      const app = await testApp();
      const response = await app(
        mcpPost(rpc('tools/list'), {
          token: await accessToken(),
          headers: { 'mcp-protocol-version': version },
        }),
      );
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: number; message: string } }).error).toMatchObject({
        code: -32000,
        message: expect.stringContaining(`Unsupported protocol version: ${version}`),
      });
    },
  );

  it.each(['9', 'zz', '2026-07-28x'])(
    'refuses a notification whose MCP-Protocol-Version is %j instead of accepting it as 2026-era',
    async (version) => {
      const app = await testApp();
      const response = await app(
        mcpPost(
          { jsonrpc: '2.0', method: 'notifications/initialized' },
          { token: await accessToken(), headers: { 'mcp-protocol-version': version } },
        ),
      );
      expect(response.status).toBe(400);
    },
  );

  it('still serves the 2026 era for the exact version it supports', async () => {
    const app = await testApp();
    const response = await app(
      mcpPost(
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { token: await accessToken(), headers: { 'mcp-protocol-version': '2026-07-28' } },
      ),
    );
    expect(response.status).toBe(202);
  });
});
