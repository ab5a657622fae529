// A real browser through Tessera's login and consent pages.
//
// Debian's chromium, driven by playwright-core, opens the authorization URL
// of a confidential web client (PKCE S256), signs in on the login page,
// approves on the consent page and is sent to the client's redirect URI,
// which is intercepted (nothing listens at https://acme.test) to capture the
// URL. The final URL must carry code, state and iss (RFC 9207).
//
// Environment (set by tests/e2e/test_browser.py):
//   TESSERA_URL           the tenant's issuer, e.g. http://127.0.0.1:8080/t/acme
//   TESSERA_CLIENT_ID     a client that asks for consent
//   TESSERA_REDIRECT_URI  its redirect URI (https://acme.test/oauth/callback)
//   TESSERA_USERNAME, TESSERA_PASSWORD
//   TESSERA_SCREENSHOT    where to save a PNG of the login page (the consent
//                         page goes next to it, as NAME-consent.png)
//   TESSERA_TIMING        when set, prints timings to stderr
//   CHROMIUM              the browser (default /usr/bin/chromium)
// Prints one JSON line: {"final_url", "code", "state", "iss", "code_verifier",
// "screenshot", "pages"}; exits 1 with a message on any failure.
import { createHash, randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

const T0 = Date.now();
const mark = (what) => { if (process.env.TESSERA_TIMING) console.error(`${Date.now() - T0} ms ${what}`); };

async function main() {
  const issuer = need('TESSERA_URL');
  const clientId = need('TESSERA_CLIENT_ID');
  const redirectUri = need('TESSERA_REDIRECT_URI');
  const username = need('TESSERA_USERNAME');
  const password = need('TESSERA_PASSWORD');
  const shot = process.env.TESSERA_SCREENSHOT || '/tmp/tessera-login.png';
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

  const verifier = b64url(randomBytes(48));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const authz = new URL(`${issuer}/oauth2/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri,
    scope: 'openid profile email', state, nonce,
    code_challenge: challenge, code_challenge_method: 'S256',
  })) authz.searchParams.set(k, v);

  const browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--no-first-run',
      '--disable-sync', '--disable-quic'],
  });
  mark('launched');
  const pages = [];
  try {
    const context = await browser.newContext({ viewport: { width: 800, height: 640 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    // The client's redirect URI: capture it instead of going to the network
    // (nothing listens at https://acme.test).
    let callback = null;
    const redirectOrigin = new URL(redirectUri).origin;
    await page.route(`${redirectOrigin}/**`, async (route) => {
      callback = route.request().url();
      await route.fulfill({
        status: 200, contentType: 'text/html',
        body: '<!doctype html><title>callback</title><p>signed in</p>',
      });
    });
    // Playwright hands a request that a redirect leads to straight to the
    // network, past every route handler. So the one answer that redirects
    // to the client (the consent form's POST) is fetched here, checked as
    // the server sent it, and replaced by a page that navigates to the same
    // URL, a navigation that the route above does intercept.
    let serverRedirect = null;
    await page.route(`${issuer}/consent`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const resp = await route.fetch({ maxRedirects: 0 });
      const location = resp.headers().location || '';
      if (resp.status() < 300 || resp.status() > 399 || !location.startsWith(`${redirectUri}?`)) {
        return route.fulfill({ response: resp });
      }
      serverRedirect = { status: resp.status(), location };
      const attr = location.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
      return route.fulfill({
        status: 200, contentType: 'text/html',
        body: `<!doctype html><meta http-equiv="refresh" content="0;url=${attr}">`,
      });
    });
    // Any other host would be a leak: refuse it.
    const allowed = new URL(issuer).origin;
    await page.route((url) => url.origin !== allowed && url.origin !== redirectOrigin,
      (route) => route.abort());

    mark('routes set');
    await page.goto(authz.toString());
    mark('login page');
    pages.push(new URL(page.url()).pathname);
    if (!page.url().startsWith(`${issuer}/login`)) {
      throw new Error(`expected the login page, got ${page.url()}`);
    }
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    if (await page.locator('input[type="hidden"][name="csrf_token"]').count() !== 1) {
      throw new Error('the login form has no hidden csrf_token');
    }
    await page.screenshot({ path: shot, fullPage: true });
    mark('screenshot');
    await Promise.all([
      page.waitForURL((u) => u.toString().startsWith(`${issuer}/consent`)),
      page.locator('form button[type="submit"]').click(),
    ]);
    mark('consent page');
    pages.push(new URL(page.url()).pathname);
    const approve = page.locator('button[name="decision"][value="approve"]');
    await page.screenshot({ path: shot.replace(/\.png$/, '') + '-consent.png', fullPage: true });
    if (await page.locator('button[name="decision"][value="deny"]').count() !== 1) {
      throw new Error('the consent page has no deny button');
    }
    await Promise.all([
      page.waitForURL((u) => u.toString().startsWith(redirectUri)),
      approve.click(),
    ]);
    mark('callback');
    if (!serverRedirect) throw new Error('the consent POST did not redirect to the client');
    if (callback !== serverRedirect.location || page.url() !== callback) {
      throw new Error(`callback ${callback}, page ${page.url()}, server sent ${serverRedirect.location}`);
    }
    const finalUrl = callback;
    const q = new URL(finalUrl).searchParams;
    const out = {
      final_url: finalUrl, code: q.get('code'), state: q.get('state'), iss: q.get('iss'),
      code_verifier: verifier, nonce, screenshot: shot, pages,
      redirect_status: serverRedirect.status,
    };
    if (!out.code) throw new Error(`no code in ${finalUrl}`);
    if (out.state !== state) throw new Error(`state ${out.state} != ${state}`);
    if (out.iss !== issuer) throw new Error(`iss ${out.iss} != ${issuer}`);
    console.log(JSON.stringify(out));
  } finally {
    await browser.close();
    mark('closed');
  }
}

main().catch((err) => {
  console.error(`login_consent.mjs: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
