"""Disabling a user revokes their credentials for good, and turning
`mobile_access` off deletes their device key: enabling the user again, or
turning `mobile_access` back on, gives back the account (they sign in again)
but none of the old credentials: access and refresh tokens, sessions, API
keys and device keys stay dead. On SQLite and on PostgreSQL (a private
cluster, tests/pg/cluster.sh, as tests/e2e/test_postgres.py runs it).

Clients are independent libraries: requests (raw HTTP), authlib (the
introspection client) and the CLI as a subprocess."""
import copy
import time

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, assert_oauth_error, introspect, wait_until
from people_helpers import device_approved as people_device_approved
from people_helpers import password_grant, userinfo
from test_postgres import cluster  # noqa: F401  (the module's PostgreSQL cluster fixture)

AUD = "https://api.acme.test"
APP_PW = "app-password-27182818"
ROLES = ["Sales User"]


def person(name, **over):
    u = {"username": "%s@acme.test" % name, "password": "%s-account-password-1" % name,
         "roles": list(ROLES), "mobile_access": True, "app_password": APP_PW}
    u.update(over)
    return u


BOB = person("bob")
MIA = person("mia")
BOOT = person("boot")
KEPT = person("kept")
TEX = person("tex")
DEV = person("dev")
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"

DOC = {"tenants": [{
    "name": "acme", "audience": AUD, "roles": list(ROLES), "api_key_roles": list(ROLES),
    "scopes": [{"name": "tasks:read"}],
    "users": [BOB, MIA, BOOT, KEPT, TEX, DEV],
    "clients": [
        {"client_id": "mobile", "type": "public", "redirect_uris": ["app.acme://cb"],
         "grant_types": ["authorization_code", "refresh_token", "password"],
         "scopes": ["openid", "profile", "offline_access", "tasks:read"],
         "skip_consent": True},
        {"client_id": "reader", "secret": SECRET, "scopes": ["tasks:read"]},
        {"client_id": "gateway", "secret": SECRET, "grant_types": [EXCHANGE],
         "scopes": ["tasks:read"]},
        {"client_id": "tv", "type": "public", "grant_types": [DEVICE],
         "scopes": ["tasks:read"], "skip_consent": True},
        {"client_id": "toggle-app", "type": "public",
         "grant_types": ["password", "refresh_token"], "scopes": ["tasks:read"]},
        {"client_id": "toggle-svc", "secret": SECRET, "scopes": ["tasks:read"]},
    ]}]}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def srv(request, make_module_server):
    if request.param == "sqlite":
        return make_module_server(DOC)
    url = request.getfixturevalue("cluster").url
    s = make_module_server(start=False, name="disable-pg", env={"TESSERA_DB": url})
    s.db = url
    s.bootstrap_ok(DOC)
    s.start()
    return s


def api(srv, path, method="GET", auth=None, session=None, **kw):
    h = dict(kw.pop("headers", {}))
    if auth:
        h["Authorization"] = auth
    return (session or requests).request(method, srv.issuer("acme") + path, headers=h,
                                         timeout=HTTP_TIMEOUT_S, **kw)


def mobile_login(srv, user, device):
    r = api(srv, "/api/mobile/login", "POST", json={
        "username": user["username"], "app_password": APP_PW, "device_id": device})
    assert r.status_code == 200, r.text
    return "token %s:%s" % (r.json()["api_key"], r.json()["api_secret"])


def cli_key(srv, user):
    out = srv.cli("apikey", "create", "--tenant", "acme", "--user", user["username"])
    assert out.rc == 0, out.err
    return "token %s:%s" % (out.out["api_key"], out.out["api_secret"])


def tokens(srv, user):
    r = password_grant(srv, "acme", user["username"], user["password"],
                       scope="openid offline_access tasks:read")
    assert r.status_code == 200, r.text
    return r.json()["access_token"], r.json()["refresh_token"]


def session(srv, user):
    s = requests.Session()
    r = s.post(srv.issuer("acme") + "/api/login", timeout=HTTP_TIMEOUT_S,
               json={"username": user["username"], "password": user["password"]})
    assert r.status_code == 200, r.text
    return s


def refresh(srv, rt):
    return requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S, data={
        "grant_type": "refresh_token", "refresh_token": rt, "client_id": "mobile"})


