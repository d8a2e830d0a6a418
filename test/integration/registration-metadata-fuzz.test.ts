/**
 * Generated registration metadata (RFC 7591) at `POST /register` and in RFC 7592 updates at
 * `PUT /clients/{client_id}`: redirect URIs that are invalid by construction (http on a public
 * host, fragments, dangerous or unknown schemes, relative or non-canonical forms, control and
 * bidi characters, oversized), display fields carrying control or bidi characters, any
 * `Bidi_Control` or `Default_Ignorable_Code_Point` character or a lone surrogate, URI fields that
 * are not absolute https URLs with a host, fields of the wrong JSON type, and bodies not sent as
 * `application/json` (415 before the body is read). Each is answered 400 with
 * `invalid_redirect_uri` or `invalid_client_metadata` as RFC 7591 §3.2.2 says, and nothing is
 * written: the table is scanned before and after every case. Arbitrary strings as redirect URIs
 * may happen to be valid; those must be registered exactly as sent, and nothing else written.
 */
import fc from 'fast-check';
import type { LocalServer } from '../../lib/local/server.js';
import { registerClient, startTestServer, type RegisteredClient } from '../support/local-server.js';
import { keyKind, NO_CHANGES, tableChanges, tableReader, type TableReader } from '../support/table.js';

const SEED = 20260728;
const RUNS = 80;

let server: LocalServer;
let table: TableReader;
let existing: RegisteredClient;

beforeAll(async () => {
  server = await startTestServer();
  table = tableReader(server);
  existing = await registerClient(server.issuer, base());
});
afterAll(async () => {
  table.close();
  await server.close();
});

/** Valid interactive-client metadata; each case spoils one part of it. */
function base(): Record<string, unknown> {
  return {
    client_name: 'generated app',
    redirect_uris: ['https://app.example/callback', 'http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

/** What RFC 7591 code a field's problem is answered with. */
type Code = 'invalid_redirect_uri' | 'invalid_client_metadata';

/** Control characters (C0, DEL, C1) and the bidi controls: `client-metadata.ts` refuses them in any text. */
const UNSAFE = [
  ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)),
  ...Array.from({ length: 0x21 }, (_, i) => String.fromCharCode(0x7f + i)),
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
];
const unsafeChar = fc.constantFrom(...UNSAFE);

/** `text` with an unsafe character inserted somewhere. */
const withUnsafe = (text: fc.Arbitrary<string>) =>
  fc
    .tuple(text, unsafeChar, fc.nat())
    .map(([t, c, at]) => `${t.slice(0, at % (t.length + 1))}${c}${t.slice(at % (t.length + 1))}`);

const path = fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`));

/** Redirect URIs that are refused, each with the code its refusal carries. */
const badRedirectUri: fc.Arbitrary<[string, Code]> = fc.oneof(
  // http on a host that is not loopback
  fc
    .tuple(fc.domain(), path)
    .filter(([host]) => !['localhost', '127.0.0.1'].includes(host))
    .map(([host, p]): [string, Code] => [`http://${host}${p}`, 'invalid_redirect_uri']),
  // fragments
  fc
    .tuple(path, fc.stringMatching(/^[A-Za-z0-9_=&-]{0,20}$/))
    .map(([p, f]): [string, Code] => [`https://app.example${p}#${f}`, 'invalid_redirect_uri']),
  // schemes a browser hands to other programs, or that run code
  fc
    .constantFrom(
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'ms-msdt:/id PCWDiagnostic',
      'search-ms:query=x',
      'intent://x#Intent;scheme=https;end',
      'about:blank',
      'blob:https://app.example/1',
      'ftp://app.example/cb',
      'ws://app.example/cb',
      'chrome://settings',
      'mailto:a@example.com',
    )
    .map((u): [string, Code] => [u, 'invalid_redirect_uri']),
  // one-label schemes that are not a known client's
  fc
    .tuple(fc.stringMatching(/^[a-z][a-z0-9+-]{1,12}$/), path)
    .filter(
      ([scheme]) => !['http', 'https', 'cursor', 'vscode', 'vscode-insiders', 'windsurf'].includes(scheme),
    )
    .map(([scheme, p]): [string, Code] => [`${scheme}:${p}`, 'invalid_redirect_uri']),
  // relative references and forms a browser would rewrite
  fc
    .constantFrom(
      '',
      '/callback',
      'callback',
      '//app.example/cb',
      'HTTPS://APP.EXAMPLE/cb',
      'https://app.example',
      'https://app.example/a b',
      'https://app.example\\cb',
      'https:app.example/cb',
      'https://app.example/./cb',
      'https://app.example:443/cb',
      'https://',
      'http://[::1]:x/cb',
    )
    .map((u): [string, Code] => [u, 'invalid_redirect_uri']),
  // control and bidi characters anywhere, and oversized: refused as text, before the URI rules
  withUnsafe(fc.constantFrom('https://app.example/callback', 'http://127.0.0.1/cb')).map(
    (u): [string, Code] => [u, 'invalid_client_metadata'],
  ),
  fc
    .integer({ min: 2001, max: 5000 })
    .map((n): [string, Code] => [`https://app.example/${'a'.repeat(n)}`, 'invalid_client_metadata']),
);

