/**
 * Strings a person reads on the consent page, walked over every code point Unicode (as Node ships
 * it) gives the `Bidi_Control` or `Default_Ignorable_Code_Point` property, and every lone
 * surrogate: through each field that reaches the page (a registration's `client_name`, a metadata
 * document's `client_name`, the upstream's `name` and `email`) and through the page itself.
 * Registration refuses them; the others lose them; the page never shows one, and isolates what
 * others chose in `<bdi>`.
 */
import fc from 'fast-check';
import { validateClientMetadata } from '../../../../lambda/oauth/clients/client-metadata.js';
import { validateMetadataDocument } from '../../../../lambda/oauth/clients/client-resolver.js';
import { displayText, displayTextProblem } from '../../../../lambda/oauth/login/display-text.js';
import { InvalidClientMetadataError } from '../../../../lambda/oauth/errors.js';
import { identityFromClaims } from '../../../../lambda/oauth/login/identity-provider.js';
import { consentPage, type ConsentView } from '../../../../lambda/oauth/login/pages.js';

const SCOPES = ['mcp:tools', 'mcp:resources'];
const DOCUMENT_URL = 'https://app.example/oauth/client.json';
const PROPERTIES = /[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}]/u;

/** Every code point with either property, from Node's ICU data; then every lone surrogate. */
const PROPERTY_CHARS: string[] = [];
for (let cp = 0; cp <= 0x10ffff; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const char = String.fromCodePoint(cp);
  if (PROPERTIES.test(char)) PROPERTY_CHARS.push(char);
}
const LONE_SURROGATES = Array.from({ length: 0x800 }, (_, i) => String.fromCharCode(0xd800 + i));
const HIDDEN_CHARS = [...PROPERTY_CHARS, ...LONE_SURROGATES];

/** The characters the hostile review found, by name: each must be among those walked or refused. */
const REPORTED = [
  '\u061c', // ARABIC LETTER MARK
  '\u200b', // ZERO WIDTH SPACE
  '\u200d', // ZERO WIDTH JOINER
  '\u2060', // WORD JOINER
  '\u2062', // INVISIBLE TIMES
  '\ufeff', // ZERO WIDTH NO-BREAK SPACE
  '\u00ad', // SOFT HYPHEN
  '\u180e', // MONGOLIAN VOWEL SEPARATOR
  '\u3164', // HANGUL FILLER
  '\u2800', // BRAILLE PATTERN BLANK
  '\u2028', // LINE SEPARATOR
  '\u2029', // PARAGRAPH SEPARATOR
  '\u{e0041}', // TAG LATIN CAPITAL LETTER A
  '\ud800', // a lone surrogate
];

/** Anything the page must never contain. */
const SHOWN_NEVER = /[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}\p{Cs}\p{Zl}\p{Zp}\u2800]/u;

/** `Invoice 2024` + the character + `-01 Viewer`: the review's example. */
const around = (char: string) => `Invoice 2024${char}-01 Viewer`;
const CLEAN = 'Invoice 2024-01 Viewer';

function view(fields: Partial<ConsentView>): ConsentView {
  return {
    action: 'https://as.example/authorize',
    handle: 'h'.repeat(43),
    csrfToken: 'c'.repeat(43),
    clientName: 'App',
    redirectUri: 'https://app.example/callback',
    user: 'ada@example.com',
    permissions: ['Use the tools of MCP server, as you'],
    resourceName: 'MCP server',
    ...fields,
  };
}

describe('the characters walked', () => {
  it('come from the Unicode data Node ships, and include every character the review reported', () => {
    expect(PROPERTY_CHARS.length).toBeGreaterThan(4000);
    for (const char of REPORTED) expect(displayTextProblem(around(char))).toBeDefined();
  });
});

describe('a registration', () => {
  it('refuses client_name with any Bidi_Control, Default_Ignorable or lone surrogate character, naming it', () => {
    for (const char of HIDDEN_CHARS) {
      let error: unknown;
      try {
        validateClientMetadata({ grant_types: ['client_credentials'], client_name: around(char) }, SCOPES);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidClientMetadataError);
      const hex = char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      expect((error as Error).message).toContain(`"client_name"`);
      expect((error as Error).message).toContain(`U+${hex}`);
    }
  });
});

describe('a metadata document', () => {
  it('loses the character from client_name and still stands for its client', () => {
    for (const char of HIDDEN_CHARS) {
      const metadata = validateMetadataDocument(
        DOCUMENT_URL,
        {
          client_id: DOCUMENT_URL,
          client_name: around(char),
          redirect_uris: ['https://app.example/callback'],
        },
        SCOPES,
      );
      expect(metadata.client_name).toBe(CLEAN);
    }
  });

  it('made only of such characters has no name (the page says "An unnamed app")', () => {
    const metadata = validateMetadataDocument(
      DOCUMENT_URL,
      { client_id: DOCUMENT_URL, client_name: '\u200b\u2060', redirect_uris: ['https://app.example/cb'] },
      SCOPES,
    );
    expect(metadata).not.toHaveProperty('client_name');
  });
});

describe('the upstream identity', () => {
  it('loses the character from the name and leaves out an email that carries one; sub stays as sent', () => {
    for (const char of HIDDEN_CHARS) {
      const identity = identityFromClaims({
        sub: `user${char}1`,
        name: around(char),
        email: `ada${char}@example.com`,
      });
      expect(identity).toEqual({ sub: `user${char}1`, name: CLEAN });
    }
  });
});

describe('the consent page', () => {
  it('shows none of the characters, whatever field carries them, and isolates each chosen string', async () => {
    for (const char of HIDDEN_CHARS) {
      const response = consentPage(
        view({
          clientName: around(char),
          clientHost: `app.example${char}`,
          user: `Ada${char} (ada@example.com)`,
          permissions: [`Use the "x${char}" permission of MCP server`],
        }),
      );
      const html = await response.text();
      expect(html).not.toMatch(SHOWN_NEVER);
      expect(html).toContain(`<strong><bdi>${CLEAN}</bdi></strong>`);
      expect(html).toContain('<bdi>app.example</bdi>');
      expect(html).toContain('Signed in as <bdi>Ada (ada@example.com)</bdi>.');
      expect(html).toContain('<li><bdi>Use the &quot;x&quot; permission of MCP server</bdi></li>');
    }
  });

  it('keeps right-to-left letters as they are, isolated', async () => {
    const html = await consentPage(view({ clientName: 'מחשבון عربي' })).text();
    expect(html).toContain('<strong><bdi>מחשבון عربي</bdi></strong>');
  });
});

describe('displayText', () => {
  it('removes exactly what displayTextProblem refuses, and nothing a person sees', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom(...HIDDEN_CHARS)), {
          maxLength: 8,
        }),
        (parts) => {
          const text = parts.join('');
          const shown = displayText(text);
          expect(shown).not.toMatch(SHOWN_NEVER);
          // Node 20 has String.prototype.isWellFormed; the project's TypeScript lib predates it.
          expect((shown as string & { isWellFormed(): boolean }).isWellFormed()).toBe(true);
          expect(displayText(shown)).toBe(shown);
          expect(displayTextProblem(text) === undefined).toBe(shown === text);
        },
      ),
      { seed: 20261207, numRuns: 500 },
    );
  });
});
