"""Authorization codes bound to a DPoP key (RFC 9449 §10): an authorization
request that names dpop_jkt, or a pushed request sent with a DPoP proof,
gives a code that only a token request with a proof by that key redeems.
The flows run through authlib (code, PKCE) with proofs built by jwcrypto;
the attacks are a code redeemed with another key's proof or with none (it
is used up either way), a malformed dpop_jkt, and a push whose dpop_jkt
names another key than its proof."""
import urllib.parse

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, assert_oauth_error, fetch_jwks
from people_helpers import (ALICE, MOBILE_SCOPES, MOBILE_URI, RP, WEB_URI, Browser,
                            code_only, left_to, mobile_client, people_tenant, query_of,
                            run_node, verify_user_access_token, web_client, is_login_page,
                            is_consent_page)
from test_dpop import new_key, proof, thumbprint

DOC = {"tenants": [people_tenant("acme", users=(ALICE,), clients=[
    mobile_client(), web_client(),
    web_client(client_id="strict-web", dpop_bound_access_tokens=True),
])]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def token_url(srv):
    return srv.endpoint("acme", "token")


def redeem(srv, rp, code, key=None, nonce=None):
    """The code's token request (authlib's RP builds the PKCE part), with a
    fresh proof by key when given."""
    h = {}
    if key is not None:
        h["DPoP"] = proof(key, "POST", token_url(srv), nonce=nonce)
    d = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
         "code_verifier": rp.verifier}
    auth = None
    if rp.secret:
        auth = (rp.client_id, rp.secret)
    else:
        d["client_id"] = rp.client_id
    return requests.post(token_url(srv), data=d, auth=auth, headers=h, timeout=HTTP_TIMEOUT_S)


def mobile(srv):
    return RP(srv, "acme", "mobile", MOBILE_URI, scope=" ".join(MOBILE_SCOPES))


def bound_token_of(srv, r, key, client_id="mobile"):
    assert r.status_code == 200, (r.status_code, r.text)
    body = r.json()
    assert body["token_type"] == "DPoP", body
    claims = verify_user_access_token(body["access_token"], fetch_jwks(srv, "acme"),
                                      issuer=srv.issuer("acme"), client_id=client_id,
                                      scope=body["scope"])
    assert claims["cnf"] == {"jkt": thumbprint(key)}, claims
    return body


