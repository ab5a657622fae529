"""The people features end to end (docs/BEHAVIOUR.md): the
authorization code grant with PKCE through the real login and consent pages,
ID tokens, UserInfo, refresh-token rotation, the password grant, prompt and
max_age, logout, and every way the authorization and token endpoints must
refuse a request. The OAuth client is authlib, the browser is requests
(forms parsed from the HTML), tokens are verified with jwcrypto; nothing here
uses the project's own code."""
import concurrent.futures
import threading
import time
import urllib.parse

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, assert_oauth_error, fetch_jwks, introspect
from people_helpers import (ALICE, BOB, LOOPBACK_URI, MOBILE_URI, OMIT, RP, SESSION_COOKIE,
                            WEB_LOGOUT_URI, WEB_URI, Browser, assert_error_page, authorize,
                            code_flow, code_only, is_consent_page, is_login_page, is_uuid,
                            left_to, mobile_client, only_form, password_grant,
                            people_tenant, query_of, userinfo, verify_id_token,
                            verify_user_access_token, web_client)

CAROL = {"username": "carol@acme.test", "password": "carol-purple-monkey-dishwasher",
         "email": "carol@acme.test", "name": "Carol", "roles": ["Sales User"]}
XSS_NAME = "<script>alert('x')</script> & \"Co\""

