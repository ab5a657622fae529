"""The token vault end to end (docs/VAULT.md): connecting an
outside OAuth 2.0 provider through its real login page, the callback's
state checks, tokens handed out and refreshed by the scheduler, client
credentials, SMART on FHIR discovery, who may see and use which
connection, sealing at rest, and deletion with upstream revocation.

The provider is a second Tessera tenant on the same server ("upstream"):
its access tokens live 4 seconds, so the scheduler refreshes every ~2 s
(TESSERA_VAULT_TICK_MS=100), and its audit log counts every refresh grant
it answers. Nothing here uses the project's own code."""
import http.server
import json
import threading
import time

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, wait_until
from people_helpers import assert_error_page, query_of
from vault_helpers import (ACME, ALICE, BOB, OWNER, UP, VAULT_ENV, VaultAPI, acme_tenant, audit,
                           authorize_upstream, callback_uri, cc_provider, connect, db_exec, me,
                           metric, oauth2_provider, refresh_grants, state_of, upstream_tenant,
                           wait_status)

# A provider whose access tokens are long-lived: tests that check one token
# stays the same are not disturbed by refreshes.
SLOW = "crm-slow"


@pytest.fixture(scope="module")
def srv(make_module_server):
    s = make_module_server(start=False, env=VAULT_ENV, name="vault")
    providers = [oauth2_provider(s), cc_provider(s), oauth2_provider(s, name="crm-copy"),
                 oauth2_provider(s, name="crm-tamper"),
                 oauth2_provider(s, name="crm-once", client_id="vault-once")]
    doc = {"tenants": [upstream_tenant(s, 4), acme_tenant(providers),
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


@pytest.fixture(scope="module")
def conn(srv, api):
    """One connection made through the upstream login page, shared by the
    tests that only read it."""
    cid, _ = connect(srv, api, name="shared")
    return cid


def keys_of(doc):
    """Every object key anywhere in a JSON document."""
    if isinstance(doc, dict):
        return set(doc) | set().union(*(keys_of(v) for v in doc.values()))
    if isinstance(doc, list):
        return set().union(*(keys_of(v) for v in doc)) if doc else set()
    return set()


def user_api(srv, user):
    """An API key of a person of acme (POST /api/login, then /api/apikeys)."""
    s = requests.Session()
    r = s.post(srv.issuer(ACME) + "/api/login", json={"username": user["username"],
                                                      "password": user["password"]},
               timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    csrf = r.json()["csrf_token"]
    r = s.post(srv.issuer(ACME) + "/api/apikeys", json={}, headers={"X-CSRF-Token": csrf},
               timeout=HTTP_TIMEOUT_S)
    assert r.status_code in (200, 201), r.text
    k = r.json()
    return VaultAPI(srv, apikey=(k["api_key"], k["api_secret"])), r.json()


def test_connecting_through_the_provider_login_gives_a_working_token(srv, api):
    r = api.create("crm", "first")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] and body["status"] == "pending"
    url = body["authorization_url"]
    assert url.startswith(srv.endpoint(UP, "authorize") + "?"), url
    q = query_of(url)
    assert q["response_type"] == "code" and q["client_id"] == "vault"
    assert q["redirect_uri"] == callback_uri(srv)
    assert q["scope"] == "crm:read"
    # RFC 7636: S256 challenge; state carries 32 random bytes.
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert len(q["state"]) == 43
    assert api.status(body["id"])["status"] == "pending"
    # The token endpoint refuses a connection that was never authorized.
    r = api.token(body["id"])
    assert r.status_code == 409 and r.json()["error"] == "connection_pending", r.text

    resp, callback, _ = authorize_upstream(srv, url)
    assert resp.status_code == 200 and "Connected" in resp.text, resp.text[:500]
    assert callback.startswith(callback_uri(srv) + "?")
    st = api.status(body["id"])
    assert st["status"] in ("active", "refreshing"), st
    assert st["has_refresh_token"] is True
    tok = api.access_token(body["id"])
    assert tok["expires_at"] > time.time()
    # The token is the provider's own: it works at the provider.
    r = me(srv, UP, tok["access_token"])
    assert r.status_code == 200, r.text
    assert r.json()["username"] == OWNER["username"]
    assert r.json()["client_id"] == "vault"
    ev = audit(srv, ACME, types={"vault.connected"})
    assert any(e["subject"] == body["id"] for e in ev), ev


def test_metadata_and_status_never_show_a_token(srv, api, conn):
    tok = api.access_token(conn)["access_token"]
    for r in (api.get(conn), api.list()):
        assert r.status_code == 200
        assert tok not in r.text
        assert not ({"access_token", "refresh_token"} & keys_of(r.json())), r.text
    st = api.status(conn)
    assert st["provider"] == "crm" and st["name"] == "shared" and st["owner"] is None
    assert st["metadata"]["provider_data"]["scope"] == "crm:read"
    listed = {c["id"] for c in api.list().json()["connections"]}
    assert conn in listed
    # Nothing in the database file reads as the token either.
    raw = srv.db_path.read_bytes()
    for suffix in ("-wal",):
        p = srv.db_path.with_name(srv.db_path.name + suffix)
        if p.exists():
            raw += p.read_bytes()
    assert tok.encode() not in raw
    rows = db_exec(srv, "SELECT access_token, refresh_token FROM vault_connections WHERE id = ?",
                   (conn,))
    assert rows[0][0].startswith("v1.") and rows[0][1].startswith("v1."), rows


def test_the_scheduler_refreshes_again_and_again_without_help(srv, api):
    cid, _ = connect(srv, api, name="cycles")
    first = api.access_token(cid)["access_token"]
    before = len(refresh_grants(srv))
    seen = {first}
    deadline = time.time() + 11
    while time.time() < deadline:
        st = api.status(cid)
        assert st["status"] in ("active", "refreshing"), st
        seen.add(api.access_token(cid)["access_token"])
        time.sleep(0.5)
    # 4 s tokens refreshed at half-life: about five refreshes in 11 s.
    assert len(seen) >= 4, len(seen)
    ev = [e for e in audit(srv, ACME, types={"vault.refreshed"}) if e["subject"] == cid]
    assert len(ev) >= 4, ev
    assert all(e["actor"] == "scheduler" or e["actor"] == "api" for e in ev), ev
    assert all(e["detail"]["rotated"] is True for e in ev), ev
    assert len(refresh_grants(srv)) - before >= 4
    # Rotation never presented a spent refresh token: no grant was revoked.
    assert not audit(srv, UP, types={"grant.revoked"})
    last = api.access_token(cid)["access_token"]
    assert me(srv, UP, last).status_code == 200


def test_without_a_refresh_token_the_connection_lasts_until_its_token_expires(srv, api):
    cid, _ = connect(srv, api, provider="crm-once", name="once")
    st = api.status(cid)
    assert st["has_refresh_token"] is False, st
    tok = api.access_token(cid)
    # Inside the refresh window there is nothing to refresh with: the
    # token is handed out until it expires ...
    time.sleep(max(0, tok["expires_at"] - 2 - time.time()))
    assert api.access_token(cid)["access_token"] == tok["access_token"]
    assert api.status(cid)["status"] in ("active", "refreshing")
    # ... and then the connection needs a new authorization.
    st = wait_status(api, cid, "needs_reauth", timeout=8)
    assert "authorized again" in st["last_error"], st
    assert "no refresh token" in api.admin_status(cid)["last_error"]
    assert api.token(cid).status_code == 409


def test_a_client_credentials_provider_is_connected_at_once(srv, api):
    r = api.create("crm-service", "service")
    assert r.status_code == 201, r.text
    body = r.json()
    assert "authorization_url" not in body
    assert body["status"] == "active" and body["expires_at"] > time.time()
    tok = api.access_token(body["id"])["access_token"]
    r = me(srv, UP, tok)
    assert r.status_code == 200 and r.json()["principal_type"] == "service", r.text
    assert r.json()["client_id"] == "vault-cc"
    # It is fetched again before it expires, with the client credentials.
    wait_until(lambda: api.access_token(body["id"])["access_token"] != tok, timeout=8)
    assert api.access_token(body["id"])["access_token"] != tok
    # Creating it again is idempotent: the same connection, a fresh token.
    r = api.create("crm-service", "service")
    assert r.status_code == 200 and r.json()["id"] == body["id"], r.text


def test_a_tampered_or_unknown_state_is_an_error_page_and_changes_nothing(srv, api):
    r = api.create("crm", "tamper")
    cid, url = r.json()["id"], r.json()["authorization_url"]
    state = state_of(url)
    tampered = state[:-1] + ("A" if state[-1] != "A" else "B")
    for s in (tampered, "", "x" * 43, state + "x"):
        resp = requests.get(callback_uri(srv), params={"state": s, "code": "whatever"},
                            allow_redirects=False, timeout=HTTP_TIMEOUT_S)
        assert_error_page(resp, 400)
    resp = requests.get(callback_uri(srv), params={"code": "whatever"}, timeout=HTTP_TIMEOUT_S)
    assert_error_page(resp, 400)
    assert api.status(cid)["status"] == "pending"
    # The real state still works afterwards: the failures consumed nothing.
    resp, _, _ = authorize_upstream(srv, url)
    assert resp.status_code == 200, resp.text[:500]
    assert api.status(cid)["status"] in ("active", "refreshing")


def test_a_replayed_callback_is_refused_and_changes_nothing(srv, api):
    cid, callback = connect(srv, api, name="replay")
    tok = api.access_token(cid)
    resp = requests.get(callback, allow_redirects=False, timeout=HTTP_TIMEOUT_S)
    assert_error_page(resp, 400)
    assert "already used" in resp.text or "unknown" in resp.text
    st = api.status(cid)
    assert st["status"] in ("active", "refreshing") and st["failures"] == 0
    # Same token (unless the scheduler refreshed it meanwhile, which it
    # records): the replay stored nothing.
    after = api.access_token(cid)
    if after["access_token"] != tok["access_token"]:
        assert any(e["subject"] == cid for e in audit(srv, ACME, types={"vault.refreshed"}))
    connected = [e for e in audit(srv, ACME, types={"vault.connected"}) if e["subject"] == cid]
    assert len(connected) == 1, connected


def test_an_expired_state_is_refused(srv, api):
    r = api.create("crm", "late")
    cid, url = r.json()["id"], r.json()["authorization_url"]
    # Ten minutes pass (the pending row's expiry moved into the past).
    db_exec(srv, "UPDATE pending SET expires_at = 1 WHERE kind = 'vault.connect' AND data LIKE ?",
            ("%" + cid + "%",))
    resp, _, _ = authorize_upstream(srv, url)
    assert_error_page(resp, 400)
    assert "expired" in resp.text
    assert api.status(cid)["status"] == "pending"


def test_a_state_is_bound_to_its_tenant(srv, api):
    r = api.create("crm", "bound")
    cid, url = r.json()["id"], r.json()["authorization_url"]
    other = srv.issuer("beta") + "/connect/callback"
    resp = requests.get(other, params={"state": state_of(url), "code": "x"},
                        timeout=HTTP_TIMEOUT_S)
    assert_error_page(resp, 400)
    resp, _, _ = authorize_upstream(srv, url)
    assert resp.status_code == 200, resp.text[:300]
    assert api.status(cid)["status"] in ("active", "refreshing")


def test_a_refusal_at_the_provider_changes_nothing(srv, api):
    r = api.create("crm", "denied")
    cid, url = r.json()["id"], r.json()["authorization_url"]
    resp = requests.get(callback_uri(srv), params={"state": state_of(url),
                                                   "error": "access_denied"},
                        timeout=HTTP_TIMEOUT_S)
    assert_error_page(resp, 400)
    assert api.status(cid)["status"] == "pending"
    # The state was spent by that answer.
    resp, _, _ = authorize_upstream(srv, url)
    assert_error_page(resp, 400)


def test_connecting_again_reuses_the_connection(srv, api):
    cid, _ = connect(srv, api, name="again")
    r = api.create("crm", "again")
    assert r.status_code == 200 and r.json()["id"] == cid, r.text
    resp, _, _ = authorize_upstream(srv, r.json()["authorization_url"])
    assert resp.status_code == 200
    ev = [e for e in audit(srv, ACME, types={"vault.connected"}) if e["subject"] == cid]
    assert [e["detail"]["reauthorized"] for e in ev] == [False, True], ev
    # The same name for another provider is a conflict.
    r = api.create("crm-copy", "again")
    assert r.status_code == 409, r.text


def test_scopes_decide_who_may_read_and_write(srv, api, conn):
    reader = VaultAPI(srv, client="reader")
    r = reader.create("crm", "nope")
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope", r.text
    assert "vault:write" in r.headers["WWW-Authenticate"]
    assert reader.get(conn).status_code == 200
    assert reader.token(conn).status_code == 200
    assert reader.delete(conn).status_code == 403
    # A credential of another tenant means nothing here.
    beta = VaultAPI(srv, tenant="beta")
    r = requests.get(api.url("/" + conn), headers=beta.headers, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 401, r.text
    # ... and beta does not see acme's connections.
    assert beta.get(conn).status_code == 404
    assert beta.list().json()["connections"] == []
    r = requests.get(api.url(), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 401


def test_people_manage_their_own_connections(srv, api, conn):
    alice, _ = user_api(srv, ALICE)
    bob, _ = user_api(srv, BOB)
    cid, _ = connect(srv, alice, name="alice-crm", person=ALICE)
    st = alice.status(cid)
    assert st["owner"] and st["owner"] == st["created_by"], st
    assert {c["id"] for c in alice.list().json()["connections"]} == {cid}
    assert alice.token(cid).status_code == 200
    # Bob sees neither alice's connection nor the tenant's.
    for c in (cid, conn):
        assert bob.get(c).status_code == 404
        assert bob.token(c).status_code == 404
        assert bob.delete(c).status_code == 404
    assert bob.list().json()["connections"] == []
    # A name is per owner: bob may use the same one.
    r = bob.create("crm", "alice-crm")
    assert r.status_code == 201 and r.json()["id"] != cid
    # The back-end service sees every connection of the tenant.
    assert api.get(cid).status_code == 200
    assert alice.delete(cid).status_code == 200
    assert alice.get(cid).status_code == 404


def test_a_sealed_token_copied_to_another_connection_does_not_open(srv, api):
    a, _ = connect(srv, api, name="copy-a")
    b, _ = connect(srv, api, name="copy-b")
    assert api.token(b).status_code == 200
    # Keep the scheduler off b while its record is tampered with, by
    # holding its lease far into the future (as a crashed server would).
    db_exec(srv, "UPDATE vault_connections SET lease_owner = 'test', lease_until = ?, "
                 "next_refresh_at = 0 WHERE id = ?", (int(time.time()) + 3600, b))
    db_exec(srv, "UPDATE vault_connections SET access_token = (SELECT access_token FROM "
                 "vault_connections WHERE id = ?), expires_at = ?, issued_at = ? WHERE id = ?",
            (a, int(time.time()) + 3600, int(time.time()), b))
    r = api.token(b)
    assert r.status_code == 500 and r.json()["error"] == "server_error", r.text
    assert "eyJ" not in r.text
    # The original still opens.
    assert api.token(a).status_code == 200


def test_a_provider_secret_copied_to_another_provider_does_not_open(srv, api):
    db_exec(srv, "UPDATE vault_providers SET sealed_secret = (SELECT sealed_secret FROM "
                 "vault_providers WHERE name = 'crm-service') WHERE name = 'crm-tamper'")
    r = api.create("crm-tamper", "copied-secret")
    assert r.status_code == 500, r.text
    assert SECRET not in r.text


def test_deleting_revokes_the_grant_upstream(srv, api):
    cid, _ = connect(srv, api, name="doomed")
    tok = api.access_token(cid)["access_token"]
    assert me(srv, UP, tok).status_code == 200
    r = api.delete(cid)
    assert r.status_code == 200, r.text
    assert r.json() == {"id": cid, "deleted": True, "revoked": True}
    # RFC 7009 at the provider: revoking the refresh token ended the grant,
    # and with it the access token that was handed out.
    assert me(srv, UP, tok).status_code == 401
    assert api.get(cid).status_code == 404
    assert api.token(cid).status_code == 404
    ev = [e for e in audit(srv, ACME, types={"vault.deleted"}) if e["subject"] == cid]
    assert ev and ev[0]["detail"]["revoked"] is True, ev


def test_bad_requests_are_refused_with_a_reason(srv, api):
    r = api.create("crm", "x", colour="blue")
    assert r.status_code == 400 and "colour" in r.json()["error_description"], r.text
    r = api.create("no-such-provider", "x")
    assert r.status_code == 400, r.text
    r = requests.post(api.url(), data="provider=crm&name=x", headers=dict(
        api.headers, **{"Content-Type": "application/x-www-form-urlencoded"}),
        timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 400, r.text
    r = api.create("crm", "")
    assert r.status_code == 400
    r = api.create("crm", "x", launch="abc")
    assert r.status_code == 400 and "SMART" in r.json()["error_description"]
    assert api.get("00000000-0000-4000-8000-000000000000").status_code == 404
    r = api.sign("00000000-0000-4000-8000-000000000000", path="/api/v2/shop/get_shop_info")
    assert r.status_code == 404


def test_signing_is_only_for_shopee(srv, api, conn):
    r = api.sign(conn, path="/api/v2/shop/get_shop_info")
    assert r.status_code == 400, r.text


def test_metrics_count_refreshes_by_tenant_and_result(srv, api, conn):
    v, _ = wait_until(lambda: metric(srv, "tessera_vault_refreshes_total", tenant=ACME,
                                     result="ok") >= 1, timeout=6)
    assert v


class _SmartConfig(http.server.BaseHTTPRequestHandler):
    """A FHIR server's /.well-known/smart-configuration naming the upstream
    tenant's endpoints."""
    doc = {}

    def do_GET(self):
        if self.path != "/fhir/.well-known/smart-configuration":
            self.send_response(404)
            self.end_headers()
            return
        raw = json.dumps(self.doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *a):
        pass


def test_smart_on_fhir_endpoints_come_from_discovery(srv, api):
    _SmartConfig.doc = {"authorization_endpoint": srv.endpoint(UP, "authorize"),
                        "token_endpoint": srv.endpoint(UP, "token"),
                        "revocation_endpoint": srv.endpoint(UP, "revoke"),
                        "capabilities": ["launch-standalone"]}
    fhir = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SmartConfig)
    t = threading.Thread(target=fhir.serve_forever, daemon=True)
    t.start()
    try:
        base = "http://127.0.0.1:%d/fhir" % fhir.server_address[1]
        r = srv.cli("provider", "create", "--tenant", ACME, "ehr", "--profile", "smart-on-fhir",
                    "--fhir-base-url", base, "--client-id", "vault", "--client-secret", SECRET,
                    "--scope", "crm:read")
        assert r.rc == 0, r.err
        assert r.out["pkce"] is True and "authorize_url" not in r.out
        r = api.create("ehr", "chart", launch="launch-123")
        assert r.status_code == 201, r.text
        url = r.json()["authorization_url"]
        q = query_of(url)
        assert url.startswith(srv.endpoint(UP, "authorize") + "?")
        assert q["aud"] == base and q["launch"] == "launch-123", q
        resp, _, _ = authorize_upstream(srv, url)
        assert resp.status_code == 200, resp.text[:500]
        cid = r.json()["id"]
        st = api.status(cid)
        assert st["metadata"]["smart"]["token_endpoint"] == srv.endpoint(UP, "token"), st
        tok = api.access_token(cid)["access_token"]
        assert me(srv, UP, tok).status_code == 200
        # Refreshes use the discovered token endpoint, FHIR server or not.
        fhir.shutdown()
        wait_until(lambda: api.access_token(cid)["access_token"] != tok, timeout=8)
        assert api.access_token(cid)["access_token"] != tok
        assert api.delete(cid).json()["revoked"] is True
    finally:
        fhir.shutdown()
        fhir.server_close()
