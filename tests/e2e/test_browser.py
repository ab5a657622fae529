"""A real browser through the login and consent pages: Debian's chromium,
driven by playwright-core (browser/login_consent.mjs), signs in, approves,
and lands on the web client's redirect URI with code, state and iss; the
code it brought back is then redeemed here. Needs node, chromium and
`npm ci` in browser/: missing tools fail the test in CI (CI=true) and skip
it elsewhere."""
import os
import shutil

import pytest

from e2e_util import SECRET, fetch_jwks
from people_helpers import (ALICE, WEB_URI, RP, missing, people_tenant, run_node,
                            verify_id_token, verify_user_access_token)

DOC = {"tenants": [people_tenant("acme", users=(ALICE,))]}
SCREENSHOT = "/tmp/tessera-e2e-login.png"


def chromium():
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(path, os.X_OK):
        missing("chromium is not installed (%s)" % path)
    return path


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def test_login_and_consent_in_chromium(srv):
    exe = chromium()
    for f in (SCREENSHOT, SCREENSHOT[:-4] + "-consent.png"):
        if os.path.exists(f):
            os.unlink(f)
    out = run_node("login_consent.mjs", {
        "TESSERA_URL": srv.issuer("acme"), "TESSERA_CLIENT_ID": "web",
        "TESSERA_REDIRECT_URI": WEB_URI, "TESSERA_USERNAME": ALICE["username"],
        "TESSERA_PASSWORD": ALICE["password"], "TESSERA_SCREENSHOT": SCREENSHOT,
        "CHROMIUM": exe})
    assert out["pages"] == ["/t/acme/login", "/t/acme/consent"], out
    assert out["redirect_status"] == 303, out  # RFC 9700 4.12: the consent POST
    assert out["final_url"].startswith(WEB_URI + "?"), out
    assert out["code"] and out["state"] and out["iss"] == srv.issuer("acme"), out
    for f in (SCREENSHOT, SCREENSHOT[:-4] + "-consent.png"):
        with open(f, "rb") as fh:
            head = fh.read(8)
        assert head == b"\x89PNG\r\n\x1a\n" and os.path.getsize(f) > 2000, f

    # The code the browser brought back is good for exactly what it says.
    rp = RP(srv, "acme", "web", WEB_URI, secret=SECRET)
    r = rp.redeem_raw(out["code"], verifier=out["code_verifier"])
    assert r.status_code == 200, r.text
    tok = r.json()
    keys = fetch_jwks(srv, "acme")
    verify_user_access_token(tok["access_token"], keys, issuer=rp.issuer, client_id="web",
                             scope="openid profile email")
    verify_id_token(tok["id_token"], keys, issuer=rp.issuer, client_id="web",
                    nonce=out["nonce"], access_token=tok["access_token"])
    # (no offline_access was asked for: no refresh token for an OpenID request)
    assert "refresh_token" not in tok
