"""The attacks on the identity API and the token vault that Tessera refuses.

Each test is one attack, played from the outside against the real server
(and, where a resource server is the target, against libtessera through
libtessera_probe), and named after what it tries. The vault's outside
provider is a second tenant of the same server ("upstream", see
vault_helpers), Shopee is tests/e2e/shopee_sim.py, and a provider that
misbehaves on purpose is the small HTTP server StubProvider below.
"""
import base64
import concurrent.futures
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, wait_until
from people_helpers import (Browser, _SourceAdapter, is_login_page, missing, password_grant,
                            run_node)
from test_libtessera import Probe
from test_postgres import cluster, on_postgres  # noqa: F401 (cluster is a fixture)
from vault_helpers import (ACME, ALICE, BOB, OWNER, PARTNER_ID, PARTNER_KEY, UP, VAULT_ENV,
                           ShopeeSim, VaultAPI, audit, authorize_upstream, callback_uri,
                           cc_provider, db_exec, oauth2_provider, upstream_tenant)

PORTAL = "https://portal.acme.test"
EVIL = "https://evil.example"
STUB_SECRET = "stub-client-secret-8f14e45fceea167a5a36dedd4bea2543"
MALLORY = {"username": "mallory@acme.test", "password": "mallory-horse-battery-staple",
           "roles": []}
APP_PW = "app-password-27182818"
RACE_DEVICES = 30
# Wrong logins that keep the Argon2id slots busy: fewer than the server's 16
# blocking threads, so that one is left for the login under test.
NOISE_LOGINS = 13
SLOW = {"username": "slow@acme.test", "password": "slow-account-password-1",
        "roles": ["Sales User"], "mobile_access": True, "app_password": APP_PW}
RACE_ROUNDS = 3
RACERS = [{"username": "racer%d@acme.test" % i, "password": "racer-account-password-%d" % i,
           "roles": ["Sales User"], "mobile_access": True, "app_password": APP_PW}
          for i in range(RACE_ROUNDS)]
SHOP_INFO = "/api/v2/shop/get_shop_info"
MERCHANT_INFO = "/api/v2/merchant/get_merchant_info"


# -- a provider that misbehaves on purpose -------------------------------------------

class StubProvider:
    """A token endpoint on loopback (and a discovery document naming
    /echo/token, for libtessera's token client). /echo/token refuses every request with
    an error_description that repeats the request (its Authorization header
    decoded, and its body), as a careless provider does; /extras/token
    issues tokens with members nobody asked for (/short/token too, living 2
    seconds). /flaky/token is /short/token until `fail` (an error code) makes
    it /echo with that error."""

    def __init__(self):
        stub = self
        self.fail = None

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                auth = self.headers.get("Authorization", "")
                decoded = ""
                if auth.startswith("Basic "):
                    decoded = base64.b64decode(auth[6:]).decode()
                kind = self.path.split("/")[1]
                if kind == "echo" or (kind == "flaky" and stub.fail):
                    self.answer(400, {"error": stub.fail or "invalid_client",
                                      "error_description": "client authentication failed: "
                                      "credentials %s (header %s) body %s" % (decoded, auth, body)})
                else:
                    self.answer(200, {"access_token": "stub-at-%d" % time.monotonic_ns(),
                                      "token_type": "Bearer",
                                      "expires_in": 2 if kind in ("flaky", "short") else 3600, "scope": "crm:read",
                                      "instance_url": "https://na1.example",
                                      "session_secret": "leaked-" + STUB_SECRET,
                                      "debug": {"client_secret": STUB_SECRET}})

            def do_GET(self):
                # Discovery, for a token client that takes this for its issuer.
                if self.path != "/.well-known/openid-configuration":
                    return self.answer(404, {"error": "not_found"})
                self.answer(200, {"issuer": stub.base, "jwks_uri": stub.base + "/jwks",
                                  "token_endpoint": stub.base + "/echo/token"})

            def answer(self, status, doc):
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def provider(self, name, kind):
        return {"name": name, "kind": "oauth2", "grant": "client_credentials",
                "token_url": "%s/%s/token" % (self.base, kind), "client_id": "vault-stub",
                "client_secret": STUB_SECRET, "scopes": ["crm:read"]}

    def stop(self):
        self.httpd.shutdown()


