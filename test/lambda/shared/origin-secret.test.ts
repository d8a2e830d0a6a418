import { lambdaHandler } from '../../../lambda/shared/lambda-adapter.js';
import { PlainResponse } from '../../../lambda/shared/http-message.js';
import {
  CachedOriginSecret,
  matchesOriginSecret,
  ORIGIN_SECRET_MAX_AGE_MS,
  ORIGIN_SECRET_STALE_MS,
  OriginSecretUnavailableError,
  parseOriginSecret,
  requireOriginSecret,
  type OriginSecretSource,
} from '../../../lambda/shared/origin-secret.js';

const CURRENT = 'a'.repeat(48);
const PREVIOUS = 'b'.repeat(48);

/** A source that answers from a list, one answer per load (a value, or an error to throw). */
function source(...answers: (string | Error)[]): OriginSecretSource & { loads: number } {
  const s = {
    loads: 0,
    async load() {
      const answer = answers[Math.min(s.loads++, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return s;
}

const secret = (values: Record<string, string>) => JSON.stringify(values);
const ok = async () =>
  new PlainResponse('{"ok":true}', { status: 200, headers: { 'content-type': 'application/json' } });
const request = (headers: Record<string, string> = {}) =>
  new Request('https://abc.execute-api.eu-west-1.amazonaws.com/token', { method: 'POST', headers });

describe('parseOriginSecret', () => {
  it('accepts current, and previous during a rotation', () => {
    // Assess
    expect(parseOriginSecret(secret({ current: CURRENT }))).toEqual([CURRENT]);
    expect(parseOriginSecret(secret({ current: CURRENT, previous: PREVIOUS }))).toEqual([CURRENT, PREVIOUS]);
  });

  it.each(['not json', '{}', secret({ previous: PREVIOUS }), secret({ current: 'short' })])(
    'refuses %s: no usable current value',
    (value) => {
      // Assess
      expect(() => parseOriginSecret(value)).toThrow(OriginSecretUnavailableError);
    },
  );
});

describe('matchesOriginSecret', () => {
  it('matches either accepted value and nothing else, whatever the length presented', () => {
    // Assess
    expect(matchesOriginSecret(CURRENT, [CURRENT, PREVIOUS])).toBe(true);
    expect(matchesOriginSecret(PREVIOUS, [CURRENT, PREVIOUS])).toBe(true);
    expect(matchesOriginSecret(`${CURRENT}x`, [CURRENT])).toBe(false);
    expect(matchesOriginSecret(CURRENT.slice(1), [CURRENT])).toBe(false);
    expect(matchesOriginSecret('', [CURRENT])).toBe(false);
  });
});

describe('requireOriginSecret', () => {
  it('runs the handler for a request carrying the current value', async () => {
    // Prepare
    const handler = requireOriginSecret(ok, new CachedOriginSecret(source(secret({ current: CURRENT }))));

    // Act
    const response = await handler(request({ 'x-origin-verify': CURRENT }));

    // Assess
    expect(response.status).toBe(200);
  });

  it.each([
    ['no header', {}],
    ['an empty header', { 'x-origin-verify': '' }],
    ['a wrong value', { 'x-origin-verify': 'c'.repeat(48) }],
  ])('answers 403 with an empty body, before the handler runs, to %s', async (_, headers) => {
    // Prepare
    let ran = false;
    const handler = requireOriginSecret(
      async () => {
        ran = true;
        return ok();
      },
      new CachedOriginSecret(source(secret({ current: CURRENT }))),
    );

    // Act
    const response = await handler(request(headers));

    // Assess
    expect(response.status).toBe(403);
    expect(Buffer.from(await response.arrayBuffer()).length).toBe(0);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(ran).toBe(false);
  });

  it('does not read the secret for a request without the header', async () => {
    // Prepare
    const s = source(secret({ current: CURRENT }));
    const handler = requireOriginSecret(ok, new CachedOriginSecret(s));

    // Act
    await handler(request());

    // Assess
    expect(s.loads).toBe(0);
  });

  it('answers 503 with Retry-After and no body when the secret cannot be read at all', async () => {
    // Prepare
    const handler = requireOriginSecret(ok, new CachedOriginSecret(source(new Error('AccessDenied'))));

    // Act
    const response = await handler(request({ 'x-origin-verify': CURRENT }));

    // Assess
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(Buffer.from(await response.arrayBuffer()).length).toBe(0);
  });
});

describe('CachedOriginSecret', () => {
  it('reads once per 5 minutes, so a rotation reaches it within that time', async () => {
    // Prepare
    let now = 0;
    const s = source(secret({ current: CURRENT }), secret({ current: PREVIOUS, previous: CURRENT }));
    const cache = new CachedOriginSecret(s, { now: () => now });

    // Act
    const first = await cache.values();
    now = ORIGIN_SECRET_MAX_AGE_MS - 1;
    const cached = await cache.values();
    now = ORIGIN_SECRET_MAX_AGE_MS;
    const rotated = await cache.values();

    // Assess
    expect(first).toEqual([CURRENT]);
    expect(cached).toEqual([CURRENT]);
    expect(rotated).toEqual([PREVIOUS, CURRENT]);
    expect(s.loads).toBe(2);
  });

  it('shares one read among concurrent requests', async () => {
    // Prepare
    const s = source(secret({ current: CURRENT }));
    const cache = new CachedOriginSecret(s);

    // Act
    await Promise.all([cache.values(), cache.values(), cache.values()]);

    // Assess
    expect(s.loads).toBe(1);
  });

  it('keeps the last values while reads fail, for at most an hour past their age, then gives up', async () => {
    // Prepare
    let now = 0;
    const s = source(secret({ current: CURRENT }), new Error('ThrottlingException'));
    const cache = new CachedOriginSecret(s, { now: () => now });
    await cache.values();

    // Act
    now = ORIGIN_SECRET_MAX_AGE_MS + 1;
    const stale = await cache.values();
    now = ORIGIN_SECRET_MAX_AGE_MS + ORIGIN_SECRET_STALE_MS + 60_000;

    // Assess: the call past the stale bound is made inside its own assertion, so its rejection is
    // never left unobserved when an assertion before it fails
    expect(stale).toEqual([CURRENT]);
    await expect(cache.values()).rejects.toThrow(OriginSecretUnavailableError);
  });

  it('waits before reading again after a failure, rather than reading on every request', async () => {
    // Prepare
    let now = 0;
    const s = source(new Error('timeout'), secret({ current: CURRENT }));
    const cache = new CachedOriginSecret(s, { now: () => now });
    await expect(cache.values()).rejects.toThrow();

    // Act
    const during = cache.values();
    now = 1_000;
    await expect(during).rejects.toThrow(OriginSecretUnavailableError);
    const after = await cache.values();

    // Assess
    expect(after).toEqual([CURRENT]);
    expect(s.loads).toBe(2);
  });
});

describe('lambdaHandler with an origin secret', () => {
  const event = (headers: Record<string, string>) =>
    ({
      version: '2.0',
      routeKey: 'GET /.well-known/jwks.json',
      rawPath: '/.well-known/jwks.json',
      rawQueryString: '',
      headers,
      requestContext: {
        domainName: 'abc.execute-api.eu-west-1.amazonaws.com',
        http: { method: 'GET', path: '/.well-known/jwks.json' },
      },
      isBase64Encoded: false,
    }) as never;

  it('checks the header before the app, and leaves the app alone without a source (no CloudFront)', async () => {
    // Prepare
    const guarded = lambdaHandler(ok, undefined, source(secret({ current: CURRENT })));
    const open = lambdaHandler(ok);

    // Act
    const around = await guarded(event({}));
    const through = await guarded(event({ 'x-origin-verify': CURRENT }));
    const plain = await open(event({}));

    // Assess
    expect([around.statusCode, around.body]).toEqual([403, '']);
    expect(through.statusCode).toBe(200);
    expect(plain.statusCode).toBe(200);
  });
});
