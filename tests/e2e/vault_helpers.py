"""Helpers for the token vault's end-to-end tests.

The outside provider is a second Tessera tenant ("upstream") on the same
server: a real OAuth 2.0 authorization server with a login page, refresh
token rotation, revocation and an audit log that counts every refresh. The
vault's own tenant ("acme") declares it as a provider of kind oauth2. A
person connects through the upstream login page, played by requests (the
Browser of people_helpers), and the callback lands back on acme's
/connect/callback. Shopee is played by tests/e2e/shopee_sim.py.
"""
import json
import pathlib
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse

import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, fetch_token, wait_until
from people_helpers import Browser, is_login_page, query_of

UP = "upstream"   # the provider tenant
ACME = "acme"     # the tenant whose vault holds the connections
OWNER = {"username": "owner@upstream.test", "password": "owner-correct-horse-battery",
         "email": "owner@upstream.test", "name": "Upstream Owner"}
ALICE = {"username": "alice@acme.test", "password": "alice-correct-horse-battery",
         "email": "alice@acme.test", "name": "Alice", "roles": ["Sales User"]}
BOB = {"username": "bob@acme.test", "password": "bob-staple-battery-horse",
       "email": "bob@acme.test", "name": "Bob", "roles": ["Sales User"]}
# A fast scheduler tick; and enough worker threads, because the provider is
# this very server: a request thread that refreshes a token calls the
# server's own token endpoint and needs another thread to answer it.
VAULT_ENV = {"TESSERA_VAULT_TICK_MS": "100", "TESSERA_THREADS": "8"}
SIM = pathlib.Path(__file__).with_name("shopee_sim.py")
PARTNER_ID = 2001887
PARTNER_KEY = "sim-partner-key-0123456789abcdef"


def callback_uri(server):
    return server.issuer(ACME) + "/connect/callback"


def upstream_tenant(server, access_ttl=4, **over):
    """The provider: a confidential client for the authorization code grant
    with refresh tokens (no openid: refresh tokens come without
    offline_access), one for client credentials, and a user who consents."""
    t = {"name": UP, "display_name": "Upstream CRM", "access_token_ttl": access_ttl,
         "refresh_token_ttl": 3600,
         "scopes": [{"name": "crm:read"}],
         "users": [dict(OWNER)],
         "clients": [
             {"client_id": "vault", "type": "confidential", "secret": SECRET,
              "redirect_uris": [callback_uri(server)],
              "grant_types": ["authorization_code", "refresh_token"],
              "scopes": ["crm:read"], "skip_consent": True},
             {"client_id": "vault-cc", "type": "confidential", "secret": SECRET,
              "grant_types": ["client_credentials"], "scopes": ["crm:read"]},
             # Gives no refresh token (no refresh_token grant).
             {"client_id": "vault-once", "type": "confidential", "secret": SECRET,
              "redirect_uris": [callback_uri(server)], "grant_types": ["authorization_code"],
              "scopes": ["crm:read"], "skip_consent": True},
         ]}
    t.update(over)
    return t


def oauth2_provider(server, name="crm", **over):
    p = {"name": name, "kind": "oauth2",
         "authorize_url": server.endpoint(UP, "authorize"),
         "token_url": server.endpoint(UP, "token"),
         "revoke_url": server.endpoint(UP, "revoke"),
         "client_id": "vault", "client_secret": SECRET,
         "scopes": ["crm:read"], "pkce": True}
    p.update(over)
    return p


def cc_provider(server, name="crm-service", **over):
    p = {"name": name, "kind": "oauth2", "grant": "client_credentials",
         "token_url": server.endpoint(UP, "token"), "client_id": "vault-cc",
         "client_secret": SECRET, "scopes": ["crm:read"]}
    p.update(over)
    return p


