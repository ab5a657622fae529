"""The identity API against the real server (BEHAVIOUR "Identity
API"): browser sessions from /api/login and their CSRF rule, mobile device
logins and their keys, the principal at /api/me for each of the three
credentials, the groups and API-key endpoints with their authorization
rules, `tessera apikey`, introspection of API keys and sessions, tenant
isolation, and the attacks on Bearer tokens a resource server must refuse.

Forged tokens are signed with the tenant's real ES256 key, opened from the
SQLite database with the master key (as an insider would have it), so each
refusal is the check's doing and not the forgery's: a control token made
the same way with correct claims is accepted.

Failed password checks are throttled per user and per source address, so
each failing attempt here comes from its own loopback address.
"""
import base64
import hashlib
import hmac
import itertools
import json
import os
import sqlite3
import time

import pytest
import requests
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import load_der_private_key
from jwcrypto import jwk, jws

from e2e_util import HTTP_TIMEOUT_S, SECRET, es256_with_s, fetch_token, jose_header
from people_helpers import _SourceAdapter, password_grant

AUD = "https://api.acme.test"
SESSION_COOKIE = "tessera_session"
API_KEY_ROLES = ["Sales User", "Sales Manager", "System Manager"]
SCOPES = [{"name": "groups:read"}, {"name": "members:read"}, {"name": "groups:write"},
          {"name": "groups:admin", "includes": ["groups:read", "groups:write", "members:read"]},
          {"name": "reports:read"}]
GROUP = "E2E Test Group"

ALICE = {"username": "alice@acme.test", "password": "alice-correct-horse-battery",
         "email": "alice@acme.test", "name": "Alice", "roles": ["Sales User"]}
BOB = {"username": "bob@acme.test", "password": "bob-staple-battery-horse",
       "roles": ["Sales Manager"]}
CAROL = {"username": "carol@acme.test", "password": "carol-viewer-password-1",
         "roles": ["Viewer"]}
APP_PW = "app-password-31415926"
# What people acting directly (API key, session) hold: every scope a client
# with a person's grant may be given (here the mobile client's).
PERSON_SCOPES = ["email", "groups:read", "openid", "profile"]


def mobile_user(name, **over):
    u = {"username": "%s@acme.test" % name, "password": "%s-account-password-1" % name,
         "roles": ["Sales User"], "mobile_access": True, "app_password": APP_PW}
    u.update(over)
    return u


PHONE = mobile_user("phone")                          # binds its first device
BOUND = mobile_user("bound", device_id="ABC123XYZ")   # bound by the bootstrap file
NOMOBILE = mobile_user("nomobile", mobile_access=False)
DISABLED = mobile_user("disabled", disabled=True)
ROTATE = mobile_user("rotate")                        # fresh secret at every login
KILL = mobile_user("kill")                            # disabled while its key is used
APPPW = mobile_user("apppw")                          # gets a new app password
MOBOFF = mobile_user("moboff")                        # mobile_access turned off
ORDER = mobile_user("order")                          # failures bind no device
CLIUSER = {"username": "cli@acme.test", "password": "cli-user-password-123",
           "roles": ["System Manager"]}
CLIOFF = {"username": "clioff@acme.test", "password": "cli-off-password-1234",
          "roles": ["System Manager"], "disabled": True}


def clients():
    conf = lambda cid, scopes: {"client_id": cid, "type": "confidential", "secret": SECRET,
                                "grant_types": ["client_credentials"], "scopes": scopes}
    return [conf("reader", ["groups:read", "members:read"]),
            conf("admin-svc", ["groups:admin"]),
            conf("writer", ["groups:write"]),
            conf("reports", ["reports:read"]),
            {"client_id": "mobile", "type": "public", "redirect_uris": ["app.acme://cb"],
             "grant_types": ["authorization_code", "password"],
             "scopes": ["openid", "profile", "email", "groups:read"], "skip_consent": True}]


def tenant(name, users, **over):
    t = {"name": name, "display_name": name.title(), "audience": AUD,
         "roles": API_KEY_ROLES + ["Viewer"], "api_key_roles": API_KEY_ROLES,
         "scopes": SCOPES, "users": [dict(u) for u in users],
         "groups": [{"name": GROUP, "members": [ALICE["username"], CAROL["username"]]}],
         "clients": clients()}
    t.update(over)
    return t


DOC = {"tenants": [
    tenant("acme", [ALICE, BOB, CAROL, PHONE, BOUND, NOMOBILE, DISABLED, ROTATE, KILL, APPPW, MOBOFF,
                    ORDER, CLIUSER, CLIOFF]),
    tenant("beta", [ALICE, BOB, CAROL]),
    tenant("short", [ALICE], access_token_ttl=1, groups=[]),
]}

_sources = itertools.count(1)


