/**
 * The official MCP SDK clients against the local server, with tokens from its own `/token`:
 * the v1 client (what most shipping clients embed) and the v2 client, including its
 * `ClientCredentialsProvider`, which starts from nothing but the /mcp URL and credentials.
 */
import {
  Client as V2Client,
  ClientCredentialsProvider,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client';
import { ClientCredentialsProvider as V1ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { TOOLS } from '../../lambda/mcp/tools/registry.js';
import {
  machineToken,
  registerMachineClient,
  startServer,
  type MachineClient,
  type RunningServer,
} from './mcp-support.js';

let server: RunningServer;
let client: MachineClient;

beforeAll(async () => {
  server = await startServer();
  client = await registerMachineClient(server.issuer);
});

afterAll(async () => {
  await server.close();
});

describe('v1 SDK client (@modelcontextprotocol/sdk)', () => {
  it('initializes, lists tools, calls add and get_user_info with a bearer token', async () => {
    // Prepare
    const token = await machineToken(server.issuer, client);
    const mcp = new V1Client({ name: 'v1-e2e', version: '1.0.0' });
    const transport = new V1Transport(new URL(server.mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });

    // Act
    await mcp.connect(transport);
    const tools = await mcp.listTools();
    const sum = await mcp.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
    const me = await mcp.callTool({ name: 'get_user_info', arguments: {} });
    await mcp.close();

    // Assess
    expect(mcp.getServerVersion()?.name).toBe('mcp-oauth-aws');
    expect(tools.tools.map((t) => t.name).sort()).toEqual(TOOLS.map((t) => t.name).sort());
    expect(sum.structuredContent).toEqual({ sum: 42 });
    expect(sum.isError).toBeFalsy();
    expect(me.structuredContent).toMatchObject({
      sub: client.clientId,
      client_id: client.clientId,
      issuer: server.issuer,
    });
    expect((me.structuredContent as { scopes: string[] }).scopes.sort()).toEqual([
      'mcp:resources',
      'mcp:tools',
    ]);
    expect(transport.sessionId).toBeUndefined();
  });
});

describe('v1 SDK client with its ClientCredentialsProvider', () => {
  it('starts from the /mcp URL and credentials alone, and discovers and fetches its own token', async () => {
    // Prepare
    const authProvider = new V1ClientCredentialsProvider({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      expectedIssuer: server.issuer,
    });
    const mcp = new V1Client({ name: 'v1-m2m', version: '1.0.0' });
    const transport = new V1Transport(new URL(server.mcpUrl), { authProvider });

    // Act
    await mcp.connect(transport);
    const sum = await mcp.callTool({ name: 'add', arguments: { a: 20, b: 22 } });
    const me = await mcp.callTool({ name: 'get_user_info', arguments: {} });
    await mcp.close();

    // Assess
    expect(authProvider.tokens()?.access_token).toEqual(expect.any(String));
    expect(sum.structuredContent).toEqual({ sum: 42 });
    expect(me.structuredContent).toMatchObject({ client_id: client.clientId, issuer: server.issuer });
  });
});

describe('v2 SDK client (@modelcontextprotocol/client)', () => {
  it('connects with a bearer token, lists tools, calls add and get_user_info', async () => {
    // Prepare
    const token = await machineToken(server.issuer, client);
    const mcp = new V2Client({ name: 'v2-e2e', version: '1.0.0' });
    const transport = new V2Transport(new URL(server.mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });

    // Act
    await mcp.connect(transport);
    const tools = await mcp.listTools();
    const sum = await mcp.callTool({ name: 'add', arguments: { a: 1.5, b: 2 } });
    const me = await mcp.callTool({ name: 'get_user_info', arguments: {} });
    await mcp.close();

    // Assess
    expect(tools.tools.map((t) => t.name).sort()).toEqual(TOOLS.map((t) => t.name).sort());
    expect(sum.structuredContent).toEqual({ sum: 3.5 });
    expect(me.structuredContent).toMatchObject({ sub: client.clientId, client_id: client.clientId });
  });

  it('discovers the authorization server from the 401 and gets its own token with ClientCredentialsProvider', async () => {
    // Prepare
    const authProvider = new ClientCredentialsProvider({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      expectedIssuer: server.issuer,
    });
    const mcp = new V2Client({ name: 'v2-m2m', version: '1.0.0' });
    const transport = new V2Transport(new URL(server.mcpUrl), { authProvider });

    // Act
    await mcp.connect(transport);
    const tools = await mcp.listTools();
    const sum = await mcp.callTool({ name: 'add', arguments: { a: -1, b: 1 } });
    const me = await mcp.callTool({ name: 'get_user_info', arguments: {} });
    await mcp.close();

    // Assess
    expect(authProvider.tokens()?.access_token).toEqual(expect.any(String));
    expect(tools.tools.map((t) => t.name)).toContain('add');
    expect(sum.structuredContent).toEqual({ sum: 0 });
    expect(me.structuredContent).toMatchObject({ client_id: client.clientId });
  });
});
