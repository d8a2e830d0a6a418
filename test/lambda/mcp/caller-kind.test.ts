/**
 * Who a token names (issue 24): a client's `sub` is its `client_id` and a user's is the upstream's,
 * in one namespace, so every caller a tool receives says which it is (`caller.kind`). Both paths
 * to a tool are covered: the built-in tools (`get_user_info`) and an SDK server behind the front
 * (`whoami`, through `callerOf(authInfo)`).
 */
import { exampleV1Front, exampleV2Front } from '../../../lambda/mcp/examples/sdk-server.js';
import { createMcpApp } from '../../../lambda/mcp/app.js';
import type { SdkServerFront } from '../../../lambda/mcp/protocol/sdk-server.js';
import { toPublicKeySet } from '../../../lambda/shared/key-set.js';
import { createLogger } from '../../../lambda/shared/logger.js';
import type { PlainResponse } from '../../../lambda/shared/http-message.js';
import { CachedPublicKeys } from '../../../lambda/shared/signing-keys.js';
import { accessToken, currentKey, mcpPost, NOW_MS, rpc, testApp, testConfig } from './mcp-test-kit.js';

/** A client credentials token as the oauth function mints it: no `sid`, `sub` is the client. */
const machineToken = () => accessToken({ sub: 'client-1', client_id: 'client-1' });
/** A user's token as the oauth function mints it: the grant family as `sid`, the upstream's `sub`. */
const userToken = (sub = 'user-42') => accessToken({ sub, client_id: 'client-1', sid: 'family-1' });

async function sdkApp(front: SdkServerFront) {
  const key = await currentKey();
  return createMcpApp({
    config: testConfig(),
    keys: new CachedPublicKeys({ load: async () => toPublicKeySet({ current: key }) }),
    logger: createLogger('mcp', { level: 'error', write: () => undefined }),
    now: () => NOW_MS,
    sdkServer: front,
  });
}

/** The structured content of the first reply, JSON or server-sent events. */
async function structuredContent(response: PlainResponse): Promise<Record<string, unknown>> {
  const text = await response.text();
  const json = response.headers.get('content-type')?.startsWith('text/event-stream')
    ? text
        .split('\n')
        .find((line) => line.startsWith('data:'))!
        .slice(5)
    : text;
  return (JSON.parse(json) as { result: { structuredContent: Record<string, unknown> } }).result
    .structuredContent;
}

const PATHS: Array<[string, () => Promise<(request: Request) => Promise<PlainResponse>>, string]> = [
  ['the built-in tools', () => testApp(), 'get_user_info'],
  ['an SDK server (v2)', () => sdkApp(exampleV2Front()), 'whoami'],
  ['an SDK server (v1)', () => sdkApp(exampleV1Front()), 'whoami'],
];

describe.each(PATHS)('the caller %s receive', (_, makeApp, tool) => {
  const call = async (token: string) => {
    const app = await makeApp();
    return app(mcpPost(rpc('tools/call', { name: tool, arguments: {} }), { token }));
  };

  it('is a machine for a client credentials token', async () => {
    // Act
    const response = await call(await machineToken());

    // Assess
    expect(response.status).toBe(200);
    expect(await structuredContent(response)).toMatchObject({
      kind: 'machine',
      sub: 'client-1',
      client_id: 'client-1',
    });
  });

  it('is a user for a token that carries a grant family (sid)', async () => {
    // Act
    const response = await call(await userToken());

    // Assess
    expect(response.status).toBe(200);
    expect(await structuredContent(response)).toMatchObject({
      kind: 'user',
      sub: 'user-42',
      client_id: 'client-1',
    });
  });

  it('tells a user whose upstream sub equals a client_id from that client', async () => {
    // Prepare: a user who chose the subject "client-1" at an upstream that lets them.
    const asUser = await call(await userToken('client-1'));
    const asClient = await call(await machineToken());

    // Assess: same sub, different kind
    const user = await structuredContent(asUser);
    const machine = await structuredContent(asClient);
    expect(user.sub).toBe(machine.sub);
    expect([user.kind, machine.kind]).toEqual(['user', 'machine']);
  });
});

describe("the kind of one of this server's tokens", () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      'a token without sid whose sub is not its client',
      { sub: 'user-42', client_id: 'client-1' },
      'a token without "sid" must name its client as "sub"',
    ],
    ['an empty sid', { sid: '' }, '"sid" claim must be a non-empty string'],
    ['a sid that is not a string', { sid: 7 }, '"sid" claim must be a non-empty string'],
  ])('refuses %s rather than guessing', async (_, overrides, description) => {
    // Prepare
    const app = await testApp();

    // Act
    const response = await app(
      mcpPost(rpc('tools/call', { name: 'get_user_info', arguments: {} }), {
        token: await accessToken(overrides),
      }),
    );

    // Assess
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(((await response.json()) as { error_description: string }).error_description).toBe(description);
  });
});
