/**
 * The mcp function copies the protocol versions rather than importing the SDK at run time
 * (bundle size); these keep the copy honest when the SDK is upgraded.
 */
import {
  DEFAULT_NEGOTIATED_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/server';
import { DEFAULT_LEGACY_VERSION, LEGACY_PROTOCOL_VERSIONS } from '../../../lambda/mcp/protocol.js';

it('serves exactly the 2025-era protocol versions the SDK supports', () => {
  expect([...LEGACY_PROTOCOL_VERSIONS]).toEqual(SUPPORTED_PROTOCOL_VERSIONS);
});

it('assumes the SDK default version for 2025-era requests without MCP-Protocol-Version', () => {
  expect(DEFAULT_LEGACY_VERSION).toBe(DEFAULT_NEGOTIATED_PROTOCOL_VERSION);
});
