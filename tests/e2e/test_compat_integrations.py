"""The "integrations" profile: an integrations token manager's connector
pointed at a tessera tenant's vault, sending the request bodies it sends:
POST /api/oauth/authorize {provider, integrationId} -> authorizationUrl,
POST /api/oauth/client-credentials and POST /api/oauth/token
{provider, integrationId} -> the token, where integrationId is the
connection's name. The providers are a second tenant of the same server
(tests/e2e/vault_helpers.py). The same requests at a tenant without the
profile answer 404, and each route refuses what the vault refuses: missing
scopes, another person's connection, a person asking for the tenant's
machine token, other tenants' credentials."""
import time

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, fetch_token
from vault_helpers import (ACME, ALICE, BOB, UP, VAULT_ENV, VaultAPI, acme_tenant,
                           authorize_upstream, cc_provider, me, oauth2_provider, upstream_tenant)


@pytest.fixture(scope="module")
def srv(make_module_server):
    s = make_module_server(start=False, env=VAULT_ENV, name="vault")
    providers = [oauth2_provider(s, name="salesforce"), cc_provider(s, name="hubspot")]
    plain = acme_tenant(providers, name="plain", users=[], clients=acme_tenant([])["clients"][:2])
    doc = {"tenants": [upstream_tenant(s, 3600), acme_tenant(providers, compat=["integrations"]),
                       plain]}
    s.bootstrap_ok(doc)
    s.start()
    return s


def call(srv, path, body, api=None, tenant=ACME, headers=None):
    h = dict(api.headers if api else {})
    h.update(headers or {})
    return requests.post(srv.issuer(tenant) + path, json=body, headers=h,
                         timeout=HTTP_TIMEOUT_S + 10)