def test_a_code_bound_by_dpop_jkt_is_redeemed_with_a_proof_by_that_key(srv):
    key = new_key()
    rp = mobile(srv)
    code, _ = code_only(srv, "acme", rp, dpop_jkt=thumbprint(key))
    body = bound_token_of(srv, redeem(srv, rp, code, key), key)
    # The refresh token is bound to the same key, as any DPoP grant of a
    # public client is: without a proof by it, refreshing fails.
    r = requests.post(token_url(srv), data={"grant_type": "refresh_token", "client_id": "mobile",
                                            "refresh_token": body["refresh_token"]},
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 400, r.text
    r = requests.post(token_url(srv), data={"grant_type": "refresh_token", "client_id": "mobile",
                                            "refresh_token": body["refresh_token"]},
                      headers={"DPoP": proof(key, "POST", token_url(srv))},
                      timeout=HTTP_TIMEOUT_S)
    bound_token_of(srv, r, key)


@pytest.mark.parametrize("who", ["another key", "no proof"])
def test_a_bound_code_is_refused_without_its_key_and_is_used_up(srv, who):
    key = new_key()
    rp = mobile(srv)
    code, _ = code_only(srv, "acme", rp, dpop_jkt=thumbprint(key))
    r = redeem(srv, rp, code, new_key() if who == "another key" else None)
    assert_oauth_error(r, 400, "invalid_grant")
    assert "access_token" not in r.text
    # A failed redemption uses the code up: the right key comes too late.
    assert_oauth_error(redeem(srv, rp, code, key), 400, "invalid_grant")


def test_a_confidential_clients_bound_code_needs_the_key_too(srv):
    key = new_key()
    rp = RP(srv, "acme", "web", WEB_URI, secret=SECRET)
    code, _ = code_only(srv, "acme", rp, dpop_jkt=thumbprint(key))
    assert_oauth_error(redeem(srv, rp, code), 400, "invalid_grant")
    code, _ = code_only(srv, "acme", rp, dpop_jkt=thumbprint(key))
    bound_token_of(srv, redeem(srv, rp, code, key), key, "web")


def test_a_code_without_dpop_jkt_stays_unbound(srv):
    rp = mobile(srv)
    code, _ = code_only(srv, "acme", rp)
    r = redeem(srv, rp, code)
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer", r.text


@pytest.mark.parametrize("bad", ["short", "A" * 44, "!" * 43, "A" * 42 + "="])
def test_a_malformed_dpop_jkt_is_an_error_sent_to_the_client(srv, bad):
    rp = mobile(srv)
    b = Browser(srv)
    loc = left_to(b.open(rp.authorization_url(dpop_jkt=bad)))
    assert loc is not None and loc.startswith(MOBILE_URI), loc
    q = query_of(loc)
    assert q["error"] == "invalid_request" and "dpop_jkt" in q["error_description"], q
    assert "code" not in q


# -- pushed requests (RFC 9449 §10.1) -------------------------------------------------------

def push(srv, rp, key=None, **extra):
    params = query_of(rp.authorization_url(**extra))
    h = {"DPoP": proof(key, "POST", srv.endpoint("acme", "par"))} if key is not None else {}
    auth = (rp.client_id, rp.secret) if rp.secret else None
    return requests.post(srv.endpoint("acme", "par"), data=params, auth=auth, headers=h,
                         timeout=HTTP_TIMEOUT_S)


def code_from_push(srv, rp, request_uri):
    url = srv.endpoint("acme", "authorize") + "?" + urllib.parse.urlencode(
        {"client_id": rp.client_id, "request_uri": request_uri})
    b = Browser(srv)
    resp = b.open(url)
    if is_login_page(resp):
        resp = b.login(resp, ALICE)
    if is_consent_page(resp):
        resp = b.submit(resp, button=("decision", "approve"))
    q = query_of(left_to(resp))
    assert "code" in q, q
    return q["code"]


def test_a_proof_sent_with_the_push_binds_the_code_to_its_key(srv):
    key = new_key()
    rp = RP(srv, "acme", "web", WEB_URI, secret=SECRET)
    r = push(srv, rp, key)
    assert r.status_code == 201, r.text
    code = code_from_push(srv, rp, r.json()["request_uri"])
    assert_oauth_error(redeem(srv, rp, code, new_key()), 400, "invalid_grant")

    r = push(srv, rp, key)
    code = code_from_push(srv, rp, r.json()["request_uri"])
    bound_token_of(srv, redeem(srv, rp, code, key), key, "web")


def test_a_push_naming_the_proofs_key_is_accepted_and_another_key_refused(srv):
    key = new_key()
    rp = RP(srv, "acme", "web", WEB_URI, secret=SECRET)
    r = push(srv, rp, key, dpop_jkt=thumbprint(key))
    assert r.status_code == 201, r.text
    code = code_from_push(srv, rp, r.json()["request_uri"])
    bound_token_of(srv, redeem(srv, rp, code, key), key, "web")

    r = push(srv, rp, key, dpop_jkt=thumbprint(new_key()))
    assert_oauth_error(r, 400, "invalid_dpop_proof")
    # A push with dpop_jkt alone binds the code as the front channel does.
    other = new_key()
    r = push(srv, rp, dpop_jkt=thumbprint(other))
    assert r.status_code == 201, r.text
    code = code_from_push(srv, rp, r.json()["request_uri"])
    bound_token_of(srv, redeem(srv, rp, code, other), other, "web")


def test_a_bad_proof_with_the_push_is_refused(srv):
    key = new_key()
    rp = RP(srv, "acme", "web", WEB_URI, secret=SECRET)
    params = query_of(rp.authorization_url())
    h = {"DPoP": proof(key, "POST", token_url(srv))}  # for another URI
    r = requests.post(srv.endpoint("acme", "par"), data=params, auth=("web", SECRET), headers=h,
                      timeout=HTTP_TIMEOUT_S)
    assert_oauth_error(r, 400, "invalid_dpop_proof")


def test_a_client_that_requires_dpop_gets_the_nonce_at_the_push(srv):
    key = new_key()
    rp = RP(srv, "acme", "strict-web", WEB_URI, secret=SECRET)
    r = push(srv, rp, key)
    assert_oauth_error(r, 400, "use_dpop_nonce")
    nonce = r.headers["DPoP-Nonce"]
    params = query_of(rp.authorization_url())
    r = requests.post(srv.endpoint("acme", "par"), data=params, auth=("strict-web", SECRET),
                      headers={"DPoP": proof(key, "POST", srv.endpoint("acme", "par"),
                                             nonce=nonce)},
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 201, r.text
    code = code_from_push(srv, rp, r.json()["request_uri"])
    bound_token_of(srv, redeem(srv, rp, code, key, nonce=nonce), key, "strict-web")


def test_openid_client_pushes_with_a_proof_and_redeems_with_its_key(srv):
    """openid-client (npm) sends its DPoP proof with the push and with the
    code grant; a code it redeems with another key is refused."""
    out = run_node("openid_client_par.mjs", {
        "TESSERA_URL": srv.issuer("acme"), "TESSERA_USERNAME": ALICE["username"],
        "TESSERA_PASSWORD": ALICE["password"], "TESSERA_PUBLIC_CLIENT_ID": "mobile",
        "TESSERA_WEB_CLIENT_ID": "web", "TESSERA_WEB_CLIENT_SECRET": SECRET,
        "TESSERA_WEB_REDIRECT_URI": WEB_URI, "TESSERA_DPOP": "1"})
    for run in (out["public"], out["web"]):
        assert run["token_type"].lower() == "dpop", run
        assert run["userinfo"]["email"] == ALICE["email"], run
    assert out["public_other_key"] == {"client_id": "mobile", "error": "invalid_grant"}, out
    assert out["web_other_key"] == {"client_id": "web", "error": "invalid_grant"}, out
