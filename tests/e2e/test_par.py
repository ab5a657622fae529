"""Pushed authorization requests (RFC 9126): a client pushes the parameters
of its authorization request to {issuer}/oauth2/par, authenticated as at the
token endpoint, and sends the browser to the authorization endpoint with only
client_id and the request_uri it got back. The code flow runs through
openid-client (npm) and authlib; the attacks (reuse, another client's
request_uri, expiry, parallel use, a client that must push sending a direct
request, bad pushed requests) are played with requests."""
import concurrent.futures
import hashlib
import sqlite3
import time
import urllib.parse

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, assert_invalid_client, assert_oauth_error, discovery
from people_helpers import (ALICE, LOOPBACK_URI, MOBILE_URI, RP, WEB_URI, Browser,
                            assert_error_page, is_consent_page, is_login_page, left_to,
                            mobile_client, people_tenant, query_of, run_node, web_client)

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
PAR_TTL_S = 60
PARALLEL = 20

DOC = {"tenants": [people_tenant("acme", users=(ALICE,), clients=[
    mobile_client(), web_client(),
    web_client(client_id="pushy", require_pushed_authorization_requests=True),
])]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def push(srv, data, auth=None, tenant="acme"):
    return requests.post(srv.endpoint(tenant, "par"), data=data, auth=auth,
                         timeout=HTTP_TIMEOUT_S)


def pkce_params(rp, **extra):
    """The parameters of an authorization request of rp (authlib builds
    them, PKCE S256, state and nonce), as a dict."""
    q = query_of(rp.authorization_url(**extra))
    return q


def push_ok(srv, rp, **extra):
    """Pushes rp's request; returns (request_uri, the pushed parameters)."""
    params = pkce_params(rp, **extra)
    auth = (rp.client_id, rp.secret) if rp.secret else None
    r = push(srv, params, auth=auth)
    assert r.status_code == 201, (r.status_code, r.text)
    assert r.headers["Cache-Control"] == "no-store", r.headers
    body = r.json()
    assert body["expires_in"] == PAR_TTL_S, body
    assert body["request_uri"].startswith(REQUEST_URI_PREFIX), body
    # 32 random bytes, base64url: never guessable.
    assert len(body["request_uri"]) - len(REQUEST_URI_PREFIX) >= 43, body
    return body["request_uri"], params


def authorize_url(srv, client_id, request_uri, **extra):
    q = {"client_id": client_id, "request_uri": request_uri}
    q.update(extra)
    return srv.endpoint("acme", "authorize") + "?" + urllib.parse.urlencode(q)


def sign_in(browser, resp, consent=True):
    """Signs ALICE in (and approves) from the page resp; returns the URL
    the browser is sent to outside the server."""
    if is_login_page(resp):
        resp = browser.login(resp, ALICE)
    if consent and is_consent_page(resp):
        resp = browser.submit(resp, button=("decision", "approve"))
    loc = left_to(resp)
    assert loc is not None, (resp.status_code, resp.text[:500])
    return loc


def test_discovery_advertises_the_endpoint_in_both_documents(srv):
    for doc in ("openid-configuration", "oauth-authorization-server"):
        meta = discovery(srv, "acme", doc)
        assert meta["pushed_authorization_request_endpoint"] == srv.endpoint("acme", "par")
        assert meta["require_pushed_authorization_requests"] is False


def test_openid_client_code_flow_through_pushed_requests(srv):
    out = run_node("openid_client_par.mjs", {
        "TESSERA_URL": srv.issuer("acme"), "TESSERA_USERNAME": ALICE["username"],
        "TESSERA_PASSWORD": ALICE["password"], "TESSERA_PUBLIC_CLIENT_ID": "mobile",
        "TESSERA_WEB_CLIENT_ID": "web", "TESSERA_WEB_CLIENT_SECRET": SECRET,
        "TESSERA_WEB_REDIRECT_URI": WEB_URI})
    assert out["public"]["pages"] == ["login"] and out["web"]["pages"] == ["login", "consent"]
    for run in (out["public"], out["web"]):
        assert run["userinfo"]["email"] == ALICE["email"]
        # The request_uri was used up: the same URL is now an error page.
        r = Browser(srv).get(run["authorization_url"])
        assert_error_page(r)


def test_parameters_beside_the_request_uri_are_ignored(srv):
    rp = RP(srv, "acme", "web", WEB_URI, secret=SECRET)
    request_uri, pushed = push_ok(srv, rp)
    b = Browser(srv)
    # Only client_id counts: another redirect URI, state and scope are not used.
    url = authorize_url(srv, "web", request_uri, redirect_uri="https://evil.test/cb",
                        state="attacker", scope="tasks:write", response_type="token")
    loc = sign_in(b, b.open(url))
    q = query_of(loc)
    assert loc.startswith(WEB_URI + "?"), loc
    assert q["state"] == pushed["state"] and q["iss"] == rp.issuer, q
    tok = rp.fetch_token(loc)
    assert sorted(tok["scope"].split()) == sorted(pushed["scope"].split()), tok


def test_a_request_uri_is_used_once(srv):
    rp = RP(srv, "acme", "mobile", MOBILE_URI)
    request_uri, _ = push_ok(srv, rp)
    b = Browser(srv)
    first = b.open(authorize_url(srv, "mobile", request_uri))
    assert is_login_page(first), first.text[:300]
    again = Browser(srv).get(authorize_url(srv, "mobile", request_uri))
    assert_error_page(again)
    # The first use goes on to a code.
    loc = sign_in(b, first)
    assert "code" in query_of(loc), loc


def test_parallel_uses_of_one_request_uri_let_exactly_one_through(srv):
    rp = RP(srv, "acme", "mobile", MOBILE_URI)
    for _ in range(3):
        request_uri, _ = push_ok(srv, rp)
        url = authorize_url(srv, "mobile", request_uri)

        def use(_):
            return requests.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT_S)

        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as ex:
            answers = list(ex.map(use, range(PARALLEL)))
        went_on = [a for a in answers if a.status_code == 302]
        refused = [a for a in answers if a.status_code == 400]
        assert len(went_on) == 1, [a.status_code for a in answers]
        assert len(refused) == PARALLEL - 1, [a.status_code for a in answers]
        assert "/login?" in went_on[0].headers["Location"], went_on[0].headers
        for a in refused:
            assert_error_page(a)