DOC = {"tenants": [
    people_tenant("acme", users=(ALICE, BOB, CAROL),
                  clients=[mobile_client(), web_client()]),
    # Same client ids as acme: a credential of acme must mean nothing here.
    people_tenant("beta", users=(ALICE,)),
    people_tenant("short", users=(ALICE,), code_ttl=1, clients=[mobile_client()]),
    # Failed passwords count per source address too: they get a tenant of
    # their own, so that acme's logins are never slowed down.
    people_tenant("gamma", users=(ALICE,), display_name=XSS_NAME,
                  clients=[mobile_client(), web_client(name=XSS_NAME)]),
]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


@pytest.fixture(scope="module")
def keys(srv):
    return fetch_jwks(srv, "acme")


@pytest.fixture(scope="module")
def alice(srv):
    """A browser where alice has signed in to acme (once: each sign-in costs
    an Argon2id hash). Tests that end its session use a browser of their own."""
    b = Browser(srv)
    rp = RP(srv, "acme", "mobile", MOBILE_URI)
    authorize(b, rp, ALICE)
    assert b.cookie()
    return b


def mobile(srv, tenant="acme", **kw):
    return RP(srv, tenant, "mobile", kw.pop("redirect_uri", MOBILE_URI), **kw)


def web(srv, tenant="acme", **kw):
    return RP(srv, tenant, "web", WEB_URI, secret=SECRET, **kw)


def assert_redirect_error(loc, rp, error, redirect_uri=None):
    """An error sent back to the client (RFC 6749 §4.1.2.1, RFC 9207)."""
    base = redirect_uri or rp.redirect_uri
    assert loc.startswith(base + "?"), (loc, base)
    q = query_of(loc)
    assert q.get("error") == error, q
    assert q.get("state") == rp.state, q
    assert q.get("iss") == rp.issuer, q
    assert "code" not in q, q
    return q


def active(srv, token, tenant="acme"):
    r = introspect(srv, tenant, token, "web")
    assert r.status_code == 200, r.text
    return r.json()["active"]


# -- the authorization code flow ---------------------------------------------------

def test_code_flow_public_client_custom_scheme(srv, keys):
    b = Browser(srv)
    rp = mobile(srv)
    resp = b.open(rp.authorization_url())
    # The request is parked and the browser sent to the login page.
    assert b.hops[0].status_code == 302
    assert b.hops[0].headers["Location"].startswith(srv.issuer("acme") + "/login?")
    assert is_login_page(resp)
    form = only_form(resp)
    assert {"username", "password", "csrf_token", "req"} <= set(form.fields), form.fields
    assert form.types["csrf_token"] == "hidden" and form.types["req"] == "hidden"
    resp = b.login(resp, ALICE)
    loc = left_to(resp)
    assert resp.status_code in (302, 303) and loc.startswith(MOBILE_URI + "?"), resp.headers
    q = query_of(loc)
    assert q["state"] == rp.state and q["iss"] == srv.issuer("acme") and q["code"], q

    tok = rp.fetch_token(loc)
    assert tok["token_type"].lower() == "bearer" and tok["expires_in"] == 900
    assert sorted(tok["scope"].split()) == ["email", "offline_access", "openid", "profile"]
    at = verify_user_access_token(tok["access_token"], keys, issuer=rp.issuer,
                                  client_id="mobile", scope=tok["scope"])
    idt = verify_id_token(tok["id_token"], keys, issuer=rp.issuer, client_id="mobile",
                          nonce=rp.nonce, access_token=tok["access_token"])
    assert idt["sub"] == at["sub"]
    assert abs(idt["auth_time"] - time.time()) < 60 and at["auth_time"] == idt["auth_time"]
    # profile and email claims are in the ID token.
    assert idt["preferred_username"] == ALICE["username"] and idt["name"] == ALICE["name"]
    assert idt["email"] == ALICE["email"]
    assert tok["refresh_token"]


def test_token_response_of_the_code_grant_is_not_cached(srv, alice):
    rp = mobile(srv)
    code, _ = code_only(srv, "acme", rp, browser=alice)
    r = rp.redeem_raw(code)
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    assert r.headers["Content-Type"].startswith("application/json")


def test_loopback_redirect_uri_accepts_any_port(srv, alice, keys):
    uri = "http://127.0.0.1:%d/cb" % 51789
    rp = mobile(srv, redirect_uri=uri)
    loc, seen = authorize(alice, rp, ALICE)
    assert seen == [] and loc.startswith(uri + "?"), loc
    tok = rp.fetch_token(loc)
    verify_user_access_token(tok["access_token"], keys, issuer=rp.issuer, client_id="mobile",
                             scope=tok["scope"])
    # The code is bound to the port it was sent to.
    rp2 = mobile(srv, redirect_uri="http://127.0.0.1:51790/cb")
    code, _ = code_only(srv, "acme", rp2, browser=alice)
    r = rp2.redeem_raw(code, redirect_uri=uri)
    assert_oauth_error(r, 400, "invalid_grant")


@pytest.mark.parametrize("port", ["1", "65535", "08080"])
def test_loopback_redirect_uri_takes_every_valid_port(srv, alice, port):
    uri = "http://127.0.0.1:%s/cb" % port
    rp = mobile(srv, redirect_uri=uri)
    loc, seen = authorize(alice, rp, ALICE)
    assert seen == [] and loc.startswith(uri + "?"), loc


def test_the_same_user_has_the_same_uuid_sub(srv, alice):
    _, t1, _ = code_flow(srv, "acme", browser=alice)
    tok = password_grant(srv, "acme", ALICE["username"], ALICE["password"]).json()
    s1 = userinfo(srv, "acme", t1["access_token"]).json()["sub"]
    s2 = userinfo(srv, "acme", tok["access_token"]).json()["sub"]
    assert s1 == s2 and is_uuid(s1)
    _, t3, _ = code_flow(srv, "acme", user=BOB)
    assert userinfo(srv, "acme", t3["access_token"]).json()["sub"] != s1


@pytest.mark.parametrize("scope,claims", [
    ("openid", {"sub"}),
    ("openid email", {"sub", "email"}),
    ("openid profile", {"sub", "preferred_username", "name", "updated_at"}),
    ("openid profile email tasks:read", {"sub", "preferred_username", "name", "updated_at",
                                          "email"}),
])
def test_userinfo_returns_the_claims_of_the_granted_scopes(srv, alice, scope, claims):
    rp, tok, _ = code_flow(srv, "acme", scope=scope, browser=alice)
    r = userinfo(srv, "acme", tok["access_token"])
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    body = r.json()
    assert set(body) == claims, body
    assert is_uuid(body["sub"])
    if "email" in claims:
        assert body["email"] == ALICE["email"]
    if "name" in claims:
        assert body["name"] == ALICE["name"]
        assert body["preferred_username"] == ALICE["username"]
    # POST with the token in the body (RFC 6750 §2.2) gives the same.
    r2 = requests.post(srv.endpoint("acme", "userinfo"), data={"access_token": tok["access_token"]},
                       timeout=HTTP_TIMEOUT_S)
    assert r2.status_code == 200 and r2.json() == body


def test_userinfo_refuses_missing_bad_and_non_openid_tokens(srv, alice):
    r = requests.get(srv.endpoint("acme", "userinfo"), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer"), r.headers
    r = userinfo(srv, "acme", "not-a-token")
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    _, tok, _ = code_flow(srv, "acme", scope="tasks:read", browser=alice)
    r = userinfo(srv, "acme", tok["access_token"])
    assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    assert "id_token" not in tok  # not an OpenID request
    # A token of another tenant is unknown here.
    _, tb, _ = code_flow(srv, "beta")
    r = userinfo(srv, "acme", tb["access_token"])
    assert r.status_code == 401, r.text


# -- refresh tokens ----------------------------------------------------------------

def test_refresh_rotates_and_reuse_revokes_the_grant(srv, alice, keys):
    rp, tok, _ = code_flow(srv, "acme", browser=alice)
    rt1, at1 = tok["refresh_token"], tok["access_token"]
    assert active(srv, at1)

    tok2 = rp.oauth.refresh_token(rp.endpoint("token"), refresh_token=rt1,
                                  timeout=HTTP_TIMEOUT_S)
    rt2, at2 = tok2["refresh_token"], tok2["access_token"]
    assert rt2 != rt1 and at2 != at1
    c = verify_user_access_token(at2, keys, issuer=rp.issuer, client_id="mobile",
                                 scope=tok["scope"])
    idt2 = verify_id_token(tok2["id_token"], keys, issuer=rp.issuer, client_id="mobile",
                           nonce=None, access_token=at2)
    assert idt2["auth_time"] == c["auth_time"]  # the original sign-in
    assert c["sub"] == verify_user_access_token(at1, keys, issuer=rp.issuer, client_id="mobile",
                                                scope=tok["scope"])["sub"]
    assert active(srv, at2)

    # The rotated token presented again: refused, and the whole grant goes.
    r = rp.refresh_raw(rt1)
    assert_oauth_error(r, 400, "invalid_grant")
    r = rp.refresh_raw(rt2)
    assert_oauth_error(r, 400, "invalid_grant")
    assert not active(srv, at1)
    assert not active(srv, at2)
    assert userinfo(srv, "acme", at2).status_code == 401
    # The session itself is not a grant: a new authorization still works.
    _, tok3, _ = code_flow(srv, "acme", browser=alice)
    assert active(srv, tok3["access_token"])


def test_refresh_may_narrow_the_scope_but_never_widen_it(srv, alice):
    rp, tok, _ = code_flow(srv, "acme", scope="openid email offline_access", browser=alice)
    r = rp.refresh_raw(tok["refresh_token"], scope="openid email tasks:read")
    assert_oauth_error(r, 400, "invalid_scope")
    r = rp.refresh_raw(tok["refresh_token"], scope="openid")
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "openid"
    # The next refresh still has the original grant's scope to draw on.
    r = rp.refresh_raw(r.json()["refresh_token"], scope="openid email")
    assert r.status_code == 200, r.text
    assert sorted(r.json()["scope"].split()) == ["email", "openid"]


@pytest.mark.parametrize("scope,gets_refresh", [
    ("openid profile", False),                 # OpenID request without offline_access
    ("openid offline_access", True),
    ("tasks:read", True),                      # not an OpenID request
])
def test_refresh_token_for_openid_requests_only_with_offline_access(srv, alice, scope,
                                                                   gets_refresh):
    _, tok, _ = code_flow(srv, "acme", scope=scope, browser=alice)
    assert ("refresh_token" in tok) == gets_refresh, tok
    assert ("id_token" in tok) == ("openid" in scope.split())


def test_refresh_token_of_another_client_is_refused_and_unharmed(srv, alice):
    rp, tok, _ = code_flow(srv, "acme", browser=alice)
    r = web(srv).refresh_raw(tok["refresh_token"])
    assert_oauth_error(r, 400, "invalid_grant")
    r = rp.refresh_raw(tok["refresh_token"])
    assert r.status_code == 200, r.text


# -- the password grant --------------------------------------------------------------

def test_password_grant_issues_tokens_for_the_user(srv, keys):
    r = password_grant(srv, "acme", ALICE["username"], ALICE["password"],
                       scope="openid profile offline_access")
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    tok = r.json()
    c = verify_user_access_token(tok["access_token"], keys, issuer=srv.issuer("acme"),
                                 client_id="mobile", scope="openid profile offline_access")
    idt = verify_id_token(tok["id_token"], keys, issuer=srv.issuer("acme"), client_id="mobile",
                          nonce=None, access_token=tok["access_token"])
    assert idt["sub"] == c["sub"]
    assert tok["refresh_token"]
    r = password_grant(srv, "acme", ALICE["username"], ALICE["password"], scope="openid")
    assert r.status_code == 200 and "refresh_token" not in r.json()


def test_password_grant_same_answer_for_unknown_user_and_wrong_password(srv):
    wrong = password_grant(srv, "gamma", ALICE["username"], "not-the-password")
    unknown = password_grant(srv, "gamma", "nobody@acme.test", "not-the-password")
    b1 = assert_oauth_error(wrong, 400, "invalid_grant")
    b2 = assert_oauth_error(unknown, 400, "invalid_grant")
    assert b1 == b2
    assert wrong.headers.get("WWW-Authenticate") == unknown.headers.get("WWW-Authenticate")


def test_password_grant_only_for_clients_that_list_it(srv):
    r = requests.post(srv.endpoint("acme", "token"),
                      data={"grant_type": "password", "username": ALICE["username"],
                            "password": ALICE["password"]},
                      auth=("web", SECRET), timeout=HTTP_TIMEOUT_S)
    assert_oauth_error(r, 400, "unauthorized_client")


def test_a_public_client_may_send_basic_with_an_empty_secret(srv):
    """Some libraries send a public client's id as Basic "id:": no secret is
    none; any secret at all is refused."""
    data = {"grant_type": "password", "username": ALICE["username"],
            "password": ALICE["password"], "scope": "openid"}
    r = requests.post(srv.endpoint("acme", "token"), data=data, auth=("mobile", ""),
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    r = requests.post(srv.endpoint("acme", "token"), data=data, auth=("mobile", "guess"),
                      timeout=HTTP_TIMEOUT_S)
    assert_oauth_error(r, 401, "invalid_client")


# -- consent ----------------------------------------------------------------------

def test_consent_deny_approve_remember_and_prompt_consent(srv, keys):
    b = Browser(srv)
    rp = web(srv)
    # Not signed in yet: login first, then the consent page, naming the app.
    resp = b.login(b.open(rp.authorization_url()), BOB)
    assert is_consent_page(resp), resp.text
    assert "Acme Web" in resp.text
    f = only_form(resp)
    assert ("decision", "approve") in f.buttons and ("decision", "deny") in f.buttons
    assert f.types["csrf_token"] == "hidden"
    # A wrong CSRF token is refused and nothing is decided.
    r = b.post(urllib.parse.urljoin(resp.url, f.action),
               f.data(("decision", "approve"), csrf_token="x" * 43))
    assert r.status_code == 403 and "Location" not in r.headers
    # Deny: back to the client with access_denied, state and iss.
    action = urllib.parse.urljoin(resp.url, f.action)
    resp = b.submit(resp, button=("decision", "deny"))
    assert_redirect_error(left_to(resp), rp, "access_denied")
    # The request is over: the same form cannot approve it afterwards.
    r = b.post(action, f.data(("decision", "approve")))
    assert r.status_code == 400 and "Location" not in r.headers, (r.status_code, r.headers)
    # prompt=none cannot show the page: consent_required.
    resp = b.open(rp.authorization_url(prompt="none"))
    assert_redirect_error(left_to(resp), rp, "consent_required")
    # Approve: a code, which the confidential client redeems.
    resp = b.open(rp.authorization_url())
    assert is_consent_page(resp)
    resp = b.submit(resp, button=("decision", "approve"))
    loc = left_to(resp)
    q = query_of(loc)
    assert loc.startswith(WEB_URI + "?") and q["state"] == rp.state and q["iss"] == rp.issuer
    tok = rp.fetch_token(loc)
    verify_id_token(tok["id_token"], keys, issuer=rp.issuer, client_id="web", nonce=rp.nonce,
                    access_token=tok["access_token"])
    verify_user_access_token(tok["access_token"], keys, issuer=rp.issuer, client_id="web",
                             scope=tok["scope"])
    # The approval is remembered: no page the second time.
    loc, seen = authorize(b, rp, BOB, consent=None)
    assert seen == [] and "code" in query_of(loc)
    # prompt=consent asks again.
    resp = b.open(rp.authorization_url(prompt="consent"))
    assert is_consent_page(resp)
    # A scope beyond what was approved asks again too.
    rp2 = web(srv, scope="openid tasks:read")
    resp = b.open(rp2.authorization_url())
    assert is_consent_page(resp) and "tasks:read" in resp.text


def test_consent_page_needs_the_session_that_saw_it(srv):
    b = Browser(srv)
    rp = web(srv)
    resp = b.login(b.open(rp.authorization_url(prompt="consent")), CAROL)
    assert is_consent_page(resp)
    # Another browser (no session) posting the same form is sent to sign in,
    # never given a code.
    other = Browser(srv)
    f = only_form(resp)
    r = other.follow(other.post(f.action, f.data(("decision", "approve"))))
    assert left_to(r) is None and is_login_page(r), (r.status_code, r.headers, r.text[:300])


# -- prompt and max_age -----------------------------------------------------------------

def test_prompt_none_without_session_is_login_required(srv):
    rp = mobile(srv)
    resp = Browser(srv).open(rp.authorization_url(prompt="none"))
    assert_redirect_error(left_to(resp), rp, "login_required")


def test_prompt_none_with_session_gives_a_code(srv, alice):
    rp = mobile(srv)
    resp = alice.open(rp.authorization_url(prompt="none"))
    q = query_of(left_to(resp))
    assert q.get("code") and q["state"] == rp.state


def test_prompt_none_cannot_be_combined(srv, alice):
    rp = mobile(srv)
    resp = alice.open(rp.authorization_url(prompt="none login"))
    assert_redirect_error(left_to(resp), rp, "invalid_request")


def test_prompt_login_shows_the_login_page_again(srv, keys):
    b = Browser(srv)
    _, t1, _ = code_flow(srv, "acme", browser=b, user=CAROL)
    a1 = verify_user_access_token(t1["access_token"], keys, issuer=srv.issuer("acme"),
                                  client_id="mobile", scope=t1["scope"])["auth_time"]
    sid1 = b.cookie()
    rp = mobile(srv)
    loc, seen = authorize(b, rp, CAROL, prompt="login")
    assert seen == ["login"]
    tok = rp.fetch_token(loc)
    idt = verify_id_token(tok["id_token"], keys, issuer=rp.issuer, client_id="mobile",
                          nonce=rp.nonce, access_token=tok["access_token"])
    assert idt["auth_time"] >= a1
    assert b.cookie() != sid1
    # Without prompt the new session is used as it is.
    _, seen = authorize(b, mobile(srv), CAROL)
    assert seen == []


def test_max_age_zero_forces_login(srv, alice):
    b = Browser(srv)
    code_flow(srv, "acme", browser=b)
    # Right after signing in: max_age=0 still asks for the password.
    rp = mobile(srv)
    resp = b.open(rp.authorization_url(max_age="0"))
    assert is_login_page(resp), (resp.status_code, b.hops[0].headers)
    loc = left_to(b.login(resp, ALICE))
    assert "code" in query_of(loc)


def test_max_age_large_uses_the_session(srv, alice):
    rp = mobile(srv)
    loc, seen = authorize(alice, rp, ALICE, max_age="3600")
    assert seen == [] and "code" in query_of(loc)
    resp = alice.open(rp.authorization_url(max_age="-1"))
    assert_redirect_error(left_to(resp), rp, "invalid_request")


# -- logout --------------------------------------------------------------------------

def test_logout_confirms_with_csrf_ends_the_session_and_follows_registered_uri(srv):
    b = Browser(srv)
    _, tok, _ = code_flow(srv, "acme", client_id="web", redirect_uri=WEB_URI, secret=SECRET,
                          browser=b, user=BOB)
    sid = b.cookie()
    url = srv.issuer("acme") + "/logout?" + urllib.parse.urlencode(
        {"client_id": "web", "post_logout_redirect_uri": WEB_LOGOUT_URI, "state": "st-123"})
    page = b.open(url)
    assert page.status_code == 200 and "Location" not in page.headers
    f = only_form(page)
    assert f.method == "post" and f.action.endswith("/logout")
    assert f.types.get("csrf_token") == "hidden" and f.fields["csrf_token"]
    # GET alone signs nobody out.
    assert "code" in query_of(authorize(b, mobile(srv), None)[0])
    # POST without the CSRF token (RP-Initiated Logout may start with a
    # POST from the application's site): the confirmation again, the
    # session lives on.
    r = b.post(f.action, {k: v for k, v in f.data().items() if k != "csrf_token"})
    assert r.status_code == 200 and "Location" not in r.headers
    assert only_form(r).fields["csrf_token"]
    assert "code" in query_of(authorize(b, mobile(srv), None)[0])
    # A wrong token: refused.
    r = b.post(f.action, dict(f.data(), csrf_token="x" * 43))
    assert r.status_code == 403 and "Location" not in r.headers
    assert "code" in query_of(authorize(b, mobile(srv), None)[0])
    # The form posted by another site: refused.
    r = b.post(f.action, f.data(), headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and "Location" not in r.headers
    assert "code" in query_of(authorize(b, mobile(srv), None)[0])
    # The confirmation: back to the registered URI with state.
    r = b.post(f.action, f.data())
    assert r.status_code in (302, 303), (r.status_code, r.text[:300])
    assert r.headers["Location"] == WEB_LOGOUT_URI + "?state=st-123"
    # The session is gone, also for a browser that kept the old cookie.
    rp = mobile(srv)
    assert_redirect_error(left_to(b.open(rp.authorization_url(prompt="none"))), rp,
                          "login_required")
    thief = Browser(srv)
    thief.http.cookies.set(SESSION_COOKIE, sid, domain="127.0.0.1", path="/t/acme")
    assert_redirect_error(left_to(thief.open(rp.authorization_url(prompt="none"))), rp,
                          "login_required")


def test_logout_with_id_token_hint(srv):
    b = Browser(srv)
    _, tok, _ = code_flow(srv, "acme", client_id="web", redirect_uri=WEB_URI, secret=SECRET,
                          browser=b, user=BOB)
    url = srv.issuer("acme") + "/logout?" + urllib.parse.urlencode(
        {"id_token_hint": tok["id_token"], "post_logout_redirect_uri": WEB_LOGOUT_URI})
    page = b.open(url)
    assert page.status_code == 200, page.text
    r = b.submit(page)
    assert r.headers.get("Location") == WEB_LOGOUT_URI


@pytest.mark.parametrize("uri", [
    "https://evil.test/signed-out",
    WEB_LOGOUT_URI + "/x",
    WEB_LOGOUT_URI + "?next=https://evil.test",
    WEB_URI,                      # a redirect URI is not a post-logout URI
])
def test_logout_to_an_unregistered_uri_is_an_error_page(srv, alice, uri):
    q = {"client_id": "web", "post_logout_redirect_uri": uri, "state": "s"}
    url = srv.issuer("acme") + "/logout?" + urllib.parse.urlencode(q)
    b = Browser(srv)
    r = b.get(url)
    assert_error_page(r)
    # Nor does the POST redirect (and alice's session, in another browser, is untouched).
    r = b.post(srv.issuer("acme") + "/logout", q)
    assert r.status_code in (400, 403) and "Location" not in r.headers, r.headers
    assert alice.cookie()


def test_logout_without_redirect_uri_shows_signed_out(srv):
    b = Browser(srv)
    code_flow(srv, "acme", browser=b, user=BOB)
    r = b.submit(b.open(srv.issuer("acme") + "/logout"))
    assert r.status_code == 200 and "Location" not in r.headers
    assert "signed out" in r.text.lower()
    rp = mobile(srv)
    assert_redirect_error(left_to(b.open(rp.authorization_url(prompt="none"))), rp,
                          "login_required")


# -- the authorization endpoint refuses -------------------------------------------------

def authz_url(srv, tenant="acme", **params):
    return srv.endpoint(tenant, "authorize") + "?" + urllib.parse.urlencode(params)


PKCE_OK = {"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
           "code_challenge_method": "S256"}


@pytest.mark.parametrize("client_id", [None, "nobody", "mobile\x00", "MOBILE"])
def test_unknown_client_is_an_error_page(srv, client_id):
    p = dict(PKCE_OK, response_type="code", redirect_uri=MOBILE_URI, state="s")
    if client_id is not None:
        p["client_id"] = client_id
    r = Browser(srv).get(authz_url(srv, **p))
    if "\x00" in (client_id or ""):
        # A NUL in the query is refused by the HTTP layer, before any page.
        assert r.status_code == 400 and "Location" not in r.headers, r.headers
    else:
        assert_error_page(r)


def test_client_of_another_tenant_is_unknown(srv):
    p = dict(PKCE_OK, response_type="code", client_id="web", redirect_uri=WEB_URI)
    assert_error_page(Browser(srv).get(authz_url(srv, "short", **p)))


BAD_WEB_URIS = [
    WEB_URI + "/extra",                                # extra path segment
    WEB_URI + "?x=1",                                  # added query
    WEB_URI + "?",                                     # empty query
    WEB_URI + "/",                                     # trailing slash
    WEB_URI + "#frag",                                 # fragment
    "https://acme.test/oauth/Callback",                # case in the path
    "https://ACME.test/oauth/callback",                # case in the host
    "HTTPS://acme.test/oauth/callback",                # case in the scheme
    "https://acme.test/oauth%2Fcallback",              # encoded slash
    "https://acme.test/oauth/%63allback",              # encoded letter
    "https://acme.test/oauth/x/%2e%2e/callback",       # encoded dot segment
    "https://acme.test/oauth/x/../callback",           # dot segment
    "https://acme.test/oauth/./callback",
    "https://acme.test//oauth/callback",
    "https://acme.test.evil.test/oauth/callback",      # other host
    "https://evil.test/oauth/callback",
    "https://acme.test@evil.test/oauth/callback",      # userinfo trick
    "https://evil.test\\@acme.test/oauth/callback",
    "http://acme.test/oauth/callback",                 # other scheme
    "https://acme.test:443/oauth/callback",            # explicit default port
    "https://acme.test:8443/oauth/callback",           # other port
    " " + WEB_URI,
    WEB_URI + " ",
    WEB_URI + "\x00",
    WEB_URI + "\r\nSet-Cookie: x=1",
    "",
]

BAD_MOBILE_URIS = [
    MOBILE_URI + "/extra",
    MOBILE_URI + "x",
    MOBILE_URI + "?x=1",
    "APP.acme://oauth2redirect",
    "app.acme:/oauth2redirect",
    "app.acme://oauth2Redirect",
    "app.acme.evil://oauth2redirect",
    "evil://oauth2redirect",
    # loopback: only the port may vary
    "http://127.0.0.1:8080/cb/",
    "http://127.0.0.1:8080/cbx",
    "http://127.0.0.1:8080/cb?x=1",
    "http://127.0.0.1:8080/CB",
    "http://127.0.0.1:/cb",
    "http://127.0.0.1:8080@evil.test/cb",
    "http://127.0.0.1.evil.test/cb",
    "http://127.0.0.2:8080/cb",
    "http://localhost:8080/cb",
    "http://localhost/cb",
    "https://127.0.0.1:8080/cb",
    "https://127.0.0.1/cb",
    "http://[::1]:8080/cb",
    # loopback: the port varies, but only as a real port (1-65535, digits)
    "http://127.0.0.1:99999/cb",
    "http://127.0.0.1:65536/cb",
    "http://127.0.0.1:0/cb",
    "http://127.0.0.1:00000/cb",
    "http://127.0.0.1:0000080/cb",
    "http://127.0.0.1:18446744073709551696/cb",
    "http://127.0.0.1:8080a/cb",
    "http://127.0.0.1:+80/cb",
    "http://127.0.0.1:-1/cb",
    "http://127.0.0.1:0x50/cb",
    "http://127.0.0.1:%38%30/cb",
    "http://127.0.0.1:\uff18\uff10/cb",
    "http://127.0.0.1:80:80/cb",
]


@pytest.mark.parametrize("client_id,uri", [("web", u) for u in BAD_WEB_URIS] +
                         [("mobile", u) for u in BAD_MOBILE_URIS])
def test_unregistered_redirect_uri_is_an_error_page_never_a_redirect(srv, alice, client_id, uri):
    p = dict(PKCE_OK, response_type="code", client_id=client_id, redirect_uri=uri, state="s",
             scope="openid")
    # alice is signed in: a mistake here would hand a code straight out.
    r = alice.get(authz_url(srv, **p))
    if "\x00" in uri:
        # A NUL in the query is refused by the HTTP layer, before any page.
        assert r.status_code == 400 and "Location" not in r.headers, r.headers
    else:
        assert_error_page(r)


def test_redirect_uri_may_be_omitted_only_when_one_is_registered(srv, alice):
    # Not in an OpenID request, which must always name it (OIDC Core 3.1.2.1).
    p = {"response_type": "code", "client_id": "web", "state": "s1", "scope": "openid"}
    assert_error_page(alice.get(authz_url(srv, **p)))
    p["scope"] = "tasks:read"
    r = alice.follow(alice.get(authz_url(srv, **p)))
    # (the consent page, or the code, but never an error page)
    assert is_consent_page(r) or (left_to(r) or "").startswith(WEB_URI + "?"), r.text[:300]
    p = dict(PKCE_OK, response_type="code", client_id="mobile", state="s1")
    assert_error_page(alice.get(authz_url(srv, **p)))


@pytest.mark.parametrize("extra,desc", [
    ({}, "no PKCE"),
    ({"code_challenge_method": "S256"}, "method without challenge"),
    ({"code_challenge": PKCE_OK["code_challenge"]}, "challenge without method (plain)"),
    ({"code_challenge": PKCE_OK["code_challenge"], "code_challenge_method": "plain"}, "plain"),
    ({"code_challenge": "a" * 43 + "=", "code_challenge_method": "S256"}, "not base64url"),
    ({"code_challenge": "short", "code_challenge_method": "S256"}, "too short"),
    (dict(PKCE_OK, response_type="token"), "implicit"),
])
def test_public_client_authorization_errors_go_back_to_the_client(srv, alice, extra, desc):
    rp = mobile(srv)
    p = {"response_type": "code", "client_id": "mobile", "redirect_uri": MOBILE_URI,
         "state": "st-" + desc.replace(" ", "-"), "scope": "openid"}
    p.update(extra)
    rp.state = p["state"]
    r = alice.get(authz_url(srv, **p))
    error = "unsupported_response_type" if desc == "implicit" else "invalid_request"
    assert_redirect_error(left_to(r), rp, error)


def test_scope_the_client_may_not_have_is_invalid_scope(srv, alice):
    rp = mobile(srv, scope="openid tasks:write")
    r = alice.open(rp.authorization_url())
    assert_redirect_error(left_to(r), rp, "invalid_scope")


# -- the token endpoint refuses codes ------------------------------------------------------

def test_wrong_verifier_uses_the_code_up(srv, alice):
    rp = mobile(srv)
    code, _ = code_only(srv, "acme", rp, browser=alice)
    r = rp.redeem_raw(code, verifier="W" * 64)
    assert_oauth_error(r, 400, "invalid_grant")
    r = rp.redeem_raw(code)
    assert_oauth_error(r, 400, "invalid_grant")


def test_missing_verifier_is_refused(srv, alice):
    rp = mobile(srv)
    code, _ = code_only(srv, "acme", rp, browser=alice)
    assert_oauth_error(rp.redeem_raw(code, verifier=None), 400, "invalid_grant")


def test_verifier_for_a_code_issued_without_challenge_is_refused(srv, alice):
    rp = web(srv, pkce=False)
    code, _ = code_only(srv, "acme", rp, browser=alice)
    assert "code_challenge" not in rp.authorization_url()
    r = rp.redeem_raw(code, verifier="V" * 64)
    assert_oauth_error(r, 400, "invalid_grant")
    # ... and that used the code up too.
    assert_oauth_error(rp.redeem_raw(code, verifier=None), 400, "invalid_grant")


def test_confidential_client_without_pkce_works(srv, alice, keys):
    rp = web(srv, pkce=False)
    code, loc = code_only(srv, "acme", rp, browser=alice)
    r = rp.redeem_raw(code, verifier=None)
    assert r.status_code == 200, r.text
    # ... and must authenticate.
    code, _ = code_only(srv, "acme", rp, browser=alice)
    r = rp.redeem_raw(code, verifier=None, auth=("web", "wrong-secret-0123456789abcdefghij"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_code_replay_revokes_what_the_code_issued(srv, alice):
    rp = mobile(srv)
    code, loc = code_only(srv, "acme", rp, browser=alice)
    tok = rp.fetch_token(loc)
    assert active(srv, tok["access_token"])
    r = rp.redeem_raw(code)
    assert_oauth_error(r, 400, "invalid_grant")
    assert not active(srv, tok["access_token"])
    assert userinfo(srv, "acme", tok["access_token"]).status_code == 401
    assert_oauth_error(rp.refresh_raw(tok["refresh_token"]), 400, "invalid_grant")


def test_concurrent_redemptions_of_one_code_give_one_token(srv, alice):
    rp = mobile(srv)
    code, _ = code_only(srv, "acme", rp, browser=alice)
    n = 20
    barrier = threading.Barrier(n)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": MOBILE_URI,
            "code_verifier": rp.verifier, "client_id": "mobile"}

    def redeem(_):
        s = requests.Session()
        barrier.wait(timeout=10)
        return s.post(rp.endpoint("token"), data=data, timeout=HTTP_TIMEOUT_S)

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        results = list(ex.map(redeem, range(n)))
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(200) == 1, statuses
    for r in results:
        if r.status_code != 200:
            assert_oauth_error(r, 400, "invalid_grant")


def test_code_and_refresh_token_of_another_tenant_are_refused(srv, alice):
    rp_a = mobile(srv)
    code, _ = code_only(srv, "acme", rp_a, browser=alice)
    rp_b = mobile(srv, "beta")
    rp_b.verifier = rp_a.verifier
    # At beta the code is unknown: the very answer an unknown code gets.
    r = rp_b.redeem_raw(code)
    assert r.json() == assert_oauth_error(rp_b.redeem_raw("no-such-code"), 400, "invalid_grant")
    assert_oauth_error(r, 400, "invalid_grant")
    # ... and it was not used up there: acme still redeems it, once.
    assert rp_a.redeem_raw(code).status_code == 200
    _, tok, _ = code_flow(srv, "acme", browser=alice)
    assert_oauth_error(rp_b.refresh_raw(tok["refresh_token"]), 400, "invalid_grant")
    # A refresh token presented at the wrong tenant changes nothing at its own.
    assert rp_a.refresh_raw(tok["refresh_token"]).status_code == 200
    # Nor does acme's session sign anyone in at beta (other cookie path, other tenant).
    rp = mobile(srv, "beta")
    b = Browser(srv)
    b.http.cookies.set(SESSION_COOKIE, alice.cookie(), domain="127.0.0.1", path="/t/beta")
    assert_redirect_error(left_to(b.open(rp.authorization_url(prompt="none"))), rp,
                          "login_required")


def test_code_is_bound_to_its_client(srv, alice):
    rp = mobile(srv)
    code, _ = code_only(srv, "acme", rp, browser=alice)
    w = web(srv)
    r = w.redeem_raw(code, redirect_uri=MOBILE_URI, verifier=rp.verifier)
    assert_oauth_error(r, 400, "invalid_grant")
    # The failed redemption used the code up.
    assert_oauth_error(rp.redeem_raw(code), 400, "invalid_grant")


def test_code_is_bound_to_its_redirect_uri(srv, alice):
    rp = mobile(srv)
    code, _ = code_only(srv, "acme", rp, browser=alice)
    r = rp.redeem_raw(code, redirect_uri=LOOPBACK_URI)
    assert_oauth_error(r, 400, "invalid_grant")
    assert_oauth_error(rp.redeem_raw(code), 400, "invalid_grant")


def test_redirect_uri_named_in_the_authorization_request_is_required(srv, alice):
    # RFC 6749 §4.1.3: the token request repeats it.
    rp = mobile(srv)
    code, _ = code_only(srv, "acme", rp, browser=alice)
    assert_oauth_error(rp.redeem_raw(code, redirect_uri=OMIT), 400, "invalid_grant")
    # The failed redemption used the code up.
    assert_oauth_error(rp.redeem_raw(code), 400, "invalid_grant")


def test_redirect_uri_left_out_of_both_requests(srv, alice):
    # "web" registered exactly one URI, so the authorization request may
    # leave it out; the token request then may too, or name that URI.
    for sent in (OMIT, WEB_URI, WEB_URI + "/other"):
        rp = web(srv, scope="tasks:read")  # not OpenID: that names its redirect_uri
        rp.oauth.redirect_uri = None
        code, loc = code_only(srv, "acme", rp, browser=alice, consent="approve")
        assert loc.startswith(WEB_URI + "?"), loc
        assert "redirect_uri" not in urllib.parse.urlsplit(rp.last_url).query, rp.last_url
        r = rp.redeem_raw(code, redirect_uri=sent)
        if sent == WEB_URI + "/other":
            assert_oauth_error(r, 400, "invalid_grant")
        else:
            assert r.status_code == 200, r.text


def test_unknown_and_malformed_codes(srv):
    rp = mobile(srv)
    rp.verifier = "v" * 64
    assert_oauth_error(rp.redeem_raw("no-such-code"), 400, "invalid_grant")
    assert_oauth_error(rp.redeem_raw(""), 400, "invalid_request")


def test_expired_code_is_refused(srv):
    rp = mobile(srv, "short")
    code, _ = code_only(srv, "short", rp)
    # code_ttl is 1 s and times are whole seconds: the code issued during
    # second s expires when second s + 1 begins.
    time.sleep(int(time.time()) + 1.1 - time.time())
    assert_oauth_error(rp.redeem_raw(code), 400, "invalid_grant")


# -- the login page ------------------------------------------------------------------

def test_login_page_security_headers_and_escaping(srv):
    b = Browser(srv)
    rp = RP(srv, "gamma", "web", WEB_URI, secret=SECRET)
    page = b.open(rp.authorization_url())
    assert is_login_page(page)
    for r in (page, b.get(srv.issuer("gamma") + "/login")):
        h = r.headers
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"], h
        assert h["X-Frame-Options"] == "DENY" and h["Referrer-Policy"] == "same-origin", h
        assert "no-store" in h.get("Cache-Control", ""), h
        assert r.headers["Content-Type"].startswith("text/html")
        assert "<script" not in r.text.lower()
        assert "&lt;script&gt;alert(" in r.text, r.text
    # The consent page names the client: escaped too.
    consent = b.login(page, ALICE)
    assert is_consent_page(consent), consent.text
    assert "<script" not in consent.text.lower() and "&lt;script&gt;" in consent.text
    assert "frame-ancestors 'none'" in consent.headers["Content-Security-Policy"]
    assert consent.headers["X-Frame-Options"] == "DENY"


def test_wrong_password_and_unknown_user_get_the_same_page(srv):
    pages = []
    for username in (ALICE["username"], "nobody@acme.test"):
        b = Browser(srv)
        page = b.open(mobile(srv, "gamma").authorization_url())
        r = b.submit(page, username=username, password="not-the-password")
        assert r.status_code == 401 and is_login_page(r), (r.status_code, r.text[:300])
        assert b.cookie() is None
        f = only_form(r)
        assert f.fields["username"] == username
        pages.append(r.text.replace(f.fields["csrf_token"], "CSRF").replace(f.fields["req"], "REQ")
                     .replace(username, "USER"))
    assert pages[0] == pages[1]


def test_session_cookie_attributes(srv):
    b = Browser(srv)
    page = b.open(mobile(srv).authorization_url())
    r = b.post(only_form(page).action, only_form(page).data(username=BOB["username"],
                                                            password=BOB["password"]))
    cookies = [v for k, v in r.raw.headers.items() if k.lower() == "set-cookie"]
    sess = [c for c in cookies if c.startswith(SESSION_COOKIE + "=")]
    assert len(sess) == 1, cookies
    attrs = [a.strip().lower() for a in sess[0].split(";")[1:]]
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/t/acme" in attrs, attrs
    assert not any(a.startswith(("max-age", "expires")) for a in attrs), attrs
    assert "secure" not in attrs  # the public URL is plain http here
    value = sess[0].split(";")[0].split("=", 1)[1]
    assert len(value) >= 32


def test_session_id_changes_at_login(srv):
    b = Browser(srv)
    planted = "planted-by-an-attacker-0123456789abcdef"
    b.http.cookies.set(SESSION_COOKIE, planted, domain="127.0.0.1", path="/t/acme")
    page = b.open(mobile(srv).authorization_url())
    assert is_login_page(page)
    loc = left_to(b.login(page, BOB))
    assert "code" in query_of(loc)
    new = b.cookie()
    assert new and new != planted
    # The planted id never became a session.
    other = Browser(srv)
    other.http.cookies.set(SESSION_COOKIE, planted, domain="127.0.0.1", path="/t/acme")
    rp = mobile(srv)
    assert_redirect_error(left_to(other.open(rp.authorization_url(prompt="none"))), rp,
                          "login_required")
    # A second login in the same browser changes the id again.
    page = b.open(mobile(srv).authorization_url(prompt="login"))
    b.login(page, BOB)
    assert b.cookie() not in (new, planted)


@pytest.mark.parametrize("csrf", [None, "", "x" * 43, "other-browser"])
def test_login_post_without_a_valid_csrf_token_is_forbidden(srv, csrf):
    b = Browser(srv)
    page = b.open(mobile(srv).authorization_url())
    data = only_form(page).data(username=BOB["username"], password=BOB["password"])
    if csrf is None:
        del data["csrf_token"]
    elif csrf == "other-browser":
        o = Browser(srv)
        data["csrf_token"] = only_form(o.open(mobile(srv).authorization_url())).fields["csrf_token"]
    else:
        data["csrf_token"] = csrf
    r = b.post(only_form(page).action, data)
    assert r.status_code == 403, (r.status_code, r.text[:300])
    assert "Location" not in r.headers and b.cookie() is None


CROSS_SITE = [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.test"},
              {"Origin": "null"}, {"Origin": "https://evil.test", "Sec-Fetch-Site": "same-site"}]


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_another_sites_post_of_the_login_or_consent_form_is_refused(srv, headers):
    """Login CSRF and forced consent: a form another site sends is refused
    (403) before anything happens, even with a valid CSRF token; the
    browser's own POST (same-origin, or the issuer's Origin) goes on."""
    b = Browser(srv)
    rp = web(srv)
    page = b.open(rp.authorization_url(prompt="consent"))
    f = only_form(page)
    data = f.data(username=CAROL["username"], password=CAROL["password"])
    r = b.post(f.action, data, headers=headers)
    assert r.status_code == 403 and "Location" not in r.headers, (r.status_code, r.text[:200])
    assert b.cookie() is None
    own = {"Origin": "/".join(srv.issuer("acme").split("/")[:3]), "Sec-Fetch-Site": "same-origin"}
    consent = b.follow(b.post(f.action, data, headers=own))
    assert is_consent_page(consent) and b.cookie()
    cf = only_form(consent)
    r = b.post(cf.action, cf.data(("decision", "approve")), headers=headers)
    assert r.status_code == 403 and "Location" not in r.headers, (r.status_code, r.text[:200])
    r = b.post(cf.action, cf.data(("decision", "approve")), headers=own)
    assert (left_to(r) or r.headers.get("Location", "")).startswith(WEB_URI + "?code="), r.headers


def test_login_without_a_pending_request_just_signs_in(srv):
    b = Browser(srv)
    page = b.open(srv.issuer("acme") + "/login")
    assert is_login_page(page) and "req" not in only_form(page).fields
    r = b.login(page, BOB)
    assert r.status_code == 200 and b.cookie()
    loc, seen = authorize(b, mobile(srv), None)
    assert seen == [] and "code" in query_of(loc)



# -- throttling (each test on a fresh server of its own) --------------------------------

THROTTLE_DOC = {"tenants": [people_tenant("th", users=(ALICE, BOB))]}
WRONG = "not-the-password"


@pytest.fixture(scope="module")
def throttle_template(make_module_server):
    """A stopped installation that each throttling test copies: a fresh
    process (throttle counters live in memory) without a fresh bootstrap."""
    return make_module_server(THROTTLE_DOC, start=False, name="throttle")


@pytest.fixture
def fresh(make_server, throttle_template):
    return make_server(copy_of=throttle_template, name="throttle")


def page_attempt(srv, username, password, source):
    """One sign-in through the login page, from a client at source."""
    b = Browser(srv, source=source)
    rp = RP(srv, "th", "mobile", MOBILE_URI)
    page = b.open(rp.authorization_url())
    assert is_login_page(page), page.text[:300]
    return b.submit(page, username=username, password=password)


def grant_attempt(srv, username, password, source):
    return password_grant(srv, "th", username, password, source=source)


def assert_throttled(r, endpoint):
    assert r.status_code == 429, (r.status_code, r.text[:300])
    retry = r.headers.get("Retry-After", "")
    assert retry.isdigit() and 1 <= int(retry) <= 15 * 60, r.headers
    if endpoint == "grant":
        assert r.json()["error"] == "invalid_grant", r.text
    else:
        assert r.headers["Content-Type"].startswith("text/html") and "Location" not in r.headers


FAILED = {"page": 401, "grant": 400}
ATTEMPT = {"page": page_attempt, "grant": grant_attempt}


@pytest.mark.parametrize("endpoint", ["page", "grant"])
def test_repeated_failures_are_refused_with_429_the_same_for_unknown_users(fresh, endpoint):
    attempt = ATTEMPT[endpoint]
    seqs = {}
    for i, username in enumerate((ALICE["username"], "nobody@acme.test")):
        source = "127.0.3.%d" % (i + 1)   # separate source addresses: separate counters
        statuses = []
        for _ in range(22):
            r = attempt(fresh, username, WRONG, source)
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert_throttled(r, endpoint)
            else:
                assert r.status_code == FAILED[endpoint], (r.status_code, r.text[:300])
        seqs[username] = statuses
        # Five failures are free; then the attempts are slowed (an attempt
        # that comes after its delay is checked, and adds to the count).
        assert statuses[:5] == [FAILED[endpoint]] * 5, statuses
        assert 429 in statuses[5:7] and statuses[-1] == 429, statuses
        assert statuses.count(FAILED[endpoint]) <= 7, statuses
    # Nothing tells whether the user exists.
    assert set(seqs[ALICE["username"]]) == set(seqs["nobody@acme.test"]) == \
        {FAILED[endpoint], 429}


def test_the_right_password_is_refused_while_throttled(fresh):
    source = "127.0.6.1"
    counted = 0
    while counted < 6:
        r = grant_attempt(fresh, ALICE["username"], WRONG, source)
        if r.status_code == 429:
            # Wait out the delay and fail once more.
            assert_throttled(r, "grant")
            time.sleep(int(r.headers["Retry-After"]) + 0.05)
        else:
            assert_oauth_error(r, 400, "invalid_grant")
            counted += 1
    # Six failures: the next attempt must wait at least a second, and the
    # password is not even looked at before then.
    assert_throttled(grant_attempt(fresh, ALICE["username"], ALICE["password"], source), "grant")
    assert_throttled(page_attempt(fresh, ALICE["username"], ALICE["password"], "127.0.6.2"),
                     "page")


def test_login_page_and_password_grant_share_the_per_user_counter(fresh):
    # Every attempt from a different source address: only the counter of
    # the user can add up.
    n = 0

    def src():
        nonlocal n
        n += 1
        return "127.0.4.%d" % n

    for _ in range(3):
        assert page_attempt(fresh, BOB["username"], WRONG, src()).status_code == 401
    for _ in range(2):
        assert_oauth_error(grant_attempt(fresh, BOB["username"], WRONG, src()), 400,
                           "invalid_grant")
    seen = set()
    for i in range(8):
        endpoint = ("grant", "page")[i % 2]
        r = ATTEMPT[endpoint](fresh, BOB["username"], WRONG, src())
        if r.status_code == 429:
            assert_throttled(r, endpoint)
            seen.add(endpoint)
        else:
            assert r.status_code == FAILED[endpoint], r.text[:300]
        if seen == {"grant", "page"}:
            break
    assert seen == {"grant", "page"}, seen
    # Another user is not slowed down by bob's failures.
    r = page_attempt(fresh, ALICE["username"], ALICE["password"], src())
    assert "code" in query_of(left_to(r))


def test_failures_from_one_address_are_throttled_across_usernames(fresh):
    """Failures from one address across accounts are limited much higher
    than per account (a hundred), so other people's typos behind one NAT
    lock nobody out; past that the address is refused."""
    statuses = []
    for i in range(101):
        r = grant_attempt(fresh, "user%d@acme.test" % i, WRONG, "127.0.5.1")
        statuses.append(r.status_code)
    assert statuses[:100] == [400] * 100, statuses
    assert_throttled(r, "grant")
    # Even the right password, from that address; another address is not affected.
    assert_throttled(grant_attempt(fresh, ALICE["username"], ALICE["password"], "127.0.5.1"),
                     "grant")
    r = grant_attempt(fresh, ALICE["username"], ALICE["password"], "127.0.5.2")
    assert r.status_code == 200, r.text


def test_a_browser_signed_in_before_is_not_locked_out_by_its_address(fresh):
    """Other people's failures from a shared address (a NAT) lock out new
    sign-ins from it, but not a person on a browser they signed in on
    before: its attempts for that person count per browser. The cookie
    that marks it is bound to the person and cannot be forged."""
    def api_login(b, user, password):
        return b.http.post(fresh.issuer("th") + "/api/login", timeout=HTTP_TIMEOUT_S,
                           json={"username": user["username"], "password": password})
    home = Browser(fresh, source="127.0.5.3")
    assert api_login(home, ALICE, ALICE["password"]).status_code == 200
    mark = home.cookie("tessera_device")
    assert mark and "." in mark
    for i in range(100):
        assert grant_attempt(fresh, "user%d@acme.test" % i, WRONG, "127.0.5.3").status_code == 400
    stranger = Browser(fresh, source="127.0.5.3")
    assert api_login(stranger, ALICE, ALICE["password"]).status_code == 429
    # Alice on her own browser signs in; her mistakes there count for it.
    assert api_login(home, ALICE, WRONG).status_code == 401
    assert api_login(home, ALICE, ALICE["password"]).status_code == 200
    # The mark is Alice's: it does nothing for Bob, nor once tampered with.
    assert api_login(home, BOB, BOB["password"]).status_code == 429
    nonce, mac = mark.split(".", 1)
    forged = Browser(fresh, source="127.0.5.3")
    forged.http.cookies.set("tessera_device", nonce + "." + ("A" if mac[0] != "A" else "B")
                            + mac[1:])
    assert api_login(forged, ALICE, ALICE["password"]).status_code == 429


# -- what a request reflects is encoded ------------------------------------------------

EVIL_STATE = "s&code=forged&iss=https://evil.test/#frag <\"'>"


def test_state_is_encoded_in_the_redirect(srv, alice):
    rp = mobile(srv)
    url = rp.authorization_url(state=EVIL_STATE)
    rp.state = EVIL_STATE
    q = query_of(left_to(alice.open(url)))
    assert q["state"] == EVIL_STATE and q["iss"] == rp.issuer and q["code"] != "forged", q
    # An error redirect too.
    url = rp.authorization_url(state=EVIL_STATE, prompt="none login")
    rp.state = EVIL_STATE
    q = assert_redirect_error(left_to(alice.open(url)), rp, "invalid_request")
    assert q["iss"] == rp.issuer


def test_reflected_parameters_are_escaped_in_pages(srv):
    b = Browser(srv)
    evil = "\"><script>alert(1)</script>"
    r = b.get(srv.issuer("acme") + "/login?" + urllib.parse.urlencode({"req": evil}))
    assert "<script" not in r.text.lower(), r.text
    r = b.get(srv.issuer("acme") + "/logout?" + urllib.parse.urlencode(
        {"client_id": "web", "post_logout_redirect_uri": WEB_LOGOUT_URI, "state": evil}))
    assert r.status_code == 200 and "<script" not in r.text.lower(), r.text
    assert only_form(r).fields["state"] == evil  # kept intact, only escaped
