"""Host-based tenants, the server-wide endpoints /healthz, /readyz
and /metrics, request ids, CORS, and the audit trail."""
import re
import uuid

import pytest
import requests
from jwcrypto import jwk

from e2e_util import (HTTP_TIMEOUT_S, RELOAD_BUDGET_S, SECRET, discovery, fetch_token,
                      token_request, verify_access_token, wait_until)

DOMAIN = "auth.acme.test"
CORS_ORIGIN = "https://app.acme.test"

DOC = {"tenants": [
    {"name": "acme", "domains": [DOMAIN],
     "clients": [{"client_id": "svc", "secret": SECRET, "scopes": ["tasks:read"]},
                 {"client_id": "spa", "type": "public", "redirect_uris": [CORS_ORIGIN + "/cb"],
                  "allowed_cors_origins": [CORS_ORIGIN]}]},
    {"name": "other", "clients": [{"client_id": "svc", "secret": SECRET}]},
]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def host_get(srv, path, host=DOMAIN):
    return requests.get(srv.url(path), headers={"Host": host}, timeout=HTTP_TIMEOUT_S)


def host_post(srv, path, data, auth=None, host=DOMAIN, headers=None):
    h = {"Host": host}
    h.update(headers or {})
    return requests.post(srv.url(path), data=data, auth=auth, headers=h, timeout=HTTP_TIMEOUT_S)


# -- host-based tenants -------------------------------------------------------------

def test_a_tenant_domain_is_its_own_issuer(srv):
    meta = discovery(srv, None, host=DOMAIN)
    iss = "http://" + DOMAIN  # scheme of the public URL, no port
    assert meta["issuer"] == iss
    assert meta["token_endpoint"] == iss + "/oauth2/token"
    assert meta["jwks_uri"] == iss + "/oauth2/jwks"
    # the same tenant stays reachable under its path issuer
    assert discovery(srv, "acme")["issuer"] == srv.issuer("acme")


@pytest.mark.parametrize("host", [DOMAIN + ":8443", "AUTH.Acme.TEST"])
def test_the_host_header_port_and_case_do_not_matter(srv, host):
    r = host_get(srv, "/.well-known/openid-configuration", host=host)
    assert r.status_code == 200
    assert r.json()["issuer"] == "http://" + DOMAIN


def test_a_token_issued_by_host_names_the_host_issuer(srv):
    r = host_post(srv, "/oauth2/token", {"grant_type": "client_credentials"}, auth=("svc", SECRET))
    assert r.status_code == 200, r.text
    at = r.json()["access_token"]
    keyset = jwk.JWKSet.from_json(host_get(srv, "/oauth2/jwks").text)
    iss = "http://" + DOMAIN
    verify_access_token(at, keyset, issuer=iss, client_id="svc", audience=iss,
                        scope="tasks:read")
    # introspection answers for it at the host and under the path issuer
    for resp in (host_post(srv, "/oauth2/introspect", {"token": at}, auth=("svc", SECRET)),
                 requests.post(srv.endpoint("acme", "introspect"), data={"token": at},
                               auth=("svc", SECRET), timeout=HTTP_TIMEOUT_S)):
        assert resp.status_code == 200 and resp.json()["active"] is True, resp.text
        assert resp.json()["iss"] == iss
    # and another tenant knows nothing of it
    r = requests.post(srv.endpoint("other", "introspect"), data={"token": at},
                      auth=("svc", SECRET), timeout=HTTP_TIMEOUT_S)
    assert r.json() == {"active": False}


def test_the_host_serves_its_tenant_only(srv):
    r = host_post(srv, "/oauth2/token", {"grant_type": "client_credentials"}, auth=("svc", SECRET),
                  host="unknown.acme.test")
    assert r.status_code == 404
    assert host_get(srv, "/.well-known/openid-configuration", host="evil.test").status_code == 404


# -- health and metrics ------------------------------------------------------------

def test_healthz_and_readyz(srv):
    for path, status in (("/healthz", "ok"), ("/readyz", "ready")):
        r = requests.get(srv.url(path), timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == status
        assert r.headers.get("Cache-Control") == "no-store"


METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def parse_metrics(text):
    """Prometheus text format 0.0.4 -> {(name, frozenset(labels)): value}."""
    out, types = {}, {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        m = METRIC_LINE.match(line)
        assert m, "not a metric line: %r" % line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out, types


def metric(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_requests_tokens_and_failures(srv):
    before, _ = parse_metrics(requests.get(srv.url("/metrics"), timeout=HTTP_TIMEOUT_S).text)
    for _ in range(3):
        fetch_token(srv, "acme", "svc")
    for _ in range(2):
        token_request(srv, "acme", {"grant_type": "client_credentials"}, auth=("svc", "bad" * 12))
    requests.get(srv.endpoint("acme", "jwks"), timeout=HTTP_TIMEOUT_S)
    r = requests.get(srv.url("/metrics"), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    after, types = parse_metrics(r.text)

    def grew(name, by, **labels):
        delta = metric(after, name, **labels) - metric(before, name, **labels)
        assert delta >= by, (name, labels, delta)

    grew("tessera_http_requests_total", 3, route="token", code="200")
    grew("tessera_http_requests_total", 2, route="token", code="401")
    grew("tessera_http_requests_total", 1, route="jwks", code="200")
    grew("tessera_tokens_issued_total", 3, tenant="acme", grant="client_credentials")
    grew("tessera_client_auth_failures_total", 2, tenant="acme")
    assert types["tessera_http_requests_total"] == "counter"
    assert types["tessera_http_request_duration_seconds"] == "histogram"

    # the token route's histogram is cumulative and ends in +Inf == _count
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in after.items()
                     if k[0] == "tessera_http_request_duration_seconds_bucket"
                     and dict(k[1])["route"] == "token")
    assert buckets and buckets[-1][0] == float("inf")
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
    count = metric(after, "tessera_http_request_duration_seconds_count", route="token")
    assert buckets[-1][1] == count >= 5
    assert metric(after, "tessera_http_request_duration_seconds_sum", route="token") > 0


def test_unknown_paths_are_404_and_counted(srv):
    assert requests.get(srv.url("/nope"), timeout=HTTP_TIMEOUT_S).status_code == 404
    samples, _ = parse_metrics(requests.get(srv.url("/metrics"), timeout=HTTP_TIMEOUT_S).text)
    assert metric(samples, "tessera_http_requests_total", route="not_found", code="404") >= 1


# -- request ids --------------------------------------------------------------------

def test_a_request_id_is_echoed(srv):
    rid = "e2e-" + uuid.uuid4().hex
    r = requests.get(srv.url("/healthz"), headers={"X-Request-ID": rid}, timeout=HTTP_TIMEOUT_S)
    assert r.headers["X-Request-ID"] == rid


def test_a_request_id_is_generated_when_absent_or_unsafe(srv):
    ids = set()
    for headers in ({}, {"X-Request-ID": "bad id with spaces"}, {"X-Request-ID": "x" * 500}):
        r = requests.get(srv.url("/healthz"), headers=headers, timeout=HTTP_TIMEOUT_S)
        rid = r.headers.get("X-Request-ID", "")
        assert re.fullmatch(r"[A-Za-z0-9_.:-]{8,64}", rid), rid
        ids.add(rid)
    assert len(ids) == 3


# -- CORS ---------------------------------------------------------------------------

def test_a_listed_origin_may_call_the_token_endpoint(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials"}, auth=("svc", SECRET),
                      headers={"Origin": CORS_ORIGIN})
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") == CORS_ORIGIN
    assert "Origin" in r.headers.get("Vary", "")
    # A listed origin may use the session cookie: its answers are readable
    # by credentialed requests.
    assert r.headers.get("Access-Control-Allow-Credentials") == "true"
    exposed = r.headers.get("Access-Control-Expose-Headers", "").lower()
    assert "dpop-nonce" in exposed and "www-authenticate" in exposed, r.headers


def test_an_unlisted_origin_gets_no_cors_headers(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials"}, auth=("svc", SECRET),
                      headers={"Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in r.headers
    # an origin is allowed per tenant: acme's origin means nothing at "other"
    r = token_request(srv, "other", {"grant_type": "client_credentials"}, auth=("svc", SECRET),
                      headers={"Origin": CORS_ORIGIN})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_a_preflight_is_answered_204(srv):
    r = requests.options(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S, headers={
        "Origin": CORS_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 204
    assert r.headers.get("Access-Control-Allow-Origin") == CORS_ORIGIN
    assert r.headers.get("Access-Control-Allow-Credentials") == "true"
    assert "POST" in r.headers.get("Access-Control-Allow-Methods", "")
    allowed = [h.strip() for h in r.headers.get("Access-Control-Allow-Headers", "").lower().split(",")]
    assert {"authorization", "content-type", "dpop", "x-csrf-token"} <= set(allowed), allowed
    # The Frappe header only where that profile is on.
    assert "x-frappe-csrf-token" not in allowed
    r = requests.options(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S, headers={
        "Origin": "https://evil.test", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "Access-Control-Allow-Credentials" not in r.headers


# -- audit --------------------------------------------------------------------------

def audit_events(srv, tenant):
    r = srv.cli("audit", "--tenant", tenant)
    assert r.rc == 0, r.err
    assert r.out["tenant"] == tenant
    return r.out["events"]


def wait_for_event(srv, tenant, pred):
    def probe():
        return [e for e in audit_events(srv, tenant) if pred(e)]
    found, elapsed = wait_until(probe, timeout=RELOAD_BUDGET_S + 1, interval=0.1)
    assert found, "no matching audit event after %.1f s" % elapsed
    return found


def test_an_issued_token_is_audited_with_the_request_id(srv):
    rid = "e2e-" + uuid.uuid4().hex
    r = token_request(srv, "acme", {"grant_type": "client_credentials"}, auth=("svc", SECRET),
                      headers={"X-Request-ID": rid})
    assert r.status_code == 200 and r.headers["X-Request-ID"] == rid
    jti = verify_access_token(r.json()["access_token"],
                              jwk.JWKSet.from_json(requests.get(srv.endpoint("acme", "jwks"),
                                                                timeout=HTTP_TIMEOUT_S).text),
                              issuer=srv.issuer("acme"), client_id="svc",
                              audience=srv.issuer("acme"))[1]["jti"]
    (ev,) = wait_for_event(srv, "acme", lambda e: e.get("request_id") == rid)
    assert ev["type"] == "token.issued"
    assert ev["actor"] == "svc"
    assert ev["subject"] == jti
    assert ev["tenant"] == "acme"


def test_a_revocation_is_audited(srv):
    at = fetch_token(srv, "acme", "svc")["access_token"]
    rid = "e2e-" + uuid.uuid4().hex
    r = requests.post(srv.endpoint("acme", "revoke"), data={"token": at}, auth=("svc", SECRET),
                      headers={"X-Request-ID": rid}, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200
    (ev,) = wait_for_event(srv, "acme", lambda e: e.get("request_id") == rid)
    assert ev["type"] == "token.revoked" and ev["actor"] == "svc"


def test_audit_events_are_kept_per_tenant(srv):
    rid = "e2e-" + uuid.uuid4().hex
    token_request(srv, "other", {"grant_type": "client_credentials"}, auth=("svc", SECRET),
                  headers={"X-Request-ID": rid})
    wait_for_event(srv, "other", lambda e: e.get("request_id") == rid)
    assert not [e for e in audit_events(srv, "acme") if e.get("request_id") == rid]


def test_cli_changes_are_audited(srv):
    assert srv.cli("client", "create", "--tenant", "other", "audited", "--secret", SECRET).rc == 0
    ev = wait_for_event(srv, "other", lambda e: e["type"] == "client.created"
                        and e.get("subject") == "audited")
    assert ev[0]["actor"] == "cli"


def test_audit_lists_newest_first_and_a_limit_keeps_the_latest(srv):
    rids = ["e2e-%02d-%s" % (i, uuid.uuid4().hex) for i in range(3)]
    for rid in rids:
        token_request(srv, "other", {"grant_type": "client_credentials"}, auth=("svc", SECRET),
                      headers={"X-Request-ID": rid})
        wait_for_event(srv, "other", lambda e, rid=rid: e.get("request_id") == rid)
    events = audit_events(srv, "other")
    times = [e["time"] for e in events]
    assert times == sorted(times, reverse=True)
    latest = srv.cli("audit", "--tenant", "other", "--limit", "1").out["events"]
    assert len(latest) == 1
    assert latest[0]["request_id"] == rids[-1]
