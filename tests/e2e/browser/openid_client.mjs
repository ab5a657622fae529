// Tessera as seen by openid-client (v6, the functional API), a certified
// OpenID Connect relying party library written by someone else.
//
// Two relying parties run the authorization code flow with PKCE S256:
//   - the public native app (client authentication "none", a loopback
//     redirect URI with a port of its own, RFC 8252 §7.3, no consent page);
//   - the confidential web app (client_secret_basic, with the consent page).
// Each: discovery (issuer checked against the document), an authorization URL
// with PKCE, state and nonce, the sign-in done by hand with node's fetch
// (cookies kept here, HTML forms read from the page), then the library's
// authorizationCodeGrant, which checks state and the RFC 9207 iss parameter
// of the callback and the ID token (signature against the JWKS, as
// enableNonRepudiationChecks asks, iss, aud, exp, iat, nonce). at_hash,
// which the library does not check in the code flow, is checked here.
// Then UserInfo (its sub must be the ID token's) and a refresh.
//
// Environment (set by tests/e2e/test_openid_client.py):
//   TESSERA_URL                      the tenant's issuer
//   TESSERA_USERNAME, TESSERA_PASSWORD
//   TESSERA_PUBLIC_CLIENT_ID         public client with a http://127.0.0.1/cb redirect URI
//   TESSERA_WEB_CLIENT_ID, TESSERA_WEB_CLIENT_SECRET, TESSERA_WEB_REDIRECT_URI
// Prints one JSON line with what each run got; exits 1 on any failure.
import { createHash } from 'node:crypto';
import * as client from 'openid-client';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

// -- a minimal browser: cookies by hand, redirects one at a time -----------

class Browser {
  constructor(origin) {
    this.origin = origin;
    this.cookies = new Map(); // name|path -> {name, value, path}
  }