def acme_tenant(providers, **over):
    """The vault's tenant: a back-end service with both vault scopes, a
    read-only one, and two people who keep connections of their own (the
    portal client may be given the vault scopes, so people acting directly
    hold them)."""
    t = {"name": ACME, "display_name": "Acme Corp",
         "roles": ["Sales User"], "api_key_roles": ["Sales User"],
         "scopes": [{"name": "vault:read"}, {"name": "vault:write"}],
         "users": [dict(ALICE), dict(BOB)],
         "clients": [
             {"client_id": "backend", "type": "confidential", "secret": SECRET,
              "grant_types": ["client_credentials"], "scopes": ["vault:read", "vault:write"]},
             {"client_id": "reader", "type": "confidential", "secret": SECRET,
              "grant_types": ["client_credentials"], "scopes": ["vault:read"]},
             {"client_id": "portal", "type": "public", "redirect_uris": ["https://acme.test/cb"],
              "grant_types": ["authorization_code"], "scopes": ["vault:read", "vault:write"]},
         ],
         "providers": providers}
    t.update(over)
    return t


def make_vault_server(factory, providers=None, access_ttl=4, env=None, extra_tenants=(),
                      upstream_over=None, **acme_over):
    """A server with the upstream and acme tenants: bootstrapped before it
    starts, because the provider URLs name its port."""
    e = dict(VAULT_ENV)
    e.update(env or {})
    s = factory(start=False, env=e, name="vault")
    doc = {"tenants": [upstream_tenant(s, access_ttl, **(upstream_over or {})),
                       acme_tenant(providers if providers is not None else [oauth2_provider(s)],
                                   **acme_over)] + list(extra_tenants)}
    s.bootstrap_ok(doc)
    s.start()
    return s


class VaultAPI:
    """The connections API of one tenant with one credential: a Bearer
    token (client credentials of `client`) or an API key (key, secret)."""

    def __init__(self, server, tenant=ACME, client="backend", apikey=None):
        self.server, self.tenant = server, tenant
        if apikey:
            self.headers = {"Authorization": "token %s:%s" % apikey}
        else:
            tok = fetch_token(server, tenant, client)["access_token"]
            self.headers = {"Authorization": "Bearer " + tok}

    def url(self, path=""):
        return self.server.issuer(self.tenant) + "/api/connections" + path

    def create(self, provider, name, **extra):
        body = {"provider": provider, "name": name}
        body.update(extra)
        return requests.post(self.url(), json=body, headers=self.headers, timeout=HTTP_TIMEOUT_S)

    def list(self):
        return requests.get(self.url(), headers=self.headers, timeout=HTTP_TIMEOUT_S)

    def get(self, cid):
        return requests.get(self.url("/" + cid), headers=self.headers, timeout=HTTP_TIMEOUT_S)

    def token(self, cid):
        return requests.post(self.url("/%s/token" % cid), headers=self.headers,
                             timeout=HTTP_TIMEOUT_S + 10)

    def sign(self, cid, **body):
        return requests.post(self.url("/%s/sign" % cid), json=body, headers=self.headers,
                             timeout=HTTP_TIMEOUT_S + 10)

    def delete(self, cid):
        return requests.delete(self.url("/" + cid), headers=self.headers,
                               timeout=HTTP_TIMEOUT_S + 10)

    def status(self, cid):
        r = self.get(cid)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def admin_status(self, cid):
        """The connection as the operator's CLI shows it: last_error holds
        the recorded cause (API callers get only a generic sentence)."""
        r = self.server.cli("connection", "show", "--tenant", self.tenant, cid)
        assert r.rc == 0, r.err
        return r.out

    def access_token(self, cid):
        r = self.token(cid)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()


def authorize_upstream(server, authorization_url, user=OWNER, browser=None, person=None):
    """Plays the person: opens the provider's authorization URL, signs in on
    the upstream login page, and follows the redirect back to acme's
    callback; for a person's connection (person given) signs in to acme as
    that person when the callback asks. Returns (final response, callback
    URL, browser)."""
    b = browser or Browser(server)
    resp = b.open(authorization_url)
    if is_login_page(resp):
        resp = b.login(resp, user)
    if person is not None and is_login_page(resp):
        hops = b.hops
        resp = b.login(resp, person)
        b.hops = hops + b.hops
    callback = None
    for h in b.hops:
        if urllib.parse.urlsplit(h.url).path.endswith("/connect/callback"):
            callback = h.url
    return resp, callback, b


