"""POST /api/connections/{id}/refresh, an operator's "refresh now", on
every tenant: it asks the provider at once (a Shopee shop against the
strict double tests/e2e/shopee_sim.py, and an OAuth 2.0 provider played by
a second tenant of the same server) and answers the connection's metadata
with its new expiry, never a token; it follows the vault's rules for who
may do what; and concurrent requests and the scheduler share the
connection's lease, so the provider is asked once and a rotated refresh
token is never presented twice."""
import threading
import time

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, fetch_token, wait_until
from people_helpers import Browser
from vault_helpers import (ACME, ALICE, BOB, PARTNER_ID, PARTNER_KEY, UP, VAULT_ENV, ShopeeSim,
                           VaultAPI, acme_tenant, cc_provider, connect, oauth2_provider,
                           refresh_grants, upstream_tenant, wait_status)

PARALLEL = 20
FRESH_S = 3.1  # a token younger than three seconds is not refreshed on request


@pytest.fixture(scope="module")
def sim():
    s = ShopeeSim()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.control(reset=True)


@pytest.fixture(scope="module")
def srv(make_module_server, sim):
    s = make_module_server(start=False, env=dict(VAULT_ENV, TESSERA_VAULT_BACKOFF_MS="1000",
                                                 TESSERA_VAULT_BACKOFF_MAX_MS="2000"),
                           name="vault")
    providers = [{"name": "shopee", "profile": "shopee", "partner_id": PARTNER_ID,
                  "partner_key": PARTNER_KEY, "base_url": sim.base},
                 oauth2_provider(s), cc_provider(s)]
    doc = {"tenants": [upstream_tenant(s, 3600), acme_tenant(providers),
                       {"name": "beta", "scopes": [{"name": "vault:read"},
                                                   {"name": "vault:write"}],
                        "clients": [{"client_id": "backend", "type": "confidential",
                                     "secret": SECRET, "grant_types": ["client_credentials"],
                                     "scopes": ["vault:read", "vault:write"]}]}]}
    s.bootstrap_ok(doc)
    s.start()
    return s


@pytest.fixture(scope="module")
def api(srv):
    return VaultAPI(srv)


def refresh(api, cid):
    return requests.post(api.url("/%s/refresh" % cid), headers=api.headers,
                         timeout=HTTP_TIMEOUT_S + 10)


def connect_shop(srv, api, name):
    r = api.create("shopee", name)
    assert r.status_code in (200, 201), r.text
    resp = Browser(srv).open(r.json()["authorization_url"])
    assert resp.status_code == 200 and "Connected" in resp.text, resp.text[:300]
    return r.json()["id"]