# -- the installation under test --------------------------------------------------------

def person_client(cid, scopes, **over):
    c = {"client_id": cid, "type": "public", "redirect_uris": [PORTAL + "/cb"],
         "grant_types": ["authorization_code", "password", "refresh_token"],
         "scopes": scopes, "skip_consent": True, "allowed_cors_origins": [PORTAL]}
    c.update(over)
    return c


def service_client(cid, scopes):
    return {"client_id": cid, "type": "confidential", "secret": SECRET,
            "grant_types": ["client_credentials"], "scopes": scopes}


@pytest.fixture(scope="module")
def sim():
    s = ShopeeSim()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def stub():
    s = StubProvider()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def srv(make_module_server, sim, stub):
    """acme: people may be given the vault scopes and apikeys:write through
    the portal client; groups:write and reports:read are for services only.
    plain: people may be given nothing but openid."""
    env = dict(VAULT_ENV, TESSERA_VAULT_BACKOFF_MS="300", TESSERA_VAULT_BACKOFF_MAX_MS="600")
    s = make_module_server(start=False, env=env, name="attacks")
    acme = {
        "name": ACME, "roles": ["Sales User"], "api_key_roles": ["Sales User"],
        "scopes": [{"name": n} for n in ("vault:read", "vault:write", "apikeys:write",
                                         "groups:write", "reports:read")],
        "users": [dict(ALICE), dict(BOB), dict(MALLORY), dict(SLOW)] + [dict(u) for u in RACERS],
        "clients": [person_client("portal", ["openid", "vault:read", "vault:write",
                                             "apikeys:write"]),
                    service_client("backend", ["vault:read", "vault:write"]),
                    service_client("ops", ["groups:write", "reports:read"])],
        "providers": [oauth2_provider(s), cc_provider(s),
                      {"name": "shopee", "profile": "shopee", "partner_id": PARTNER_ID,
                       "partner_key": PARTNER_KEY, "base_url": sim.base},
                      stub.provider("echo", "echo"), stub.provider("extras", "extras"),
                      stub.provider("flaky", "flaky"), stub.provider("short", "short")]}
    plain = {"name": "plain", "roles": ["Sales User"], "api_key_roles": ["Sales User"],
             "scopes": [{"name": "vault:read"}, {"name": "vault:write"}],
             "users": [dict(ALICE)],
             "clients": [person_client("app", ["openid"]),
                         service_client("backend", ["vault:read", "vault:write"])],
             "providers": [oauth2_provider(s), cc_provider(s)]}
    s.bootstrap_ok({"tenants": [upstream_tenant(s, 3600), acme, plain]})
    s.start()
    return s


@pytest.fixture(scope="module")
def backend(srv):
    return VaultAPI(srv)


def issuer(srv, tenant=ACME):
    return srv.issuer(tenant)


