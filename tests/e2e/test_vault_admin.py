"""Declaring token-vault providers (docs/VAULT.md): the
bootstrap file's "providers" section and `tessera provider …`, the
ready-made profiles, validation (unknown fields named, URLs, credentials),
idempotence, secrets sealed and never printed back, and `tessera connection
…`. No server runs here except where a test says so."""
import json

import pytest

from e2e_util import SECRET
from vault_helpers import ACME, PARTNER_KEY, db_exec

HUB_SECRET = "hubspot-client-secret-0123456789"


def tenant(providers=None, **over):
    t = {"name": ACME, "providers": providers or []}
    t.update(over)
    return t


@pytest.fixture(scope="module")
def inst(make_module_server):
    s = make_module_server({"tenants": [tenant()]}, start=False, name="vault-admin")
    return s


def provider_cli(s, *args, env=None):
    return s.cli("provider", *args, "--tenant", ACME, env=env)


def test_profiles_fill_urls_and_defaults(inst):
    doc = {"tenants": [tenant([
        {"name": "sf", "profile": "salesforce", "client_id": "sf-id", "client_secret": SECRET},
        {"name": "hub", "profile": "hubspot", "client_id": "hub-id",
         "client_secret_env": "HUB_SECRET"},
        {"name": "goog", "profile": "google", "client_id": "g-id", "client_secret": SECRET,
         "scopes": ["https://www.googleapis.com/auth/drive.readonly"]},
        {"name": "ms", "profile": "microsoft", "client_id": "m-id", "client_secret": SECRET,
         "microsoft_tenant": "contoso.onmicrosoft.com"},
        {"name": "ms-common", "profile": "microsoft", "client_id": "m-id",
         "client_secret": SECRET},
        {"name": "fhir", "profile": "smart-on-fhir", "fhir_base_url": "https://fhir.example/r4",
         "client_id": "app", "auth_method": "none"},
        {"name": "shop", "profile": "shopee", "partner_id": 2001887, "partner_key": PARTNER_KEY,
         "base_url": "sandbox"},
    ])]}
    out = inst.bootstrap_ok(doc, env={"HUB_SECRET": HUB_SECRET})
    got = {p["name"]: p["created"] for p in out["tenants"][0]["providers"]}
    assert got == {n: True for n in ("sf", "hub", "goog", "ms", "ms-common", "fhir", "shop")}
    r = provider_cli(inst, "list")
    assert r.rc == 0, r.err
    ps = {p["name"]: p for p in r.out["providers"]}
    sf = ps["sf"]
    assert sf["kind"] == "oauth2" and sf["profile"] == "salesforce"
    assert sf["authorize_url"] == "https://login.salesforce.com/services/oauth2/authorize"
    assert sf["token_url"] == "https://login.salesforce.com/services/oauth2/token"
    assert sf["revoke_url"] == "https://login.salesforce.com/services/oauth2/revoke"
    # Salesforce sends no expires_in: the lifetime to assume.
    assert sf["token_lifetime"] == 7200 and sf["has_secret"] is True
    hub = ps["hub"]
    assert hub["authorize_url"] == "https://app.hubspot.com/oauth/authorize"
    assert hub["token_url"] == "https://api.hubapi.com/oauth/v1/token"
    assert hub["auth_method"] == "client_secret_post" and "revoke_url" not in hub
    goog = ps["goog"]
    assert goog["authorize_url"] == "https://accounts.google.com/o/oauth2/v2/auth"
    assert goog["token_url"] == "https://oauth2.googleapis.com/token"
    assert goog["revoke_url"] == "https://oauth2.googleapis.com/revoke"
    assert goog["extra_authorize_params"] == {"access_type": "offline", "prompt": "consent"}
    assert goog["scopes"] == ["https://www.googleapis.com/auth/drive.readonly"]
    assert ps["ms"]["authorize_url"] == ("https://login.microsoftonline.com/"
                                         "contoso.onmicrosoft.com/oauth2/v2.0/authorize")
    assert ps["ms-common"]["token_url"] == ("https://login.microsoftonline.com/common/"
                                            "oauth2/v2.0/token")
    fhir = ps["fhir"]
    assert fhir["fhir_base_url"] == "https://fhir.example/r4" and fhir["pkce"] is True
    assert "authorize_url" not in fhir and fhir["has_secret"] is False
    shop = ps["shop"]
    assert shop["kind"] == "shopee" and shop["partner_id"] == 2001887
    assert shop["base_url"] == "https://partner.test-stable.shopeemobile.com"
    # No secret is ever printed back, and none is stored readable.
    for text in (r.err, json.dumps(r.out), json.dumps(out)):
        assert SECRET not in text and HUB_SECRET not in text and PARTNER_KEY not in text
    raw = inst.db_path.read_bytes()
    wal = inst.db_path.with_name(inst.db_path.name + "-wal")
    if wal.exists():
        raw += wal.read_bytes()
    for s in (SECRET, HUB_SECRET, PARTNER_KEY):
        assert s.encode() not in raw
    rows = db_exec(inst, "SELECT name, sealed_secret FROM vault_providers")
    assert all(v is None or v.startswith("v1.") for _, v in rows), rows
    # Applying the same file again changes nothing; an edit is "updated".
    again = inst.bootstrap_ok(doc, env={"HUB_SECRET": HUB_SECRET})
    assert all(p["created"] is False for p in again["tenants"][0]["providers"])
    again = inst.bootstrap_ok(doc, env={"HUB_SECRET": HUB_SECRET + "-rotated"})
    got = {p["name"]: p["created"] for p in again["tenants"][0]["providers"]}
    assert got["hub"] == "updated" and got["sf"] is False