def connect(server, api, provider="crm", name="crm-main", user=OWNER, person=None, **extra):
    """POST /api/connections, then the person's authorization (person: the
    acme user whose connection it is): returns the connection id and the
    callback URL that completed it."""
    r = api.create(provider, name, **extra)
    assert r.status_code in (200, 201), (r.status_code, r.text)
    body = r.json()
    assert body["authorization_url"], body
    resp, callback, _ = authorize_upstream(server, body["authorization_url"], user,
                                           person=person)
    assert resp.status_code == 200, (resp.status_code, resp.url, resp.text[:800])
    assert "Connected" in resp.text, resp.text[:800]
    return body["id"], callback


def me(server, tenant, token):
    return requests.get(server.issuer(tenant) + "/api/me",
                        headers={"Authorization": "Bearer " + token}, timeout=HTTP_TIMEOUT_S)


AUDIT_FLUSH_S = 0.4  # the server writes its audit events in batches every 200 ms


def audit(server, tenant, since="1h", types=None):
    """The tenant's audit events, oldest first (after the server's batch writer
    caught up)."""
    time.sleep(AUDIT_FLUSH_S)
    r = server.cli("audit", "--tenant", tenant, "--since", since, "--limit", "100000")
    assert r.rc == 0, r.err
    ev = sorted(r.out["events"], key=lambda e: e["id"])
    if types:
        ev = [e for e in ev if e["type"] in types]
    return ev


def refresh_grants(server):
    """Refresh-token grants the upstream tenant has answered (its audit)."""
    return [e for e in audit(server, UP, types={"token.issued"})
            if e.get("detail", {}).get("grant_type") == "refresh_token"]


def metric(server, name, **labels):
    text = requests.get(server.url("/metrics"), timeout=HTTP_TIMEOUT_S).text
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        lab = line[len(name) + 1:line.index("}")]
        got = ",".join(sorted(lab.split(",")))
        if got == want:
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_status(api, cid, status, timeout=15):
    v, _ = wait_until(lambda: api.status(cid)["status"] == status, timeout=timeout, interval=0.1)
    assert v, api.status(cid)
    return api.status(cid)


def db_exec(server, sql, params=()):
    """Edits the SQLite file behind the server's back (WAL mode: safe while
    it runs)."""
    con = sqlite3.connect(str(server.db_path), timeout=10)
    try:
        cur = con.execute(sql, params)
        rows = cur.fetchall()
        con.commit()
        return rows
    finally:
        con.close()


class ShopeeSim:
    """tests/e2e/shopee_sim.py as a subprocess."""

    def __init__(self, shop_id=100001, main_account_id=200001, shops=(100001, 100002),
                 merchants=(300001,)):
        self.proc = subprocess.Popen(
            [sys.executable, str(SIM), str(PARTNER_ID), PARTNER_KEY, "--shop-id", str(shop_id),
             "--main-account-id", str(main_account_id),
             "--shop-id-list", ",".join(map(str, shops)),
             "--merchant-id-list", ",".join(map(str, merchants))],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = int(self.proc.stdout.readline())
        self.base = "http://127.0.0.1:%d" % self.port

    def control(self, **knobs):
        r = requests.post(self.base + "/__control", data=json.dumps(knobs),
                          headers={"Content-Type": "application/json"}, timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 200, r.text
        return r.json()

    def stats(self):
        return requests.get(self.base + "/__stats", timeout=HTTP_TIMEOUT_S).json()

    def call(self, path, params):
        return requests.get(self.base + path, params=params, timeout=HTTP_TIMEOUT_S)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def state_of(url):
    return query_of(url)["state"]


def sleep_until(t):
    d = t - time.time()
    if d > 0:
        time.sleep(d)