def login(srv, user, tenant=ACME):
    """POST /api/login: (requests.Session with the cookie, csrf token)."""
    s = requests.Session()
    r = s.post(issuer(srv, tenant) + "/api/login",
               json={"username": user["username"], "password": user["password"]},
               timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return s, r.json()["csrf_token"]


def api_key(srv, user, tenant=ACME):
    """An API key the user made for itself, acting directly (session + CSRF)."""
    s, csrf = login(srv, user, tenant)
    r = s.post(issuer(srv, tenant) + "/api/apikeys", json={}, headers={"X-CSRF-Token": csrf},
               timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 201, r.text
    return r.json()["api_key"], r.json()["api_secret"]


def key_api(srv, user, tenant=ACME):
    return VaultAPI(srv, tenant=tenant, apikey=api_key(srv, user, tenant))


def user_token(srv, user, scope, tenant=ACME, client_id="portal"):
    r = password_grant(srv, tenant, user["username"], user["password"], client_id=client_id,
                       scope=scope)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def bearer_api(srv, token, tenant=ACME):
    api = VaultAPI.__new__(VaultAPI)
    api.server, api.tenant = srv, tenant
    api.headers = {"Authorization": "Bearer " + token}
    return api


def assert_error(r, status, error):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.json()["error"] == error, r.text


# -- a delegated token never becomes more than it is ---------------------------------------

def test_a_token_with_only_openid_cannot_mint_an_api_key(srv):
    tok = user_token(srv, ALICE, "openid")
    r = requests.post(issuer(srv) + "/api/apikeys", json={},
                      headers={"Authorization": "Bearer " + tok}, timeout=HTTP_TIMEOUT_S)
    assert_error(r, 403, "insufficient_scope")
    challenge = r.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="apikeys:write"' in challenge
    # Nor revoke one.
    key, _ = api_key(srv, ALICE)
    r = requests.delete(issuer(srv) + "/api/apikeys/" + key,
                        headers={"Authorization": "Bearer " + tok}, timeout=HTTP_TIMEOUT_S)
    assert_error(r, 403, "insufficient_scope")
    # A token the user gave apikeys:write may.
    tok = user_token(srv, ALICE, "openid apikeys:write")
    r = requests.post(issuer(srv) + "/api/apikeys", json={},
                      headers={"Authorization": "Bearer " + tok}, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 201, r.text


def test_an_api_key_claims_no_scope_that_only_services_hold(srv, tmp_path):
    key, secret = api_key(srv, ALICE)
    auth = "token %s:%s" % (key, secret)
    r = requests.get(issuer(srv) + "/api/me", headers={"Authorization": auth},
                     timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    assert r.json()["scopes"] == ["apikeys:write", "openid", "vault:read", "vault:write"]
    # Tessera's own API: groups:write is a service's scope.
    r = requests.post(issuer(srv) + "/api/groups", json={"name": "mine"},
                      headers={"Authorization": auth}, timeout=HTTP_TIMEOUT_S)
    assert_error(r, 403, "insufficient_scope")
    # A resource server on libtessera answers the same.
    probe = Probe(tmp_path, issuer(srv), client_id="backend", cache=1)
    try:
        assert probe.ask(authorization=auth, scope="reports:read")["has_scope"] is False
        assert probe.ask(authorization=auth, scope="groups:write")["has_scope"] is False
        assert probe.ask(authorization=auth, scope="vault:read")["has_scope"] is True
        s, _ = login(srv, ALICE)
        cookie = "tessera_session=" + s.cookies.get("tessera_session")
        assert probe.ask(cookie=cookie, scope="reports:read")["has_scope"] is False
        assert probe.ask(cookie=cookie, scope="vault:write")["has_scope"] is True
    finally:
        probe.close()


# -- the vault does not hand the tenant's machine tokens to people ---------------------------

def test_a_person_cannot_connect_a_client_credentials_provider(srv, backend):
    alice = key_api(srv, ALICE)
    r = alice.create("crm-service", "machine")
    assert_error(r, 403, "forbidden")
    assert "access_token" not in r.text
    # Nor through a session with CSRF, nor a Bearer token with vault:write.
    s, csrf = login(srv, ALICE)
    r = s.post(issuer(srv) + "/api/connections", json={"provider": "crm-service", "name": "m2"},
               headers={"X-CSRF-Token": csrf}, timeout=HTTP_TIMEOUT_S)
    assert_error(r, 403, "forbidden")
    tok = user_token(srv, ALICE, "vault:read vault:write")
    assert_error(bearer_api(srv, tok).create("crm-service", "m3"), 403, "forbidden")
    # The tenant's service may; the connection is the tenant's, not hers.
    r = backend.create("crm-service", "machine")
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert alice.token(cid).status_code == 404
    assert backend.token(cid).status_code == 200


def test_a_person_without_vault_scopes_cannot_use_the_vault(srv):
    # In "plain" people may be given only openid: no vault scope at all.
    alice = key_api(srv, ALICE, tenant="plain")
    for r in (alice.create("crm", "mine"), alice.list()):
        assert_error(r, 403, "insufficient_scope")
    s, csrf = login(srv, ALICE, tenant="plain")
    r = s.get(issuer(srv, "plain") + "/api/connections", timeout=HTTP_TIMEOUT_S)
    assert_error(r, 403, "insufficient_scope")
    r = s.post(issuer(srv, "plain") + "/api/connections", json={"provider": "crm-service",
                                                                "name": "m"},
               headers={"X-CSRF-Token": csrf}, timeout=HTTP_TIMEOUT_S)
    assert_error(r, 403, "insufficient_scope")
    # In acme a token without vault:write cannot create, even with vault:read.
    tok = user_token(srv, ALICE, "openid vault:read")
    assert_error(bearer_api(srv, tok).create("crm", "mine"), 403, "insufficient_scope")


# -- login CSRF -----------------------------------------------------------------------------

def test_a_cross_site_form_cannot_log_a_browser_in(srv):
    url = issuer(srv) + "/api/login"
    form = {"username": MALLORY["username"], "password": MALLORY["password"]}
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": EVIL, "Sec-Fetch-Site": "same-origin"},
                    {"Origin": PORTAL, "Sec-Fetch-Site": "cross-site"}):
        r = requests.post(url, data=form, headers=headers, timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 403, (headers, r.status_code, r.text)
        assert "tessera_session" not in r.headers.get("Set-Cookie", ""), headers
    # Tessera's own pages, an allowed CORS origin of the same site and
    # non-browser clients may.
    origin = "%s://%s" % urllib.parse.urlsplit(url)[:2]
    for headers in ({"Origin": origin, "Sec-Fetch-Site": "same-origin"},
                    {"Origin": PORTAL, "Sec-Fetch-Site": "same-site"}, {"Origin": PORTAL}, {}):
        r = requests.post(url, data=form, headers=headers, timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 200, (headers, r.status_code, r.text)


def test_a_cross_site_form_cannot_log_chromium_in(srv):
    exe = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(exe, os.X_OK):
        missing("chromium is not installed (%s)" % exe)
    out = run_node("cross_site_login.mjs", {
        "TESSERA_URL": issuer(srv), "TESSERA_USERNAME": MALLORY["username"],
        "TESSERA_PASSWORD": MALLORY["password"], "CHROMIUM": exe})
    # Chromium names the other site, or "null" (an https page posting to
    # http): either way not Tessera's origin, and the login is refused.
    assert out["origin"] in (EVIL, "null"), out
    assert out["status"] == 403 and "tessera_session" not in out["cookies"], out


def test_a_cross_site_request_cannot_ride_the_session_cookie(srv):
    s, csrf = login(srv, ALICE)
    base = issuer(srv)
    evil = {"Origin": EVIL, "X-CSRF-Token": csrf}
    assert s.post(base + "/api/apikeys", json={}, headers=evil,
                  timeout=HTTP_TIMEOUT_S).status_code == 403
    assert s.get(base + "/api/me", headers={"Sec-Fetch-Site": "cross-site"},
                 timeout=HTTP_TIMEOUT_S).status_code == 403
    assert s.post(base + "/api/logout", headers=evil, timeout=HTTP_TIMEOUT_S).status_code == 403
    # The session survived all of that.
    r = s.get(base + "/api/me", headers={"Sec-Fetch-Site": "same-origin"}, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200 and r.json()["username"] == ALICE["username"], r.text


# -- the vault callback belongs to the person who started it -------------------------------

def test_a_colleague_cannot_complete_someone_elses_connection(srv):
    alice = key_api(srv, ALICE)
    r = alice.create("crm", "alice-link")
    assert r.status_code == 201, r.text
    cid, link = r.json()["id"], r.json()["authorization_url"]
    # Bob, signed in to acme, is sent alice's link and follows it.
    bob = Browser(srv)
    bob.login(bob.open(issuer(srv) + "/login"), BOB)
    resp, callback, _ = authorize_upstream(srv, link, browser=bob)
    assert callback, [h.url for h in bob.hops]
    assert resp.status_code == 403, (resp.status_code, resp.text[:500])
    assert "Connected" not in resp.text
    assert alice.status(cid)["status"] == "pending"
    # The link is spent: not even alice can finish it with bob's code.
    a = Browser(srv)
    a.login(a.open(issuer(srv) + "/login"), ALICE)
    resp = a.open(callback)
    assert resp.status_code == 400 and "Connected" not in resp.text, resp.text[:300]
    assert alice.status(cid)["status"] == "pending"


def test_a_callback_without_a_session_goes_through_the_login_page(srv):
    alice = key_api(srv, ALICE)
    r = alice.create("crm", "alice-login")
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    b = Browser(srv)
    resp, callback, _ = authorize_upstream(srv, r.json()["authorization_url"], browser=b)
    assert callback and is_login_page(resp), (resp.status_code, resp.url, resp.text[:300])
    assert alice.status(cid)["status"] == "pending"
    # Signed in as alice, the browser is sent back to the callback.
    resp = b.login(resp, ALICE)
    assert resp.status_code == 200 and "Connected" in resp.text, (resp.status_code,
                                                                   resp.text[:300])
    assert alice.status(cid)["status"] == "active"


# -- Shopee signing -------------------------------------------------------------------------

def connect_shop(srv, api, name):
    r = api.create("shopee", name)
    assert r.status_code in (200, 201), r.text
    resp = Browser(srv).open(r.json()["authorization_url"])
    assert resp.status_code == 200 and "Connected" in resp.text, resp.text[:300]
    return r.json()["id"]


def test_sign_refuses_public_paths_and_other_shops(srv, backend, sim):
    cid = connect_shop(srv, backend, "signer")
    for path in ("/api/v2/public/get_shops_by_partner", "/api/v2/auth/token/get",
                 "/api/v2/auth/access_token/get", "/api/v2/shop/auth_partner",
                 "/api/v2/shop/cancel_auth_partner", "/api/v2/shop/../public/get_shops_by_partner",
                 "/api/v2//public/x", "/api/v2/shop/./get_shop_info"):
        assert_error(backend.sign(cid, path=path), 400, "invalid_request")
    assert_error(backend.sign(cid, path=SHOP_INFO, shop_id=999), 400, "invalid_request")
    assert_error(backend.sign(cid, path=MERCHANT_INFO), 400, "invalid_request")  # no merchant
    r = backend.sign(cid, path=SHOP_INFO)
    assert r.status_code == 200 and r.json()["shop_id"] == 100001, r.text


# -- a provider's words are not passed on ---------------------------------------------------

def test_a_provider_echoing_the_client_secret_leaks_it_nowhere(srv, backend, stub):
    r = backend.create("echo", "echo")
    assert r.status_code == 502, r.text
    assert STUB_SECRET not in r.text and "authentication failed" not in r.text, r.text
    # A connection that worked, then fails to refresh with the same echo.
    r = backend.create("flaky", "flaky")
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    stub.fail = "invalid_client"
    try:
        ok, _ = wait_until(lambda: (backend.status(cid)["last_error"] or "") != "", timeout=15)
        st = backend.status(cid)
        assert ok, st
        assert "invalid_client" not in st["last_error"], st  # no provider words to callers
        recorded = backend.admin_status(cid)["last_error"]
        assert "invalid_client" in recorded and STUB_SECRET not in recorded, recorded
        assert len(recorded) < 256, recorded
        # A whole second past expiry: the server counts in whole seconds.
        ok, _ = wait_until(lambda: backend.status(cid)["expires_at"] + 1 < time.time(), timeout=10)
        assert ok, backend.status(cid)
        r = backend.token(cid)
        assert r.status_code == 502, r.text
        assert "invalid_client" not in r.text and STUB_SECRET not in r.text, r.text
        # The provider refuses the grant itself, with the same echo.
        stub.fail = "invalid_grant"
        ok, _ = wait_until(lambda: backend.status(cid)["status"] == "needs_reauth", timeout=15)
        assert ok, backend.status(cid)
        r = backend.token(cid)
        assert r.status_code == 409 and r.json()["error"] == "needs_reauth", r.text
        assert "invalid_grant" not in r.text and STUB_SECRET not in r.text, r.text
    finally:
        stub.fail = None
    events = audit(srv, ACME, types={"vault.refresh_failed"})
    assert events and all(STUB_SECRET not in json.dumps(e) for e in events), events
    log = srv.log_text()
    assert "invalid_client" in log and STUB_SECRET not in log
    assert base64.b64encode(("vault-stub:" + STUB_SECRET).encode()).decode() not in log


def test_a_token_endpoint_echoing_the_secret_leaks_nothing_through_libtessera(stub, tmp_path):
    probe = Probe(tmp_path, stub.base, client_id="vault-stub", secret=STUB_SECRET)
    try:
        a = probe.token()
    finally:
        probe.close()
    assert a["ok"] is False and a["status"] == 503 and a["error"] == "invalid_client", a
    assert STUB_SECRET not in json.dumps(a) and "authentication failed" not in json.dumps(a), a
    assert STUB_SECRET not in probe.log_path.read_text()


def test_provider_data_keeps_only_known_token_fields(srv, backend):
    r = backend.create("extras", "extras")
    assert r.status_code == 201, r.text
    meta = r.json()["metadata"]
    assert meta["provider_data"] == {"scope": "crm:read", "token_type": "Bearer",
                                     "instance_url": "https://na1.example"}, meta
    assert STUB_SECRET not in r.text and "leaked" not in r.text
    # What an older version kept goes with the next token.
    r = backend.create("short", "short")
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    db_exec(srv, "UPDATE vault_connections SET metadata = ? WHERE id = ?",
            (json.dumps({"provider_data": {"scope": "crm:read", "session_secret": "old"}}), cid))
    ok, _ = wait_until(lambda: "session_secret" not in
                       backend.status(cid)["metadata"].get("provider_data", {}), timeout=10)
    assert ok and backend.status(cid)["metadata"]["provider_data"]["scope"] == "crm:read"


# -- mobile login: two first logins cannot both bind ------------------------------------------

def mobile_login(srv, user, device, source):
    s = requests.Session()
    s.mount("http://", _SourceAdapter(source))
    return s.post(srv.issuer(ACME) + "/api/mobile/login",
                  json={"username": user["username"], "app_password": APP_PW,
                        "device_id": device}, timeout=60)


def test_a_first_mobile_login_does_not_undo_a_disable_made_meanwhile(srv):
    # Wrong logins (of users that do not exist, each from its own address)
    # fill the server's Argon2id slots, so the login below reads the user
    # and then waits for its hash for a while; meanwhile the administrator
    # disables the user.
    def noise(i):
        return mobile_login(srv, {"username": "nobody%d@acme.test" % i}, "N",
                            "127.0.140.%d" % (1 + i))
    with concurrent.futures.ThreadPoolExecutor(NOISE_LOGINS + 1) as pool:
        wrong = [pool.submit(noise, i) for i in range(NOISE_LOGINS)]
        time.sleep(0.05)
        login = pool.submit(mobile_login, srv, SLOW, "SLOW-PHONE", "127.0.141.1")
        time.sleep(0.05)
        out = srv.cli("user", "disable", "--tenant", ACME, SLOW["username"])
        assert out.rc == 0, out.err
        assert not login.done(), "the login finished before the disable: no race was played"
        r = login.result()
        assert all(f.result().status_code in (401, 429) for f in wrong)
    disabled = db_exec(srv, "SELECT disabled, device_id FROM users WHERE username = ?",
                       (SLOW["username"],))
    assert disabled == [(1, "SLOW-PHONE")], (disabled, r.status_code, r.text)
    # Whatever the login answered, its key does not work for a disabled user.
    if r.status_code == 200:
        auth = "token %s:%s" % (r.json()["api_key"], r.json()["api_secret"])
        assert requests.get(issuer(srv) + "/api/me", headers={"Authorization": auth},
                            timeout=HTTP_TIMEOUT_S).status_code == 401


@pytest.mark.parametrize("round_", range(RACE_ROUNDS))
def test_parallel_first_mobile_logins_from_different_devices_bind_one(srv, round_):
    user = RACERS[round_]
    devices = ["DEVICE-%d-%02d" % (round_, i) for i in range(RACE_DEVICES)]
    with concurrent.futures.ThreadPoolExecutor(RACE_DEVICES) as pool:
        answers = list(pool.map(
            lambda i: mobile_login(srv, user, devices[i], "127.0.%d.%d" % (100 + round_, 1 + i)),
            range(RACE_DEVICES)))
    statuses = sorted(r.status_code for r in answers)
    winners = [devices[i] for i, r in enumerate(answers) if r.status_code == 200]
    # The others are refused (401), or throttled (429) once the refusals
    # count against the user.
    assert len(winners) == 1 and set(statuses[1:]) <= {401, 429}, statuses
    bound = db_exec(srv, "SELECT device_id FROM users WHERE username = ?", (user["username"],))
    assert bound == [(winners[0],)], (bound, winners)
    win = next(r for r in answers if r.status_code == 200).json()
    r = requests.get(issuer(srv) + "/api/me", timeout=HTTP_TIMEOUT_S,
                     headers={"Authorization": "token %s:%s" % (win["api_key"], win["api_secret"])})
    assert r.status_code == 200 and r.json()["username"] == user["username"], r.text
    keys = db_exec(srv, "SELECT COUNT(*) FROM api_keys WHERE kind = 'device' AND user_id ="
                   " (SELECT id FROM users WHERE username = ?)", (user["username"],))
    assert keys == [(1,)], keys



@pytest.fixture(scope="module")
def pg_pair(cluster, make_module_server):  # noqa: F811 (the imported fixture)
    """Two servers on one PostgreSQL database, as behind a load balancer."""
    a = on_postgres(make_module_server, "attacks-pg-a", cluster.url)
    b = on_postgres(make_module_server, "attacks-pg-b", cluster.url, master_key=a.master_key)
    a.bootstrap_ok({"tenants": [{"name": ACME, "roles": ["Sales User"],
                                 "users": [dict(u) for u in RACERS]}]})
    a.start()
    b.public_url = a.base
    b.start()
    return a, b, cluster.url


@pytest.mark.parametrize("round_", range(RACE_ROUNDS))
def test_parallel_first_mobile_logins_at_two_servers_on_postgresql_bind_one(pg_pair, round_):
    a, b, url = pg_pair
    user = RACERS[round_]
    devices = ["PG-DEVICE-%d-%02d" % (round_, i) for i in range(RACE_DEVICES)]
    with concurrent.futures.ThreadPoolExecutor(RACE_DEVICES) as pool:
        answers = list(pool.map(
            lambda i: mobile_login((a, b)[i % 2], user, devices[i],
                                   "127.0.%d.%d" % (130 + round_, 1 + i)),
            range(RACE_DEVICES)))
    statuses = sorted(r.status_code for r in answers)
    winners = [devices[i] for i, r in enumerate(answers) if r.status_code == 200]
    assert len(winners) == 1 and set(statuses[1:]) <= {401, 429}, statuses
    q = subprocess.run(["psql", url, "-tAc", "SELECT device_id FROM users WHERE username = '%s'"
                        % user["username"]], capture_output=True, text=True, timeout=30)
    assert q.returncode == 0 and q.stdout.strip() == winners[0], (q.stdout, q.stderr, winners)


def password_login(srv, username, password, source):
    s = requests.Session()
    s.mount("http://", _SourceAdapter(source))
    return s.post(issuer(srv) + "/api/login", json={"username": username, "password": password},
                  timeout=60)


def old_parameters_user(srv, username, password):
    """A user whose stored hash has older (cheaper) Argon2id parameters, as
    an upgrade leaves them: the next login rehashes it."""
    import argon2
    r = srv.cli("user", "create", "--tenant", ACME, username, "--password", password)
    assert r.rc == 0, r.err
    cheap = argon2.PasswordHasher(time_cost=1, memory_cost=256, parallelism=1).hash(password)
    db_exec(srv, "UPDATE users SET password_hash = ? WHERE username = ?", (cheap, username))
    time.sleep(1.2)  # no cached record of the user survives
    return cheap


def test_a_login_rehashes_a_password_with_old_parameters(srv):
    old_parameters_user(srv, "rehash@acme.test", "rehash-password-1")
    assert password_login(srv, "rehash@acme.test", "rehash-password-1",
                          "127.0.150.1").status_code == 200
    (stored,), = db_exec(srv, "SELECT password_hash FROM users WHERE username = ?",
                         ("rehash@acme.test",))
    assert "m=256," not in stored and stored.startswith("$argon2id$"), stored
    assert password_login(srv, "rehash@acme.test", "rehash-password-1",
                          "127.0.150.1").status_code == 200
