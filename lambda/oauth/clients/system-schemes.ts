/**
 * URI schemes that operating systems and browsers handle themselves, refused as redirect URIs
 * whatever form they take. A redirect URI is opened by the user's browser after they click Allow;
 * with one of these schemes it would launch a system application (Settings, the camera, the App
 * Store, an installer, a search) with arguments the registrant chose, instead of returning to the
 * client.
 *
 * RFC 8252 §7.1 asks native apps for "a URI scheme based on a domain name under their control,
 * expressed in reverse order" (RFC 7595 §3.8). This server cannot check who controls a domain, so
 * `redirect-uris.ts` checks the shape (the first label looks like a top-level domain) and this
 * list refuses the names that belong to the platforms. Maintained by hand: add a scheme here, with
 * its source, when a platform documents a new one. Sources, read 2026-12:
 *
 * - RFC 8252 §7.1 and RFC 7595 §3.8: https://datatracker.ietf.org/doc/html/rfc8252#section-7.1
 * - Windows, "Launch the default app for a URI" (`ms-settings:`, `ms-store:`, `ms-photos:`,
 *   `ms-people:`, `ms-chat:`, `ms-call:`, `ms-drive-to:`, `microsoft-edge:`, `msnweather:`,
 *   `bingmaps:`) and "Launch the Windows Settings app":
 *   https://learn.microsoft.com/en-us/windows/uwp/launch-resume/launch-default-app
 *   https://learn.microsoft.com/en-us/windows/uwp/launch-resume/launch-settings-app
 *   Packaged Windows apps register `microsoft.windows.*` protocols (`microsoft.windows.camera:`,
 *   `microsoft.windows.photos.*:`), and `search-ms:` / `ms-msdt:` / `ms-officecmd:` were each used
 *   to run code from a web page (CVE-2022-30190 and the `search-ms` phishing reports of 2022).
 * - Apple, "Apple URL Scheme Reference" (`tel:`, `sms:`, `facetime:`, `maps:`, `itms-apps:`) and
 *   the `x-apple.systempreferences:` / `x-apple-*` schemes macOS uses for its own panes and apps:
 *   https://developer.apple.com/library/archive/featuredarticles/iPhoneURLScheme_Reference/
 * - Android, "Android Intents with Chrome" (`intent:` starts any exported activity):
 *   https://developer.chrome.com/docs/android/intents
 * - Browsers' own schemes (`about:`, `chrome:`, `edge:`, `view-source:`, `blob:`, …) and the
 *   IANA URI scheme registry for the rest:
 *   https://www.iana.org/assignments/uri-schemes/uri-schemes.xhtml
 */

/** Exact schemes, lower case, without the colon. */
export const SYSTEM_SCHEMES: readonly string[] = [
  // Browsers and the web platform.
  'about',
  'blob',
  'chrome',
  'chrome-extension',
  'chrome-search',
  'chrome-untrusted',
  'data',
  'edge',
  'file',
  'filesystem',
  'ftp',
  'javascript',
  'jar',
  'moz-extension',
  'opera',
  'brave',
  'resource',
  'safari-extension',
  'vbscript',
  'view-source',
  'ws',
  'wss',
  // Communication handlers every platform ships.
  'callto',
  'facetime',
  'facetime-audio',
  'mailto',
  'sms',
  'smsto',
  'tel',
  'imessage',
  // Windows.
  'bingmaps',
  'microsoft-edge',
  'msnweather',
  'search',
  'search-ms',
  'shell',
  'windowsdefender',
  // Apple.
  'app-prefs',
  'prefs',
  'itms',
  'itms-apps',
  'itms-appss',
  'itms-services',
  'maps',
  'music',
  'shortcuts',
  'workflow',
  'applenews',
  'ibooks',
  // Android.
  'intent',
  'android-app',
  'content',
  'market',
];

/**
 * Scheme prefixes: a scheme starting with one of these belongs to a platform. Each ends with `-`
 * or `.` so that it never swallows an unrelated name (`ms-` is not `msauth.`), except `x-apple`,
 * which covers both Apple's `x-apple.` and `x-apple-` families.
 */
export const SYSTEM_SCHEME_PREFIXES: readonly string[] = [
  'ms-', // Windows: ms-settings, ms-msdt, ms-officecmd, ms-appinstaller, ms-word, ms-cxh, …
  'microsoft.', // Windows packaged apps: microsoft.windows.camera, microsoft.windows.photos…
  'microsoft-', // microsoft-edge, microsoft-edge-holographic
  'windows.', // windows.immersivecontrolpanel and other shell protocols
  'x-apple', // x-apple.systempreferences, x-apple-helpbasic, x-apple-reminderkit, x-apple-health…
  'apple-', // apple-magnifier, apple-reference-documentation…
  'com.apple.', // reverse-DNS under apple.com: only Apple controls it
  'com.microsoft.', // reverse-DNS under microsoft.com
  'com.android.', // reverse-DNS of Android's own packages
  'android.', // android.intent… activity names
  'itms-', // App Store and enterprise app installation
  'chrome-', // chrome-extension, chrome-untrusted, chrome-search, chrome-devtools
  'edge-', // Edge internal pages
  'moz-', // Firefox internal schemes
  'org.freedesktop.', // desktop Linux's own services
  'org.gnome.',
  'org.kde.',
];

/** Whether a scheme (with or without its colon, any case) is one a platform handles itself. */
export function isSystemScheme(scheme: string): boolean {
  const name = scheme.toLowerCase().replace(/:$/, '');
  return SYSTEM_SCHEMES.includes(name) || SYSTEM_SCHEME_PREFIXES.some((prefix) => name.startsWith(prefix));
}