def active(srv, token):
    r = introspect(srv, "acme", token, "reader")
    assert r.status_code == 200, r.text
    return r.json()["active"]


def credentials(srv, user, device):
    """Every credential a person holds: a device key, an API key, a session,
    an access token (Bearer, UserInfo, introspection) and a refresh token."""
    at, rt = tokens(srv, user)
    c = {"device": mobile_login(srv, user, device), "key": cli_key(srv, user),
         "session": session(srv, user), "at": at, "rt": rt}
    assert all(works(srv, c).values()), works(srv, c)
    return c


def works(srv, c):
    """Which of the credentials c still work."""
    return {
        "device": api(srv, "/api/me", auth=c["device"]).status_code == 200,
        "key": api(srv, "/api/me", auth=c["key"]).status_code == 200,
        "session": api(srv, "/api/me", session=c["session"]).status_code == 200,
        "bearer": api(srv, "/api/me", auth="Bearer " + c["at"]).status_code == 200,
        "userinfo": userinfo(srv, "acme", c["at"]).status_code == 200,
        "introspection": active(srv, c["at"]),
        "device_introspection": active(srv, c["device"].split(" ", 1)[1]),
    }


def none_work(srv, c):
    w = works(srv, c)
    return not any(w.values()) and w


def cli_ok(srv, *args):
    out = srv.cli(*args)
    assert out.rc == 0, out.err
    return out.out


def assert_signs_in_again(srv, user, device):
    """Re-enabled, the person signs in again and the new credentials work."""
    fresh = credentials(srv, user, device)
    assert all(works(srv, fresh).values())


def test_enabling_a_user_again_gives_back_none_of_the_old_credentials(srv):
    old = credentials(srv, BOB, "BOB-PHONE")
    cli_ok(srv, "user", "disable", "--tenant", "acme", BOB["username"])
    assert not any(works(srv, old).values()), works(srv, old)
    cli_ok(srv, "user", "enable", "--tenant", "acme", BOB["username"])
    # Revocations reach a server's memory within the reload budget.
    dead, _ = wait_until(lambda: none_work(srv, old))
    assert dead, works(srv, old)
    assert_oauth_error(refresh(srv, old["rt"]), 400, "invalid_grant")
    assert_signs_in_again(srv, BOB, "BOB-PHONE")


def test_turning_mobile_access_on_again_gives_back_no_device_key(srv):
    device = mobile_login(srv, MIA, "MIA-PHONE")
    key = cli_key(srv, MIA)
    at, rt = tokens(srv, MIA)
    cli_ok(srv, "user", "update", "--tenant", "acme", MIA["username"], "--mobile-access", "false")
    assert api(srv, "/api/me", auth=device).status_code == 401
    cli_ok(srv, "user", "update", "--tenant", "acme", MIA["username"], "--mobile-access", "true")
    assert api(srv, "/api/me", auth=device).status_code == 401
    assert not active(srv, device.split(" ", 1)[1])
    # Only the device key: the person's own key and tokens are untouched.
    assert api(srv, "/api/me", auth=key).status_code == 200
    assert api(srv, "/api/me", auth="Bearer " + at).status_code == 200
    assert refresh(srv, rt).status_code == 200
    # The bound device logs in again and gets a working key.
    again = mobile_login(srv, MIA, "MIA-PHONE")
    assert api(srv, "/api/me", auth=again).status_code == 200


def test_disabling_through_the_bootstrap_file_revokes_too(srv):
    old = credentials(srv, BOOT, "BOOT-PHONE")
    doc = copy.deepcopy(DOC)
    user = next(u for u in doc["tenants"][0]["users"] if u["username"] == BOOT["username"])
    user["disabled"] = True
    srv.bootstrap_ok(doc)
    assert not any(works(srv, old).values()), works(srv, old)
    srv.bootstrap_ok(DOC)
    dead, _ = wait_until(lambda: none_work(srv, old))
    assert dead, works(srv, old)
    assert_oauth_error(refresh(srv, old["rt"]), 400, "invalid_grant")
    assert_signs_in_again(srv, BOOT, "BOOT-PHONE")


