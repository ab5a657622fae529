"""The server-wide routes (/healthz, /readyz, /metrics) on the main listener
and on --metrics-listen: the methods they answer, the 405 with its Allow
header, the route label a refused method is counted under, and what each
listener leaves to the tenant routes or answers 404."""
import re

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, free_port

DOC = {"tenants": [{"name": "acme",
                    "clients": [{"client_id": "svc", "secret": SECRET}]}]}
SERVER_PATHS = ("/healthz", "/readyz", "/metrics")


@pytest.fixture(scope="module")
def ops_port():
    return free_port()


@pytest.fixture(scope="module")
def srv(make_module_server, ops_port):
    return make_module_server(DOC, env={"TESSERA_METRICS_LISTEN": "127.0.0.1:%d" % ops_port},
                              name="server_routes")


def ops_url(port, path):
    return "http://127.0.0.1:%d%s" % (port, path)


def requests_counted(text, route, code):
    m = re.search(r'^tessera_http_requests_total\{route="%s",code="%s"\} (\S+)$'
                  % (re.escape(route), code), text, re.M)
    return float(m.group(1)) if m else 0.0


def test_get_and_head_answer_on_both_listeners(srv, ops_port):
    for base in (srv.url(""), ops_url(ops_port, "")):
        for path in SERVER_PATHS:
            r = requests.get(base + path, timeout=HTTP_TIMEOUT_S)
            assert r.status_code == 200, (base, path, r.text)
            r = requests.head(base + path, timeout=HTTP_TIMEOUT_S)
            assert r.status_code == 200, (base, path)
            assert r.content == b""
    r = requests.get(srv.url("/healthz"), timeout=HTTP_TIMEOUT_S)
    assert r.json() == {"status": "ok"}
    assert r.headers["Cache-Control"] == "no-store"
    r = requests.get(srv.url("/readyz"), timeout=HTTP_TIMEOUT_S)
    assert r.json() == {"status": "ready"}
    r = requests.get(srv.url("/metrics"), timeout=HTTP_TIMEOUT_S)
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT"])
def test_other_methods_are_405_with_allow_on_both_listeners(srv, ops_port, method):
    for base in (srv.url(""), ops_url(ops_port, "")):
        for path in SERVER_PATHS:
            r = requests.request(method, base + path, timeout=HTTP_TIMEOUT_S)
            assert r.status_code == 405, (base, path, r.text)
            assert r.headers["Allow"] == "GET, HEAD"
            assert r.json()["error"] == "invalid_request"


def test_a_refused_method_counts_under_the_route(srv):
    before = requests.get(srv.url("/metrics"), timeout=HTTP_TIMEOUT_S).text
    for path in SERVER_PATHS:
        requests.post(srv.url(path), timeout=HTTP_TIMEOUT_S)
    after = requests.get(srv.url("/metrics"), timeout=HTTP_TIMEOUT_S).text
    for route in ("healthz", "readyz", "metrics"):
        assert requests_counted(after, route, "405") - requests_counted(before, route, "405") >= 1


def test_unknown_server_paths_are_404(srv, ops_port):
    for base in (srv.url(""), ops_url(ops_port, "")):
        for path in ("/healthz/x", "/metricsx", "/", "/ready"):
            r = requests.get(base + path, timeout=HTTP_TIMEOUT_S)
            assert r.status_code == 404, (base, path)
            assert r.json()["error"] == "not_found"


def test_the_scrape_listener_serves_no_tenant_route(srv, ops_port):
    assert requests.get(srv.endpoint("acme", "jwks"), timeout=HTTP_TIMEOUT_S).status_code == 200
    r = requests.get(ops_url(ops_port, "/t/acme/oauth2/jwks"), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 404
    r = requests.post(ops_url(ops_port, "/t/acme/oauth2/token"),
                      data={"grant_type": "client_credentials"}, auth=("svc", SECRET),
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 404


def test_public_routes_allow_any_origin_and_others_only_listed_ones(srv):
    origin = "https://elsewhere.example"
    for path in ("/t/acme/oauth2/jwks", "/t/acme/.well-known/openid-configuration",
                 "/.well-known/oauth-authorization-server/t/acme"):
        r = requests.get(srv.url(path), headers={"Origin": origin}, timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 200, path
        assert r.headers.get("Access-Control-Allow-Origin") == "*", path
    r = requests.post(srv.url("/t/acme/oauth2/token"), headers={"Origin": origin},
                      data={"grant_type": "client_credentials"}, auth=("svc", SECRET),
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers
