"""End-to-end tests of the compatibility profiles and of the "frappe"
profile: the clients of a Frappe CRM (its mobile app, an OAuth 2.0 client of
frappe.integrations.oauth2) and of a Frappe HR mobile app (app password and
device binding) pointed at a tessera tenant, sending what they send.

- Turning profiles on and off: the bootstrap file's "compat" (an unknown
  profile is an error naming it), `tessera tenant update --compat NAME`
  (repeatable) and `--compat none`.
- The seeds' own examples, replayed as their clients send them, against a
  tenant with the profile on (under the issuer and at the host root of a
  tenant's domain); the same requests at a tenant without it answer 404.
- Security: each profile route refuses what its native twin refuses.
"""
import base64
import json

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, wait_until
from test_postgres import cluster  # noqa: F401 (the module's PostgreSQL cluster)

from people_helpers import RP, ALICE, Browser, people_tenant, query_of
from people_helpers import authorize as people_authorize


def test_unknown_profile_is_an_error_naming_it(make_server):
    srv = make_server(start=False)
    r = srv.bootstrap({"tenants": [people_tenant("acme", compat=["frappe", "erpnext"])]})
    assert r.rc == 1 and "erpnext" in r.err, r
    r = srv.bootstrap({"tenants": [people_tenant("acme", compat="frappe")]})
    assert r.rc == 1 and "compat" in r.err, r
    r = srv.bootstrap({"tenants": [people_tenant("acme", compat=["frappe"],
                                                 mobile_login_method="a/../b")]})
    assert r.rc == 1 and "mobile_login_method" in r.err, r
    for taken in ("login", "frappe.integrations.oauth2.get_token"):
        r = srv.bootstrap({"tenants": [people_tenant("acme", compat=["frappe"],
                                                     mobile_login_method=taken)]})
        assert r.rc == 1 and taken in r.err, r
    # A refused file changes nothing.
    assert not srv.db_path.exists() or srv.cli("tenant", "list").out["tenants"] == []


def test_cli_turns_profiles_on_and_off(make_server):
    srv = make_server({"tenants": [people_tenant("acme")]}, start=False)
    assert srv.cli("tenant", "show", "acme").out["compat"] == []
    r = srv.cli("tenant", "update", "acme", "--compat", "frappe", "--compat", "activity",
                "--compat", "frappe")
    assert r.rc == 0, r
    assert srv.cli("tenant", "show", "acme").out["compat"] == ["frappe", "activity"]
    r = srv.cli("tenant", "update", "acme", "--compat", "integrations",
                "--mobile-login-method", "hr.api.login")
    assert r.rc == 0, r
    shown = srv.cli("tenant", "show", "acme").out
    assert shown["compat"] == ["integrations"] and shown["mobile_login_method"] == "hr.api.login"
    r = srv.cli("tenant", "update", "acme", "--compat", "bogus")
    assert r.rc == 1 and "bogus" in r.err, r
    r = srv.cli("tenant", "update", "acme", "--compat", "none", "--compat", "frappe")
    assert r.rc == 2, r
    assert srv.cli("tenant", "show", "acme").out["compat"] == ["integrations"]
    r = srv.cli("tenant", "update", "acme", "--compat", "none")
    assert r.rc == 0, r
    assert srv.cli("tenant", "show", "acme").out["compat"] == []
    # A bootstrap file that names the profiles again turns them back on.
    srv.bootstrap_ok({"tenants": [people_tenant("acme", users=[ALICE],
                                                compat=["frappe"])]})
    assert srv.cli("tenant", "show", "acme").out["compat"] == ["frappe"]


# -- the seeds' installations --------------------------------------------------

OAUTH2 = "/api/method/frappe.integrations.oauth2."
MOBILE_LOGIN = "/api/method/ashida.ashida_gaxis.api.mobile_auth.mobile_app_login"
HR_METHOD = "hr.api.mobile.login"
DOMAIN = "trust.jossoor.test"
CLIENT_ID = "3rcioodn8t"
WEB_ORIGIN = "https://trust.jossoor.org"
APP_REDIRECT = "app.trust://oauth2redirect"
CLIENT_SCOPES = ["openid", "profile", "email", "offline_access", "tasks:read", "tasks:write"]
CRM_USER = {"username": "user@example.com", "password": "secure_password",
            "email": "user@example.com", "name": "CRM User", "roles": ["Sales User"]}
