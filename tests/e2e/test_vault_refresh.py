"""The token vault's scheduler and key handling under stress:
two servers on one database never refresh one connection at once; a
provider that is down is retried with exponential backoff and recovers; a
provider that refuses the refresh token makes the connection needs_reauth;
`tessera keys rekey-vault` moves every sealed value to a new master key
while a server keeps refreshing. Each test has servers of its own."""
import concurrent.futures
import hashlib
import os
import time

from e2e_util import free_port, wait_until
from vault_helpers import (ACME, OWNER, UP, VAULT_ENV, VaultAPI, audit, cc_provider, connect,
                           db_exec, make_vault_server, me, metric, oauth2_provider,
                           refresh_grants, wait_status)


def kid_of(hex_key):
    """The key id a sealed value names: SHA-256("tessera-master-key-id" || key)."""
    return hashlib.sha256(b"tessera-master-key-id" + bytes.fromhex(hex_key)).hexdigest()[:16]


def sealed_kids(server):
    rows = db_exec(server, "SELECT access_token FROM vault_connections UNION ALL "
                           "SELECT refresh_token FROM vault_connections UNION ALL "
                           "SELECT sealed_secret FROM vault_providers UNION ALL "
                           "SELECT sealed_private FROM keys")
    return {r[0].split(".")[1] for r in rows if r[0]}


def events_of(server, tenant, kind, cid):
    return [e for e in audit(server, tenant, types={kind}) if e["subject"] == cid]


def test_two_servers_on_one_database_never_refresh_one_connection_at_once(make_server):
    a = make_vault_server(make_server)
    b = make_server(start=False, env=VAULT_ENV, name="vault-b")
    b.db_path, b.db, b.master_key = a.db_path, a.db, a.master_key
    b.start()
    api_a, api_b = VaultAPI(a), VaultAPI(b)
    ids = [connect(a, api_a, name="pair-%d" % i)[0] for i in range(3)]
    before = len(refresh_grants(a))
    stop = time.time() + 12
    failures = []

    def hammer(api, cid):
        n = 0
        while time.time() < stop:
            r = api.token(cid)
            if r.status_code != 200:
                failures.append((r.status_code, r.text))
            n += 1
        return n

    # Both schedulers and requests through both servers, all at once.
    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        calls = sum(ex.map(lambda args: hammer(*args),
                           [(api, cid) for api in (api_a, api_b) for cid in ids] * 2))
    assert not failures, failures[:3]
    assert calls > 100
    for cid in ids:
        st = api_a.status(cid)
        assert st["status"] in ("active", "refreshing") and st["failures"] == 0, st
        assert me(a, UP, api_b.access_token(cid)["access_token"]).status_code == 200
    # Stop both (b first: its refreshes call a), so that the counts below
    # are final; the CLI reads the shared database.
    assert b.stop() == 0 and a.stop() == 0
    # A spent refresh token presented twice would have revoked the grant.
    assert not audit(a, UP, types={"grant.revoked"})
    refreshed = [e for cid in ids for e in events_of(a, ACME, "vault.refreshed", cid)]
    grants = len(refresh_grants(a)) - before
    # Every refresh the provider answered is one the vault recorded: no
    # server ever refreshed a connection another one was refreshing.
    assert grants == len(refreshed), (grants, len(refreshed))
    assert grants >= 3 * 4, grants
    for cid in ids:
        times = sorted(e["time"] for e in events_of(a, ACME, "vault.refreshed", cid))
        # 4 s tokens are refreshed from half-life on: at most one per ~2 s.
        assert all(t2 - t1 >= 1 for t1, t2 in zip(times, times[1:])), times