def person_api(srv, user):
    s = requests.Session()
    r = s.post(srv.issuer(ACME) + "/api/login", json={"username": user["username"],
                                                      "password": user["password"]},
               timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    r = s.post(srv.issuer(ACME) + "/api/apikeys", json={},
               headers={"X-CSRF-Token": r.json()["csrf_token"]}, timeout=HTTP_TIMEOUT_S)
    assert r.status_code in (200, 201), r.text
    return VaultAPI(srv, apikey=(r.json()["api_key"], r.json()["api_secret"]))


def test_a_shop_is_refreshed_now_and_the_answer_holds_no_token(srv, api, sim):
    cid = connect_shop(srv, api, "now")
    before = api.status(cid)
    old = api.access_token(cid)["access_token"]
    # A token obtained moments ago is not refreshed again.
    r = refresh(api, cid)
    assert r.status_code == 200 and r.json()["expires_at"] == before["expires_at"], r.text
    assert sim.stats()["refresh"] == 0
    time.sleep(FRESH_S)
    r = refresh(api, cid)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["id"] == cid and b["status"] == "active" and b["failures"] == 0, b
    assert b["expires_at"] > before["expires_at"] and b["refreshed_at"] > before["refreshed_at"]
    assert "access_token" not in b and "refresh_token" not in b, b
    assert r.headers["Cache-Control"] == "no-store"
    s = sim.stats()
    assert s["refresh"] == s["refresh_ok"] == 1, s
    new = api.access_token(cid)["access_token"]
    assert new != old and old not in r.text and new not in r.text


def test_an_oauth2_connection_is_refreshed_with_its_refresh_token(srv, api):
    cid, _ = connect(srv, api, name="crm-now")
    old = api.access_token(cid)["access_token"]
    time.sleep(FRESH_S)
    n = len(refresh_grants(srv))
    r = refresh(api, cid)
    assert r.status_code == 200, r.text
    assert len(refresh_grants(srv)) == n + 1
    assert api.access_token(cid)["access_token"] != old


def test_twenty_parallel_refreshes_ask_the_provider_once(srv, api, sim):
    cid = connect_shop(srv, api, "parallel")
    old = api.access_token(cid)["access_token"]
    time.sleep(FRESH_S)
    # The provider takes a second to answer, so every request arrives while
    # the first refresh is still running.
    sim.control(refresh_delay=1.0)
    results = [None] * PARALLEL
    go = threading.Barrier(PARALLEL)

    def one(i):
        go.wait()
        results[i] = refresh(api, cid)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert set(codes) <= {200, 409, 503}, [(r.status_code, r.text) for r in results]
    ok = [r.json() for r in results if r.status_code == 200]
    assert ok, codes
    for r in results:
        if r.status_code != 200:
            assert r.json()["error"] in ("refresh_in_progress", "temporarily_unavailable"), r.text
    assert len({b["expires_at"] for b in ok}) == 1, ok
    s = sim.stats()
    assert s["refresh"] == s["refresh_ok"] == 1, s
    st = api.status(cid)
    assert st["status"] == "active" and st["failures"] == 0, st
    assert api.access_token(cid)["access_token"] != old


def test_manual_refreshes_and_the_scheduler_never_refresh_at_once(srv, api, sim):
    # Four-second tokens: the scheduler refreshes after about three
    # seconds, when requests may refresh too, while five clients keep
    # asking for a refresh. Two refreshes
    # at once would present one rotated refresh token twice, and the
    # double refuses a spent one.
    sim.control(expire_in=4, refresh_delay=0.2)
    cid = connect_shop(srv, api, "race")
    stop = time.time() + 8
    codes = []

    def hammer():
        while time.time() < stop:
            r = refresh(api, cid)
            codes.append(r.status_code)
            time.sleep(0.05)

    threads = [threading.Thread(target=hammer) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(codes) <= {200, 409}, codes
    s = sim.stats()
    assert s["refresh_refused"] == 0 and s["refresh"] == s["refresh_ok"] >= 2, s
    assert s["live_refresh_tokens"] == 1, s
    assert api.status(cid)["status"] in ("active", "refreshing")


def test_who_may_refresh(srv, api):
    cid, _ = connect(srv, api, name="crm-rules")
    # vault:read is not enough.
    reader = VaultAPI(srv, client="reader")
    r = refresh(reader, cid)
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope", r.text
    # No credential, or another tenant's: 401.
    r = requests.post(api.url("/%s/refresh" % cid), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 401
    beta = fetch_token(srv, "beta", "backend")["access_token"]
    r = requests.post(api.url("/%s/refresh" % cid), headers={"Authorization": "Bearer " + beta},
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 401, r.text
    # The other tenant's own API does not see acme's connection.
    beta_api = VaultAPI(srv, tenant="beta")
    assert refresh(beta_api, cid).status_code == 404
    # A person: their own connection only; never the tenant's machine one.
    alice, bob = person_api(srv, ALICE), person_api(srv, BOB)
    mine, _ = connect(srv, alice, name="alice-crm", person=ALICE)
    assert refresh(alice, mine).status_code == 200
    assert refresh(bob, mine).status_code == 404
    assert refresh(alice, cid).status_code == 404
    r = api.create("crm-service", "machine")
    assert r.status_code in (200, 201), r.text
    machine = r.json()["id"]
    time.sleep(FRESH_S)
    r = refresh(alice, machine)
    assert r.status_code in (403, 404), r.text
    assert "access_token" not in r.text
    r = refresh(api, machine)
    assert r.status_code == 200, r.text
    assert "access_token" not in r.json()
    assert refresh(api, "no-such-connection").status_code == 404


def test_pending_refused_and_failing_connections(srv, api, sim):
    r = api.create("shopee", "pending")
    pending = r.json()["id"]
    r = refresh(api, pending)
    assert r.status_code == 409 and r.json()["error"] == "connection_pending", r.text
    # A provider that is down: 502, and the connection keeps its token.
    cid = connect_shop(srv, api, "down")
    tok = api.access_token(cid)["access_token"]
    time.sleep(FRESH_S)
    sim.control(down=True)
    r = refresh(api, cid)
    assert r.status_code == 502 and r.json()["error"] == "upstream_unavailable", r.text
    assert "503" not in r.text
    st = api.status(cid)
    assert st["status"] == "active" and st["failures"] == 1, st
    assert api.access_token(cid)["access_token"] == tok
    sim.control(down=False)
    r = refresh(api, cid)
    assert r.status_code == 200 and r.json()["failures"] == 0, r.text
    time.sleep(FRESH_S)
    # A refused refresh token: needs_reauth, and refreshing again is 409.
    sim.control(refuse_refresh="error_shop_refresh_token")
    r = refresh(api, cid)
    assert r.status_code == 409 and r.json()["error"] == "needs_reauth", r.text
    wait_status(api, cid, "needs_reauth")
    r = refresh(api, cid)
    assert r.status_code == 409 and r.json()["error"] == "needs_reauth", r.text