def fresh_source():
    """A loopback address no other request of this module used."""
    n = next(_sources)
    return "127.0.%d.%d" % (40 + n // 250, 1 + n % 250)


def session_from(source=None):
    s = requests.Session()
    if source:
        s.mount("http://", _SourceAdapter(source))
    return s


@pytest.fixture(scope="module")
def env(make_module_server):
    srv = make_module_server(None, start=False)
    result = srv.bootstrap_ok(DOC)
    srv.start()
    groups = {t["name"]: {g["name"]: g["id"] for g in t["groups"]} for t in result["tenants"]}
    # A token that expires one second after it was issued (checked later
    # in the module, when it is certainly expired).
    short = fetch_token(srv, "short", "reader")["access_token"]
    return {"srv": srv, "groups": groups, "short": (short, time.time())}


@pytest.fixture(scope="module")
def srv(env):
    return env["srv"]


# -- helpers -----------------------------------------------------------------

def url(srv, tenant, path):
    return srv.issuer(tenant) + path


def call(srv, method, path, tenant="acme", auth=None, session=None, **kw):
    """One request to {issuer}{path}; auth is the Authorization header."""
    headers = dict(kw.pop("headers", {}))
    if auth:
        headers["Authorization"] = auth
    s = session or requests
    return s.request(method, url(srv, tenant, path), headers=headers, timeout=HTTP_TIMEOUT_S,
                     **kw)


def me(srv, tenant="acme", **kw):
    return call(srv, "GET", "/api/me", tenant, **kw)


def token_auth(key, secret):
    return "token %s:%s" % (key, secret)


def basic_auth(key, secret):
    return "Basic " + base64.b64encode(("%s:%s" % (key, secret)).encode()).decode()


def bearer(tok):
    return "Bearer " + tok


def login(srv, user, tenant="acme", form=False):
    """/api/login; returns (requests.Session holding the cookie, response)."""
    s = requests.Session()
    body = {"username": user["username"], "password": user["password"]}
    r = s.post(url(srv, tenant, "/api/login"), timeout=HTTP_TIMEOUT_S,
               **({"data": body} if form else {"json": body}))
    assert r.status_code == 200, r.text
    return s, r


def mobile(srv, user, device, app_password=APP_PW, tenant="acme", source=None, form=False):
    body = {"username": user if isinstance(user, str) else user["username"],
            "app_password": app_password, "device_id": device}
    return session_from(source or fresh_source()).post(
        url(srv, tenant, "/api/mobile/login"), timeout=HTTP_TIMEOUT_S,
        **({"data": body} if form else {"json": body}))


def mobile_ok(srv, user, device, **kw):
    r = mobile(srv, user, device, **kw)
    assert r.status_code == 200, r.text
    b = r.json()
    return b["api_key"], b["api_secret"]


def service_token(srv, client_id="reader", tenant="acme", **params):
    return fetch_token(srv, tenant, client_id, **params)["access_token"]


def user_token(srv, user=ALICE, tenant="acme", **extra):
    r = password_grant(srv, tenant, user["username"], user["password"], **extra)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def introspect(srv, token, tenant="acme", client_id="reader"):
    r = requests.post(url(srv, tenant, "/oauth2/introspect"), data={"token": token},
                      auth=(client_id, SECRET), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return r.json()


def assert_invalid_token(r):
    """RFC 6750 §3: 401 with a Bearer challenge naming invalid_token."""
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.json()["error"] == "invalid_token", r.text
    ch = r.headers.get("WWW-Authenticate", "")
    assert ch.startswith("Bearer ") and 'error="invalid_token"' in ch, ch
    return r


def assert_error(r, status, error):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.json()["error"] == error, r.text
    return r


def user_id(srv, user, tenant="acme"):
    out = srv.cli("user", "show", "--tenant", tenant, user["username"])
    assert out.rc == 0, out.err
    return out.out["id"]


# -- sessions: /api/login, CSRF, /api/logout -----------------------------------

@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_login_sets_httponly_cookie(srv, form):
    s, r = login(srv, ALICE, form=form)
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(SESSION_COOKIE + "="), cookie
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs and "samesite=lax" in attrs, cookie
    assert "path=/t/acme" in attrs, cookie
    body = r.json()
    assert set(body) == {"user", "csrf_token"}, body
    assert body["user"]["username"] == ALICE["username"]
    assert body["user"]["roles"] == ["Sales User"]
    assert not any("hash" in k or "password" in k for k in body["user"]), body["user"]
    assert isinstance(body["csrf_token"], str) and len(body["csrf_token"]) >= 32
    assert r.headers.get("Cache-Control") == "no-store"
    m = me(srv, session=s)
    assert m.status_code == 200, m.text
    p = m.json()
    assert p["auth"] == "session" and p["principal_type"] == "user", p
    assert p["tenant"] == "acme" and p["username"] == ALICE["username"], p
    # A session holds the person scopes: what the mobile client may be given.
    assert p["scopes"] == PERSON_SCOPES and p["roles"] == ["Sales User"], p
    assert p["sub"] == body["user"]["id"] == user_id(srv, ALICE), p
    assert p["client_id"] is None, p


def test_login_wrong_password(srv):
    s = session_from(fresh_source())
    r = s.post(url(srv, "acme", "/api/login"),
               json={"username": ALICE["username"], "password": "not-her-password"},
               timeout=HTTP_TIMEOUT_S)
    assert_error(r, 401, "invalid_credentials")
    assert SESSION_COOKIE not in r.headers.get("Set-Cookie", "")
    wrong = r.content
    r = session_from(fresh_source()).post(
        url(srv, "acme", "/api/login"), data={"username": "ghost@acme.test", "password": "x" * 12},
        timeout=HTTP_TIMEOUT_S)
    assert_error(r, 401, "invalid_credentials")
    assert r.content == wrong
    r = session_from(fresh_source()).post(
        url(srv, "acme", "/api/login"),
        json={"username": DISABLED["username"], "password": DISABLED["password"]},
        timeout=HTTP_TIMEOUT_S)
    assert_error(r, 401, "invalid_credentials")
    assert r.content == wrong
    r = s.post(url(srv, "acme", "/api/login"), json={"username": ALICE["username"]},
               timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 400, r.text


def test_csrf_rule(srv):
    s, r = login(srv, ALICE)
    csrf = r.json()["csrf_token"]
    # A state-changing request with the cookie alone is refused.
    assert_error(call(srv, "POST", "/api/apikeys", session=s, json={}), 403, "csrf_failed")
    wrong = csrf[:5] + ("A" if csrf[5] != "A" else "B") + csrf[6:]
    assert_error(call(srv, "POST", "/api/apikeys", session=s, json={},
                      headers={"X-CSRF-Token": wrong}), 403, "csrf_failed")
    # Another session's token does not fit.
    _, other = login(srv, ALICE)
    assert_error(call(srv, "POST", "/api/apikeys", session=s, json={},
                      headers={"X-CSRF-Token": other.json()["csrf_token"]}), 403, "csrf_failed")
    assert_error(call(srv, "POST", "/api/logout", session=s), 403, "csrf_failed")
    # With the header the request goes through.
    r = call(srv, "POST", "/api/apikeys", session=s, json={}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    # Reading needs no CSRF token.
    assert me(srv, session=s).status_code == 200


def test_logout_ends_the_session(srv):
    s, r = login(srv, BOB)
    sid = s.cookies.get(SESSION_COOKIE)
    csrf = r.json()["csrf_token"]
    assert me(srv, headers={"Cookie": "%s=%s" % (SESSION_COOKIE, sid)}).status_code == 200
    r = call(srv, "POST", "/api/logout", session=s, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    # The old cookie value no longer works, whatever the browser does with it.
    r = me(srv, headers={"Cookie": "%s=%s" % (SESSION_COOKIE, sid)})
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"].startswith("Bearer"), r.headers
    assert me(srv, session=s).status_code == 401


# -- mobile login ----------------------------------------------------------------

def test_mobile_failures_are_one_answer(srv):
    failures = {
        "unknown user": mobile(srv, "ghost@acme.test", "DEV-1"),
        "disabled user": mobile(srv, DISABLED, "DEV-1"),
        "mobile_access off": mobile(srv, NOMOBILE, "DEV-1"),
        "wrong app password": mobile(srv, BOUND, "ABC123XYZ", app_password="wrong-app-password-1"),
        "account password": mobile(srv, BOUND, "ABC123XYZ", app_password=BOUND["password"]),
        "wrong device": mobile(srv, BOUND, "OTHER-DEVICE"),
    }
    bodies = set()
    for why, r in failures.items():
        assert r.status_code == 401, (why, r.status_code, r.text)
        assert r.headers.get("Content-Type", "").startswith("application/json"), why
        bodies.add(r.content)
    assert len(bodies) == 1, bodies
    assert json.loads(bodies.pop())["error"] == "invalid_credentials"
    # The bound device with the app password succeeds.
    key, secret = mobile_ok(srv, BOUND, "ABC123XYZ")
    assert me(srv, auth=token_auth(key, secret)).status_code == 200
    # A user's own password is not the app password, and vice versa.
    r = password_grant(srv, "acme", BOUND["username"], APP_PW)
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("device", ["", " ", " PHONE", "PHONE ", "PH\x01ONE", "x" * 129])
def test_a_device_id_that_cannot_be_bound_is_refused_before_anything(srv, device):
    """A first login binds its device for good: a blank, padded, control or
    overlong device id is 400 and binds nothing."""
    r = mobile(srv, ORDER, device)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text


def test_a_new_app_password_locks_the_logged_in_device_out(srv):
    key, secret = mobile_ok(srv, APPPW, "APPPW-PHONE")
    assert me(srv, auth=token_auth(key, secret)).status_code == 200
    out = srv.cli("user", "set-app-password", "--tenant", "acme", APPPW["username"],
                  "--app-password", APP_PW + "-new")
    assert out.rc == 0, out.err
    assert me(srv, auth=token_auth(key, secret)).status_code == 401
    key2, secret2 = mobile_ok(srv, APPPW, "APPPW-PHONE", app_password=APP_PW + "-new")
    assert me(srv, auth=token_auth(key2, secret2)).status_code == 200


def test_mobile_login_answer(srv):
    r = mobile(srv, ROTATE, "ROT-1")
    assert r.status_code == 200, r.text
    b = r.json()
    assert set(b) == {"api_key", "api_secret", "user"}, b
    assert b["api_key"].startswith("tk_") and len(b["api_key"]) == 19, b
    assert len(base64.urlsafe_b64decode(b["api_secret"] + "=" * (-len(b["api_secret"]) % 4))) == 32
    assert b["user"]["username"] == ROTATE["username"] and b["user"]["device_bound"] is True
    assert r.headers.get("Cache-Control") == "no-store"


def test_mobile_device_binding_and_reset(srv):
    key, secret = mobile_ok(srv, PHONE, "PHONE-A")
    assert me(srv, auth=token_auth(key, secret)).json()["username"] == PHONE["username"]
    # The first device is bound now: a second one is refused...
    assert_error(mobile(srv, PHONE, "PHONE-B"), 401, "invalid_credentials")
    # ...and the bound one keeps working.
    key2, secret2 = mobile_ok(srv, PHONE, "PHONE-A")
    assert key2 == key
    out = srv.cli("user", "reset-device", "--tenant", "acme", PHONE["username"])
    assert out.rc == 0, out.err
    assert out.out["device_bound"] is False, out.out
    # The reset locks the device that logged in before out at once.
    assert me(srv, auth=token_auth(key2, secret2)).status_code == 401
    # After the reset the next device to log in is bound.
    key3, secret3 = mobile_ok(srv, PHONE, "PHONE-B")
    assert me(srv, auth=token_auth(key3, secret3)).status_code == 200
    assert_error(mobile(srv, PHONE, "PHONE-A"), 401, "invalid_credentials")


def test_mobile_failures_bind_nothing(srv):
    """The device is checked (and bound) last: a failure for any earlier
    reason leaves the user unbound."""
    assert_error(mobile(srv, ORDER, "WRONG-1", app_password="wrong-app-password-1"),
                 401, "invalid_credentials")
    assert_error(mobile(srv, ORDER, "WRONG-2", app_password=ORDER["password"]),
                 401, "invalid_credentials")
    out = srv.cli("user", "update", "--tenant", "acme", ORDER["username"],
                  "--mobile-access", "false")
    assert out.rc == 0, out.err
    assert_error(mobile(srv, ORDER, "WRONG-3"), 401, "invalid_credentials")
    out = srv.cli("user", "update", "--tenant", "acme", ORDER["username"],
                  "--mobile-access", "true")
    assert out.rc == 0, out.err
    assert out.out["device_bound"] is False, out.out
    key, secret = mobile_ok(srv, ORDER, "RIGHT-1")
    assert me(srv, auth=token_auth(key, secret)).status_code == 200


def test_each_login_replaces_the_secret(srv):
    key, secret = mobile_ok(srv, ROTATE, "ROT-1")
    assert me(srv, auth=token_auth(key, secret)).status_code == 200
    key2, secret2 = mobile_ok(srv, ROTATE, "ROT-1", form=True)
    assert key2 == key and secret2 != secret
    assert_invalid_token(me(srv, auth=token_auth(key, secret)))
    assert_invalid_token(me(srv, auth=basic_auth(key, secret)))
    assert me(srv, auth=token_auth(key2, secret2)).status_code == 200


def test_disabling_the_user_kills_the_key(srv):
    key, secret = mobile_ok(srv, KILL, "KILL-1")
    assert me(srv, auth=token_auth(key, secret)).status_code == 200
    s, r = login(srv, KILL)
    assert me(srv, session=s).status_code == 200
    ukey, usecret = cli_key(srv, KILL)
    tok = user_token(srv, KILL, scope="openid")
    assert me(srv, auth=bearer(tok)).status_code == 200
    out = srv.cli("user", "disable", "--tenant", "acme", KILL["username"])
    assert out.rc == 0, out.err
    assert_invalid_token(me(srv, auth=token_auth(ukey, usecret)))
    assert_invalid_token(me(srv, auth=bearer(tok)))
    # At once: no reload interval for people.
    assert_invalid_token(me(srv, auth=token_auth(key, secret)))
    assert_invalid_token(me(srv, auth=basic_auth(key, secret)))
    assert me(srv, session=s).status_code == 401
    assert introspect(srv, "%s:%s" % (key, secret)) == {"active": False}


def test_mobile_access_off_kills_the_device_key(srv):
    key, secret = mobile_ok(srv, MOBOFF, "MOB-1")
    assert me(srv, auth=token_auth(key, secret)).status_code == 200
    out = srv.cli("user", "update", "--tenant", "acme", MOBOFF["username"],
                  "--mobile-access", "false")
    assert out.rc == 0, out.err
    assert_invalid_token(me(srv, auth=token_auth(key, secret)))
    assert introspect(srv, "%s:%s" % (key, secret)) == {"active": False}
    assert_error(mobile(srv, MOBOFF, "MOB-1"), 401, "invalid_credentials")


# -- the principal at /api/me ------------------------------------------------------

def test_me_api_key_token_and_basic(srv):
    key, secret = mobile_ok(srv, BOUND, "ABC123XYZ")
    for auth in (token_auth(key, secret), basic_auth(key, secret)):
        r = me(srv, auth=auth)
        assert r.status_code == 200, r.text
        p = r.json()
        assert p == {"tenant": "acme", "sub": user_id(srv, BOUND), "principal_type": "user",
                     "username": BOUND["username"], "client_id": None,
                     "scopes": PERSON_SCOPES, "roles": ["Sales User"], "auth": "api_key"}, p
    assert_invalid_token(me(srv, auth=token_auth(key, secret + "x")))
    assert_invalid_token(me(srv, auth=token_auth("tk_AAAAAAAAAAAAAAAA", secret)))
    assert_invalid_token(me(srv, auth=basic_auth(key, "")))


def test_me_service_bearer(srv):
    r = me(srv, auth=bearer(service_token(srv, "admin-svc")))
    assert r.status_code == 200, r.text
    p = r.json()
    assert p == {"tenant": "acme", "sub": "admin-svc", "principal_type": "service",
                 "username": None, "client_id": "admin-svc", "scopes": ["groups:admin"],
                 "roles": [], "auth": "bearer"}, p
    p = me(srv, auth=bearer(service_token(srv, "reader"))).json()
    assert sorted(p["scopes"]) == ["groups:read", "members:read"], p


def test_me_user_bearer(srv):
    tok = user_token(srv, scope="openid groups:read")
    p = me(srv, auth=bearer(tok)).json()
    assert p["auth"] == "bearer" and p["principal_type"] == "user", p
    assert p["sub"] == user_id(srv, ALICE) and p["username"] == ALICE["username"], p
    assert p["client_id"] == "mobile" and p["tenant"] == "acme", p
    assert sorted(p["scopes"]) == ["groups:read", "openid"] and p["roles"] == ["Sales User"], p


def test_me_without_credential(srv):
    r = me(srv)
    assert r.status_code == 401, r.text
    # RFC 6750 §3.1: no credential, no error code in the challenge.
    assert r.headers["WWW-Authenticate"].startswith("Bearer "), r.headers
    assert "error=" not in r.headers["WWW-Authenticate"]
    assert me(srv, auth="Digest abc").status_code == 400


def test_audience_is_checked(srv):
    """A token issued for another resource is refused by Tessera's own API
    and by UserInfo; the same kind of token for the tenant's audience works."""
    other = "https://other-api.acme.test"
    svc = service_token(srv, "reader", resource=other)
    assert jose_header(svc)["typ"] == "at+jwt"
    assert parts(svc)[1]["aud"] == other
    assert_invalid_token(me(srv, auth=bearer(svc)))
    assert me(srv, auth=bearer(service_token(srv, "reader", resource=AUD))).status_code == 200
    good = user_token(srv, scope="openid profile")
    assert call(srv, "GET", "/oauth2/userinfo", auth=bearer(good)).status_code == 200
    bad = user_token(srv, scope="openid profile", resource=other)
    assert parts(bad)[1]["aud"] == other
    assert_invalid_token(call(srv, "GET", "/oauth2/userinfo", auth=bearer(bad)))
    assert_invalid_token(me(srv, auth=bearer(bad)))
    assert_invalid_token(call(srv, "GET", "/oauth2/userinfo", auth=bearer(svc)))
    r = password_grant(srv, "acme", ALICE["username"], ALICE["password"], resource="relative")
    assert r.status_code == 400 and r.json()["error"] == "invalid_target", r.text


# -- groups --------------------------------------------------------------------------

def group_id(env, tenant="acme"):
    return env["groups"][tenant][GROUP]


def test_bootstrap_group_id_is_the_api_id(env, srv):
    gid = group_id(env)
    r = call(srv, "GET", "/api/groups/%s" % gid, auth=bearer(service_token(srv)))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == gid and r.json()["name"] == GROUP
    out = srv.cli("group", "show", "--tenant", "acme", GROUP)
    assert out.out["id"] == gid


@pytest.mark.parametrize("client_id", ["reader", "admin-svc"])
def test_group_read_with_scope(env, srv, client_id):
    gid = group_id(env)
    tok = service_token(srv, client_id)
    r = call(srv, "GET", "/api/groups/%s" % gid, auth=bearer(tok))
    assert r.status_code == 200, r.text
    r = call(srv, "GET", "/api/groups/%s/members" % gid, auth=bearer(tok))
    assert r.status_code == 200, r.text
    names = sorted(m["username"] for m in r.json()["members"])
    assert ALICE["username"] in names and CAROL["username"] in names, names
    assert not any("password" in k or "hash" in k for m in r.json()["members"] for k in m)


def test_group_read_scope_per_endpoint(env, srv):
    """A token with only groups:read reads the group but not its members."""
    gid = group_id(env)
    tok = service_token(srv, "reader", scope="groups:read")
    assert call(srv, "GET", "/api/groups/%s" % gid, auth=bearer(tok)).status_code == 200
    r = assert_error(call(srv, "GET", "/api/groups/%s/members" % gid, auth=bearer(tok)),
                     403, "insufficient_scope")
    assert 'scope="members:read"' in r.headers.get("WWW-Authenticate", ""), r.headers


def test_group_read_service_without_scope(env, srv):
    gid = group_id(env)
    tok = service_token(srv, "reports")
    for path in ("/api/groups/%s" % gid, "/api/groups/%s/members" % gid):
        assert_error(call(srv, "GET", path, auth=bearer(tok)), 403, "insufficient_scope")
    # groups:write alone does not include reading.
    tok = service_token(srv, "writer")
    assert_error(call(srv, "GET", "/api/groups/%s" % gid, auth=bearer(tok)),
                 403, "insufficient_scope")


def test_group_read_as_member(env, srv):
    gid = group_id(env)
    s, _ = login(srv, ALICE)
    assert call(srv, "GET", "/api/groups/%s" % gid, session=s).status_code == 200
    r = call(srv, "GET", "/api/groups/%s/members" % gid, session=s)
    assert r.status_code == 200, r.text
    # As an API key of a member, in both header forms.
    key, secret = cli_key(srv, ALICE)
    for auth in (token_auth(key, secret), basic_auth(key, secret)):
        assert call(srv, "GET", "/api/groups/%s/members" % gid, auth=auth).status_code == 200
    # A member's user token works without a group scope.
    tok = user_token(srv, scope="openid")
    assert call(srv, "GET", "/api/groups/%s" % gid, auth=bearer(tok)).status_code == 200


def test_group_read_non_member(env, srv):
    gid = group_id(env)
    # Acting directly, bob holds the person scopes, groups:read among them
    # (the mobile client may be given it), but not members:read.
    s, _ = login(srv, BOB)
    assert call(srv, "GET", "/api/groups/%s" % gid, session=s).status_code == 200
    assert_error(call(srv, "GET", "/api/groups/%s/members" % gid, session=s),
                 403, "insufficient_scope")
    key, secret = cli_key(srv, BOB)
    assert call(srv, "GET", "/api/groups/%s" % gid, auth=token_auth(key, secret)).status_code == 200
    assert_error(call(srv, "GET", "/api/groups/%s/members" % gid, auth=token_auth(key, secret)),
                 403, "insufficient_scope")
    tok = user_token(srv, BOB, scope="openid")
    assert_error(call(srv, "GET", "/api/groups/%s" % gid, auth=bearer(tok)),
                 403, "insufficient_scope")
    # A user token carrying groups:read reads any group (delegated scope).
    tok = user_token(srv, BOB, scope="openid groups:read")
    assert call(srv, "GET", "/api/groups/%s" % gid, auth=bearer(tok)).status_code == 200
    assert_error(call(srv, "GET", "/api/groups/%s/members" % gid, auth=bearer(tok)),
                 403, "insufficient_scope")


def test_group_unknown(srv):
    tok = service_token(srv, "admin-svc")
    for gid in ("00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        assert_error(call(srv, "GET", "/api/groups/%s" % gid, auth=bearer(tok)), 404, "not_found")


def test_group_write(env, srv):
    tok = service_token(srv, "writer")
    r = call(srv, "POST", "/api/groups", auth=bearer(tok), json={"name": "Writers Made This"})
    assert r.status_code == 201, r.text
    gid = r.json()["id"]
    assert r.json()["name"] == "Writers Made This"
    assert r.headers["Location"] == srv.issuer("acme") + "/api/groups/" + gid
    assert call(srv, "GET", r.headers["Location"][len(srv.issuer("acme")):],
                auth=bearer(service_token(srv, "reader"))).json()["id"] == gid
    assert_error(call(srv, "POST", "/api/groups", auth=bearer(tok),
                      json={"name": "Writers Made This"}), 409, "conflict")
    assert_error(call(srv, "POST", "/api/groups", auth=bearer(tok), json={}), 400,
                 "invalid_request")
    r = call(srv, "POST", "/api/groups/%s/members" % gid, auth=bearer(tok),
             json={"username": BOB["username"]})
    assert r.status_code == 201, r.text
    assert r.json()["member"]["username"] == BOB["username"]
    # Bob is a member now: he reads the group as himself.
    s, _ = login(srv, BOB)
    assert call(srv, "GET", "/api/groups/%s/members" % gid, session=s).status_code == 200
    assert_error(call(srv, "POST", "/api/groups/%s/members" % gid, auth=bearer(tok),
                      json={"username": "nobody@acme.test"}), 404, "not_found")
    r = call(srv, "DELETE", "/api/groups/%s/members/%s" % (gid, BOB["username"]),
             auth=bearer(tok))
    assert r.status_code == 204, r.text
    assert_error(call(srv, "DELETE", "/api/groups/%s/members/%s" % (gid, BOB["username"]),
                      auth=bearer(tok)), 404, "not_found")
    assert_error(call(srv, "GET", "/api/groups/%s/members" % gid, session=s),
                 403, "insufficient_scope")
    # groups:admin includes groups:write.
    adm = service_token(srv, "admin-svc")
    r = call(srv, "POST", "/api/groups", auth=bearer(adm), json={"name": "Admins Made This"})
    assert r.status_code == 201, r.text
    out = srv.cli("group", "show", "--tenant", "acme", "Admins Made This")
    assert out.rc == 0 and out.out["id"] == r.json()["id"], out


def test_group_write_refused(env, srv):
    gid = group_id(env)
    s, r = login(srv, ALICE)   # a member, with a CSRF token: still no groups:write
    csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
    reader = bearer(service_token(srv, "reader"))
    key, secret = cli_key(srv, ALICE)
    for kw in ({"session": s, "headers": csrf}, {"auth": reader},
               {"auth": token_auth(key, secret)},
               {"auth": bearer(user_token(srv, scope="openid groups:read"))}):
        r = call(srv, "POST", "/api/groups", json={"name": "Not Allowed"}, **kw)
        assert_error(r, 403, "insufficient_scope")
        r = call(srv, "POST", "/api/groups/%s/members" % gid, json={"username": BOB["username"]},
                 **kw)
        assert_error(r, 403, "insufficient_scope")
        r = call(srv, "DELETE", "/api/groups/%s/members/%s" % (gid, CAROL["username"]), **kw)
        assert_error(r, 403, "insufficient_scope")
    members = srv.cli("group", "show", "--tenant", "acme", GROUP).out["members"]
    assert sorted(members) == sorted([ALICE["username"], CAROL["username"]]), members
    assert srv.cli("group", "show", "--tenant", "acme", "Not Allowed").rc == 1


# -- API keys ----------------------------------------------------------------------

def api_key_via_session(srv, user):
    s, r = login(srv, user)
    return call(srv, "POST", "/api/apikeys", session=s, json={},
                headers={"X-CSRF-Token": r.json()["csrf_token"]})


def test_apikey_create_and_delete(srv):
    r = api_key_via_session(srv, ALICE)
    assert r.status_code == 201, r.text
    b = r.json()
    assert set(b) == {"api_key", "api_secret"}, b
    assert b["api_key"].startswith("tk_") and len(b["api_key"]) == 19, b
    assert r.headers.get("Cache-Control") == "no-store"
    key, secret = b["api_key"], b["api_secret"]
    p = me(srv, auth=token_auth(key, secret)).json()
    assert p["auth"] == "api_key" and p["username"] == ALICE["username"], p
    # An API key may make another key for its user.
    r = call(srv, "POST", "/api/apikeys", auth=token_auth(key, secret), json={})
    assert r.status_code == 201, r.text
    key2, secret2 = r.json()["api_key"], r.json()["api_secret"]
    # Another user's key is unknown to Bob.
    s, lr = login(srv, BOB)
    bob_csrf = {"X-CSRF-Token": lr.json()["csrf_token"]}
    assert_error(call(srv, "DELETE", "/api/apikeys/%s" % key, session=s, headers=bob_csrf),
                 404, "not_found")
    assert_error(call(srv, "DELETE", "/api/apikeys/tk_AAAAAAAAAAAAAAAA", session=s,
                      headers=bob_csrf), 404, "not_found")
    assert me(srv, auth=token_auth(key, secret)).status_code == 200
    # Its owner deletes it: it stops working at once.
    r = call(srv, "DELETE", "/api/apikeys/%s" % key, auth=token_auth(key2, secret2))
    assert r.status_code == 204, r.text
    assert_invalid_token(me(srv, auth=token_auth(key, secret)))
    assert_error(call(srv, "DELETE", "/api/apikeys/%s" % key, auth=token_auth(key2, secret2)),
                 404, "not_found")
    # A key may delete itself.
    assert call(srv, "DELETE", "/api/apikeys/%s" % key2,
                auth=token_auth(key2, secret2)).status_code == 204
    assert_invalid_token(me(srv, auth=basic_auth(key2, secret2)))


def test_apikey_needs_an_api_key_role(srv):
    r = api_key_via_session(srv, CAROL)
    assert_error(r, 403, "forbidden")
    # A service is no user: it cannot hold API keys.
    r = call(srv, "POST", "/api/apikeys", auth=bearer(service_token(srv, "admin-svc")), json={})
    assert r.status_code == 403, r.text
    # Bob (Sales Manager) holds one of the roles.
    assert api_key_via_session(srv, BOB).status_code == 201


# -- tessera apikey -------------------------------------------------------------------

def cli_key(srv, user, tenant="acme"):
    out = srv.cli("apikey", "create", "--tenant", tenant, "--user", user["username"])
    assert out.rc == 0, out.err
    return out.out["api_key"], out.out["api_secret"]


def test_cli_apikey_lifecycle(srv):
    out = srv.cli("apikey", "create", "--tenant", "acme", "--user", CLIUSER["username"])
    assert out.rc == 0, out.err
    key, secret = out.out["api_key"], out.out["api_secret"]
    assert key.startswith("tk_") and len(key) == 19, out.out
    p = me(srv, auth=token_auth(key, secret)).json()
    assert p["auth"] == "api_key" and p["username"] == CLIUSER["username"], p
    assert p["roles"] == ["System Manager"], p
    out = srv.cli("apikey", "list", "--tenant", "acme", "--user", CLIUSER["username"])
    assert out.rc == 0, out.err
    keys = out.out["api_keys"]
    assert [k["api_key"] for k in keys] == [key], keys
    assert keys[0]["kind"] == "user" and keys[0]["device_id"] is None, keys
    assert isinstance(keys[0]["created_at"], int)
    assert secret not in json.dumps(out.out) and "secret" not in json.dumps(out.out)
    # The key belongs to its user: another user cannot revoke it.
    out = srv.cli("apikey", "revoke", "--tenant", "acme", "--user", ALICE["username"], key)
    assert out.rc == 1 and out.err.strip(), out
    assert me(srv, auth=token_auth(key, secret)).status_code == 200
    out = srv.cli("apikey", "revoke", "--tenant", "acme", "--user", CLIUSER["username"], key)
    assert out.rc == 0, out.err
    assert_invalid_token(me(srv, auth=token_auth(key, secret)))
    out = srv.cli("apikey", "list", "--tenant", "acme", "--user", CLIUSER["username"])
    assert out.out["api_keys"] == [], out.out
    out = srv.cli("apikey", "revoke", "--tenant", "acme", "--user", CLIUSER["username"], key)
    assert out.rc == 1, out
    events = [e for e in srv.cli("audit", "--tenant", "acme", "--limit", "1000").out["events"]
              if e.get("subject") == key]
    assert sorted(e["type"] for e in events) == ["apikey.created", "apikey.revoked"], events
    assert all(e["actor"] == "cli" for e in events), events
    assert secret not in json.dumps(events)


def test_cli_apikey_lists_device_keys(srv):
    key, _ = mobile_ok(srv, BOUND, "ABC123XYZ")
    out = srv.cli("apikey", "list", "--tenant", "acme", "--user", BOUND["username"])
    assert out.rc == 0, out.err
    dev = [k for k in out.out["api_keys"] if k["api_key"] == key]
    assert dev and dev[0]["kind"] == "device" and dev[0]["device_id"] == "ABC123XYZ", out.out


def test_cli_apikey_refusals(srv):
    def run(*args):
        return srv.cli("apikey", *args)
    assert run("create", "--tenant", "acme", "--user", CAROL["username"]).rc == 1  # no role
    assert run("create", "--tenant", "acme", "--user", CLIOFF["username"]).rc == 1  # disabled
    assert run("create", "--tenant", "acme", "--user", "nobody@acme.test").rc == 1
    assert run("create", "--tenant", "nope", "--user", ALICE["username"]).rc == 1
    for bad in (("create", "--tenant", "acme"), ("list", "--user", ALICE["username"]),
                ("revoke", "--tenant", "acme", "--user", ALICE["username"]),
                ("frobnicate", "--tenant", "acme", "--user", ALICE["username"]),
                ("create", "--tenant", "acme", "--user", ALICE["username"], "--bogus", "x")):
        r = run(*bad)
        assert r.rc == 2 and r.err.strip(), (bad, r)
    r = srv.cli("apikey", "list", "--tenant", "acme", "--user", "nobody@acme.test")
    assert r.rc == 1 and "nobody@acme.test" in r.err, r


# -- introspection of API keys and sessions ---------------------------------------------

def test_introspect_api_key(srv):
    key, secret = cli_key(srv, ALICE)
    a = introspect(srv, "%s:%s" % (key, secret))
    assert a["active"] is True and a["token_type"] == "api_key", a
    assert a["sub"] == user_id(srv, ALICE) and a["username"] == ALICE["username"], a
    assert a["roles"] == ["Sales User"] and a["tenant"] == "acme", a
    assert introspect(srv, "%s:%s" % (key, secret + "x")) == {"active": False}
    out = srv.cli("apikey", "revoke", "--tenant", "acme", "--user", ALICE["username"], key)
    assert out.rc == 0, out.err
    assert introspect(srv, "%s:%s" % (key, secret)) == {"active": False}


def test_introspect_session(srv):
    s, r = login(srv, BOB)
    sid, csrf = s.cookies.get(SESSION_COOKIE), r.json()["csrf_token"]
    a = introspect(srv, sid, client_id="admin-svc")
    assert a["active"] is True and a["token_type"] == "session", a
    assert a["sub"] == user_id(srv, BOB) and a["username"] == BOB["username"], a
    assert a["roles"] == ["Sales Manager"] and a["csrf_token"] == csrf, a
    assert a["exp"] > time.time(), a
    assert call(srv, "POST", "/api/logout", session=s,
                headers={"X-CSRF-Token": csrf}).status_code == 200
    assert introspect(srv, sid) == {"active": False}


def test_introspect_needs_a_confidential_client(srv):
    key, secret = cli_key(srv, ALICE)
    r = requests.post(url(srv, "acme", "/oauth2/introspect"),
                      data={"token": "%s:%s" % (key, secret), "client_id": "mobile"},
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text


# -- tenant isolation -----------------------------------------------------------------

def test_tenant_isolation(env, srv):
    key, secret = cli_key(srv, ALICE)
    assert_invalid_token(me(srv, "beta", auth=token_auth(key, secret)))
    assert_invalid_token(me(srv, "beta", auth=basic_auth(key, secret)))
    s, _ = login(srv, ALICE)
    sid = s.cookies.get(SESSION_COOKIE)
    r = me(srv, "beta", headers={"Cookie": "%s=%s" % (SESSION_COOKIE, sid)})
    assert r.status_code == 401, r.text
    assert introspect(srv, "%s:%s" % (key, secret), tenant="beta") == {"active": False}
    assert introspect(srv, sid, tenant="beta") == {"active": False}
    # Beta's own alice is another person with her own id.
    p = me(srv, "beta", session=login(srv, ALICE, tenant="beta")[0]).json()
    assert p["tenant"] == "beta" and p["sub"] != user_id(srv, ALICE), p
    # Another tenant's key cannot be revoked here either.
    bkey, bsecret = cli_key(srv, ALICE, tenant="beta")
    assert_error(call(srv, "DELETE", "/api/apikeys/%s" % bkey, auth=token_auth(key, secret)),
                 404, "not_found")
    assert me(srv, "beta", auth=token_auth(bkey, bsecret)).status_code == 200
    # Acme's group is not beta's, even for a service of beta allowed to read groups.
    gid = env["groups"]["acme"][GROUP]
    assert env["groups"]["beta"][GROUP] != gid
    btok = bearer(service_token(srv, "admin-svc", tenant="beta"))
    assert_error(call(srv, "GET", "/api/groups/%s" % gid, "beta", auth=btok), 404, "not_found")
    assert_error(call(srv, "POST", "/api/groups/%s/members" % gid, "beta", auth=btok,
                      json={"username": BOB["username"]}), 404, "not_found")
    # A beta Bearer token is not accepted at acme.
    assert_invalid_token(me(srv, auth=bearer(service_token(srv, tenant="beta"))))


# -- attacks on Bearer tokens at /api/me ----------------------------------------------

def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(obj):
    return b64url(json.dumps(obj, separators=(",", ":")))


def parts(token):
    h, p, s = token.split(".")
    pad = lambda x: x + "=" * (-len(x) % 4)
    return (json.loads(base64.urlsafe_b64decode(pad(h))),
            json.loads(base64.urlsafe_b64decode(pad(p))), s)


def sign_with(key, header, claims):
    s = jws.JWS(json.dumps(claims, separators=(",", ":")).encode())
    s.add_signature(key, None, protected=json.dumps(header))
    return es256_with_s(s.serialize(compact=True))


def tenant_signing_key(srv, tenant, kid):
    """The tenant's private signing key for kid, unsealed from the database
    with the master key (AES-256-GCM, AAD "tessera:signing-key:TID:KID")."""
    db = sqlite3.connect("file:%s?mode=ro" % srv.db_path, uri=True)
    try:
        tid, sealed = db.execute(
            "SELECT t.id, k.sealed_private FROM keys k JOIN tenants t ON t.id = k.tenant_id "
            "WHERE t.name = ? AND k.kid = ?", (tenant, kid)).fetchone()
    finally:
        db.close()
    _, _, body = sealed.split(".", 2)
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    der = AESGCM(bytes.fromhex(srv.master_key)).decrypt(
        raw[:12], raw[12:], ("tessera:signing-key:%s:%s" % (tid, kid)).encode())
    return jwk.JWK.from_pyca(load_der_private_key(der, password=None))


@pytest.fixture(scope="module")
def real(srv):
    tok = service_token(srv, "reader")
    header, claims, _ = parts(tok)
    return {"token": tok, "header": header, "claims": claims,
            "key": tenant_signing_key(srv, "acme", header["kid"])}


def forged(real, key=None, **changes):
    """Signed with acme's real key (or key): the real claims with fresh
    dates, then changes (None removes a member); header via header={...}."""
    header = dict(real["header"])
    header.update(changes.pop("header", {}))
    claims = dict(real["claims"])
    now = int(time.time())
    claims.update({"iat": now, "nbf": now, "exp": now + 600, "jti": b64url(os.urandom(12))})
    claims.update(changes)
    return sign_with(key or real["key"], {k: v for k, v in header.items() if v is not None},
                     {k: v for k, v in claims.items() if v is not None})


def test_forged_control_is_accepted(srv, real):
    assert real["header"]["alg"] == "ES256" and real["header"]["typ"] == "at+jwt"
    r = me(srv, auth=bearer(forged(real)))
    assert r.status_code == 200, r.text
    assert r.json()["sub"] == "reader" and r.json()["auth"] == "bearer"


@pytest.mark.parametrize("name, changes", [
    ("expired", {"exp": -3600}),
    ("expired just now", {"exp": -1}),
    ("not yet valid", {"nbf": 3600}),
    ("wrong iss", {"iss": "beta"}),
    ("no iss", {"iss": None}),
    ("wrong aud", {"aud": "https://elsewhere.test"}),
    ("wrong aud list", {"aud": ["https://elsewhere.test", "https://x.test"]}),
    ("no exp", {"exp": None}),
    ("typ JWT", {"header": {"typ": "JWT"}}),
])
def test_forged_with_the_real_key(srv, real, name, changes):
    changes = dict(changes)
    now = int(time.time())
    for k in ("exp", "nbf", "iat"):
        if changes.get(k) is not None:
            changes[k] = now + changes[k]
    if changes.get("iss") == "beta":
        changes["iss"] = srv.issuer("beta")
    assert_invalid_token(me(srv, auth=bearer(forged(real, **changes))))


def test_expired_by_ttl(env, srv):
    tok, got = env["short"]
    c = parts(tok)[1]
    assert c["exp"] - c["iat"] == 1, c
    time.sleep(max(0.0, got + 2.2 - time.time()))
    assert_invalid_token(me(srv, "short", auth=bearer(tok)))


def test_alg_none(srv, real):
    for alg in ("none", "None", "NONE"):
        h = dict(real["header"], alg=alg)
        tok = "%s.%s." % (b64url_json(h), b64url_json(real["claims"]))
        assert_invalid_token(me(srv, auth=bearer(tok)))


def test_hs256_keyed_with_the_public_key(srv, real):
    jwks = requests.get(url(srv, "acme", "/oauth2/jwks"), timeout=HTTP_TIMEOUT_S).text
    pub = [k for k in json.loads(jwks)["keys"] if k["kid"] == real["header"]["kid"]][0]
    pem = jwk.JWK(**pub).export_to_pem()
    h = dict(real["header"], alg="HS256")
    for secret in (pem, json.dumps(pub).encode(), jwks.encode(),
                   json.dumps(pub, separators=(",", ":")).encode()):
        si = "%s.%s" % (b64url_json(h), b64url_json(real["claims"]))
        sig = hmac.new(secret, si.encode(), hashlib.sha256).digest()
        assert_invalid_token(me(srv, auth=bearer(si + "." + b64url(sig))))


def test_unknown_kid(srv, real):
    k = jwk.JWK.generate(kty="EC", crv="P-256")
    assert_invalid_token(me(srv, auth=bearer(forged(real, key=k, header={"kid": "attacker"}))))
    assert_invalid_token(me(srv, auth=bearer(forged(real, key=k))))
    assert_invalid_token(me(srv, auth=bearer(forged(real, header={"kid": None}))))


def test_another_tenants_key(srv, real):
    beta_tok = service_token(srv, tenant="beta")
    bh = parts(beta_tok)[0]
    bkey = tenant_signing_key(srv, "beta", bh["kid"])
    # Acme's claims under beta's real key and kid, and under acme's kid.
    assert_invalid_token(me(srv, auth=bearer(forged(real, key=bkey, header={"kid": bh["kid"]}))))
    assert_invalid_token(me(srv, auth=bearer(forged(real, key=bkey))))
    assert_invalid_token(me(srv, auth=bearer(beta_tok)))
    # The same forgery is accepted where it belongs.
    ok = forged(real, key=bkey, header={"kid": bh["kid"]}, iss=srv.issuer("beta"))
    assert me(srv, "beta", auth=bearer(ok)).status_code == 200


def test_bad_signatures(srv, real):
    tok = real["token"]
    head, payload, sig = tok.split(".")
    assert me(srv, auth=bearer(tok)).status_code == 200
    assert_invalid_token(me(srv, auth=bearer(tok[:-10])))
    assert_invalid_token(me(srv, auth=bearer(tok[:-1])))
    assert_invalid_token(me(srv, auth=bearer("%s.%s." % (head, payload))))
    assert_invalid_token(me(srv, auth=bearer("%s.%s.%s" % (head, payload, b64url(bytes(64))))))
    # Another payload under this token's signature.
    _, p2, _ = forged(real, sub="someone-else", client_id="someone-else").split(".")
    assert_invalid_token(me(srv, auth=bearer("%s.%s.%s" % (head, p2, sig))))


def test_embedded_jwk(srv, real):
    k = jwk.JWK.generate(kty="EC", crv="P-256")
    emb = json.loads(k.export_public())
    assert_invalid_token(me(srv, auth=bearer(forged(real, key=k, header={"jwk": emb}))))
    assert_invalid_token(me(srv, auth=bearer(forged(real, key=k,
                                                     header={"jwk": emb, "kid": None}))))
    for member in ("jku", "x5u"):
        assert_invalid_token(me(srv, auth=bearer(
            forged(real, key=k, header={member: "https://attacker.test/keys"}))))
