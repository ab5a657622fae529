"""Many tenants on one server: a change to one tenant costs one tenant.

A server with 300 tenants (one bootstrap file) picks up a change to one
tenant within 2 seconds by rebuilding that tenant alone; unchanged tenants
keep serving from the same configuration; a deleted tenant disappears, a
new one appears; RSA keys come with the first client that people sign in
through. What was rebuilt is read from the server's reload log line,
"loaded configuration generation G (T tenants, R rebuilt, M ms)". The
last test does the same on PostgreSQL (a private cluster, skipped where no
PostgreSQL server is installed, as in test_postgres.py)."""
import re
import time

import pytest
import requests

from e2e_util import (HTTP_TIMEOUT_S, RELOAD_BUDGET_S, SECRET, discovery, fetch_jwks,
                      fetch_token, wait_until)
from test_postgres import cluster, on_postgres  # noqa: F401 (cluster is a fixture)

N = 300
NAMES = ["s%03d" % i for i in range(N)]
DOC = {"tenants": [{"name": n, "clients": [{"client_id": "svc", "secret": SECRET}]}
                   for n in NAMES]}
RELOAD_RE = re.compile(r"loaded configuration generation \d+ \((\d+) tenants, (\d+) rebuilt")


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def reloads(srv):
    """Every reload so far, as (tenants, rebuilt)."""
    return [(int(t), int(r)) for t, r in RELOAD_RE.findall(srv.log_text())]


def reloads_after(srv, count, want):
    """Waits briefly for a reload beyond the first count ones that reaches
    want tenants; returns the reloads after those count."""
    def probe():
        new = reloads(srv)[count:]
        return new if any(t == want for t, _ in new) else None
    new, _ = wait_until(probe, timeout=RELOAD_BUDGET_S)
    assert new, "no reload to %d tenants in the log: %s" % (want, reloads(srv)[count:])
    return new


def token_works(srv, tenant, client_id="svc"):
    try:
        return bool(fetch_token(srv, tenant, client_id)["access_token"])
    except Exception:  # an OAuthError until the change is visible
        return False


def jwks(srv, tenant):
    return requests.get(srv.endpoint(tenant, "jwks"), timeout=HTTP_TIMEOUT_S).json()["keys"]


def kids(srv, tenant):
    return sorted(k["kid"] for k in jwks(srv, tenant))


