/**
 * How error messages quote what a requester chose (a parameter value, a URL, a field of a
 * registration or of a client metadata document). Those messages reach this server's own error
 * pages, and a page that repeats a long text verbatim lends this server's name to whatever the
 * text says ("your access has been suspended, sign in at …"). So a message quotes at most a
 * short excerpt, with the characters that could disguise it (controls, invisible and bidi
 * formatting characters, quotes) replaced, and the page escapes it as any other text.
 */

/** The most characters (code points) of requester-chosen text a message repeats. */
export const EXCERPT_LENGTH = 40;

const DISGUISING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}"\\]/gu;

/** `text` in double quotes, cut to `EXCERPT_LENGTH` code points with "…" when longer. */
export function quote(text: unknown): string {
  const chars = Array.from(String(text).replace(DISGUISING, '?'));
  const shown =
    chars.length > EXCERPT_LENGTH ? `${chars.slice(0, EXCERPT_LENGTH).join('')}…` : chars.join('');
  return `"${shown}"`;
}
