"""Tessera against openid-client (npm, v6), a certified OpenID Connect
relying-party library: browser/openid_client.mjs runs discovery, the code
flow with PKCE for a public native app (loopback redirect, any port) and a
confidential web app (client_secret_basic, consent page), with the sign-in
done by hand over node's fetch; the library checks state, the RFC 9207 iss,
the ID token (signature, iss, aud, nonce), UserInfo and a refresh. What it
returns is cross-checked here with jwcrypto. Needs node and `npm ci` in
browser/: missing tools fail the test in CI (CI=true) and skip it elsewhere."""
import pytest

from e2e_util import SECRET, fetch_jwks
from people_helpers import (ALICE, AUD, WEB_URI, people_tenant, run_node, userinfo,
                            verify_user_access_token)

DOC = {"tenants": [people_tenant("acme", users=(ALICE,))]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def test_openid_client_code_flow_userinfo_and_refresh(srv):
    out = run_node("openid_client.mjs", {
        "TESSERA_URL": srv.issuer("acme"), "TESSERA_USERNAME": ALICE["username"],
        "TESSERA_PASSWORD": ALICE["password"], "TESSERA_PUBLIC_CLIENT_ID": "mobile",
        "TESSERA_WEB_CLIENT_ID": "web", "TESSERA_WEB_CLIENT_SECRET": SECRET,
        "TESSERA_WEB_REDIRECT_URI": WEB_URI})
    keys = fetch_jwks(srv, "acme")
    pub, web = out["public"], out["web"]
    assert pub["pages"] == ["login"] and web["pages"] == ["login", "consent"]
    assert pub["redirect"].startswith("http://127.0.0.1:") and pub["redirect"].endswith("/cb")
    assert web["redirect"] == WEB_URI
    for run, client_id in ((pub, "mobile"), (web, "web")):
        # The library refused a forged iss and another state, and a rotated
        # refresh token presented again.
        assert '"iss"' in run["refused_foreign_iss"], run["refused_foreign_iss"]
        assert '"state"' in run["refused_other_state"], run["refused_other_state"]
        assert run["reused_refresh_token"].startswith("invalid_grant"), run
        assert run["id_token_claims"]["aud"] == client_id
        assert run["userinfo"]["email"] == ALICE["email"]
        assert run["userinfo"]["preferred_username"] == ALICE["username"]
        assert run["userinfo"]["sub"] == run["sub"] == pub["sub"]
        for at in (run["access_token"], run["refreshed_access_token"]):
            c = verify_user_access_token(at, keys, issuer=srv.issuer("acme"),
                                         client_id=client_id, scope=run["scope"], audience=AUD)
            assert c["sub"] == run["sub"]
        # The reuse revoked the grant, the refreshed access token included.
        assert userinfo(srv, "acme", run["refreshed_access_token"]).status_code == 401
