"""Token exchange (RFC 8693) at the token endpoint, end to end: a resource
server holding a person's access token exchanges it (a) for a narrower
Tessera token for another audience, with an act claim naming it, or (b)
for that same person's token at an outside provider, from the person's own
connection in the token vault. The attacks it invites: widening the scope,
a token of another tenant, a revoked or expired token, a client without
the grant or without vault:read, another person's or the tenant's
connection. Tokens are inspected with jwcrypto; the provider is a second
tenant of the same server (tests/e2e/vault_helpers.py)."""
import concurrent.futures
import json
import time

import pytest
import requests

from e2e_util import (HTTP_TIMEOUT_S, SECRET, assert_oauth_error, discovery, fetch_jwks,
                      token_request, wait_until)
from people_helpers import password_grant
from vault_helpers import (ACME, ALICE, BOB, UP, VAULT_ENV, VaultAPI, acme_tenant, audit,
                           cc_provider, connect, db_exec, me, metric, oauth2_provider,
                           refresh_grants, upstream_tenant)
from jwcrypto import jwt

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
AT = "urn:ietf:params:oauth:token-type:access_token"
ORDERS = "https://orders.acme.test"
SHORT = "short"  # a tenant whose access tokens live two seconds
SHORT_TTL = 2
PARALLEL = 10

SCOPES = [{"name": n} for n in ("vault:read", "vault:write", "orders:read", "orders:write",
                                "billing")]


def exchanger(cid, scopes, grants=(GRANT,)):
    return {"client_id": cid, "type": "confidential", "secret": SECRET,
            "grant_types": list(grants), "scopes": scopes}


def people_clients():
    return [
        # The app people sign in to: its tokens are the subject tokens.
        {"client_id": "app", "type": "public", "grant_types": ["password"],
         "scopes": ["vault:read", "orders:read", "orders:write", "billing"]},
        # A resource server that may exchange, and reach the vault.
        exchanger("gateway", ["vault:read", "orders:read", "orders:write"]),
        # One that may exchange for Tessera tokens only.
        exchanger("orders-svc", ["orders:read"]),
        # One that lists vault:read but not the grant.
        exchanger("no-grant", ["vault:read", "orders:read"], grants=("client_credentials",)),
    ]


@pytest.fixture(scope="module")
def srv(make_module_server):
    s = make_module_server(start=False, env=VAULT_ENV, name="exchange")
    providers = [oauth2_provider(s), oauth2_provider(s, name="crm-b"), cc_provider(s)]
    acme = acme_tenant(providers, scopes=SCOPES)
    acme["clients"] = acme["clients"] + people_clients()
    short = {"name": SHORT, "access_token_ttl": SHORT_TTL, "scopes": SCOPES,
             "roles": ["Sales User"], "users": [dict(ALICE)], "clients": people_clients()}
    doc = {"tenants": [upstream_tenant(s, 3600), acme, short]}
    s.bootstrap_ok(doc)
    s.start()
    return s


def person_token(srv, user, tenant=ACME, scope="vault:read orders:read orders:write"):
    r = password_grant(srv, tenant, user["username"], user["password"], client_id="app",
                       scope=scope)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def exchange(srv, subject, client="gateway", tenant=ACME, data=(), **params):
    d = [("grant_type", GRANT), ("subject_token", subject), ("subject_token_type", AT)]
    d += [(k, v) for k, v in params.items()]
    d += list(data)
    return token_request(srv, tenant, d, auth=(client, SECRET))


def verified_claims(srv, token, tenant=ACME):
    t = jwt.JWT(jwt=token, key=fetch_jwks(srv, tenant), algs=["ES256", "RS256", "EdDSA"],
                check_claims={"iss": srv.issuer(tenant), "exp": None})
    return json.loads(t.claims)