GAXIS = {"username": "gaxis@company.com", "password": "FrappePassword123",
         "email": "gaxis@company.com", "name": "Gaxis User", "roles": ["Sales User"],
         "mobile_access": True, "app_password": "MyAppPassword123", "device_id": "ABC123XYZ",
         "attributes": {"employee_id": "EMP-001"}}
NOBIND = {"username": "newhire@company.com", "password": "newhire-password-1",
          "name": "New Hire", "mobile_access": True, "app_password": "NewHireApp123",
          "attributes": {"employee_id": "EMP-002"}}
NOMOBILE = {"username": "desk@company.com", "password": "desk-password-123",
            "mobile_access": False, "app_password": "DeskAppPass123"}
VICTIM = {"username": "victim@company.com", "password": "victim-password-1",
          "mobile_access": True, "app_password": "VictimApp1234", "device_id": "VICTIM-DEV"}


def crm_client():
    """The CRM's OAuth Client as its bootstrap creates it (public, PKCE)."""
    return {"client_id": CLIENT_ID, "name": "Mobile App", "type": "public",
            "redirect_uris": [APP_REDIRECT, "https://trust.jossoor.org/oauth/callback"],
            "grant_types": ["authorization_code", "password", "refresh_token"],
            "scopes": list(CLIENT_SCOPES), "skip_consent": True,
            "allowed_cors_origins": [WEB_ORIGIN]}


def site(name, **over):
    return people_tenant(name, users=[CRM_USER, GAXIS, NOBIND, NOMOBILE, VICTIM],
                         clients=[crm_client()], **over)


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server({"tenants": [
        site("trust", compat=["frappe"], domains=[DOMAIN]),
        site("plain"),
        site("other", compat=["frappe"]),
        site("hr", compat=["frappe"], mobile_login_method=HR_METHOD, access_token_ttl=600),
    ]})


def at(srv, tenant, path):
    return srv.issuer(tenant) + path


def post(srv, tenant, path, **kw):
    kw.setdefault("timeout", HTTP_TIMEOUT_S)
    kw.setdefault("allow_redirects", False)
    return requests.post(at(srv, tenant, path), **kw)


def password_all_openid(srv, tenant, user=CRM_USER, **kw):
    """Example 1 of the CRM's OAuth summary, as its curl sends it."""
    return post(srv, tenant, OAUTH2 + "get_token", data={
        "grant_type": "password", "username": user["username"], "password": user["password"],
        "client_id": CLIENT_ID, "scope": "all openid"}, **kw)


def claims(token):
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def test_seed_password_grant_refresh_and_calls(srv):
    r = password_all_openid(srv, "trust")
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 3600, tok
    assert tok["scope"] == "all openid" and tok["refresh_token"] and tok["id_token"], tok
    assert r.headers["Cache-Control"] == "no-store"
    c = claims(tok["access_token"])
    assert sorted(c["scope"].split()) == sorted(CLIENT_SCOPES), c
    assert c["exp"] - c["iat"] == 3600 and c["client_id"] == CLIENT_ID, c
    # The mobile app's calls with the token (UserInfo as openid_profile).
    for verb in ("GET", "POST"):
        u = requests.request(verb, at(srv, "trust", OAUTH2 + "openid_profile"),
                             headers={"Authorization": "Bearer " + tok["access_token"]},
                             timeout=HTTP_TIMEOUT_S)
        assert u.status_code == 200 and u.json()["sub"] == c["sub"], u.text
        assert u.json()["email"] == CRM_USER["email"], u.text
    me = requests.get(at(srv, "trust", "/api/me"), timeout=HTTP_TIMEOUT_S,
                      headers={"Authorization": "Bearer " + tok["access_token"]})
    assert me.status_code == 200 and me.json()["username"] == CRM_USER["username"], me.text
    # Example 3: the refresh, as the curl sends it.
    r = post(srv, "trust", OAUTH2 + "get_token", data={
        "grant_type": "refresh_token", "refresh_token": tok["refresh_token"],
        "client_id": CLIENT_ID})
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["refresh_token"] != tok["refresh_token"] and new["expires_in"] == 3600, new
    assert sorted(new["scope"].split()) == sorted(CLIENT_SCOPES), new
    # Revocation of the new refresh token as Frappe takes it: no client
    # authentication; the grant ends.
    r = post(srv, "trust", OAUTH2 + "revoke_token", data={"token": new["refresh_token"]})
    assert r.status_code == 200 and r.json() == {"message": "success"}, r.text
    r = post(srv, "trust", OAUTH2 + "get_token", data={
        "grant_type": "refresh_token", "refresh_token": new["refresh_token"],
        "client_id": CLIENT_ID})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    u = requests.get(at(srv, "trust", OAUTH2 + "openid_profile"), timeout=HTTP_TIMEOUT_S,
                     headers={"Authorization": "Bearer " + new["access_token"]})
    assert u.status_code == 401, u.text


