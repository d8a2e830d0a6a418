/**
 * Warm `/token` for the user grants, against the local server (`lib/local/server.ts`: the oauth
 * handlers in this process, the embedded DynamoDB engine, the local upstream provider). Logins
 * run first, untimed, through the HTTP-only login driver of the tests; then only the `/token`
 * requests are timed, one at a time, each from the request to the parsed JSON answer:
 *
 * - `authorization_code`: each code redeemed once (a public client with PKCE, as desktop
 *   clients register);
 * - `refresh_token`: rotation chains, one per code's grant family: every round refreshes each
 *   family once with the refresh token the previous round returned, so each request spends a
 *   token on its first use (no replay, no grace-window reuse);
 * - `client_credentials` on the same server, for scale: the floor of this setup (loopback HTTP,
 *   one DynamoDB read, one RS256 signature).
 *
 * The first `warmup` codes and their families are used untimed, so the figures are warm.
 */
import { createHash, randomBytes } from 'node:crypto';
import { startLocalServer } from '../../lib/local/server.js';
import { login, UserAgent } from '../../test/support/user-agent.js';

export interface Latency {
  /** Milliseconds. */
  median: number;
  p99: number;
  count: number;
}

export interface UserTokenFigures {
  authorizationCode: Latency;
  refreshToken: Latency;
  clientCredentials: Latency;
  /** Wall time of the untimed logins, for the record. */
  loginMs: number;
  logins: number;
}

const REDIRECT_URI = 'http://127.0.0.1:41234/callback';

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: sorted[Math.floor(sorted.length / 2)]!,
    p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!,
    count: sorted.length,
  };
}

async function register(issuer: string, metadata: Record<string, unknown>): Promise<Record<string, string>> {
  const response = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  });
  if (response.status !== 201) throw new Error(`registration failed: ${response.status}`);
  return (await response.json()) as Record<string, string>;
}

export async function measureWarmUserTokens(options: {
  logins: number;
  rounds: number;
  warmup: number;
}): Promise<UserTokenFigures> {
  const server = await startLocalServer({ port: 0, inMemory: true, logLevel: 'silent' });
  try {
    const { issuer } = server;
    const servers = { issuer, upstreamIssuer: server.upstreamIssuer };
    const resource = `${issuer}/mcp`;
    const client = await register(issuer, {
      client_name: 'bench desktop app',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    });
    const machine = await register(issuer, {
      client_name: 'bench agent',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
    });

    // One user agent for every login: after the first, its upstream session skips the login form,
    // so each login is a few redirects and the consent form (remembered consent is for https
    // redirect URIs only). Codes live 10 minutes, far longer than this takes.
    const agent = new UserAgent();
    const total = options.logins + options.warmup;
    const codes: { code: string; verifier: string }[] = [];
    const loginStarted = performance.now();
    for (let i = 0; i < total; i++) {
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const url = `${issuer}/authorize?${new URLSearchParams({
        client_id: client.client_id!,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: `s${i}`,
        resource,
      })}`;
      const redirect = await login(agent, url, servers, 'bench-user');
      const code = redirect.searchParams.get('code');
      if (!code) throw new Error(`login gave no code: ${redirect}`);
      codes.push({ code, verifier });
    }
    const loginMs = performance.now() - loginStarted;

    const token = async (fields: Record<string, string>, headers: Record<string, string> = {}) => {
      const started = performance.now();
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(fields),
      });
      const body = (await response.json()) as Record<string, string>;
      const ms = performance.now() - started;
      if (response.status !== 200)
        throw new Error(`/token answered ${response.status}: ${JSON.stringify(body)}`);
      return { ms, body };
    };

    const codeTimes: number[] = [];
    let refreshTokens: string[] = [];
    for (const [i, { code, verifier }] of codes.entries()) {
      const { ms, body } = await token({
        grant_type: 'authorization_code',
        client_id: client.client_id!,
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
        resource,
      });
      if (i >= options.warmup) codeTimes.push(ms);
      refreshTokens.push(body.refresh_token!);
    }

    const refreshTimes: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const next: string[] = [];
      for (const [i, refreshToken] of refreshTokens.entries()) {
        const { ms, body } = await token({
          grant_type: 'refresh_token',
          client_id: client.client_id!,
          refresh_token: refreshToken,
        });
        if (round > 0 || i >= options.warmup) refreshTimes.push(ms);
        next.push(body.refresh_token!);
      }
      refreshTokens = next;
    }

    const form = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    const basic = `Basic ${Buffer.from(`${form(machine.client_id!)}:${form(machine.client_secret!)}`).toString('base64')}`;
    const machineTimes: number[] = [];
    for (let i = 0; i < total; i++) {
      const { ms } = await token({ grant_type: 'client_credentials' }, { authorization: basic });
      if (i >= options.warmup) machineTimes.push(ms);
    }

    return {
      authorizationCode: latency(codeTimes),
      refreshToken: latency(refreshTimes),
      clientCredentials: latency(machineTimes),
      loginMs,
      logins: total,
    };
  } finally {
    await server.close();
  }
}
