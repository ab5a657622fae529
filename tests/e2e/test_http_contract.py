"""The HTTP contract at its edges: the session cookie refused to every
request a browser marks as cross-site (whatever its Origin, in every
profile)."""
import requests

from e2e_util import HTTP_TIMEOUT_S
from people_helpers import ALICE, SESSION_COOKIE, mobile_client, password_grant, people_tenant

TENANT = "hc"
CORS = "https://acme.test"
DOC = {"tenants": [people_tenant(
    TENANT, users=(ALICE,), compat=["frappe"], api_key_roles=["Sales User"],
    clients=[mobile_client(allowed_cors_origins=[CORS])])]}
CROSS = {"Origin": CORS, "Sec-Fetch-Site": "cross-site"}
CREDS = {"username": ALICE["username"], "password": ALICE["password"]}


def make_srv(make_server, **env):
    return make_server(DOC, env=env or None, name="httpc")


def api(srv, path):
    return srv.issuer(TENANT) + path


def session_login(srv):
    s = requests.Session()
    r = s.post(api(srv, "/api/login"), json=CREDS, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return s, r.json()["csrf_token"]


# -- the session cookie and other sites --------------------------------------------

def test_cross_site_is_refused_even_from_an_allowed_cors_origin(make_server):
    srv = make_srv(make_server)
    r = requests.post(api(srv, "/api/login"), json=CREDS, headers=CROSS, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 403 and r.json()["error"] == "cross_site_request", r.text
    assert SESSION_COOKIE not in r.headers.get("Set-Cookie", "")
    # Frappe's login and its sid cookie: the same rule.
    r = requests.post(api(srv, "/api/method/login"),
                      data={"usr": ALICE["username"], "pwd": ALICE["password"]},
                      headers=CROSS, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 403 and "sid" not in r.cookies, r.text
    # A session started at home cannot be ridden from the allowed origin's site.
    s, csrf = session_login(srv)
    with_csrf = dict(CROSS, **{"X-CSRF-Token": csrf})
    assert s.get(api(srv, "/api/me"), headers=CROSS, timeout=HTTP_TIMEOUT_S).status_code == 403
    r = s.post(api(srv, "/api/apikeys"), json={}, headers=with_csrf, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 403 and r.json()["error"] == "cross_site_request", r.text
    r = s.post(api(srv, "/api/logout"), headers=with_csrf, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 403, r.text
    r = requests.post(api(srv, "/api/method/login"),
                      data={"usr": ALICE["username"], "pwd": ALICE["password"]},
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200 and "sid" in r.cookies, r.text
    r = requests.get(api(srv, "/api/me"), cookies={"sid": r.cookies["sid"]}, headers=CROSS,
                     timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 403, r.text
    # The session survived; the allowed origin on the same site still may.
    r = s.get(api(srv, "/api/me"), headers={"Origin": CORS, "Sec-Fetch-Site": "same-site"},
              timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200 and r.json()["auth"] == "session", r.text


def test_cross_site_does_not_touch_bearer_or_api_key_requests(make_server):
    srv = make_srv(make_server)
    tok = password_grant(srv, TENANT, ALICE["username"], ALICE["password"]).json()["access_token"]
    r = requests.get(api(srv, "/api/me"), headers=dict(CROSS, Authorization="Bearer " + tok),
                     timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200 and r.json()["auth"] == "bearer", r.text
    s, csrf = session_login(srv)
    key = s.post(api(srv, "/api/apikeys"), json={}, headers={"X-CSRF-Token": csrf},
                 timeout=HTTP_TIMEOUT_S).json()
    auth = "token %s:%s" % (key["api_key"], key["api_secret"])
    r = requests.get(api(srv, "/api/me"), headers=dict(CROSS, Authorization=auth),
                     timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200 and r.json()["auth"] == "api_key", r.text

