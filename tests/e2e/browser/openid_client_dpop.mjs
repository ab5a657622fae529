// DPoP (RFC 9449) as openid-client (v6) and its oauth4webapi speak it: a
// key pair made by the library, a password grant whose access and refresh
// tokens are bound to it (the library builds every proof, and answers a
// use_dpop_nonce error by retrying with the server's nonce, which the
// client that requires DPoP gets), UserInfo and /api/me through the
// library with proofs carrying ath, then a refresh with the same key.
//
// Environment (set by tests/e2e/test_dpop_openid_client.py):
//   TESSERA_URL                        the tenant's issuer
//   TESSERA_USERNAME, TESSERA_PASSWORD
//   TESSERA_CLIENT_ID                  a public client with the password grant
// Prints one JSON line with what it got; exits 1 on any failure.
import * as client from 'openid-client';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

async function main() {
  const issuer = need('TESSERA_URL');
  const config = await client.discovery(new URL(issuer), need('TESSERA_CLIENT_ID'), undefined,
    client.None(), { execute: [client.allowInsecureRequests] });
  check(config.serverMetadata().dpop_signing_alg_values_supported.includes('ES256'),
    'discovery does not list ES256 for DPoP');
  const keyPair = await client.randomDPoPKeyPair('ES256');
  const DPoP = client.getDPoPHandle(config, keyPair);
  const tok = await client.genericGrantRequest(config, 'password', {
    username: need('TESSERA_USERNAME'), password: need('TESSERA_PASSWORD'),
    scope: 'openid offline_access',
  }, { DPoP });
  check(tok.token_type.toLowerCase() === 'dpop', `token_type ${tok.token_type}`);
  const jkt = claims(tok.access_token).cnf?.jkt;
  check(typeof jkt === 'string' && jkt.length === 43, 'the access token has no cnf.jkt');
  const sub = claims(tok.access_token).sub;
  const info = await client.fetchUserInfo(config, tok.access_token, sub, { DPoP });
  const me = await client.fetchProtectedResource(config, tok.access_token,
    new URL(`${issuer}/api/me`), 'GET', undefined, undefined, { DPoP });
  check(me.status === 200, `/api/me answered ${me.status}`);
  const meBody = await me.json();
  const again = await client.refreshTokenGrant(config, tok.refresh_token, undefined, { DPoP });
  check(claims(again.access_token).cnf?.jkt === jkt, 'the refreshed token is bound to another key');
  console.log(JSON.stringify({
    token_type: tok.token_type, jkt, userinfo_sub: info.sub, me_username: meBody.username,
    refreshed_type: again.token_type,
  }));
}

main().catch((e) => {
  console.error(e?.stack || String(e));
  if (e?.cause) console.error('cause:', JSON.stringify(e.cause));
  process.exit(1);
});