def test_all_openid_gets_a_refresh_token_without_listing_offline_access(make_server):
    # A Frappe OAuth client's scopes are just "all openid": the seed's app
    # gets a refresh token all the same, with the client's refresh grant.
    client = dict(crm_client(), scopes=["openid", "profile", "email", "tasks:read"])
    srv = make_server({"tenants": [
        people_tenant("lean", users=[CRM_USER], clients=[client], compat=["frappe"]),
        people_tenant("native", users=[CRM_USER], clients=[client])]})
    r = password_all_openid(srv, "lean")
    assert r.status_code == 200, r.text
    assert r.json().get("refresh_token"), r.json()
    assert "offline_access" not in claims(r.json()["access_token"])["scope"].split()
    r = post(srv, "lean", OAUTH2 + "get_token", data={
        "grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"],
        "client_id": CLIENT_ID})
    assert r.status_code == 200 and r.json().get("refresh_token"), r.text
    # A narrower OpenID request keeps the rule, with the profile too ...
    r = post(srv, "lean", "/oauth2/token", data={
        "grant_type": "password", "username": CRM_USER["username"],
        "password": CRM_USER["password"], "client_id": CLIENT_ID, "scope": "openid profile"})
    assert r.status_code == 200, r.text
    assert "refresh_token" not in r.json()
    # ... and without the profile: no offline_access, no refresh token.
    r = post(srv, "native", "/oauth2/token", data={
        "grant_type": "password", "username": CRM_USER["username"],
        "password": CRM_USER["password"], "client_id": CLIENT_ID, "scope": "openid profile"})
    assert r.status_code == 200, r.text
    assert "refresh_token" not in r.json()


def test_seed_routes_at_the_host_root_of_a_domain(srv):
    h = {"Host": DOMAIN}
    r = requests.post(srv.url(OAUTH2 + "get_token"), headers=h, timeout=HTTP_TIMEOUT_S, data={
        "grant_type": "password", "username": CRM_USER["username"],
        "password": CRM_USER["password"], "client_id": CLIENT_ID, "scope": "all openid"})
    assert r.status_code == 200, r.text
    tok = r.json()
    assert claims(tok["access_token"])["iss"] == "http://" + DOMAIN
    u = requests.get(srv.url(OAUTH2 + "openid_profile"), timeout=HTTP_TIMEOUT_S,
                     headers={"Host": DOMAIN, "Authorization": "Bearer " + tok["access_token"]})
    assert u.status_code == 200, u.text
    r = requests.post(srv.url(MOBILE_LOGIN), headers=h, timeout=HTTP_TIMEOUT_S, json={
        "usr": GAXIS["username"], "app_password": GAXIS["app_password"],
        "device_id": GAXIS["device_id"]})
    assert r.status_code == 200 and r.json()["message"]["success"] is True, r.text