def test_another_clients_request_uri_is_refused_and_left_alone(srv):
    rp = RP(srv, "acme", "web", WEB_URI, secret=SECRET)
    request_uri, _ = push_ok(srv, rp)
    r = Browser(srv).get(authorize_url(srv, "mobile", request_uri))
    assert_error_page(r)
    # Unknown client: refused before anything.
    assert_error_page(Browser(srv).get(authorize_url(srv, "nobody", request_uri)))
    assert_error_page(Browser(srv).get(
        srv.endpoint("acme", "authorize") + "?" + urllib.parse.urlencode(
            {"request_uri": request_uri})))
    # The owner still uses it.
    b = Browser(srv)
    loc = sign_in(b, b.open(authorize_url(srv, "web", request_uri)))
    assert "code" in query_of(loc), loc


def test_an_expired_request_uri_is_an_error_page(srv):
    rp = RP(srv, "acme", "mobile", MOBILE_URI)
    request_uri, _ = push_ok(srv, rp)
    h = hashlib.sha256(request_uri.encode()).hexdigest()
    db = sqlite3.connect(str(srv.db_path), timeout=10)
    try:
        with db:
            (exp,) = db.execute("SELECT expires_at FROM pending WHERE id_hash = ?",
                                (h,)).fetchone()
            assert abs(exp - (time.time() + PAR_TTL_S)) <= 5, exp
            # As if 61 seconds had passed.
            db.execute("UPDATE pending SET expires_at = ? WHERE id_hash = ?",
                       (int(time.time()) - 1, h))
    finally:
        db.close()
    assert_error_page(Browser(srv).get(authorize_url(srv, "mobile", request_uri)))


@pytest.mark.parametrize("bad", [
    "urn:ietf:params:oauth:request_uri:unknown",
    "https://acme.test/request.jwt",
    REQUEST_URI_PREFIX + "x" * 200,
])
def test_an_unknown_request_uri_is_an_error_page(srv, bad):
    assert_error_page(Browser(srv).get(authorize_url(srv, "mobile", bad)))


