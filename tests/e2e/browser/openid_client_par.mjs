// Pushed authorization requests (RFC 9126) as openid-client (v6) makes them.
//
// Two relying parties push their authorization request with
// buildAuthorizationUrlWithPAR (PKCE S256, state, nonce) and run the code
// flow from the request_uri the server answered:
//   - the public native app (client authentication "none", a loopback
//     redirect URI with a port of its own);
//   - the confidential web app (client_secret_basic, with the consent page).
// The sign-in is done by hand with node's fetch; the library's
// authorizationCodeGrant checks state, iss and the ID token (signature,
// iss, aud, nonce). Each run reports the authorization URL it used, so that
// the test can show that it is spent.
//
// Environment (set by tests/e2e/test_par.py):
//   TESSERA_URL                      the tenant's issuer
//   TESSERA_USERNAME, TESSERA_PASSWORD
//   TESSERA_PUBLIC_CLIENT_ID         public client with a http://127.0.0.1/cb redirect URI
//   TESSERA_WEB_CLIENT_ID, TESSERA_WEB_CLIENT_SECRET, TESSERA_WEB_REDIRECT_URI
//   TESSERA_DPOP (optional, set by tests/e2e/test_dpop_jkt.py): each push
//     carries a DPoP proof (RFC 9449 §10.1), so its code is bound to the
//     key; the code grant proves the same key, and one more flow per client
//     redeems its code with another key, reporting the error it got.
// Prints one JSON line with what each run got; exits 1 on any failure.
import * as client from 'openid-client';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
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

// The page's only form: its action and the values of its inputs.
function parseForm(html) {
  const forms = [...html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form>/g)];
  check(forms.length === 1, `expected one form, got ${forms.length}`);
  const fields = {};
  for (const m of forms[0][1].matchAll(/<input\b[^>]*>/g)) {
    const a = attrs(m[0]);
    if (a.name) fields[a.name] = a.value || '';
  }
  return { action: attrs(forms[0][0].match(/<form\b[^>]*>/)[0]).action, fields };
}

// A user agent with a cookie jar (name=value only: one server, one path).
class Browser {
  constructor(origin) {
    this.origin = origin;
    this.cookies = new Map();
  }

  async request(url, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const sc of res.headers.getSetCookie()) {
      const nv = sc.split(';')[0];
      const eq = nv.indexOf('=');
      this.cookies.set(nv.slice(0, eq).trim(), nv.slice(eq + 1).trim());
    }
    return res;
  }

  // Follows redirects while they stay on the server.
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

  async submit(r, values) {
    const form = parseForm(r.page);
    return this.follow(new URL(form.action, r.url).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.fields, ...values }).toString(),
    });
  }
}

async function run({ issuer, clientId, secret, redirectUri, username, password, consent,
  dpop, redeemDpop }) {
  const auth = secret ? client.ClientSecretBasic(secret) : client.None();
  const config = await client.discovery(new URL(issuer), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
  const meta = config.serverMetadata();
  check(meta.pushed_authorization_request_endpoint === `${issuer}/oauth2/par`,
    `pushed_authorization_request_endpoint ${meta.pushed_authorization_request_endpoint}`);

  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const scope = 'openid profile email offline_access';
  const DPoP = dpop ? client.getDPoPHandle(config, dpop) : undefined;
  const RedeemDPoP = redeemDpop ? client.getDPoPHandle(config, redeemDpop) : DPoP;
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: redirectUri, scope, state, nonce,
    code_challenge: codeChallenge, code_challenge_method: 'S256',
  }, DPoP ? { DPoP } : undefined);
  // Only client_id and request_uri travel through the browser.
  check([...url.searchParams.keys()].sort().join(',') === 'client_id,request_uri',
    `authorization URL ${url}`);

  const browser = new Browser(new URL(issuer).origin);
  let r = await browser.follow(url.toString());
  check(r.page && new URL(r.url).pathname.endsWith('/login'), `expected the login page: ${JSON.stringify(r).slice(0, 300)}`);
  r = await browser.submit(r, { username, password });
  const pages = ['login'];
  const atConsent = Boolean(r.page && new URL(r.url).pathname.endsWith('/consent'));
  // 'maybe': the user may have approved this client before.
  if (consent === true || (consent === 'maybe' && atConsent)) {
    check(atConsent, `expected the consent page: ${JSON.stringify(r).slice(0, 300)}`);
    pages.push('consent');
    r = await browser.submit(r, { decision: 'approve' });
  }
  check(r.leftTo && r.leftTo.startsWith(`${redirectUri}?`), `expected a redirect to the client: ${JSON.stringify(r).slice(0, 300)}`);
  const callback = new URL(r.leftTo);
  let tokens;
  try {
    tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
    }, undefined, RedeemDPoP ? { DPoP: RedeemDPoP } : undefined);
  } catch (err) {
    if (redeemDpop && err && err.error) return { client_id: clientId, error: err.error };
    throw err;
  }
  const claims = tokens.claims();
  check(claims.iss === issuer && claims.aud === clientId && claims.nonce === nonce, 'ID token claims');
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub,
    DPoP ? { DPoP } : undefined);
  check(userinfo.sub === claims.sub, 'userinfo sub');
  return {
    client_id: clientId, pages, authorization_url: url.toString(), scope: tokens.scope,
    sub: claims.sub, access_token: tokens.access_token, token_type: tokens.token_type, userinfo,
  };
}

async function main() {
  const issuer = need('TESSERA_URL');
  const username = need('TESSERA_USERNAME');
  const password = need('TESSERA_PASSWORD');
  const port = 20000 + Math.floor(Math.random() * 40000);
  const out = {};
  const pub = {
    issuer, clientId: need('TESSERA_PUBLIC_CLIENT_ID'), redirectUri: `http://127.0.0.1:${port}/cb`,
    username, password, consent: false,
  };
  const web = {
    issuer, clientId: need('TESSERA_WEB_CLIENT_ID'), secret: need('TESSERA_WEB_CLIENT_SECRET'),
    redirectUri: need('TESSERA_WEB_REDIRECT_URI'), username, password, consent: true,
  };
  if (process.env.TESSERA_DPOP) {
    const key = await client.randomDPoPKeyPair('ES256');
    const other = await client.randomDPoPKeyPair('ES256');
    out.public = await run({ ...pub, dpop: key });
    out.web = await run({ ...web, consent: 'maybe', dpop: key });
    out.public_other_key = await run({ ...pub, dpop: key, redeemDpop: other });
    out.web_other_key = await run({ ...web, consent: 'maybe', dpop: key, redeemDpop: other });
  } else {
    out.public = await run(pub);
    out.web = await run(web);
  }
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(`openid_client_par.mjs: ${err && err.stack ? err.stack : err}`);
  if (err && err.cause) console.error('cause:', JSON.stringify(err.cause));
  process.exit(1);
});