def person(srv, user):
    s = requests.Session()
    r = s.post(srv.issuer(ACME) + "/api/login", json={"username": user["username"],
                                                      "password": user["password"]},
               timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    r = s.post(srv.issuer(ACME) + "/api/apikeys", json={},
               headers={"X-CSRF-Token": r.json()["csrf_token"]}, timeout=HTTP_TIMEOUT_S)
    assert r.status_code in (200, 201), r.text
    return VaultAPI(srv, apikey=(r.json()["api_key"], r.json()["api_secret"]))


def test_authorization_code_flow_as_the_seed_runs_it(srv):
    api = VaultAPI(srv)
    # The seed's curl example, with the service's credential.
    r = call(srv, "/api/oauth/authorize", {"provider": "salesforce", "integrationId": "test_123"},
             api)
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["authorizationUrl"].startswith(srv.endpoint(UP, "authorize")), b
    assert b["status"] == "pending" and b["connectionId"], b
    # Before the person authorizes there is no token.
    r = call(srv, "/api/oauth/token", {"provider": "salesforce", "integrationId": "test_123"}, api)
    assert r.status_code == 409 and r.json()["error"] == "connection_pending", r.text
    resp, _, _ = authorize_upstream(srv, b["authorizationUrl"])
    assert resp.status_code == 200 and "Connected" in resp.text, resp.text[:300]
    r = call(srv, "/api/oauth/token", {"provider": "salesforce", "integrationId": "test_123"}, api)
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["tokenType"] == "Bearer" and t["integrationId"] == "test_123", t
    assert t["provider"] == "salesforce" and 0 < t["expiresIn"] <= 3600, t
    assert t["expiresAt"].endswith("Z") and r.headers["Cache-Control"] == "no-store"
    # It is the provider's real token, the one the native route gives.
    assert t["accessToken"] == api.access_token(b["connectionId"])["access_token"]
    assert me(srv, UP, t["accessToken"]).status_code == 200
    # The provider must match the integration.
    r = call(srv, "/api/oauth/token", {"provider": "hubspot", "integrationId": "test_123"}, api)
    assert r.status_code == 404, r.text


def test_client_credentials_flow_as_the_seed_runs_it(srv):
    api = VaultAPI(srv)
    body = {"provider": "hubspot", "integrationId": "tenant_123"}
    r = call(srv, "/api/oauth/client-credentials", body, api)
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["tokenType"] == "Bearer" and t["integrationId"] == "tenant_123", t
    who = me(srv, UP, t["accessToken"]).json()
    assert who["principal_type"] == "service" and who["client_id"] == "vault-cc", who
    r = call(srv, "/api/oauth/token", body, api)
    assert r.status_code == 200 and r.json()["accessToken"] == t["accessToken"], r.text
    # Each route is for its grant.
    r = call(srv, "/api/oauth/authorize", body, api)
    assert r.status_code == 400, r.text
    r = call(srv, "/api/oauth/client-credentials",
             {"provider": "salesforce", "integrationId": "x"}, api)
    assert r.status_code == 400, r.text


def test_bad_bodies_are_400(srv):
    api = VaultAPI(srv)
    for path in ("/api/oauth/authorize", "/api/oauth/client-credentials", "/api/oauth/token"):
        for body in ({}, {"provider": "salesforce"}, {"integrationId": "x"},
                     {"provider": "salesforce", "integrationId": 5}):
            r = call(srv, path, body, api)
            assert r.status_code == 400, (path, body, r.text)
        r = call(srv, path, {"provider": "nope", "integrationId": "x"}, api)
        assert r.status_code in (400, 404), (path, r.text)


def test_who_may_do_what(srv):
    api = VaultAPI(srv)
    reader = VaultAPI(srv, client="reader")
    # vault:write to start a connection; no credential at all: 401.
    r = call(srv, "/api/oauth/authorize", {"provider": "salesforce", "integrationId": "r"}, reader)
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope", r.text
    r = call(srv, "/api/oauth/authorize", {"provider": "salesforce", "integrationId": "r"})
    assert r.status_code == 401
    r = call(srv, "/api/oauth/token", {"provider": "hubspot", "integrationId": "tenant_123"})
    assert r.status_code == 401
    # Another tenant's token: 401 here.
    other = fetch_token(srv, "plain", "backend")["access_token"]
    r = call(srv, "/api/oauth/token", {"provider": "hubspot", "integrationId": "tenant_123"},
             headers={"Authorization": "Bearer " + other})
    assert r.status_code == 401, r.text
    # A person: their own authorization-code connection; never the tenant's
    # machine token, nor another person's connection.
    alice, bob = person(srv, ALICE), person(srv, BOB)
    r = call(srv, "/api/oauth/authorize", {"provider": "salesforce", "integrationId": "mine"},
             alice)
    assert r.status_code == 201, r.text
    resp, _, _ = authorize_upstream(srv, r.json()["authorizationUrl"], person=ALICE)
    assert "Connected" in resp.text, resp.text[:300]
    r = call(srv, "/api/oauth/token", {"provider": "salesforce", "integrationId": "mine"}, alice)
    assert r.status_code == 200 and r.json()["accessToken"], r.text
    r = call(srv, "/api/oauth/token", {"provider": "salesforce", "integrationId": "mine"}, bob)
    assert r.status_code == 404, r.text
    call(srv, "/api/oauth/client-credentials", {"provider": "hubspot",
                                                "integrationId": "tenant_123"}, api)
    r = call(srv, "/api/oauth/token", {"provider": "hubspot", "integrationId": "tenant_123"},
             alice)
    assert r.status_code in (403, 404) and "accessToken" not in r.text, r.text
    r = call(srv, "/api/oauth/client-credentials",
             {"provider": "hubspot", "integrationId": "alice_cc"}, alice)
    assert r.status_code == 403 and "accessToken" not in r.text, r.text


def test_a_tenant_without_the_profile_answers_404(srv):
    api = VaultAPI(srv, tenant="plain")
    for path in ("/api/oauth/authorize", "/api/oauth/client-credentials", "/api/oauth/token"):
        r = call(srv, path, {"provider": "hubspot", "integrationId": "x"}, api, tenant="plain")
        assert r.status_code == 404, (path, r.text)
    # Its native vault is there.
    assert api.create("hubspot", "native").status_code == 201