def test_a_client_that_must_push_is_refused_a_direct_request(srv):
    rp = RP(srv, "acme", "pushy", WEB_URI, secret=SECRET)
    b = Browser(srv)
    r = b.get(rp.authorization_url())
    loc = left_to(r)
    assert loc and loc.startswith(WEB_URI + "?"), (r.status_code, r.text[:300])
    q = query_of(loc)
    assert q["error"] == "invalid_request" and q["state"] == rp.state, q
    # Pushed, the same client goes through.
    request_uri, _ = push_ok(srv, rp)
    loc = sign_in(b, b.open(authorize_url(srv, "pushy", request_uri)))
    assert "code" in query_of(loc), loc
    rp.fetch_token(loc)


def test_the_cli_flag_makes_a_client_push(make_server):
    s = make_server(DOC)
    r = s.cli("client", "update", "--tenant", "acme", "web",
              "--require-pushed-authorization-requests")
    assert r.rc == 0, r
    rp = RP(s, "acme", "web", WEB_URI, secret=SECRET)

    def refused():
        loc = left_to(Browser(s).get(rp.authorization_url()))
        return loc is not None and query_of(loc).get("error") == "invalid_request"

    deadline = time.time() + 5
    while not refused():
        assert time.time() < deadline, "the flag never took effect"
        time.sleep(0.1)
    r = s.cli("client", "update", "--tenant", "acme", "web",
              "--no-require-pushed-authorization-requests")
    assert r.rc == 0, r
    deadline = time.time() + 5
    while refused():
        assert time.time() < deadline, "the flag was never undone"
        time.sleep(0.1)


def base_request(**over):
    d = {"response_type": "code", "client_id": "web", "redirect_uri": WEB_URI,
         "scope": "openid profile", "state": "s1", "nonce": "n1",
         "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
         "code_challenge_method": "S256"}
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


@pytest.mark.parametrize("over,error", [
    ({"redirect_uri": "https://evil.test/cb"}, "invalid_request"),
    ({"redirect_uri": "javascript:alert(1)"}, "invalid_request"),
    ({"redirect_uri": None, "scope": "openid"}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"scope": "openid tasks:admin"}, "invalid_scope"),
    ({"resource": "not a uri"}, "invalid_target"),
    ({"state": "x" * 3000}, "invalid_request"),
    ({"nonce": "bad\u00e9nonce"}, "invalid_request"),
    ({"prompt": "none login"}, "invalid_request"),
    ({"request_uri": REQUEST_URI_PREFIX + "abc"}, "invalid_request"),
    ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
])
def test_bad_pushed_requests_are_json_errors(srv, over, error):
    r = push(srv, base_request(**over), auth=("web", SECRET))
    assert "Location" not in r.headers, r.headers
    assert_oauth_error(r, 400, error)


def test_a_public_client_pushes_with_pkce_only(srv):
    d = base_request(client_id="mobile", redirect_uri=MOBILE_URI, code_challenge=None,
                     code_challenge_method=None)
    assert_oauth_error(push(srv, d), 400, "invalid_request")
    r = push(srv, base_request(client_id="mobile", redirect_uri=LOOPBACK_URI))
    assert r.status_code == 201, r.text


def test_pushing_needs_client_authentication(srv):
    assert_invalid_client(push(srv, base_request()))
    assert_invalid_client(push(srv, base_request(), auth=("web", "wrong-secret-0123456789")))
    assert_invalid_client(push(srv, base_request(client_id="nobody")))
    # A client_id in the body must be the authenticated one.
    assert_oauth_error(push(srv, base_request(client_id="mobile"), auth=("web", SECRET)), 400,
                       "invalid_request")


def test_pushing_wants_a_form_post(srv):
    r = requests.post(srv.endpoint("acme", "par"), json=base_request(), auth=("web", SECRET),
                      timeout=HTTP_TIMEOUT_S)
    assert_oauth_error(r, 400, "invalid_request")
    r = requests.get(srv.endpoint("acme", "par"), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 405, r.status_code
    d = base_request()
    r = requests.post(srv.endpoint("acme", "par"), auth=("web", SECRET),
                      data=list(d.items()) + [("scope", "openid")], timeout=HTTP_TIMEOUT_S)
    assert_oauth_error(r, 400, "invalid_request")