def test_a_provider_that_is_down_is_retried_with_backoff_then_recovers(make_server):
    s = make_vault_server(make_server, access_ttl=6,
                          env={"TESSERA_VAULT_BACKOFF_MS": "1000",
                               "TESSERA_VAULT_BACKOFF_MAX_MS": "4000"})
    api = VaultAPI(s)
    cid, _ = connect(s, api)
    tok = api.access_token(cid)
    good_url = s.endpoint(UP, "token")
    r = s.cli("provider", "update", "--tenant", ACME, "crm", "--token-url",
              "http://127.0.0.1:%d/oauth2/token" % free_port())
    assert r.rc == 0, r.err
    wait_until(lambda: api.status(cid)["failures"] >= 1, timeout=8)
    st = api.status(cid)
    assert st["failures"] >= 1 and st["status"] in ("active", "refreshing"), st
    assert "unreachable" not in st["last_error"], st  # callers get no provider text
    assert "unreachable" in api.admin_status(cid)["last_error"]
    # While the token is still valid it is handed out as it is.
    if time.time() < tok["expires_at"] - 1:
        assert api.access_token(cid)["access_token"] == tok["access_token"]
    # After it expired, there is no token to give.
    time.sleep(max(0, tok["expires_at"] - time.time() + 1))
    r = api.token(cid)
    assert r.status_code == 502 and r.json()["error"] == "upstream_unavailable", r.text
    assert api.status(cid)["status"] in ("active", "refreshing")
    wait_until(lambda: api.status(cid)["failures"] >= 5, timeout=15)
    fails = sorted(e["time"] for e in events_of(s, ACME, "vault.refresh_failed", cid))
    assert len(fails) >= 5, fails
    gaps = [b - a for a, b in zip(fails, fails[1:])]
    # 1, 2, 4, 4, ... seconds (with a little jitter and whole-second clocks).
    assert max(gaps) <= 6 and gaps[-1] >= 3 and gaps[-1] >= gaps[0], gaps
    # The provider comes back: the next retry succeeds.
    r = s.cli("provider", "update", "--tenant", ACME, "crm", "--token-url", good_url)
    assert r.rc == 0, r.err
    wait_until(lambda: api.status(cid)["failures"] == 0, timeout=10)
    st = api.status(cid)
    assert st["failures"] == 0 and st["last_error"] is None, st
    assert me(s, UP, api.access_token(cid)["access_token"]).status_code == 200
    assert metric(s, "tessera_vault_refreshes_total", tenant=ACME, result="error") >= 5
    assert metric(s, "tessera_vault_refreshes_total", tenant=ACME, result="ok") >= 1


def test_a_refused_refresh_token_needs_reauthorization(make_server):
    s = make_vault_server(make_server)
    api = VaultAPI(s)
    cid, _ = connect(s, api)
    # The provider ends the grant: its user is disabled, and every refresh
    # is answered invalid_grant.
    r = s.cli("user", "disable", "--tenant", UP, OWNER["username"])
    assert r.rc == 0, r.err
    st = wait_status(api, cid, "needs_reauth", timeout=10)
    assert "invalid_grant" not in st["last_error"] and st["next_refresh_at"] is None, st
    assert "invalid_grant" in api.admin_status(cid)["last_error"]
    r = api.token(cid)
    assert r.status_code == 409 and r.json()["error"] == "needs_reauth", r.text
    ev = events_of(s, ACME, "vault.needs_reauth", cid)
    assert len(ev) == 1 and "invalid_grant" in ev[0]["detail"]["error"], ev
    assert metric(s, "tessera_vault_refreshes_total", tenant=ACME, result="needs_reauth") == 1
    # It is left alone: no retries against a refusal.
    time.sleep(2.5)
    assert len(events_of(s, ACME, "vault.needs_reauth", cid)) == 1
    # Authorizing again brings it back, same connection.
    assert s.cli("user", "enable", "--tenant", UP, OWNER["username"]).rc == 0
    again, _ = connect(s, api)
    assert again == cid
    st = api.status(cid)
    assert st["status"] in ("active", "refreshing") and st["last_error"] is None, st
    assert me(s, UP, api.access_token(cid)["access_token"]).status_code == 200