def test_the_profile_is_off_elsewhere(srv):
    """The same requests at a tenant without the profile: 404, every one."""
    paths = [OAUTH2 + "get_token", OAUTH2 + "revoke_token", OAUTH2 + "authorize",
             OAUTH2 + "openid_profile", "/api/method/login", "/api/method/logout", MOBILE_LOGIN]
    for p in paths:
        r = post(srv, "plain", p, data={"usr": CRM_USER["username"], "pwd": CRM_USER["password"]})
        assert r.status_code == 404, (p, r.status_code, r.text)
        r = requests.get(at(srv, "plain", p), timeout=HTTP_TIMEOUT_S, allow_redirects=False)
        assert r.status_code == 404, (p, r.status_code, r.text)
    r = password_all_openid(srv, "plain")
    assert r.status_code == 404
    # The native routes are unchanged there: no "all", 900 s tokens.
    r = post(srv, "plain", "/oauth2/token", data={
        "grant_type": "password", "username": CRM_USER["username"],
        "password": CRM_USER["password"], "client_id": CLIENT_ID, "scope": "all openid"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope", r.text
    r = post(srv, "plain", "/oauth2/token", data={
        "grant_type": "password", "username": CRM_USER["username"],
        "password": CRM_USER["password"], "client_id": CLIENT_ID, "scope": "openid"})
    assert r.status_code == 200 and r.json()["expires_in"] == 900, r.text
    # A tenant's own mobile login method replaces the default path.
    r = post(srv, "hr", MOBILE_LOGIN, json={"usr": GAXIS["username"],
                                             "app_password": GAXIS["app_password"],
                                             "device_id": GAXIS["device_id"]})
    assert r.status_code == 404, r.text


def test_token_lifetime_set_by_the_tenant_wins(srv):
    r = password_all_openid(srv, "hr")
    assert r.status_code == 200 and r.json()["expires_in"] == 600, r.text


def mobile(srv, tenant, body, as_json=True, path=MOBILE_LOGIN, **kw):
    if as_json:
        return post(srv, tenant, path, json=body, **kw)
    return post(srv, tenant, path, data=body, **kw)


def test_seed_mobile_app_login(srv):
    body = {"usr": "gaxis@company.com", "app_password": "MyAppPassword123",
            "device_id": "ABC123XYZ"}
    r = mobile(srv, "trust", body)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    msg = r.json()["message"]
    assert msg["success"] is True and set(msg) == {"success", "data"}, msg
    d = msg["data"]
    assert set(d) == {"employee_id", "employee_name", "user", "api_key", "api_secret",
                      "device_id"}, d
    assert (d["employee_id"], d["employee_name"], d["user"], d["device_id"]) == (
        "EMP-001", "Gaxis User", "gaxis@company.com", "ABC123XYZ"), d
    # Step 7: the app's calls with "Authorization: token key:secret".
    h = {"Authorization": "token %s:%s" % (d["api_key"], d["api_secret"])}
    me = requests.get(at(srv, "trust", "/api/me"), headers=h, timeout=HTTP_TIMEOUT_S)
    assert me.status_code == 200 and me.json()["username"] == GAXIS["username"], me.text
    # A form works too; each login gives a fresh secret, the old one stops.
    r2 = mobile(srv, "trust", body, as_json=False)
    assert r2.status_code == 200, r2.text
    d2 = r2.json()["message"]["data"]
    assert d2["api_key"] == d["api_key"] and d2["api_secret"] != d["api_secret"], d2
    me = requests.get(at(srv, "trust", "/api/me"), headers=h, timeout=HTTP_TIMEOUT_S)
    assert me.status_code == 401, me.text
    # The tenant's own method path.
    r = mobile(srv, "hr", body, path="/api/method/" + HR_METHOD)
    assert r.status_code == 200 and r.json()["message"]["data"]["employee_id"] == "EMP-001"


def test_mobile_login_failures_are_one_answer(srv):
    good = {"usr": GAXIS["username"], "app_password": GAXIS["app_password"],
            "device_id": GAXIS["device_id"]}
    bad = [dict(good, app_password="wrong-app-password"),
           dict(good, app_password=GAXIS["password"]),  # the Frappe password is not the app's
           dict(good, device_id="OTHER-DEVICE"),
           dict(good, usr="nobody@company.com"),
           {"usr": NOMOBILE["username"], "app_password": NOMOBILE["app_password"],
            "device_id": "D1"}]
    answers = set()
    for b in bad:
        r = mobile(srv, "other", b)
        assert r.status_code == 401, r.text
        answers.add(r.text)
    assert answers == {json.dumps({"message": {"success": False,
                                               "message": "Invalid credentials"}},
                                  separators=(",", ":"))}, answers
    r = mobile(srv, "other", {"usr": GAXIS["username"]})
    assert r.status_code == 400 and r.json()["message"]["success"] is False, r.text
    # A user without a bound device is bound to the first device.
    nb = {"usr": NOBIND["username"], "app_password": NOBIND["app_password"], "device_id": "FIRST"}
    assert mobile(srv, "other", nb).status_code == 200
    assert mobile(srv, "other", dict(nb, device_id="SECOND")).status_code == 401
    # An API key of one tenant is nothing at another.
    d = mobile(srv, "other", good).json()["message"]["data"]
    h = {"Authorization": "token %s:%s" % (d["api_key"], d["api_secret"])}
    assert requests.get(at(srv, "other", "/api/me"), headers=h,
                        timeout=HTTP_TIMEOUT_S).status_code == 200
    assert requests.get(at(srv, "trust", "/api/me"), headers=h,
                        timeout=HTTP_TIMEOUT_S).status_code == 401


# -- Frappe's session login --------------------------------------------------------

def frappe_login(srv, tenant, user, **kw):
    return post(srv, tenant, "/api/method/login",
                data={"usr": user["username"], "pwd": user["password"]}, **kw)


def test_login_and_logout_with_the_sid_cookie(srv):
    r = frappe_login(srv, "trust", CRM_USER)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["message"] == "Logged In" and body["full_name"] == "CRM User", body
    assert body["home_page"] == "/app" and body["csrf_token"], body
    sid = r.cookies.get("sid")
    assert sid and "tessera_session" not in r.cookies, r.headers
    assert "HttpOnly" in r.headers["Set-Cookie"], r.headers
    jar = {"sid": sid}
    me = requests.get(at(srv, "trust", "/api/me"), cookies=jar, timeout=HTTP_TIMEOUT_S)
    assert me.status_code == 200 and me.json()["auth"] == "session", me.text
    # JSON works as well (Frappe takes both).
    r = post(srv, "trust", "/api/method/login",
             json={"usr": CRM_USER["username"], "pwd": CRM_USER["password"]})
    assert r.status_code == 200 and r.cookies.get("sid"), r.text
    # Logging out with the cookie needs the CSRF token, under Frappe's header name.
    r = post(srv, "trust", "/api/method/logout", cookies=jar)
    assert r.status_code == 403, r.text
    assert r.json()["exc_type"] == "PermissionError", r.text
    r = post(srv, "trust", "/api/method/logout", cookies=jar,
             headers={"X-Frappe-CSRF-Token": body["csrf_token"]})
    assert r.status_code == 200 and r.json() == {}, r.text
    assert "sid=;" in r.headers["Set-Cookie"], r.headers
    me = requests.get(at(srv, "trust", "/api/me"), cookies=jar, timeout=HTTP_TIMEOUT_S)
    assert me.status_code == 401, me.text
    # The session of one tenant is nothing at another.
    r = frappe_login(srv, "other", CRM_USER)
    me = requests.get(at(srv, "trust", "/api/me"), cookies={"sid": r.cookies["sid"]},
                      timeout=HTTP_TIMEOUT_S)
    assert me.status_code == 401, me.text


def test_login_failures_and_cross_site_posts(srv):
    r = frappe_login(srv, "trust", dict(CRM_USER, password="not-the-password"))
    assert r.status_code == 401 and "sid" not in r.cookies, r.text
    assert r.json() == {"exc_type": "AuthenticationError",
                        "message": "Invalid Login. Try again."}, r.text
    unknown = frappe_login(srv, "trust", {"username": "ghost@example.com",
                                          "password": "not-the-password"})
    assert (unknown.status_code, unknown.text) == (r.status_code, r.text)
    # The app password is not a login password.
    r = frappe_login(srv, "trust", {"username": GAXIS["username"],
                                    "password": GAXIS["app_password"]})
    assert r.status_code == 401, r.text
    # Another site's form cannot sign a browser in (login CSRF).
    for h in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        r = frappe_login(srv, "trust", CRM_USER, headers=h)
        native = post(srv, "trust", "/api/login", headers=h, data={
            "username": CRM_USER["username"], "password": CRM_USER["password"]})
        assert r.status_code == native.status_code == 403, (r.text, native.text)
        assert "sid" not in r.cookies and r.json()["exc_type"] == "PermissionError", r.text
    r = frappe_login(srv, "trust", CRM_USER, headers={"Origin": srv.base})
    assert r.status_code == 200, r.text


def test_throttled_logins_hold_across_every_route(srv):
    """Failures at Frappe's login, the mobile login and the password grant
    count together with the native routes' (one counter per user): after
    the free five, every route refuses, the right password too."""
    wrong = dict(VICTIM, password="wrong-password-0")
    bad_mobile = {"usr": VICTIM["username"], "app_password": "wrong-app-pass",
                  "device_id": VICTIM["device_id"]}
    statuses = [frappe_login(srv, "trust", wrong).status_code,
                mobile(srv, "trust", bad_mobile).status_code,
                password_all_openid(srv, "trust", wrong).status_code,
                frappe_login(srv, "trust", wrong).status_code,
                mobile(srv, "trust", bad_mobile).status_code]
    assert statuses == [401, 401, 400, 401, 401], statuses
    good_mobile = {"usr": VICTIM["username"], "app_password": VICTIM["app_password"],
                   "device_id": VICTIM["device_id"]}
    for r in (frappe_login(srv, "trust", VICTIM), mobile(srv, "trust", good_mobile),
              password_all_openid(srv, "trust", VICTIM),
              post(srv, "trust", "/api/login", data={"username": VICTIM["username"],
                                                     "password": VICTIM["password"]})):
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0, r.text
    r = mobile(srv, "trust", good_mobile)
    assert r.json() == {"message": {"success": False,
                                    "message": "Too many failed attempts; retry later"}}, r.text
    r = frappe_login(srv, "trust", VICTIM)
    assert r.json()["exc_type"] == "TooManyRequestsError", r.text
    # The same user name at another tenant is another account.
    assert frappe_login(srv, "other", VICTIM).status_code == 200


# -- the authorization code flow and the native twins' refusals ---------------------

class FrappeRP(RP):
    """The CRM mobile app as an OAuth client of Frappe's methods."""

    def endpoint(self, name):
        return at(self.server, self.tenant, OAUTH2 + {"authorize": "authorize",
                                                      "token": "get_token"}[name])


def test_code_flow_with_pkce_for_all_openid(srv):
    browser = Browser(srv)
    rp = FrappeRP(srv, "trust", CLIENT_ID, APP_REDIRECT, scope="all openid")
    loc, seen = people_authorize(browser, rp, CRM_USER)
    assert seen == ["login"], seen
    tok = rp.fetch_token(loc)
    # The code request carries no scope: the answer lists what the code grants.
    assert sorted(tok["scope"].split()) == sorted(CLIENT_SCOPES), tok
    assert tok["refresh_token"] and tok["id_token"] and tok["expires_in"] == 3600, tok
    assert sorted(claims(tok["access_token"])["scope"].split()) == sorted(CLIENT_SCOPES)
    # Frappe's session (sid from /api/method/login) signs the user in at
    # the authorization endpoint as the native session does.
    b2 = Browser(srv)
    r = b2.post(at(srv, "trust", "/api/method/login"),
                data={"usr": CRM_USER["username"], "pwd": CRM_USER["password"]})
    assert r.status_code == 200 and b2.cookie("sid"), r.text
    loc, seen = people_authorize(b2, FrappeRP(srv, "trust", CLIENT_ID, APP_REDIRECT,
                                              scope="openid"), None)
    assert seen == [] and "code=" in loc, (seen, loc)


def authorize_answer(srv, tenant, path, **params):
    base = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": APP_REDIRECT,
            "scope": "openid", "state": "s1"}
    base.update(params)
    base = {k: v for k, v in base.items() if v is not None}
    r = requests.get(at(srv, tenant, path), params=base, allow_redirects=False,
                     timeout=HTTP_TIMEOUT_S)
    loc = r.headers.get("Location", "")
    return r.status_code, (query_of(loc).get("error") if "?" in loc else None)


def test_authorize_refuses_what_the_native_endpoint_refuses(srv):
    cases = [dict(),  # a public client without PKCE
             dict(code_challenge="x" * 43, code_challenge_method="plain"),
             dict(code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
             dict(redirect_uri="app.evil://steal"),
             dict(client_id="not-a-client"),
             dict(scope="all openid groups:admin")]
    for extra in cases:
        native = authorize_answer(srv, "trust", "/oauth2/authorize", **extra)
        compat = authorize_answer(srv, "trust", OAUTH2 + "authorize", **extra)
        assert compat == native and native[0] in (302, 400), (extra, native, compat)
        assert native != (302, None), (extra, native)


def test_a_reused_refresh_token_ends_the_grant(srv):
    tok = password_all_openid(srv, "trust").json()
    r1 = post(srv, "trust", OAUTH2 + "get_token", data={
        "grant_type": "refresh_token", "refresh_token": tok["refresh_token"],
        "client_id": CLIENT_ID})
    assert r1.status_code == 200, r1.text
    # Its successor is used too, so that the reuse below is past any
    # retry window.
    r2 = post(srv, "trust", OAUTH2 + "get_token", data={
        "grant_type": "refresh_token", "refresh_token": r1.json()["refresh_token"],
        "client_id": CLIENT_ID})
    assert r2.status_code == 200, r2.text
    again = post(srv, "trust", OAUTH2 + "get_token", data={
        "grant_type": "refresh_token", "refresh_token": tok["refresh_token"],
        "client_id": CLIENT_ID})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text
    r3 = post(srv, "trust", OAUTH2 + "get_token", data={
        "grant_type": "refresh_token", "refresh_token": r2.json()["refresh_token"],
        "client_id": CLIENT_ID})
    assert r3.status_code == 400 and r3.json()["error"] == "invalid_grant", r3.text
    u = requests.get(at(srv, "trust", OAUTH2 + "openid_profile"), timeout=HTTP_TIMEOUT_S,
                     headers={"Authorization": "Bearer " + r2.json()["access_token"]})
    assert u.status_code == 401, u.text


def test_credentials_of_another_tenant_are_nothing(srv):
    mine = password_all_openid(srv, "other").json()
    # Its refresh token, access token and a code cannot be used at trust.
    r = post(srv, "trust", OAUTH2 + "get_token", data={
        "grant_type": "refresh_token", "refresh_token": mine["refresh_token"],
        "client_id": CLIENT_ID})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    u = requests.get(at(srv, "trust", OAUTH2 + "openid_profile"), timeout=HTTP_TIMEOUT_S,
                     headers={"Authorization": "Bearer " + mine["access_token"]})
    assert u.status_code == 401, u.text
    # Revocation without client authentication at trust does nothing to it.
    for t in (mine["refresh_token"], mine["access_token"]):
        r = post(srv, "trust", OAUTH2 + "revoke_token", data={"token": t})
        assert r.status_code == 200, r.text
    r = post(srv, "other", OAUTH2 + "get_token", data={
        "grant_type": "refresh_token", "refresh_token": mine["refresh_token"],
        "client_id": CLIENT_ID})
    assert r.status_code == 200, r.text


def test_revocation_by_the_holder_revokes_only_that_token(srv):
    a = password_all_openid(srv, "trust").json()
    b = password_all_openid(srv, "trust").json()
    r = post(srv, "trust", OAUTH2 + "revoke_token", data={"token": a["access_token"]})
    assert r.status_code == 200 and r.json() == {"message": "success"}, r.text
    bearer = lambda t: {"Authorization": "Bearer " + t}  # noqa: E731
    u = requests.get(at(srv, "trust", OAUTH2 + "openid_profile"), headers=bearer(a["access_token"]),
                     timeout=HTTP_TIMEOUT_S)
    assert u.status_code == 401, u.text
    u = requests.get(at(srv, "trust", OAUTH2 + "openid_profile"), headers=bearer(b["access_token"]),
                     timeout=HTTP_TIMEOUT_S)
    assert u.status_code == 200, u.text
    # A guess is answered like any unknown token and revokes nothing.
    r = post(srv, "trust", OAUTH2 + "revoke_token", data={"token": "guessed-token-value"})
    assert r.status_code == 200, r.text
    r = post(srv, "trust", OAUTH2 + "revoke_token", data={})
    assert r.status_code == 400, r.text
    # The native endpoint still wants the client (RFC 7009 §2.1).
    r = post(srv, "trust", "/oauth2/revoke", data={"token": b["refresh_token"]})
    assert r.status_code == 401, r.text


# -- PostgreSQL ------------------------------------------------------------------------

def test_profile_and_attributes_on_postgres(cluster, make_server):
    """The tenant's profiles and the user's attributes are kept by the
    PostgreSQL backend as by SQLite."""
    s = make_server(start=False, name="pg-frappe", env={"TESSERA_DB": cluster.url})
    s.db = cluster.url
    s.bootstrap_ok({"tenants": [site("trust", compat=["frappe"])]})
    shown = s.cli("user", "show", "--tenant", "trust", GAXIS["username"]).out
    assert shown["attributes"] == {"employee_id": "EMP-001"}, shown
    r = s.cli("user", "update", "--tenant", "trust", GAXIS["username"], "--name", "G. User")
    assert r.rc == 0, r.err
    shown = s.cli("user", "show", "--tenant", "trust", GAXIS["username"]).out
    assert shown["attributes"] == {"employee_id": "EMP-001"}, shown
    s.start()
    r = mobile(s, "trust", {"usr": GAXIS["username"], "app_password": GAXIS["app_password"],
                            "device_id": GAXIS["device_id"]})
    assert r.status_code == 200, r.text
    d = r.json()["message"]["data"]
    assert (d["employee_id"], d["employee_name"]) == ("EMP-001", "G. User"), d
    assert s.cli("tenant", "update", "trust", "--compat", "none").rc == 0
    wait_until(lambda: mobile(s, "trust", {"usr": GAXIS["username"]}).status_code == 404)


def test_attributes_set_by_the_cli_reach_the_mobile_login(srv):
    user = ["--tenant", "trust", "cli-emp@company.com"]
    r = srv.cli("user", "create", *user, "--name", "CLI Employee", "--app-password",
                "CliAppPassword-123", "--mobile-access", "true", "--attribute",
                "employee_id=EMP-042", "--attribute", "desk=B7")
    assert r.rc == 0, r.err
    shown = srv.cli("user", "show", *user).out
    assert shown["attributes"] == {"employee_id": "EMP-042", "desk": "B7"}, shown
    # NAME= removes one; the others stay.
    r = srv.cli("user", "update", *user, "--attribute", "desk=")
    assert r.rc == 0, r.err
    assert srv.cli("user", "show", *user).out["attributes"] == {"employee_id": "EMP-042"}
    for bad in ("=x", "novalue", "bad name=x"):
        r = srv.cli("user", "update", *user, "--attribute", bad)
        assert r.rc in (1, 2) and r.err_json, (bad, r)
    body = {"usr": "cli-emp@company.com", "app_password": "CliAppPassword-123",
            "device_id": "CLI-DEVICE"}
    r = mobile(srv, "trust", body)  # users are read from storage, not from a snapshot
    assert r.status_code == 200, r.text
    assert r.json()["message"]["data"]["employee_id"] == "EMP-042", r.text


def test_a_browser_may_send_frappe_csrf_header_across_origins(srv):
    def preflight(tenant):
        r = requests.options(at(srv, tenant, "/api/method/logout"), timeout=HTTP_TIMEOUT_S,
                             headers={"Origin": WEB_ORIGIN, "Access-Control-Request-Method": "POST",
                                      "Access-Control-Request-Headers": "x-frappe-csrf-token"})
        assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN
        return [h.strip() for h in r.headers["Access-Control-Allow-Headers"].lower().split(",")]
    assert "x-frappe-csrf-token" in preflight("trust")
    assert "x-frappe-csrf-token" not in preflight("plain")  # no Frappe profile there
