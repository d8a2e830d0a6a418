/**
 * A minimal browser over plain HTTP for the login tests that need many logins or need to tamper
 * with a step: it keeps cookies per host, follows redirects one hop at a time, and fills in the
 * local upstream provider's login form and this server's consent form. The real browser tests
 * (`browser.ts`) show that Chromium does the same; this one is fast and lets a test stop anywhere.
 */

/** A cookie jar keyed by host (browsers scope cookies by host, not by port). */
export class UserAgent {
  private readonly jar = new Map<string, Map<string, string>>();

  private cookieHeader(url: URL): string | undefined {
    const cookies = this.jar.get(url.hostname);
    if (!cookies?.size) return undefined;
    return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private store(url: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const cookies = this.jar.get(url.hostname) ?? new Map<string, string>();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) cookies.delete(name);
      else cookies.set(name, value);
      this.jar.set(url.hostname, cookies);
    }
  }

  /** One request, no redirect following, with this agent's cookies. */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(target);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.store(target, response);
    return response;
  }

  /**
   * Follows redirects while they stay on `hosts` (origins); returns the final page, or the first
   * redirect that leaves them (the client's redirect URI).
   */
  async follow(
    url: string | URL,
    hosts: string[],
    init: RequestInit = {},
  ): Promise<{ page?: Response; pageUrl: URL; redirect?: URL }> {
    let current = new URL(url);
    let response = await this.fetch(current, init);
    for (let hop = 0; hop < 10; hop++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location)
        return { page: response, pageUrl: current };
      const next = new URL(location, current);
      if (!hosts.some((h) => next.href.startsWith(h))) return { redirect: next, pageUrl: current };
      current = next;
      response = await this.fetch(current);
    }
    throw new Error('too many redirects');
  }
}

export interface Servers {
  issuer: string;
  upstreamIssuer: string;
}

/** The hidden inputs of a form. */
export function formFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1]!] = match[2]!.replace(/&amp;/g, '&');
  }
  return fields;
}

export interface ConsentStep {
  /** The consent page's HTML and its headers. */
  html: string;
  headers: Headers;
  fields: Record<string, string>;
}

export type LoginStep =
  { redirect: URL; consent?: undefined } | { redirect?: undefined; consent: ConsentStep };

/**
 * Opens an authorization URL and logs in at the local upstream as `username`; stops at the
 * consent page, or at the redirect back to the client when there is none (an error, or consent
 * remembered). `cancel` presses the upstream's Cancel instead of logging in.
 */
export async function startLogin(
  agent: UserAgent,
  authorizationUrl: string,
  servers: Servers,
  options: { username: string; cancel?: boolean },
): Promise<LoginStep> {
  const hosts = [servers.issuer, servers.upstreamIssuer];
  const start = await agent.follow(authorizationUrl, hosts);
  if (start.redirect) return { redirect: start.redirect };
  const html = await start.page!.text();
  // With a session at the upstream already, it sends the browser straight back: the consent page.
  if (start.pageUrl.href.startsWith(`${servers.issuer}/callback`)) return consentStep(start.page!, html);
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action || !start.pageUrl.href.startsWith(servers.upstreamIssuer)) {
    throw new Error(`expected the upstream login form, got ${start.page!.status} at ${start.pageUrl}`);
  }
  const submit = new URL(action, start.pageUrl);
  const done = options.cancel
    ? await agent.follow(`${submit.href}/abort`, hosts)
    : await agent.follow(submit, hosts, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ prompt: 'login', login: options.username, password: 'any password' }),
      });
  if (done.redirect) return { redirect: done.redirect };
  return consentStep(done.page!, await done.page!.text());
}

function consentStep(page: Response, html: string): LoginStep {
  if (page.status !== 200 || !html.includes('name="decision"')) {
    throw new Error(`expected the consent page, got ${page.status}: ${html.slice(0, 300)}`);
  }
  return { consent: { html, headers: page.headers, fields: formFields(html) } };
}

/** Answers the consent page; returns this server's response (a 303 to the client, or an error page). */
export function answerConsent(
  agent: UserAgent,
  servers: Servers,
  fields: Record<string, string>,
  decision: 'approve' | 'deny',
): Promise<Response> {
  return agent.fetch(`${servers.issuer}/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, decision }),
  });
}

/** A whole login that approves; returns the client's redirect (with `code`, `state`, `iss`). */
export async function login(
  agent: UserAgent,
  authorizationUrl: string,
  servers: Servers,
  username: string,
): Promise<URL> {
  const step = await startLogin(agent, authorizationUrl, servers, { username });
  if (step.redirect) return step.redirect;
  const answer = await answerConsent(agent, servers, step.consent.fields, 'approve');
  const location = answer.headers.get('location');
  if (answer.status !== 303 || !location)
    throw new Error(`consent failed: ${answer.status} ${await answer.text()}`);
  return new URL(location);
}
