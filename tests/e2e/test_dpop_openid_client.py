"""DPoP (RFC 9449) with openid-client and oauth4webapi from npm (through
tests/e2e/browser/openid_client_dpop.mjs): the library makes the key and
every proof, retries with the server's nonce for the client that requires
DPoP, and calls UserInfo, /api/me and the refresh with its bound tokens;
the key it bound is cross-checked here."""
import pytest

from people_helpers import ALICE, people_tenant, run_node
from test_dpop import app_client

DOC = {"tenants": [people_tenant("acme", users=(ALICE,), clients=[
    app_client("app"), app_client("strict-app", dpop_bound_access_tokens=True)])]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


@pytest.mark.parametrize("client_id", ["app", "strict-app"])
def test_openid_client_gets_and_uses_dpop_bound_tokens(srv, client_id):
    out = run_node("openid_client_dpop.mjs", {
        "TESSERA_URL": srv.issuer("acme"), "TESSERA_USERNAME": ALICE["username"],
        "TESSERA_PASSWORD": ALICE["password"], "TESSERA_CLIENT_ID": client_id})
    assert out["token_type"].lower() == "dpop" and out["refreshed_type"].lower() == "dpop", out
    assert out["me_username"] == ALICE["username"] and out["userinfo_sub"], out
    assert len(out["jkt"]) == 43, out
