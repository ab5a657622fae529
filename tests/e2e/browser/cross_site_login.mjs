// Login CSRF in a real browser: a page of another site (https://evil.example,
// served by a route, nothing goes to the network) carries a form that posts
// the attacker's username and password to Tessera's /api/login and submits
// itself, as an attacker's page would. Chromium sends what a browser sends
// (Origin, Sec-Fetch-Site); Tessera must not sign the browser in.
//
// Environment (set by tests/e2e/test_attacks_identity.py):
//   TESSERA_URL          the tenant's issuer, e.g. http://127.0.0.1:8080/t/acme
//   TESSERA_USERNAME, TESSERA_PASSWORD   the attacker's account
//   CHROMIUM             the browser (default /usr/bin/chromium)
// Prints one JSON line: {"status", "origin", "sec_fetch_site", "cookies"}
// (the /api/login answer's status, the headers Chromium sent, and the names
// of the cookies the browser holds for Tessera afterwards).
import { chromium } from 'playwright-core';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

function attr(s) {
  return s.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
}

async function main() {
  const issuer = need('TESSERA_URL');
  const username = need('TESSERA_USERNAME');
  const password = need('TESSERA_PASSWORD');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--no-first-run',
      '--disable-sync', '--disable-quic'],
  });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    const evil = 'https://evil.example';
    await page.route(`${evil}/**`, (route) => route.fulfill({
      status: 200, contentType: 'text/html',
      body: `<!doctype html><title>win a prize</title>
<form id="f" method="post" action="${attr(issuer)}/api/login">
<input name="username" value="${attr(username)}">
<input name="password" value="${attr(password)}"></form>
<script>document.getElementById('f').submit();</script>`,
    }));
    const allowed = new URL(issuer).origin;
    await page.route((url) => url.origin !== allowed && url.origin !== evil,
      (route) => route.abort());
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${issuer}/api/login`),
      page.goto(`${evil}/prize`),
    ]);
    const sent = await resp.request().allHeaders();
    const cookies = (await context.cookies(issuer)).map((c) => c.name);
    console.log(JSON.stringify({
      status: resp.status(), origin: sent.origin || null,
      sec_fetch_site: sent['sec-fetch-site'] || null, cookies,
    }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