def test_the_first_load_builds_every_tenant(srv):
    assert reloads(srv)[0] == (N, N)
    for name in (NAMES[0], NAMES[N // 2], NAMES[-1]):
        assert token_works(srv, name)
        assert discovery(srv, name)["issuer"] == srv.issuer(name)


def test_a_change_to_one_tenant_is_visible_within_2_s_and_rebuilds_only_it(srv):
    before = {n: kids(srv, n) for n in (NAMES[1], NAMES[-2])}
    count = len(reloads(srv))
    r = srv.cli("client", "create", "--tenant", NAMES[150], "added", "--secret", SECRET)
    assert r.rc == 0, r.err
    ok, elapsed = wait_until(lambda: token_works(srv, NAMES[150], "added"))
    assert ok, "the new client is not usable after %.1f s" % elapsed
    assert elapsed <= RELOAD_BUDGET_S
    assert (N, 1) in reloads_after(srv, count, N)
    assert all(r == (N, 1) for r in reloads(srv)[count:])
    # Unchanged tenants go on as they were.
    for name, k in before.items():
        assert token_works(srv, name)
        assert kids(srv, name) == k
    assert not token_works(srv, NAMES[151], "added")


def test_a_deleted_tenant_disappears_and_the_others_stay(srv):
    gone = NAMES[200]
    count = len(reloads(srv))
    assert srv.cli("tenant", "delete", gone).rc == 0
    status, elapsed = wait_until(
        lambda: requests.get(srv.issuer(gone) + "/.well-known/openid-configuration",
                             timeout=HTTP_TIMEOUT_S).status_code == 404)
    assert status, "%s still served after %.1f s" % (gone, elapsed)
    assert (N - 1, 0) in reloads_after(srv, count, N - 1)
    assert token_works(srv, NAMES[199]) and token_works(srv, NAMES[201])


def test_a_new_tenant_appears(srv):
    count = len(reloads(srv))
    tenants = reloads(srv)[-1][0]
    srv.bootstrap_ok({"tenants": [{"name": "fresh", "clients": [{"client_id": "svc",
                                                                  "secret": SECRET}]}]})
    ok, elapsed = wait_until(lambda: token_works(srv, "fresh"))
    assert ok, "the new tenant is not served after %.1f s" % elapsed
    assert (tenants + 1, 1) in reloads_after(srv, count, tenants + 1)


def test_rsa_keys_come_with_the_first_client_people_sign_in_through(srv):
    tenant = NAMES[10]
    algs = [k["alg"] for k in jwks(srv, tenant)]
    assert sorted(algs) == ["ES256", "ES256", "EdDSA", "EdDSA"]
    assert "RS256" in discovery(srv, tenant)["id_token_signing_alg_values_supported"]
    r = srv.cli("client", "create", "--tenant", tenant, "web", "--type", "public",
                "--grant", "authorization_code", "--redirect-uri", "https://app.test/cb")
    assert r.rc == 0, r.err

    def rsa_published():
        return len([k for k in jwks(srv, tenant) if k["alg"] == "RS256"]) == 2
    ok, elapsed = wait_until(rsa_published)
    assert ok, "no current and next RS256 key after %.1f s" % elapsed
    assert elapsed <= RELOAD_BUDGET_S
    # jwcrypto takes the published set whole.
    assert len(fetch_jwks(srv, tenant)["keys"]) == 6


def test_a_restart_serves_every_tenant_at_once(srv):
    tenants = reloads(srv)[-1][0]
    count = len(reloads(srv))
    assert srv.stop() == 0
    started = time.monotonic()
    srv.start()
    ready, _ = wait_until(lambda: requests.get(srv.url("/readyz"),
                                               timeout=HTTP_TIMEOUT_S).status_code == 200,
                          timeout=10)
    assert ready
    assert time.monotonic() - started < 10
    assert reloads(srv)[count] == (tenants, tenants)
    assert token_works(srv, NAMES[0]) and token_works(srv, NAMES[-1])


# -- the same on PostgreSQL (a private cluster, as in test_postgres.py) -------------------

PG_N = 40


@pytest.fixture(scope="module")
def pg_srv(cluster, make_module_server):
    s = on_postgres(make_module_server, "scale-pg", cluster.url)
    s.bootstrap_ok({"tenants": [{"name": "p%02d" % i,
                                 "clients": [{"client_id": "svc", "secret": SECRET}]}
                                for i in range(PG_N)]})
    return s.start()


def test_postgres_a_change_to_one_tenant_rebuilds_only_it(pg_srv):
    assert reloads(pg_srv)[0] == (PG_N, PG_N)
    count = len(reloads(pg_srv))
    r = pg_srv.cli("tenant", "update", "p07", "--scope", "probe:changed")
    assert r.rc == 0, r.err
    seen, elapsed = wait_until(
        lambda: "probe:changed" in discovery(pg_srv, "p07")["scopes_supported"])
    assert seen, "the change is not visible after %.1f s" % elapsed
    assert (PG_N, 1) in reloads_after(pg_srv, count, PG_N)
    assert "probe:changed" not in discovery(pg_srv, "p08")["scopes_supported"]
    count = len(reloads(pg_srv))
    assert pg_srv.cli("tenant", "delete", "p09").rc == 0
    assert (PG_N - 1, 0) in reloads_after(pg_srv, count, PG_N - 1)
    assert token_works(pg_srv, "p07") and token_works(pg_srv, "p10")
