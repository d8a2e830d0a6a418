/**
 * Headless Chromium (Debian's `chromium`, driven by `playwright-core`) for the login tests: it
 * opens an authorization URL, logs in at the local upstream provider's form, answers the consent
 * page, and reports where this server finally sent the browser (the client's redirect URI with
 * `code` or `error`). Nothing is downloaded; `.ci/run` installs the browser.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The browser tests run unless `SKIP_BROWSER_TESTS=1`; without that, a missing browser fails them
 * with a message rather than skipping them silently.
 */
export const runBrowserTests = process.env.SKIP_BROWSER_TESTS !== '1';

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not at ${CHROMIUM_PATH}: apt-get install chromium (or set CHROMIUM_PATH, or SKIP_BROWSER_TESTS=1)`,
    );
  }
  return launch();
}

function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface LoginOptions {
  /** The username typed into the local provider's form (any password works). */
  username: string;
  /** What to click on the consent page; `none` expects no consent page (remembered consent). */
  consent?: 'approve' | 'deny' | 'none';
  /** Reuse a browser context (its cookies), as a user's browser would across logins. */
  context?: BrowserContext;
}

export interface LoginResult {
  /** Where this server sent the browser at the end: the client's redirect URI with the response. */
  redirect: URL;
  /** Content Security Policy violations the browser reported on the way (there should be none). */
  cspViolations: string[];
  page: Page;
  context: BrowserContext;
}

/** The first response of `issuer` that redirects anywhere but to itself or the upstream. */
function finalRedirect(page: Page, issuer: string, upstream: string): Promise<URL> {
  return new Promise((resolve) => {
    const onResponse = (response: Response) => {
      const location = response.headers()['location'];
      if (!response.url().startsWith(issuer) || !location) return;
      const target = new URL(location, response.url());
      if (target.href.startsWith(issuer) || target.href.startsWith(upstream)) return;
      page.off('response', onResponse);
      resolve(target);
    };
    page.on('response', onResponse);
  });
}

/**
 * Logs in through `authorizationUrl`. The browser follows the final redirect itself (a loopback
 * callback server receives it); other targets (`https://claude.ai/...`, `cursor://...`) cannot
 * be reached here and are read from the redirect's `Location` instead.
 */
export async function loginInBrowser(
  browser: Browser,
  authorizationUrl: string,
  server: { issuer: string; upstreamIssuer: string },
  options: LoginOptions,
): Promise<LoginResult> {
  const context = options.context ?? (await browser.newContext());
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  const redirected = finalRedirect(page, server.issuer, server.upstreamIssuer);
  await page.goto(authorizationUrl).catch(() => undefined);
  const first = await Promise.race([
    redirected,
    page.waitForURL(`${server.upstreamIssuer}/**`).then(() => null),
  ]);
  if (first) return { redirect: first, cspViolations, page, context };

  await page.fill('input[name="login"]', options.username);
  await page.fill('input[name="password"]', 'any password');
  const consent = options.consent ?? 'approve';
  await Promise.all([
    consent === 'none' ? Promise.resolve() : page.waitForURL(`${server.issuer}/callback**`),
    page.click('button[type="submit"]'),
  ]);
  if (consent !== 'none') {
    await page.click(`button[name="decision"][value="${consent}"]`).catch(() => undefined);
  }
  const redirect = await redirected;
  // Let the browser act on the redirect (and report any policy violation) before returning.
  await page.waitForLoadState('load').catch(() => undefined);
  return { redirect, cspViolations, page, context };
}