@pytest.mark.parametrize("provider,needle", [
    ({"name": "x", "kind": "oauth2", "token_url": "https://a.example/t", "client_id": "c",
      "client_secret": SECRET, "authorize_url": "https://a.example/a", "colour": "blue"},
     "colour"),
    ({"name": "x", "profile": "hubspot", "client_id": "c", "client_secret": SECRET,
      "partner_id": 1}, "partner_id"),
    ({"name": "x", "profile": "shopee", "partner_id": 1, "partner_key": "k",
      "client_id": "c"}, "client_id"),
    ({"name": "x", "profile": "nosuch", "client_id": "c"}, "nosuch"),
    ({"name": "x", "kind": "oauth2", "authorize_url": "http://a.example/a",
      "token_url": "https://a.example/t", "client_id": "c", "client_secret": SECRET},
     "authorize_url"),
    ({"name": "x", "kind": "oauth2", "authorize_url": "https://a.example/a",
      "token_url": "ftp://a.example/t", "client_id": "c", "client_secret": SECRET}, "token_url"),
    ({"name": "x", "kind": "oauth2", "authorize_url": "https://a.example/a",
      "client_id": "c", "client_secret": SECRET}, "token_url"),
    ({"name": "x", "kind": "oauth2", "authorize_url": "https://a.example/a",
      "token_url": "https://a.example/t", "client_id": "c"}, "client_secret"),
    ({"name": "x", "kind": "oauth2", "authorize_url": "https://a.example/a",
      "token_url": "https://a.example/t", "client_id": "c", "client_secret": SECRET,
      "client_secret_env": "NOPE_NOT_SET"}, "not both"),
    ({"name": "x", "kind": "oauth2", "authorize_url": "https://a.example/a",
      "token_url": "https://a.example/t", "client_id": "c",
      "client_secret_env": "NOPE_NOT_SET"}, "NOPE_NOT_SET"),
    ({"name": "x", "kind": "oauth2", "authorize_url": "https://a.example/a",
      "token_url": "https://a.example/t", "client_id": "c", "client_secret": SECRET,
      "extra_authorize_params": {"state": "x"}}, "state"),
    ({"name": "x", "kind": "oauth2", "authorize_url": "https://a.example/a",
      "token_url": "https://a.example/t", "client_id": "c", "client_secret": SECRET,
      "auth_method": "private_key_jwt"}, "auth_method"),
    ({"name": "x", "kind": "oauth2", "authorize_url": "https://a.example/a",
      "token_url": "https://a.example/t", "client_id": "c", "client_secret": SECRET,
      "grant": "password"}, "grant"),
    ({"name": "x", "kind": "oauth2", "authorize_url": "https://a.example/a",
      "token_url": "https://a.example/t", "client_id": "c", "client_secret": SECRET,
      "token_lifetime": 0}, "token_lifetime"),
    ({"name": "x", "profile": "smart-on-fhir", "client_id": "c", "client_secret": SECRET},
     "fhir_base_url"),
    ({"name": "x", "kind": "oauth2", "authorize_url": "https://a.example/a",
      "token_url": "https://a.example/t", "client_id": "c", "client_secret": SECRET,
      "fhir_base_url": "https://f.example"}, "fhir_base_url"),
    ({"name": "x", "kind": "oauth2", "authorize_url": "https://a.example/a",
      "token_url": "https://a.example/t", "client_id": "c", "auth_method": "none",
      "pkce": False}, "pkce"),
    ({"name": "x", "profile": "shopee", "partner_id": -4, "partner_key": "k"}, "partner_id"),
    ({"name": "x", "profile": "shopee", "partner_id": 1}, "partner_key"),
    ({"name": "x", "profile": "shopee", "partner_id": 1, "partner_key": "k",
      "base_url": "http://shopee.example"}, "base_url"),
    ({"name": "bad name!", "profile": "hubspot", "client_id": "c", "client_secret": SECRET},
     "name"),
    ({"name": "x", "kind": "ldap"}, "kind"),
])
def test_bad_providers_are_refused_with_the_field_named(inst, provider, needle):
    r = inst.bootstrap({"tenants": [tenant([provider])]})
    assert r.rc == 1, (r.out, r.err)
    assert needle in r.err, r.err
    assert r.err.count("\n") == 1, r.err