def user_api(srv, user):
    """An API key of a person of acme, for the connections API."""
    s = requests.Session()
    r = s.post(srv.issuer(ACME) + "/api/login", json={"username": user["username"],
                                                      "password": user["password"]},
               timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    r = s.post(srv.issuer(ACME) + "/api/apikeys", json={},
               headers={"X-CSRF-Token": r.json()["csrf_token"]}, timeout=HTTP_TIMEOUT_S)
    assert r.status_code in (200, 201), r.text
    return VaultAPI(srv, apikey=(r.json()["api_key"], r.json()["api_secret"]))


@pytest.fixture(scope="module")
def conns(srv):
    """Alice's own connection to crm, Bob's to crm-b, and the tenant's own
    connections to crm and to the client-credentials provider."""
    alice_api = user_api(srv, ALICE)
    alice_crm, _ = connect(srv, alice_api, provider="crm", name="alice-crm", person=ALICE)
    bob_api = user_api(srv, BOB)
    bob_crmb, _ = connect(srv, bob_api, provider="crm-b", name="bob-crm-b", person=BOB)
    backend = VaultAPI(srv)
    tenant_crm, _ = connect(srv, backend, provider="crm", name="tenant-crm")
    r = backend.create("crm-service", "svc")
    assert r.status_code in (200, 201), r.text
    return {"alice_api": alice_api, "alice_crm": alice_crm, "bob_api": bob_api,
            "bob_crmb": bob_crmb, "backend": backend, "tenant_crm": tenant_crm}


# ---- (a) a narrower Tessera token --------------------------------------------

def test_discovery_lists_the_grant(srv):
    assert GRANT in discovery(srv, ACME)["grant_types_supported"]


def test_narrowing_gives_a_token_for_another_audience_with_an_act_claim(srv):
    subject = person_token(srv, ALICE)
    sc = verified_claims(srv, subject)
    r = exchange(srv, subject, scope="orders:read", audience=ORDERS)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["issued_token_type"] == AT and body["token_type"] == "Bearer"
    assert body["scope"] == "orders:read"
    assert "refresh_token" not in body and "id_token" not in body
    c = verified_claims(srv, body["access_token"])
    assert c["sub"] == sc["sub"] and c["client_id"] == "gateway"
    assert c["aud"] == ORDERS and c["scope"] == "orders:read"
    assert c["act"] == {"sub": "gateway"}
    assert c["exp"] <= sc["exp"]
    assert body["expires_in"] <= sc["exp"] - int(time.time()) + 1
    # The new token is a working token of the tenant: introspection says so.
    i = requests.post(srv.endpoint(ACME, "introspect"), data={"token": body["access_token"]},
                      auth=("gateway", SECRET), timeout=HTTP_TIMEOUT_S).json()
    assert i["active"] is True and i["sub"] == sc["sub"], i


def test_a_dpop_bound_subject_token_needs_a_proof_by_its_key(srv):
    """A sender-constrained token is worth nothing without its key, so a
    stolen one cannot be laundered into an unbound token or a vault token
    by exchanging it."""
    from test_dpop import new_key, proof
    url = srv.endpoint(ACME, "token")
    key, other = new_key(), new_key()
    r = requests.post(url, data={"grant_type": "password", "client_id": "app",
                                 "username": ALICE["username"], "password": ALICE["password"],
                                 "scope": "vault:read orders:read"},
                      headers={"DPoP": proof(key, "POST", url)}, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    subject = r.json()["access_token"]
    for headers in ({}, {"DPoP": proof(other, "POST", url)}):
        r = token_request(srv, ACME, [("grant_type", GRANT), ("subject_token", subject),
                                      ("subject_token_type", AT), ("scope", "orders:read"),
                                      ("audience", ORDERS)],
                          auth=("gateway", SECRET), headers=headers)
        assert_oauth_error(r, 400, "invalid_grant")
    r = token_request(srv, ACME, [("grant_type", GRANT), ("subject_token", subject),
                                  ("subject_token_type", AT), ("audience", "crm")],
                      auth=("gateway", SECRET))
    assert_oauth_error(r, 400, "invalid_grant")
    r = token_request(srv, ACME, [("grant_type", GRANT), ("subject_token", subject),
                                  ("subject_token_type", AT), ("scope", "orders:read"),
                                  ("audience", ORDERS)],
                      auth=("gateway", SECRET), headers={"DPoP": proof(key, "POST", url)})
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    assert "cnf" in verified_claims(srv, r.json()["access_token"])


def test_omitted_scope_is_the_intersection_and_resource_is_an_audience(srv):
    subject = person_token(srv, ALICE, scope="vault:read orders:read billing")
    r = exchange(srv, subject, client="orders-svc", resource=ORDERS + "/api")
    assert r.status_code == 200, r.text
    c = verified_claims(srv, r.json()["access_token"])
    # billing and vault:read are not the client's; orders:read is both's.
    assert c["scope"] == "orders:read" and c["aud"] == ORDERS + "/api"
    assert c["act"] == {"sub": "orders-svc"}


def test_a_second_exchange_nests_the_prior_actor(srv):
    subject = person_token(srv, ALICE)
    first = exchange(srv, subject, scope="orders:read orders:write").json()["access_token"]
    r = exchange(srv, first, client="orders-svc", scope="orders:read")
    assert r.status_code == 200, r.text
    c = verified_claims(srv, r.json()["access_token"])
    assert c["act"] == {"sub": "orders-svc", "act": {"sub": "gateway"}}
    assert c["client_id"] == "orders-svc"


def test_widening_the_scope_is_refused(srv):
    subject = person_token(srv, ALICE, scope="orders:read")
    # orders:write is the client's but not in the subject token.
    assert_oauth_error(exchange(srv, subject, scope="orders:read orders:write"), 400,
                       "invalid_scope")
    # billing is in the subject token but not the client's.
    subject = person_token(srv, ALICE, scope="orders:read billing")
    assert_oauth_error(exchange(srv, subject, scope="billing"), 400, "invalid_scope")
    # Nothing in common.
    subject = person_token(srv, ALICE, scope="billing")
    assert_oauth_error(exchange(srv, subject, client="orders-svc"), 400, "invalid_scope")


def test_a_token_of_another_tenant_is_refused(srv):
    subject = person_token(srv, ALICE, tenant=SHORT)
    assert_oauth_error(exchange(srv, subject), 400, "invalid_grant")
    subject = person_token(srv, ALICE)
    assert_oauth_error(exchange(srv, subject, tenant=SHORT), 400, "invalid_grant")


def test_a_revoked_or_expired_subject_token_is_refused(srv):
    subject = person_token(srv, ALICE)
    assert exchange(srv, subject).status_code == 200
    r = requests.post(srv.endpoint(ACME, "revoke"), data={"token": subject, "client_id": "app"},
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    assert_oauth_error(exchange(srv, subject), 400, "invalid_grant")
    subject = person_token(srv, ALICE, tenant=SHORT)
    r = exchange(srv, subject, tenant=SHORT)
    assert r.status_code == 200, r.text
    # Never beyond the subject token's own expiry.
    assert r.json()["expires_in"] <= SHORT_TTL
    time.sleep(SHORT_TTL + 1)
    assert_oauth_error(exchange(srv, subject, tenant=SHORT), 400, "invalid_grant")


def test_a_client_without_the_grant_is_refused(srv):
    subject = person_token(srv, ALICE)
    assert_oauth_error(exchange(srv, subject, client="no-grant"), 400, "unauthorized_client")
    # A public client cannot even be given the grant.
    bad = {"tenants": [{"name": "pub", "clients": [
        {"client_id": "p", "type": "public", "grant_types": [GRANT]}]}]}
    assert srv.bootstrap(bad).rc != 0


def test_a_client_token_and_bad_requests_are_refused(srv, conns):
    svc = conns["backend"].headers["Authorization"].split(" ", 1)[1]
    assert_oauth_error(exchange(srv, svc), 400, "invalid_grant")
    subject = person_token(srv, ALICE)
    r = token_request(srv, ACME, {"grant_type": GRANT, "subject_token": subject,
                                  "subject_token_type": "urn:ietf:params:oauth:token-type:jwt"},
                      auth=("gateway", SECRET))
    assert_oauth_error(r, 400, "unsupported_token_type")
    r = token_request(srv, ACME, {"grant_type": GRANT, "subject_token": subject},
                      auth=("gateway", SECRET))
    assert_oauth_error(r, 400, "invalid_request")
    assert_oauth_error(exchange(srv, subject, actor_token=subject, actor_token_type=AT), 400,
                       "invalid_request")
    assert_oauth_error(exchange(srv, subject, requested_token_type="urn:x:other"), 400,
                       "invalid_request")
    assert_oauth_error(exchange(srv, subject, audience="not a uri"), 400, "invalid_target")
    assert_oauth_error(exchange(srv, "garbage"), 400, "invalid_grant")


# ---- (b) into the vault --------------------------------------------------------

def vault_exchange(srv, subject, provider, client="gateway"):
    return exchange(srv, subject, client=client, audience=provider, requested_token_type=AT)


def test_the_persons_own_vault_token_is_returned(srv, conns):
    subject = person_token(srv, ALICE)
    r = vault_exchange(srv, subject, "crm")
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["issued_token_type"] == AT and body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 3600
    assert "refresh_token" not in body
    # It is exactly Alice's connection's token, and it works at the provider.
    mine = conns["alice_api"].access_token(conns["alice_crm"])["access_token"]
    assert body["access_token"] == mine
    tenants = conns["backend"].access_token(conns["tenant_crm"])["access_token"]
    assert body["access_token"] != tenants
    assert me(srv, UP, body["access_token"]).status_code == 200


def test_another_persons_or_the_tenants_connection_is_never_returned(srv, conns):
    bob = person_token(srv, BOB)
    # Bob has no connection to crm; Alice and the tenant do.
    r = vault_exchange(srv, bob, "crm")
    body = assert_oauth_error(r, 400, "invalid_target")
    for cid, api in ((conns["alice_crm"], conns["alice_api"]),
                     (conns["tenant_crm"], conns["backend"])):
        assert api.access_token(cid)["access_token"] not in r.text
    # Alice has none to crm-b; Bob does.
    alice = person_token(srv, ALICE)
    assert_oauth_error(vault_exchange(srv, alice, "crm-b"), 400, "invalid_target")
    ok = vault_exchange(srv, bob, "crm-b")
    assert ok.status_code == 200, ok.text
    assert ok.json()["access_token"] == conns["bob_api"].access_token(
        conns["bob_crmb"])["access_token"]
    # A client-credentials provider's token is the tenant's, never a person's.
    assert_oauth_error(vault_exchange(srv, alice, "crm-service"), 400, "invalid_target")
    assert "error_description" in body


def test_vault_read_is_needed_by_the_client_and_in_the_subject_token(srv, conns):
    subject = person_token(srv, ALICE)
    assert_oauth_error(vault_exchange(srv, subject, "crm", client="orders-svc"), 400,
                       "invalid_scope")
    without = person_token(srv, ALICE, scope="orders:read")
    assert_oauth_error(vault_exchange(srv, without, "crm"), 400, "invalid_scope")
    assert_oauth_error(exchange(srv, subject, audience="crm", scope="vault:read"), 400,
                       "invalid_request")


def test_a_due_token_is_refreshed_first(srv, conns):
    cid = conns["alice_crm"]
    before_tok = conns["alice_api"].access_token(cid)["access_token"]
    before = len(refresh_grants(srv))
    now = int(time.time())
    # Inside the refresh window but still valid; the scheduler is kept away.
    db_exec(srv, "UPDATE vault_connections SET issued_at = ?, expires_at = ?, "
                 "next_refresh_at = ? WHERE id = ?", (now - 3500, now + 100, now + 3600, cid))
    r = vault_exchange(srv, person_token(srv, ALICE), "crm")
    assert r.status_code == 200, r.text
    tok = r.json()["access_token"]
    assert tok != before_tok
    assert r.json()["expires_in"] > 3000
    assert len(refresh_grants(srv)) == before + 1
    assert me(srv, UP, tok).status_code == 200
    ev = [e for e in audit(srv, ACME, types={"vault.refreshed"}) if e["subject"] == cid]
    assert ev and ev[-1]["actor"] == "token_exchange", ev


def test_parallel_exchanges_of_a_due_token_refresh_it_once(srv, conns):
    cid = conns["alice_crm"]
    subject = person_token(srv, ALICE)
    for _ in range(3):
        before = len(refresh_grants(srv))
        now = int(time.time())
        db_exec(srv, "UPDATE vault_connections SET issued_at = ?, expires_at = ?, "
                     "next_refresh_at = ? WHERE id = ?", (now - 3500, now + 100, now + 3600, cid))
        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as ex:
            rs = list(ex.map(lambda _: vault_exchange(srv, subject, "crm"), range(PARALLEL)))
        assert all(r.status_code == 200 for r in rs), [r.text for r in rs if r.status_code != 200]
        # The provider was asked once; everyone got a token that works.
        assert len(refresh_grants(srv)) == before + 1
        for tok in {r.json()["access_token"] for r in rs}:
            assert me(srv, UP, tok).status_code == 200


def test_a_connection_that_needs_reauth_is_an_error_without_the_providers_words(srv, conns):
    cid = conns["bob_crmb"]
    db_exec(srv, "UPDATE vault_connections SET status = 'needs_reauth', "
                 "last_error = 'upstream says: secret-detail' WHERE id = ?", (cid,))
    try:
        r = vault_exchange(srv, person_token(srv, BOB), "crm-b")
        assert_oauth_error(r, 400, "invalid_grant")
        assert "secret-detail" not in r.text
    finally:
        db_exec(srv, "UPDATE vault_connections SET status = 'active', last_error = NULL "
                     "WHERE id = ?", (cid,))


def test_every_exchange_is_audited_and_counted(srv, conns):
    alice = person_token(srv, ALICE)
    sub = verified_claims(srv, alice)["sub"]
    n0 = metric(srv, "tessera_tokens_issued_total", tenant=ACME, grant="token_exchange")
    assert exchange(srv, alice, audience=ORDERS, scope="orders:read").status_code == 200
    assert vault_exchange(srv, alice, "crm").status_code == 200
    assert metric(srv, "tessera_tokens_issued_total", tenant=ACME,
                  grant="token_exchange") == n0 + 2

    def found():
        ev = [e for e in audit(srv, ACME, since="1m", types={"token.exchanged"})
              if e["subject"] == sub and e["actor"] == "gateway"]
        kinds = {(e["detail"]["kind"], e["detail"]["audience"]) for e in ev}
        return {("tessera", ORDERS), ("vault", "crm")} <= kinds and ev
    ev, _ = wait_until(found, timeout=5)
    assert ev, audit(srv, ACME, since="1m", types={"token.exchanged"})
    assert all(e["detail"]["subject_client"] == "app" for e in ev)
    assert not any("access_token" in json.dumps(e) for e in ev)