const TEXT_FIELDS = ['client_name', 'software_id', 'software_version'] as const;
const URI_FIELDS = ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const;
/** `jwks_uri` is checked like the others, but kept only for `private_key_jwt` clients (`base()` is not one). */
const URL_FIELDS = [...URI_FIELDS, 'jwks_uri'] as const;

/**
 * Every code point with Unicode's `Bidi_Control` or `Default_Ignorable_Code_Point` property (from
 * the data Node ships), and the lone surrogates: text shown to a person must carry none.
 */
const HIDDEN: string[] = [];
for (let cp = 0; cp <= 0x10ffff; cp++) {
  const char = String.fromCodePoint(cp);
  if (/[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}]/u.test(char)) HIDDEN.push(char);
}
const hiddenChar = fc.oneof(
  fc.constantFrom(...HIDDEN),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
);
const withHidden = (text: fc.Arbitrary<string>) =>
  fc
    .tuple(text, hiddenChar, fc.nat())
    .map(([t, c, at]) => `${t.slice(0, at % (t.length + 1))}${c}${t.slice(at % (t.length + 1))}`);

/** Media types a registration must not be read as; `undefined` sends no Content-Type at all. */
const notJson: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    '',
    'text/plain',
    'text/plain;charset=UTF-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'text/json',
    'application/jsonp',
    'application/json-patch+json',
    'application/merge-patch+json',
    'application/problem+json',
    'application/json5',
    '*/*',
    'json',
    'application',
    'application/',
  ),
  fc
    .tuple(fc.stringMatching(/^[a-z]{1,12}$/), fc.stringMatching(/^[a-z+.-]{1,16}$/))
    .map(([type, subtype]) => `${type}/${subtype}`)
    .filter((t) => t !== 'application/json'),
);

interface Answer {
  status: number;
  error?: string;
  client_id?: string;
  redirect_uris?: string[];
}

async function register(metadata: unknown): Promise<Answer> {
  const response = await fetch(`${server.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

/**
 * A valid registration body sent with `contentType` (none when undefined: bytes carry no type,
 * where a string body would get fetch's `text/plain`), to `/register`, `/dcr` or as an update.
 */
async function sendTyped(
  endpoint: 'register' | 'dcr' | 'update',
  contentType: string | undefined,
): Promise<Answer> {
  const update = endpoint === 'update';
  const body = new TextEncoder().encode(
    JSON.stringify(update ? { ...base(), client_id: existing.client_id } : base()),
  );
  const response = await fetch(update ? existing.registration_client_uri : `${server.issuer}/${endpoint}`, {
    method: update ? 'PUT' : 'POST',
    headers: {
      ...(contentType !== undefined && { 'content-type': contentType }),
      ...(update && { authorization: `Bearer ${existing.registration_access_token}` }),
    },
    body,
  });
  return { status: response.status, ...((await response.json()) as object) };
}

async function update(metadata: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(existing.registration_client_uri, {
    method: 'PUT',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${existing.registration_access_token}`,
    },
    body: JSON.stringify({ ...metadata, client_id: existing.client_id }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

/** Runs the property with a table scan around every case; `check` gets the answer and what changed. */
async function eachCase<T>(
  arbitrary: fc.Arbitrary<T>,
  act: (value: T) => Promise<Answer>,
  check: (value: T, answer: Answer, changes: ReturnType<typeof tableChanges>) => void,
) {
  let before = await table.snapshot();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      const answer = await act(value);
      const after = await table.snapshot();
      const changes = tableChanges(before, after);
      before = after;
      check(value, answer, changes);
    }),
    { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true },
  );
}

