/**
 * The HTML pages of the authorization server: the consent page and the error page. Self-contained
 * (no external assets; one inline style and one inline script, each allowed by its hash), never
 * framed, never cached, and usable without JavaScript or a mouse.
 */
import { createHash } from 'node:crypto';
import { PlainResponse } from '../../shared/http-message.js';
import { displayText } from './display-text.js';

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.4rem}ul{padding-left:1.2rem}.note{color:#555;font-size:.9rem}
.host{font-family:ui-monospace,monospace;background:#f2f2f2;padding:.1rem .3rem;border-radius:3px;word-break:break-all}
.actions{display:flex;gap:1rem;margin-top:1.5rem}
button{font:inherit;padding:.5rem 1.4rem;border-radius:6px;border:1px solid #555;background:#fff;cursor:pointer}
button.primary{background:#1f5fbf;border-color:#1f5fbf;color:#fff}
button:focus-visible{outline:3px solid #f0b400;outline-offset:2px}`;

/** How long the consent page must have been visible and focused before Allow takes a click. */
export const ALLOW_DELAY_MS = 600;

/**
 * Clickjacking by double click: a hostile page asks for a double click, opens this page in a
 * pop-up on the first click (frame-blocking does not apply to a top-level window), and the second
 * click lands on Allow. So Allow takes no click until the page has been visible and focused for
 * {@link ALLOW_DELAY_MS}; the timer starts again whenever the page is hidden or loses focus. The
 * button is enabled in the HTML and disabled by this script, which runs as soon as the button is
 * parsed: with JavaScript off the form still works, and a hostile page cannot time a pop-up in a
 * browser that runs no script.
 */
const ALLOW_SCRIPT = `(function(){var b=document.getElementById('allow'),t=0;
function off(){clearTimeout(t);t=0;b.disabled=true}
function arm(){off();if(document.visibilityState==='visible'&&document.hasFocus())t=setTimeout(function(){b.disabled=false},${ALLOW_DELAY_MS})}
document.addEventListener('visibilitychange',arm);addEventListener('focus',arm);addEventListener('blur',off);addEventListener('pageshow',arm);arm()})();`;

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');
const ALLOW_SCRIPT_HASH = createHash('sha256').update(ALLOW_SCRIPT).digest('base64');

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Headers of every page. `form-action` lists where the consent form may lead: this server, and
 * the client's redirect target, because browsers apply `form-action` to the redirect that
 * follows the form's submission too.
 */
function pageHeaders(formTargets: string[]): Record<string, string> {
  const csp = [
    "default-src 'none'",
    `style-src 'sha256-${STYLE_HASH}'`,
    `script-src 'sha256-${ALLOW_SCRIPT_HASH}'`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
    `form-action ${formTargets.length ? formTargets.join(' ') : "'none'"}`,
  ].join('; ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

/**
 * An error shown to the user, for failures that cannot go back to the client (RFC 6749 §4.1.2.1)
 * or must not go back unattended (RFC 9700 §4.11.2). `returnTo` offers the error response as a
 * link, naming where it leads, for the user to follow if they trust it.
 */
export function errorPage(
  error: string,
  description: string,
  status = 400,
  returnTo?: { href: string; to: string },
): PlainResponse {
  const back = returnTo
    ? `<p class="note">If you started this from an app you trust at <span class="host">${escapeHtml(
        describeRedirect(returnTo.to).text,
      )}</span>, you can <a href="${escapeHtml(returnTo.href)}" rel="noreferrer">return to it</a> with this error.</p>`
    : '';
  const body = `<h1>Sign-in failed</h1>
<p>${escapeHtml(description)}</p>
<p class="note">Error code: <code>${escapeHtml(error)}</code>. Close this window and try connecting again from your app.</p>${back}`;
  return new PlainResponse(page('Sign-in failed', body), { status, headers: pageHeaders([]) });
}

export interface ConsentView {
  /** This server's authorization endpoint, where the form posts. */
  action: string;
  handle: string;
  csrfToken: string;
  clientName: string | undefined;
  /** For a client ID metadata document client: the host that serves its document. */
  clientHost?: string;
  redirectUri: string;
  /** The user, as the upstream named them. */
  user: string;
  /** Each requested permission, in words. */
  permissions: string[];
  /**
   * Each requested permission the scope policy withholds from this user, in words: the page says
   * they will not be granted, and why.
   */
  withheld?: string[];
  resourceName: string;
  /** Extra headers (the browser-binding cookie). */
  headers?: Record<string, string>;
}

/** What the consent page says about where the code will go. */
export function describeRedirect(redirectUri: string): { text: string; formTarget: string } {
  const url = new URL(redirectUri);
  if (url.protocol === 'https:' || url.protocol === 'http:') {
    const loopback = url.protocol === 'http:';
    return {
      text: loopback ? `an app on this computer (${url.host})` : url.host,
      // CSP host sources cannot name an IPv6 literal; `http:` is the narrowest that covers [::1].
      formTarget: !loopback
        ? url.origin
        : url.hostname.startsWith('[')
          ? 'http:'
          : `http://${url.hostname}:*`,
    };
  }
  // A private-use scheme (`cursor://…`): the scheme names the app the operating system opens.
  return { text: `${url.protocol}//${url.host}`, formTarget: url.protocol };
}

/**
 * A string someone other than this server chose (a client name, the user's name, a host), as
 * HTML: without the characters `display-text.ts` removes, escaped, and isolated in `<bdi>` so that
 * whatever direction its letters have, it cannot reorder the sentence around it.
 */
function isolated(text: string): string {
  return `<bdi>${escapeHtml(displayText(text))}</bdi>`;
}

export function consentPage(view: ConsentView): PlainResponse {
  const name = view.clientName !== undefined ? displayText(view.clientName) : '';
  const redirect = describeRedirect(view.redirectUri);
  const host = view.clientHost !== undefined ? isolated(view.clientHost) : undefined;
  const body = `<h1>Allow access to ${isolated(view.resourceName)}?</h1>
<p><strong>${name ? isolated(name) : 'An unnamed app'}</strong>${
    host ? ` from <span class="host">${host}</span>` : ''
  } wants to act as you.
<span class="note">${
    host
      ? `This name was chosen by the app itself and is not verified; ${host} is the site that describes the app.`
      : 'This name was chosen by the app itself and is not verified.'
  }</span></p>
<p>If you allow it, you will be sent to <span class="host">${isolated(redirect.text)}</span>.
Only continue if you started this from an app you trust that uses that address.</p>
<p>It will be able to:</p>
<ul>${view.permissions.map((p) => `<li>${isolated(p)}</li>`).join('')}</ul>${
    view.withheld?.length
      ? `
<p id="withheld">The app also asked for the following, which you will not be given: your groups at your
organization's sign-in service do not include one that may have ${view.withheld.length > 1 ? 'them' : 'it'}.</p>
<ul>${view.withheld.map((p) => `<li>${isolated(p)}</li>`).join('')}</ul>`
      : ''
  }
<p class="note">Signed in as ${isolated(view.user)}.</p>
<form method="post" action="${escapeHtml(view.action)}">
<input type="hidden" name="authorization" value="${escapeHtml(view.handle)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(view.csrfToken)}">
<div class="actions">
<button class="primary" type="submit" name="decision" value="approve" id="allow">Allow</button><script>${ALLOW_SCRIPT}</script>
<button type="submit" name="decision" value="deny">Deny</button>
</div></form>`;
  return new PlainResponse(page(`Allow access to ${displayText(view.resourceName)}?`, body), {
    status: 200,
    headers: { ...pageHeaders(["'self'", redirect.formTarget]), ...view.headers },
  });
}