  store(res) {
    for (const sc of res.headers.getSetCookie()) {
      const [nv, ...attrs] = sc.split(';');
      const eq = nv.indexOf('=');
      const name = nv.slice(0, eq).trim();
      const value = nv.slice(eq + 1).trim();
      let path = '/';
      let maxAge = null;
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        if (k.trim().toLowerCase() === 'path') path = v.trim();
        if (k.trim().toLowerCase() === 'max-age') maxAge = Number(v.trim());
      }
      const key = `${name}|${path}`;
      if (maxAge !== null && maxAge <= 0) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  cookieHeader(url) {
    const p = new URL(url).pathname;
    return [...this.cookies.values()]
      .filter((c) => p === c.path || p.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`).join('; ');
  }

  async request(url, init = {}) {
    const headers = { ...(init.headers || {}) };
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(res);
    return res;
  }

  // Follows redirects while they stay on the server. Returns {page, url}
  // for an HTML page, or {leftTo} for a redirect that leaves the server.
  async follow(url, init = {}) {
    let res = await this.request(url, init);
    while (res.status >= 300 && res.status < 400) {
      const loc = new URL(res.headers.get('location'), url).toString();
      if (!loc.startsWith(`${this.origin}/`)) return { leftTo: loc };
      url = loc;
      res = await this.request(url);
    }
    return { page: await res.text(), status: res.status, url };
  }

  async submit(page, pageUrl, values, button) {
    const form = parseForm(page);
    const body = new URLSearchParams({ ...form.fields, ...values });
    if (button) {
      check(form.buttons.some(([n, v]) => n === button[0] && v === button[1]),
        `no button ${button} on ${pageUrl}`);
      body.set(button[0], button[1]);
    }
    return this.follow(new URL(form.action, pageUrl).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
  }
}

function unescapeHtml(s) {
  return s.replace(/&(amp|lt|gt|quot|#39);/g,
    (_, e) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]);
}

function attrs(tag) {
  const out = {};
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)="([^"]*)"/g)) out[m[1].toLowerCase()] = unescapeHtml(m[2]);
  return out;
}

function parseForm(html) {
  const forms = [...html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form>/g)];
  check(forms.length === 1, `expected one form, got ${forms.length}`);
  const form = attrs(forms[0][0].match(/<form\b[^>]*>/)[0]);
  const fields = {};
  const types = {};
  const buttons = [];
  for (const m of forms[0][1].matchAll(/<input\b[^>]*>/g)) {
    const a = attrs(m[0]);
    if (a.name) {
      fields[a.name] = a.value || '';
      types[a.name] = a.type || 'text';
    }
  }
  for (const m of forms[0][1].matchAll(/<button\b[^>]*>/g)) {
    const a = attrs(m[0]);
    if (a.name) buttons.push([a.name, a.value || '']);
  }
  return { action: form.action, method: (form.method || 'get').toLowerCase(), fields, types, buttons };
}

// -- one relying party ----------------------------------------------------------

function atHash(accessToken) {
  const d = createHash('sha256').update(accessToken, 'ascii').digest();
  return d.subarray(0, d.length / 2).toString('base64url');
}

async function run({ issuer, clientId, secret, redirectUri, username, password, consent }) {
  const auth = secret ? client.ClientSecretBasic(secret) : client.None();
  const config = await client.discovery(new URL(issuer), clientId, undefined, auth, {
    // The test server speaks plain HTTP on 127.0.0.1.
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
  check(config.serverMetadata().issuer === issuer, 'discovered issuer');
  check(config.serverMetadata().authorization_response_iss_parameter_supported === true,
    'authorization_response_iss_parameter_supported');

  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const scope = 'openid profile email offline_access';
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope, state, nonce,
    code_challenge: codeChallenge, code_challenge_method: 'S256',
  });

  // The user signs in (and approves) in the "browser".
  const browser = new Browser(new URL(issuer).origin);
  let r = await browser.follow(url.toString());
  check(r.page && new URL(r.url).pathname.endsWith('/login'), `expected the login page: ${JSON.stringify(r).slice(0, 300)}`);
  const login = parseForm(r.page);
  check(login.types.csrf_token === 'hidden' && login.types.password === 'password', 'login form');
  r = await browser.submit(r.page, r.url, { username, password });
  const pages = ['login'];
  if (consent) {
    check(r.page && new URL(r.url).pathname.endsWith('/consent'), `expected the consent page: ${JSON.stringify(r).slice(0, 300)}`);
    pages.push('consent');
    r = await browser.submit(r.page, r.url, {}, ['decision', 'approve']);
  }
  check(r.leftTo && r.leftTo.startsWith(`${redirectUri}?`), `expected a redirect to the client: ${JSON.stringify(r).slice(0, 300)}`);
  const callback = new URL(r.leftTo);

  // The library refuses a callback whose iss is not the issuer (RFC 9207)
  // or whose state is not ours, before it spends the code.
  const forged = new URL(callback);
  forged.searchParams.set('iss', 'https://evil.test/');
  let refused = null;
  try {
    await client.authorizationCodeGrant(config, forged, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce });
  } catch (e) {
    refused = `${e.code}: ${e.message}: ${e.cause && e.cause.message}`;
  }
  check(refused, 'a callback with a foreign iss was accepted');
  const refusedIss = refused;
  refused = null;
  try {
    await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: 'other-state', expectedNonce: nonce });
  } catch (e) {
    refused = `${e.code}: ${e.message}: ${e.cause && e.cause.message}`;
  }
  check(refused, 'a callback with another state was accepted');

  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  const claims = tokens.claims();
  check(claims.iss === issuer && claims.aud === clientId && claims.nonce === nonce, 'ID token claims');
  check(claims.azp === clientId, 'azp');
  check(typeof claims.auth_time === 'number', 'auth_time');
  check(claims.at_hash === atHash(tokens.access_token), `at_hash ${claims.at_hash}`);
  check(tokens.token_type.toLowerCase() === 'bearer', 'token_type');
  check(tokens.refresh_token, 'no refresh token with offline_access');

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  check(userinfo.sub === claims.sub, 'userinfo sub');

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  check(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'refresh token rotated');
  check(refreshed.access_token !== tokens.access_token, 'new access token');
  const rclaims = refreshed.claims();
  check(!rclaims || rclaims.sub === claims.sub, 'refreshed ID token sub');
  // The rotated refresh token is now spent: the library reports invalid_grant.
  let reuse = null;
  try {
    await client.refreshTokenGrant(config, tokens.refresh_token);
  } catch (e) {
    reuse = `${e.error || e.code}: ${e.message}`;
  }
  check(reuse, 'a rotated refresh token was accepted again');

  return {
    client_id: clientId, pages, redirect: `${callback.origin}${callback.pathname}`,
    sub: claims.sub, scope: tokens.scope, userinfo, id_token_claims: claims,
    access_token: tokens.access_token, refreshed_access_token: refreshed.access_token,
    refused_foreign_iss: refusedIss, refused_other_state: refused, reused_refresh_token: reuse,
  };
}

async function main() {
  const issuer = need('TESSERA_URL');
  const username = need('TESSERA_USERNAME');
  const password = need('TESSERA_PASSWORD');
  // A loopback redirect URI with a port of its own (registered without one).
  const port = 20000 + Math.floor(Math.random() * 40000);
  const out = {};
  out.public = await run({
    issuer, clientId: need('TESSERA_PUBLIC_CLIENT_ID'), redirectUri: `http://127.0.0.1:${port}/cb`,
    username, password, consent: false,
  });
  out.web = await run({
    issuer, clientId: need('TESSERA_WEB_CLIENT_ID'), secret: need('TESSERA_WEB_CLIENT_SECRET'),
    redirectUri: need('TESSERA_WEB_REDIRECT_URI'), username, password, consent: true,
  });
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(`openid_client.mjs: ${err && err.stack ? err.stack : err}`);
  if (err && err.cause) console.error('cause:', JSON.stringify(err.cause));
  process.exit(1);
});