/** 400 with `code`, and the table as it was. */
function refused(code: Code) {
  return (_value: unknown, answer: Answer, changes: ReturnType<typeof tableChanges>) => {
    expect({ status: answer.status, error: answer.error }).toEqual({ status: 400, error: code });
    expect(changes).toEqual(NO_CHANGES);
  };
}

/** `base()` with the bad redirect URI among the good ones, at a generated position. */
const withBadRedirect = fc.tuple(badRedirectUri, fc.nat(2)).map(([[uri, code], at]) => {
  const uris = [...(base().redirect_uris as string[])];
  uris.splice(at, 0, uri);
  return { metadata: { ...base(), redirect_uris: uris }, code };
});

describe('POST /register', () => {
  it('refuses a bad redirect URI among good ones with its RFC 7591 code, storing nothing', async () => {
    await eachCase(
      withBadRedirect,
      ({ metadata }) => register(metadata),
      ({ code }, answer, changes) => refused(code)(undefined, answer, changes),
    );
  });

  it('registers an arbitrary string as a redirect URI only exactly as sent and when a browser would not rewrite it', async () => {
    await eachCase(
      fc.string({ unit: 'binary', maxLength: 60 }),
      (uri) => register({ ...base(), redirect_uris: [uri] }),
      (uri, answer, changes) => {
        if (answer.status === 201) {
          // One client stored, nothing else; and the URI is one a browser leaves as it is.
          expect(changes.added.map(keyKind)).toEqual(['client']);
          expect(changes.changed).toEqual([]);
          expect(answer.redirect_uris).toEqual([uri]);
          expect(new URL(uri).href).toBe(uri);
          expect(uri).not.toMatch(/#|[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
          return;
        }
        expect(answer.status).toBe(400);
        expect(['invalid_redirect_uri', 'invalid_client_metadata']).toContain(answer.error);
        expect(changes).toEqual(NO_CHANGES);
      },
    );
  });

  it('refuses display text with a control or bidi character: 400 invalid_client_metadata, storing nothing', async () => {
    await eachCase(
      fc.tuple(fc.constantFrom(...TEXT_FIELDS), withUnsafe(fc.string({ maxLength: 40 }))),
      ([field, text]) => register({ ...base(), [field]: text }),
      refused('invalid_client_metadata'),
    );
  });

  it('refuses a contact with a control or bidi character: 400 invalid_client_metadata, storing nothing', async () => {
    await eachCase(
      withUnsafe(fc.emailAddress()),
      (contact) => register({ ...base(), contacts: ['ops@app.example', contact] }),
      refused('invalid_client_metadata'),
    );
  });

  it('refuses a URI field that is not an http or https URL: 400 invalid_client_metadata, storing nothing', async () => {
    await eachCase(
      fc
        .tuple(
          fc.constantFrom(...URI_FIELDS),
          fc.oneof(
            fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
            fc.webUrl().map((u) => u.replace(/^https?/, 'javascript')),
            fc.constantFrom(
              'javascript:alert(1)',
              'data:image/png;base64,AAAA',
              'ftp://app.example/logo.png',
              '//app.example',
            ),
          ),
        )
        .filter(([, value]) => !/^https?:\/\//i.test(value)),
      ([field, value]) => register({ ...base(), [field]: value }),
      refused('invalid_client_metadata'),
    );
  });

  it('refuses display text with any Bidi_Control, Default_Ignorable or lone surrogate character: 400 invalid_client_metadata, storing nothing', async () => {
    await eachCase(
      fc.tuple(fc.constantFrom(...TEXT_FIELDS), withHidden(fc.string({ maxLength: 40 }))),
      ([field, text]) => register({ ...base(), [field]: text }),
      refused('invalid_client_metadata'),
    );
  });

  it('refuses a URL field that is not an absolute https URL with a host: 400 invalid_client_metadata, storing nothing', async () => {
    const hostless = fc.constantFrom(
      'https://',
      'https:///',
      'https:////app.example/logo.png',
      'https:///app.example',
      'https:\\\\app.example/logo.png',
      'https://?x=1',
      'https://#x',
      'https://:443',
      'https://:443/logo.png',
      'https://@',
      'https://@/logo.png',
      'https:app.example/logo.png',
      'HTTPS://',
    );
    await eachCase(
      fc.tuple(
        fc.constantFrom(...URL_FIELDS),
        fc.oneof(
          hostless,
          fc.tuple(hostless, fc.webPath()).map(([h, p]) => `${h}${p}`),
          fc.webUrl({ validSchemes: ['http'] }),
        ),
      ),
      ([field, value]) => register({ ...base(), [field]: value }),
      refused('invalid_client_metadata'),
    );
  });

  it('accepts an absolute https URL with a host in each URL field, and keeps it as sent', async () => {
    await eachCase(
      fc.tuple(
        fc.constantFrom(...URL_FIELDS),
        fc.webUrl({ validSchemes: ['https'], withQueryParameters: true }),
      ),
      ([field, value]) => register({ ...base(), [field]: value }),
      ([field, value], answer, changes) => {
        expect(answer.status).toBe(201);
        expect(changes.added.map(keyKind)).toEqual(['client']);
        if (field === 'jwks_uri') expect(answer).not.toHaveProperty(field);
        else expect((answer as unknown as Record<string, unknown>)[field]).toBe(value);
      },
    );
  });

  it('refuses a body not sent as application/json at /register, /dcr and PUT: 415 before reading it, storing nothing', async () => {
    await eachCase(
      fc.tuple(fc.constantFrom('register' as const, 'dcr' as const, 'update' as const), notJson),
      ([endpoint, type]) => sendTyped(endpoint, type),
      (_value, answer, changes) => {
        expect({ status: answer.status, error: answer.error }).toEqual({
          status: 415,
          error: 'invalid_request',
        });
        expect(changes).toEqual(NO_CHANGES);
      },
    );
  });

  it('reads application/json with parameters and in any case', async () => {
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON;charset=UTF-8',
      'application/json ; charset="utf-8"',
    ]) {
      expect((await sendTyped('register', type)).status).toBe(201);
      expect((await sendTyped('dcr', type)).status).toBe(201);
      expect((await sendTyped('update', type)).status).toBe(200);
    }
  });

  it('refuses a field of the wrong JSON type: 400 invalid_client_metadata, storing nothing', async () => {
    const fields = {
      redirect_uris: (v: unknown) => Array.isArray(v) && v.every((u) => typeof u === 'string'),
      grant_types: (v: unknown) => Array.isArray(v) && v.every((u) => typeof u === 'string'),
      response_types: (v: unknown) => Array.isArray(v) && v.every((u) => typeof u === 'string'),
      contacts: (v: unknown) => Array.isArray(v) && v.every((u) => typeof u === 'string'),
      token_endpoint_auth_method: (v: unknown) => typeof v === 'string',
      scope: (v: unknown) => typeof v === 'string',
      client_name: (v: unknown) => typeof v === 'string',
      client_uri: (v: unknown) => typeof v === 'string',
      logo_uri: (v: unknown) => typeof v === 'string',
      software_id: (v: unknown) => typeof v === 'string',
      application_type: (v: unknown) => typeof v === 'string',
    };
    await eachCase(
      fc
        .tuple(
          fc.constantFrom(...(Object.keys(fields) as Array<keyof typeof fields>)),
          fc.jsonValue({ maxDepth: 3 }),
        )
        .filter(([field, value]) => !fields[field](value)),
      ([field, value]) => register({ ...base(), [field]: value }),
      refused('invalid_client_metadata'),
    );
  });

  it('refuses a body that is not a JSON object: 400 invalid_client_metadata, storing nothing', async () => {
    await eachCase(
      fc.jsonValue({ maxDepth: 3 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
      (value) => register(value),
      refused('invalid_client_metadata'),
    );
  });
});

describe('PUT /clients/{client_id}', () => {
  it('refuses a bad redirect URI with its RFC 7591 code and leaves the registration as it was', async () => {
    await eachCase(
      withBadRedirect,
      ({ metadata }) => update(metadata),
      ({ code }, answer, changes) => refused(code)(undefined, answer, changes),
    );
  });

  it('refuses display text with a control or bidi character and leaves the registration as it was', async () => {
    await eachCase(
      fc.tuple(fc.constantFrom(...TEXT_FIELDS), withUnsafe(fc.string({ maxLength: 40 }))),
      ([field, text]) => update({ ...base(), [field]: text }),
      refused('invalid_client_metadata'),
    );
  });

  it('refuses display text with any Bidi_Control, Default_Ignorable or lone surrogate character and leaves the registration as it was', async () => {
    await eachCase(
      fc.tuple(fc.constantFrom(...TEXT_FIELDS), withHidden(fc.string({ maxLength: 40 }))),
      ([field, text]) => update({ ...base(), [field]: text }),
      refused('invalid_client_metadata'),
    );
  });
});