def test_a_bad_connection_section_is_refused_before_anything_is_written(inst):
    good = {"name": "fresh", "profile": "hubspot", "client_id": "c", "client_secret": SECRET}
    r = inst.bootstrap({"tenants": [tenant([good], connections=[{"provider": "fresh",
                                                                   "name": "n", "x": 1}])]})
    assert r.rc == 1 and "\"x\"" in r.err, r.err
    r = inst.bootstrap({"tenants": [tenant([good], connections=[{"provider": "fresh",
                                                                   "name": "n"}])]})
    assert r.rc == 1 and "POST /api/connections" in r.err, r.err
    r = inst.bootstrap({"tenants": [tenant([good], connections={"a": 1})]})
    assert r.rc == 1 and "connections" in r.err
    # Validation failed before any write: "fresh" does not exist.
    assert provider_cli(inst, "show", "fresh").rc == 1


def test_the_cli_creates_updates_shows_and_deletes_providers(inst):
    r = provider_cli(inst, "create", "cli-crm", "--authorize-url", "https://crm.example/auth",
                     "--token-url", "https://crm.example/token", "--client-id", "cid",
                     "--client-secret", SECRET, "--scope", "a", "--scope", "b", "--pkce", "false",
                     "--extra-param", "audience=https://api.crm.example")
    assert r.rc == 0, r.err
    assert r.out["result"] == "created" and r.out["scopes"] == ["a", "b"]
    assert r.out["pkce"] is False and r.out["auth_method"] == "client_secret_basic"
    assert r.out["extra_authorize_params"] == {"audience": "https://api.crm.example"}
    assert r.out["grant"] == "authorization_code" and r.out["token_lifetime"] == 3600
    assert SECRET not in json.dumps(r.out)
    before = db_exec(inst, "SELECT sealed_secret FROM vault_providers WHERE name = 'cli-crm'")
    # An update changes what is given and keeps the secret.
    r = provider_cli(inst, "update", "cli-crm", "--scope", "c", "--token-lifetime", "60")
    assert r.rc == 0, r.err
    assert r.out["result"] == "updated" and r.out["scopes"] == ["c"]
    assert r.out["token_lifetime"] == 60 and r.out["pkce"] is False and r.out["has_secret"]
    assert db_exec(inst, "SELECT sealed_secret FROM vault_providers WHERE name = 'cli-crm'") == before
    r = provider_cli(inst, "update", "cli-crm", "--scope", "c", "--token-lifetime", "60")
    assert r.rc == 0 and r.out["result"] == "unchanged", r.out
    r = provider_cli(inst, "update", "cli-crm", "--client-secret", SECRET + "-new")
    assert r.rc == 0 and r.out["result"] == "updated"
    assert db_exec(inst, "SELECT sealed_secret FROM vault_providers WHERE name = 'cli-crm'") != before
    assert provider_cli(inst, "create", "cli-crm", "--profile", "hubspot").rc == 1
    assert provider_cli(inst, "update", "no-such", "--scope", "x").rc == 1
    r = provider_cli(inst, "update", "cli-crm", "--token-url", "http://crm.example/t")
    assert r.rc == 1 and "token_url" in r.err
    r = provider_cli(inst, "show", "cli-crm")
    assert r.rc == 0 and r.out["token_url"] == "https://crm.example/token"
    r = provider_cli(inst, "create", "cli-shop", "--profile", "shopee", "--partner-id", "77",
                     "--partner-key-env", "PK", env={"PK": PARTNER_KEY})
    assert r.rc == 0 and r.out["partner_id"] == 77, r.err
    assert r.out["base_url"] == "https://partner.shopeemobile.com"
    assert provider_cli(inst, "delete", "cli-shop").rc == 0
    assert provider_cli(inst, "show", "cli-shop").rc == 1
    r = inst.cli("provider", "list", "--tenant", "no-such-tenant")
    assert r.rc == 1 and "no-such-tenant" in r.err
    r = inst.cli("provider", "frobnicate", "--tenant", ACME)
    assert r.rc == 2


def test_a_provider_in_use_cannot_be_deleted(make_server):
    from vault_helpers import VaultAPI, make_vault_server
    s = make_vault_server(make_server)
    api = VaultAPI(s)
    cid = api.create("crm", "pending-one").json()["id"]
    r = s.cli("provider", "delete", "--tenant", ACME, "crm")
    assert r.rc == 1 and "connections" in r.err, r.err
    r = s.cli("connection", "list", "--tenant", ACME)
    assert r.rc == 0 and [c["id"] for c in r.out["connections"]] == [cid], r.out
    r = s.cli("connection", "show", "--tenant", ACME, cid)
    assert r.rc == 0 and r.out["status"] == "pending"
    r = s.cli("connection", "delete", "--tenant", ACME, cid)
    assert r.rc == 0 and r.out["deleted"] is True, r.err
    assert api.get(cid).status_code == 404
    assert s.cli("provider", "delete", "--tenant", ACME, "crm").rc == 0
    # Deleting the tenant takes its providers and connections along.
    assert s.cli("tenant", "delete", ACME).rc == 0
    assert db_exec(s, "SELECT count(*) FROM vault_providers")[0][0] == 0