def test_rekey_vault_moves_every_secret_to_the_new_key_while_the_server_runs(make_server):
    s = make_vault_server(make_server, providers=None)
    api = VaultAPI(s)
    cid, _ = connect(s, api)
    k1, k2 = s.master_key, os.urandom(32).hex()
    assert sealed_kids(s) == {kid_of(k1)}
    # Step 1: servers restart with the new key, the old one still opening.
    assert s.stop() == 0
    s.master_key = k2
    s.extra_env["TESSERA_MASTER_KEY_OLD"] = k1
    s.start()
    api = VaultAPI(s)
    assert me(s, UP, api.access_token(cid)["access_token"]).status_code == 200
    # Step 2: the move, while the scheduler keeps refreshing every ~2 s.
    r = s.cli("keys", "rekey-vault")
    assert r.rc == 0, r.err
    out = r.out
    assert out["key_id"] == kid_of(k2)
    for part in ("providers", "connections", "signing_keys"):
        assert out[part]["failed"] == 0, out
        assert out[part]["total"] == out[part]["resealed"] + out[part]["already_current"], out
    assert out["providers"]["resealed"] == 1 and out["signing_keys"]["resealed"] >= 6, out
    assert sealed_kids(s) == {kid_of(k2)}
    # A second run finds nothing left to do.
    r = s.cli("keys", "rekey-vault")
    assert r.rc == 0 and r.out["connections"]["resealed"] == 0, r.out
    assert r.out["providers"]["resealed"] == 0 and r.out["signing_keys"]["resealed"] == 0
    # Step 3: the old key goes; everything still opens.
    assert s.stop() == 0
    del s.extra_env["TESSERA_MASTER_KEY_OLD"]
    s.start()
    api = VaultAPI(s)
    tok = api.access_token(cid)["access_token"]
    assert me(s, UP, tok).status_code == 200
    wait_until(lambda: api.access_token(cid)["access_token"] != tok, timeout=8)
    assert api.status(cid)["failures"] == 0
    # Without the key that sealed them, records cannot be moved: reported.
    r = s.cli("keys", "rekey-vault", env={"TESSERA_MASTER_KEY": os.urandom(32).hex()})
    assert r.rc == 1, (r.out, r.err)
    assert r.out["providers"]["failed"] == 1 and r.out["connections"]["failed"] >= 1, r.out
    assert "TESSERA_MASTER_KEY_OLD" in r.err
    # ... and nothing was changed by the failed run.
    assert sealed_kids(s) == {kid_of(k2)}


def test_declared_client_credentials_connections_are_fetched_by_the_server(make_server):
    s = make_server(start=False, env=VAULT_ENV, name="vault-cc")
    from vault_helpers import acme_tenant, upstream_tenant
    doc = {"tenants": [upstream_tenant(s, 4),
                       acme_tenant([cc_provider(s)],
                                   connections=[{"provider": "crm-service", "name": "svc"}])]}
    # The provider is not running yet: bootstrap records the connection
    # pending, and the server's scheduler fetches its token once it runs.
    out = s.bootstrap_ok(doc)
    acme = [t for t in out["tenants"] if t["name"] == ACME][0]
    assert acme["providers"] == [{"name": "crm-service", "created": True}]
    conn = acme["connections"][0]
    assert conn["created"] is True and conn["name"] == "svc"
    s.start()
    api = VaultAPI(s)
    wait_status(api, conn["id"], "active", timeout=10)
    tok = api.access_token(conn["id"])["access_token"]
    assert me(s, UP, tok).json()["client_id"] == "vault-cc"
    # Applying the same file again changes nothing.
    again = s.bootstrap_ok(doc)
    acme = [t for t in again["tenants"] if t["name"] == ACME][0]
    assert acme["providers"][0]["created"] is False
    assert acme["connections"][0] == dict(conn, created=False)
    # An authorization-code provider cannot be declared: it needs a person.
    doc["tenants"][1]["providers"].append(oauth2_provider(s))
    doc["tenants"][1]["connections"].append({"provider": "crm", "name": "nope"})
    r = s.bootstrap(doc)
    assert r.rc == 1 and "POST /api/connections" in r.err, r.err
