"""The HTTP contract at its edges: the session cookie refused to every
request a browser marks as cross-site (whatever its Origin, in every
profile), and /metrics decided on the client address the server derived
(forwarding headers from an untrusted peer are ignored)."""
import requests

from e2e_util import HTTP_TIMEOUT_S, wait_until
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


# -- /metrics and the client address -----------------------------------------------

FORWARDS = ({"X-Forwarded-For": "8.8.8.8"}, {"Forwarded": "for=8.8.8.8"},
            {"X-Forwarded-For": "8.8.8.8", "Forwarded": "for=9.9.9.9"})


def access_lines(srv, request_id):
    text = srv.log_path.read_text()
    return [ln for ln in text.splitlines() if '"request_id":"%s"' % request_id in ln
            and '"path":"/metrics"' in ln]


def test_metrics_ignores_forwarding_headers_from_an_untrusted_peer(make_server):
    srv = make_srv(make_server)
    for i, h in enumerate(FORWARDS):
        rid = "metrics-untrusted-%d" % i
        r = requests.get(srv.url("/metrics"), headers=dict(h, **{"X-Request-ID": rid}),
                         timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 200 and "tessera_" in r.text, (h, r.status_code)
        # The access log records the loopback peer: the headers were ignored.
        # (The line is written once the answer has gone: wait for it.)
        lines, _ = wait_until(lambda: access_lines(srv, rid))
        assert lines and all('"remote":"127.0.0.1"' in ln for ln in lines), lines


def test_metrics_behind_a_trusted_proxy_answers_only_a_loopback_client(make_server):
    srv = make_srv(make_server, TESSERA_TRUSTED_PROXIES="127.0.0.1")
    for h in FORWARDS + ({"X-Forwarded-For": "unknown"}, {"Forwarded": "for=_hidden"}):
        r = requests.get(srv.url("/metrics"), headers=h, timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 404, (h, r.status_code)
    # The proxy itself, and a client it names on this machine, are local.
    for h in ({}, {"X-Forwarded-For": "127.0.0.1"}, {"Forwarded": "for=127.0.0.2"}):
        r = requests.get(srv.url("/metrics"), headers=h, timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 200, (h, r.status_code)
