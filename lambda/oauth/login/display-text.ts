/**
 * Text shown to a person, who trusts what it says: client names (from registrations and from
 * client ID metadata documents), the user's name and email from the upstream, scope descriptions.
 * Every such string passes through here.
 *
 * Unicode has characters that are not seen but change what is seen: `Bidi_Control` characters
 * reorder the text around them ("Invoice 2024\u061C-01 Viewer" can display as something else);
 * `Default_Ignorable_Code_Point` characters are drawn as nothing (zero-width space and joiners,
 * the soft hyphen, the Hangul filler, tag characters); format and control characters and line
 * or paragraph separators (U+2028, U+2029) do either. A lone surrogate is not text at all (and
 * storage may refuse it). The classes come from the Unicode data Node ships (`\p{...}`), not a
 * hand list, so they follow Unicode as it grows.
 *
 * Two uses, one character class: {@link displayTextProblem} for input that can be refused with a
 * message its author reads (registration), {@link displayText} for input that cannot (an upstream
 * user's name, a document the client publishes for many servers, anything already stored).
 */

/**
 * Characters refused or removed: controls (`Cc`), format characters (`Cf`), line and paragraph
 * separators (`Zl`, `Zp`), bidi controls, default-ignorable code points, lone surrogates (`Cs`:
 * with the `u` flag a surrogate pair is one code point and never matches), and U+2800 BRAILLE
 * PATTERN BLANK, which no property marks but which draws as an empty space.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Bidi_Control}\p{Default_Ignorable_Code_Point}\p{Cs}\u2800]/u;
const ALL_HIDDEN = new RegExp(HIDDEN.source, 'gu');

/** `U+200B`, for messages. */
function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Why `text` cannot be shown as it is, or undefined when it can. The message names the first
 * offending code point, so the author of a registration can find it.
 */
export function displayTextProblem(text: string): string | undefined {
  const found = HIDDEN.exec(text);
  if (!found) return undefined;
  const char = found[0];
  if (/\p{Cs}/u.test(char)) return `must be well-formed Unicode (a lone surrogate ${codePoint(char)})`;
  return `must not contain control or bidi characters or invisible ones (found ${codePoint(char)})`;
}

/** `text` without the characters {@link displayTextProblem} refuses. */
export function displayText(text: string): string {
  return text.replace(ALL_HIDDEN, '');
}

/** Whether a string is safe to show as it is (the test of {@link displayTextProblem}). */
export function isDisplaySafe(text: string): boolean {
  return displayTextProblem(text) === undefined;
}
