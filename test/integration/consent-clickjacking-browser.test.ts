/**
 * Clickjacking by double click, in headless Chromium: a hostile page opens the consent page in a
 * pop-up on a first click so that the second lands on Allow. Allow has no focus and takes no
 * click until the page has been visible and focused for `ALLOW_DELAY_MS`; the timer starts again
 * when the page loses focus. The page's clock is Playwright's, so "the first moment" is exact
 * rather than a race with a loaded machine. With JavaScript off, the form works as before.
 */
import * as oauth from 'oauth4webapi';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import type { LocalServer } from '../../lib/local/server.js';
import { ALLOW_DELAY_MS } from '../../lambda/oauth/login/pages.js';
import { launchChromium, runBrowserTests } from '../support/browser.js';
import { registerClient, startTestServer, type RegisteredClient } from '../support/local-server.js';

const describeWithBrowser = runBrowserTests ? describe : describe.skip;
const REDIRECT = 'http://127.0.0.1:9/callback';
const START = new Date('2026-07-28T10:00:00Z');

describeWithBrowser('the consent page against a double click', () => {
  let server: LocalServer;
  let browser: Browser;
  let client: RegisteredClient;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    client = await registerClient(server.issuer, {
      client_name: 'Double click app',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function authorizeUrl(): Promise<string> {
    const challenge = await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier());
    return `${server.issuer}/authorize?${new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'double-click',
      resource: `${server.issuer}/mcp`,
    })}`;
  }

  /** Logs in at the local upstream and stops on the consent page; every consent POST is recorded. */
  async function openConsent(
    context: BrowserContext,
  ): Promise<{ page: Page; posts: Request[]; cspViolations: string[] }> {
    const page = await context.newPage();
    const posts: Request[] = [];
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().startsWith(`${server.issuer}/authorize`)) posts.push(r);
    });
    await page.goto(await authorizeUrl());
    await page.waitForURL(`${server.upstreamIssuer}/**`);
    await page.fill('input[name="login"]', 'ada@example.com');
    await page.fill('input[name="password"]', 'any password');
    await Promise.all([page.waitForURL(`${server.issuer}/callback**`), page.click('button[type="submit"]')]);
    return { page, posts, cspViolations };
  }

  /** The client's redirect after a consent POST: the 303's Location. */
  async function redirectAfter(page: Page, click: () => Promise<void>): Promise<URL> {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(server.issuer)),
      click(),
    ]);
    return new URL(response.headers()['location']!);
  }

  const center = async (page: Page) => {
    const box = (await page.locator('#allow').boundingBox())!;
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  };

  it('ignores a click on Allow in the first moment, and submits one made after the delay', async () => {
    // Prepare: the page's clock stands still until the test moves it.
    const context = await browser.newContext();
    await context.clock.install({ time: START });
    await context.clock.pauseAt(new Date(START.getTime() + 1000));
    const { page, posts } = await openConsent(context);
    const allow = page.locator('#allow');

    // Act: a real mouse click on Allow as soon as the page is there (the second click of a double click).
    const focused = await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
    const disabledAtFirstClick = await allow.isDisabled();
    const { x, y } = await center(page);
    await page.mouse.click(x, y);
    await page.mouse.dblclick(x, y);
    await page.waitForTimeout(300);
    const postsAfterEarlyClicks = posts.length;
    await page.clock.runFor(ALLOW_DELAY_MS - 100);
    const disabledJustBefore = await allow.isDisabled();
    await page.clock.runFor(200);
    const redirect = await redirectAfter(page, () => page.mouse.click(x, y));

    // Assess
    expect(focused).toBe('BODY');
    expect(disabledAtFirstClick).toBe(true);
    expect(postsAfterEarlyClicks).toBe(0);
    expect(page.url()).toContain('/callback');
    expect(disabledJustBefore).toBe(true);
    expect(redirect.origin + redirect.pathname).toBe(REDIRECT);
    expect(redirect.searchParams.get('code')).toBeTruthy();
    expect(redirect.searchParams.get('state')).toBe('double-click');
    expect(posts).toHaveLength(1);
    await context.close();
  });

  it('starts the delay again when the page loses focus', async () => {
    // Prepare
    const context = await browser.newContext();
    await context.clock.install({ time: START });
    await context.clock.pauseAt(new Date(START.getTime() + 1000));
    const { page, posts } = await openConsent(context);
    const allow = page.locator('#allow');
    await page.clock.runFor(ALLOW_DELAY_MS + 100);
    const enabledAfterDelay = await allow.isEnabled();

    // Act: the window loses focus and gets it back (a pop-up raised under the pointer).
    await page.evaluate(() => {
      window.dispatchEvent(new Event('blur'));
      window.dispatchEvent(new Event('focus'));
    });
    const disabledAfterRefocus = await allow.isDisabled();
    const { x, y } = await center(page);
    await page.mouse.click(x, y);
    await page.waitForTimeout(300);
    const postsAfterEarlyClick = posts.length;
    await page.clock.runFor(ALLOW_DELAY_MS + 100);

    // Assess
    expect(enabledAfterDelay).toBe(true);
    expect(disabledAfterRefocus).toBe(true);
    expect(postsAfterEarlyClick).toBe(0);
    expect(await allow.isEnabled()).toBe(true);
    await context.close();
  });

  it('keeps the form usable with JavaScript off: no script, no delay, the decision still posts', async () => {
    // Prepare
    const context = await browser.newContext({ javaScriptEnabled: false });
    const { page } = await openConsent(context);

    // Act
    const redirect = await redirectAfter(page, () => page.click('#allow'));

    // Assess
    expect(redirect.searchParams.get('code')).toBeTruthy();
    await context.close();
  });

  it('lets Playwright (and a person) approve with an ordinary click once the page has settled', async () => {
    // Prepare
    const context = await browser.newContext();
    const { page, cspViolations } = await openConsent(context);

    // Act: `click` waits until the button is enabled.
    const redirect = await redirectAfter(page, () => page.click('#allow'));

    // Assess
    expect(redirect.searchParams.get('code')).toBeTruthy();
    expect(cspViolations).toEqual([]);
    await context.close();
  });
});