def test_another_user_keeps_everything(srv):
    kept = credentials(srv, KEPT, "KEPT-PHONE")
    cli_ok(srv, "user", "disable", "--tenant", "acme", BOB["username"])
    cli_ok(srv, "user", "enable", "--tenant", "acme", BOB["username"])
    assert all(works(srv, kept).values()), works(srv, kept)
    assert refresh(srv, kept["rt"]).status_code == 200


def exchanged(srv, user):
    """A token gateway got by exchanging the person's access token."""
    at, _ = tokens(srv, user)
    r = requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S, auth=("gateway", SECRET),
                      data={"grant_type": EXCHANGE, "subject_token": at, "scope": "tasks:read",
                            "subject_token_type": "urn:ietf:params:oauth:token-type:access_token"})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_an_exchanged_token_stays_dead_when_its_person_is_enabled_again(srv):
    tok = exchanged(srv, TEX)
    assert active(srv, tok)
    cli_ok(srv, "user", "disable", "--tenant", "acme", TEX["username"])
    assert not active(srv, tok)
    cli_ok(srv, "user", "enable", "--tenant", "acme", TEX["username"])
    dead, _ = wait_until(lambda: not active(srv, tok))
    assert dead
    fresh = exchanged(srv, TEX)
    assert active(srv, fresh) and not active(srv, tok)


def device_approved(srv, user):
    """A device code for tv, approved in a browser by user."""
    return people_device_approved(srv, "acme", "tv", user, "tasks:read")


def device_poll(srv, device_code):
    return requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S, data={
        "grant_type": DEVICE, "client_id": "tv", "device_code": device_code})


def test_a_device_approval_dies_with_its_person_even_when_enabled_again(srv):
    dc = device_approved(srv, DEV)
    cli_ok(srv, "user", "disable", "--tenant", "acme", DEV["username"])
    cli_ok(srv, "user", "enable", "--tenant", "acme", DEV["username"])
    assert_oauth_error(device_poll(srv, dc), 400, "invalid_grant")
    # A new approval works.
    r = device_poll(srv, device_approved(srv, DEV))
    assert r.status_code == 200, r.text
    assert active(srv, r.json()["access_token"])


def toggle_tokens(srv):
    """A person's access and refresh token from toggle-app, and a service
    token of toggle-svc."""
    r = password_grant(srv, "acme", KEPT["username"], KEPT["password"], client_id="toggle-app",
                       scope="tasks:read")
    assert r.status_code == 200, r.text
    s = requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S,
                      auth=("toggle-svc", SECRET), data={"grant_type": "client_credentials"})
    assert s.status_code == 200, s.text
    return r.json()["access_token"], r.json()["refresh_token"], s.json()["access_token"]


def toggle_refresh(srv, rt):
    return requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S, data={
        "grant_type": "refresh_token", "refresh_token": rt, "client_id": "toggle-app"})


def test_enabling_a_client_again_gives_back_none_of_its_old_tokens(srv):
    at, rt, svc = toggle_tokens(srv)
    assert active(srv, at) and active(srv, svc)
    for cid in ("toggle-app", "toggle-svc"):
        cli_ok(srv, "client", "disable", "--tenant", "acme", cid)
    dead, _ = wait_until(lambda: not active(srv, at) and not active(srv, svc))
    assert dead
    # Tokens carry whole seconds: a client enabled within the second it
    # was disabled takes that second back.
    time.sleep(1.1)
    for cid in ("toggle-app", "toggle-svc"):
        cli_ok(srv, "client", "enable", "--tenant", "acme", cid)
    # Enabled again (new tokens work), the old ones stay dead.
    def enabled():
        return requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S,
                             auth=("toggle-svc", SECRET),
                             data={"grant_type": "client_credentials"}).status_code == 200
    assert wait_until(enabled)[0], "the clients were not enabled again"
    fresh = toggle_tokens(srv)
    assert all(active(srv, t) for t in (fresh[0], fresh[2]))
    assert not active(srv, at) and not active(srv, svc)
    assert api(srv, "/api/me", auth="Bearer " + at).status_code == 401
    assert_oauth_error(toggle_refresh(srv, rt), 400, "invalid_grant")
    assert toggle_refresh(srv, fresh[1]).status_code == 200
