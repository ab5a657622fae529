"""The command line: the bootstrap file (idempotent, edits are
updates, unknown fields are errors naming the field, secrets printed once),
exit codes, and administration changes reaching a running server
within 2 seconds without a restart."""
import copy
import json

import pytest
import requests
from authlib.integrations.base_client import OAuthError

from e2e_util import (RELOAD_BUDGET_S, SECRET, assert_invalid_client, discovery, fetch_jwks,
                      fetch_token, token_request, verify_access_token, wait_until)

DOC = {"tenants": [{
    "name": "acme", "display_name": "Acme Corp", "audience": "https://api.acme.test",
    "scopes": [{"name": "tasks:read"}, {"name": "tasks:write"}],
    "clients": [
        {"client_id": "given", "secret": SECRET, "scopes": ["tasks:read"]},
        {"client_id": "generated", "scopes": ["tasks:read"]},
        {"client_id": "mobile", "type": "public", "redirect_uris": ["app.acme://cb"],
         "grant_types": ["authorization_code", "refresh_token"],
         "allowed_cors_origins": ["https://acme.test"]},
    ]}]}


def nothing_written(inst):
    """True when a failed command left the database without tenants (or
    never created it)."""
    r = inst.cli("tenant", "list")
    if r.rc == 1 and "does not exist" in r.err:
        return True
    return r.rc == 0 and r.out["tenants"] == []


def tenants_of(r):
    return {t["name"]: t for t in r.out["tenants"]}


def clients_of(tenant):
    return {c["client_id"]: c for c in tenant["clients"]}


@pytest.fixture(scope="module")
def template(make_module_server):
    """DOC applied once to a database (no server): (installation, result)."""
    inst = make_module_server(start=False, name="template")
    r = inst.bootstrap(DOC)
    assert r.rc == 0, r.err
    return inst, r


@pytest.fixture
def applied(make_server, template):
    """A private copy of a database that DOC was applied to."""
    return make_server(start=False, copy_of=template[0])


@pytest.fixture
def empty(make_server):
    """A fresh, empty database with no server running."""
    return make_server(start=False)


def acme_with(*clients):
    """DOC's tenant, unchanged, with only the given clients listed."""
    doc = copy.deepcopy(DOC)
    doc["tenants"][0]["clients"] = list(clients)
    return doc


# -- bootstrap ------------------------------------------------------------------

def test_first_apply_creates_everything(template):
    inst, r = template
    t = tenants_of(r)["acme"]
    assert t["created"] is True
    assert t["issuer"] == inst.issuer("acme")
    cs = clients_of(t)
    assert {c: v["created"] for c, v in cs.items()} == {"given": True, "generated": True,
                                                        "mobile": True}
    assert "client_secret" not in cs["given"]  # supplied: not echoed without --print-secrets
    assert "client_secret" not in cs["mobile"]  # public: has none
    assert len(cs["generated"]["client_secret"]) >= 32


def test_second_apply_changes_nothing(applied):
    keys_before = applied.cli("keys", "list", "--tenant", "acme").out["keys"]
    shown_before = applied.cli("tenant", "show", "acme").out
    r = applied.bootstrap(DOC)
    assert r.rc == 0, r.err
    t = tenants_of(r)["acme"]
    assert t["created"] is False
    assert all(c["created"] is False for c in t["clients"]), t
    assert all("client_secret" not in c for c in t["clients"]), t
    assert applied.cli("keys", "list", "--tenant", "acme").out["keys"] == keys_before
    assert applied.cli("tenant", "show", "acme").out == shown_before


def test_an_edited_tenant_field_is_updated(applied):
    doc = copy.deepcopy(DOC)
    doc["tenants"][0]["display_name"] = "Acme Corporation"
    t = tenants_of(applied.bootstrap(doc))["acme"]
    assert t["created"] == "updated"
    assert all(c["created"] is False for c in t["clients"]), t
    assert applied.cli("tenant", "show", "acme").out["display_name"] == "Acme Corporation"
    # and applying the edited file again changes nothing
    assert tenants_of(applied.bootstrap(doc))["acme"]["created"] is False


def test_an_edited_client_field_is_updated(applied):
    doc = copy.deepcopy(DOC)
    doc["tenants"][0]["clients"][0]["scopes"] = ["tasks:read", "tasks:write"]
    t = tenants_of(applied.bootstrap(doc))["acme"]
    assert t["created"] is False
    assert {c: v["created"] for c, v in clients_of(t).items()} == {
        "given": "updated", "generated": False, "mobile": False}
    shown = applied.cli("client", "show", "--tenant", "acme", "given").out
    assert shown["scopes"] == ["tasks:read", "tasks:write"]


def test_a_changed_secret_is_updated(applied):
    doc = copy.deepcopy(DOC)
    doc["tenants"][0]["clients"][0]["secret"] = SECRET + "-v2"
    t = tenants_of(applied.bootstrap(doc))["acme"]
    assert clients_of(t)["given"]["created"] == "updated"


@pytest.mark.parametrize("where,field", [
    ("top", "tenantz"),
    ("tenant", "audiences"),
    ("client", "grant_type"),
    ("scope", "include"),
])
def test_an_unknown_field_fails_and_names_it(empty, where, field):
    doc = copy.deepcopy(DOC)
    target = {"top": doc, "tenant": doc["tenants"][0],
              "client": doc["tenants"][0]["clients"][1],
              "scope": doc["tenants"][0]["scopes"][0]}[where]
    target[field] = ["x"]
    r = empty.bootstrap(doc)
    assert r.rc == 1, r
    msg = json_error(r)["message"]
    assert '"%s"' % field in msg or field in msg.split(), r.err
    assert nothing_written(empty)


def test_a_mistake_in_a_later_tenant_writes_nothing(empty):
    doc = copy.deepcopy(DOC)
    doc["tenants"].append({"name": "Bad Name!"})
    r = empty.bootstrap(doc)
    assert r.rc == 1
    assert r.err.strip()
    assert nothing_written(empty)


def test_a_file_that_is_not_json_fails(empty):
    r = empty.bootstrap('{"tenants": [')
    assert r.rc == 1 and "tessera" in r.err


def test_a_missing_file_fails(empty):
    r = empty.cli("bootstrap", str(empty.dir / "nonexistent.json"))
    assert r.rc == 1 and r.err.strip()


def test_a_secret_shorter_than_32_characters_is_refused(empty):
    doc = {"tenants": [{"name": "acme", "clients": [{"client_id": "c", "secret": "s" * 31}]}]}
    r = empty.bootstrap(doc)
    assert r.rc == 1
    assert "32" in r.err
    assert nothing_written(empty)


def test_a_secret_of_32_characters_is_accepted(applied):
    r = applied.bootstrap(acme_with({"client_id": "c32", "secret": "s" * 32}))
    assert r.rc == 0, r.err
    assert clients_of(tenants_of(r)["acme"])["c32"]["created"] is True


def test_print_secrets_echoes_supplied_secrets(applied):
    doc = acme_with(DOC["tenants"][0]["clients"][0], {"client_id": "another"})
    r = applied.bootstrap(doc, "--print-secrets")
    assert r.rc == 0, r.err
    cs = clients_of(tenants_of(r)["acme"])
    assert cs["given"]["client_secret"] == SECRET
    assert len(cs["another"]["client_secret"]) >= 32  # generated now: shown
    # on the next run the supplied secret is echoed again; the generated
    # one is never shown again (it is not stored in readable form)
    cs2 = clients_of(tenants_of(applied.bootstrap(doc, "--print-secrets"))["acme"])
    assert cs2["given"]["client_secret"] == SECRET
    assert "client_secret" not in cs2["another"]


def test_print_secrets_from_the_environment(applied):
    doc = acme_with(DOC["tenants"][0]["clients"][0])
    r = applied.bootstrap(doc, env={"TESSERA_PRINT_SECRETS": "on"})
    assert r.rc == 0, r.err
    assert clients_of(tenants_of(r)["acme"])["given"]["client_secret"] == SECRET
    r = applied.bootstrap(doc, env={"TESSERA_PRINT_SECRETS": "off"})
    assert "client_secret" not in clients_of(tenants_of(r)["acme"])["given"]


def test_a_generated_secret_is_shown_once(template, applied):
    assert clients_of(tenants_of(template[1])["acme"])["generated"].get("client_secret")
    second = clients_of(tenants_of(applied.bootstrap(DOC))["acme"])["generated"]
    assert "client_secret" not in second


def test_secret_env_names_a_variable_that_must_be_set(applied):
    doc = acme_with({"client_id": "c", "secret_env": "E2E_CLIENT_SECRET"})
    r = applied.bootstrap(doc)
    assert r.rc == 1 and "E2E_CLIENT_SECRET" in r.err
    r = applied.bootstrap(doc, "--print-secrets", env={"E2E_CLIENT_SECRET": SECRET})
    assert r.rc == 0, r.err
    assert clients_of(tenants_of(r)["acme"])["c"]["client_secret"] == SECRET


def test_secret_and_secret_env_together_are_refused(empty):
    doc = {"tenants": [{"name": "acme", "clients": [
        {"client_id": "c", "secret": SECRET, "secret_env": "E2E_CLIENT_SECRET"}]}]}
    assert empty.bootstrap(doc, env={"E2E_CLIENT_SECRET": SECRET}).rc == 1


# -- exit codes -------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["bootstrap"],
    ["client", "create", "c1"],             # no --tenant
    ["keys", "rotate", "--tenant", "acme", "--alg", "HS256"],
    ["tenant", "frobnicate", "acme"],
    ["audit"],                              # no --tenant
    ["tenant", "list", "--no-such-option", "x"],
    ["no-such-command"],
])
def test_usage_errors_exit_2(empty, argv):
    r = empty.cli(*argv)
    assert r.rc == 2, r
    assert r.err.strip()


def test_an_unknown_option_before_the_command_is_named(empty):
    r = empty.cli("--bogus-flag", "tenant", "list", json_out=False)
    assert r.rc == 2 and '"--bogus-flag"' in r.err, r


def test_failures_exit_1_with_one_sentence(applied):
    r = applied.cli("tenant", "show", "nosuch", json_out=False)
    assert r.rc == 1
    assert "nosuch" in r.err
    assert applied.cli("client", "list", "--tenant", "nosuch").rc == 1
    r = applied.cli("audit", "--tenant", "nosuch", json_out=False)
    assert r.rc == 1 and 'no tenant named "nosuch"' in r.err, r


def test_show_gives_every_setting_with_its_default(empty):
    assert empty.cli("tenant", "create", "plain").rc == 0
    t = empty.cli("tenant", "show", "plain").out
    assert t["access_token_alg"] == "ES256" and t["access_token_ttl"] == 900, t
    assert t["refresh_token_ttl"] == 2592000 and t["code_ttl"] == 60, t
    assert t["audience"] is None and t["domains"] == [] and t["scopes"] == [], t
    assert empty.cli("client", "create", "--tenant", "plain", "svc").rc == 0
    c = empty.cli("client", "show", "--tenant", "plain", "svc").out
    assert c["disabled"] is False and c["redirect_uris"] == [] and c["scopes"] == [], c


def test_a_deleted_tenants_audit_trail_stays_readable(applied):
    applied.cli("tenant", "create", "gone")
    assert applied.cli("tenant", "delete", "gone").rc == 0
    r = applied.cli("audit", "--tenant", "gone")
    assert r.rc == 0, r
    assert "tenant.deleted" in [e["type"] for e in r.out["events"]], r.out


def test_bootstrap_needs_the_master_key(empty):
    (empty.dir / "doc.json").write_text('{"tenants": [{"name": "acme"}]}')
    r = empty.cli("bootstrap", str(empty.dir / "doc.json"), env={"TESSERA_MASTER_KEY": ""})
    assert r.rc == 1 and "TESSERA_MASTER_KEY" in r.err


# -- changes reaching a running server ---------------------------------------------

@pytest.fixture(scope="module")
def live(make_module_server, template):
    """A running server on a copy of the DOC database."""
    return make_module_server(copy_of=template[0])


def status_becomes(srv, tenant, client_id, secret, want):
    """Polls the token endpoint until it answers want. Failed attempts count
    towards the client's throttle (5 are free), so the polling is
    slow enough to stay under it while the change is on its way."""
    def probe():
        r = token_request(srv, tenant, {"grant_type": "client_credentials"},
                          auth=(client_id, secret))
        assert r.status_code != 429 or want == 429, "throttled while polling: " + r.text
        return [r] if r.status_code == want else None  # (a 4xx Response is falsy)
    got, elapsed = wait_until(probe, timeout=RELOAD_BUDGET_S + 1, interval=0.25)
    assert got, "no %d within %.1f s" % (want, RELOAD_BUDGET_S + 1)
    assert elapsed <= RELOAD_BUDGET_S, "took %.2f s" % elapsed
    return got[0]


def test_a_generated_secret_from_bootstrap_works(live):
    r = live.bootstrap(acme_with({"client_id": "gen2"}))
    assert r.rc == 0, r.err
    secret = clients_of(tenants_of(r)["acme"])["gen2"]["client_secret"]
    status_becomes(live, "acme", "gen2", secret, 200)


def test_a_secret_from_the_environment_works(live):
    doc = acme_with({"client_id": "envsvc", "secret_env": "E2E_SVC_SECRET"})
    assert live.bootstrap(doc, env={"E2E_SVC_SECRET": SECRET + "-env"}).rc == 0
    status_becomes(live, "acme", "envsvc", SECRET + "-env", 200)
    status_becomes(live, "acme", "envsvc", SECRET, 401)


def test_a_client_created_by_the_cli_gets_a_token_within_2_s(live):
    r = live.cli("client", "create", "--tenant", "acme", "new-svc", "--grant",
                 "client_credentials", "--scope", "tasks:write")
    assert r.rc == 0, r.err
    assert r.out["result"] == "created"
    secret = r.out["client_secret"]
    status_becomes(live, "acme", "new-svc", secret, 200)
    tok = fetch_token(live, "acme", "new-svc", secret=secret)
    verify_access_token(tok["access_token"], fetch_jwks(live, "acme"),
                        issuer=live.issuer("acme"), client_id="new-svc",
                        audience="https://api.acme.test", scope="tasks:write")


def test_a_disabled_client_is_refused_within_2_s_and_enabled_again(live):
    assert live.cli("client", "create", "--tenant", "acme", "toggle", "--secret", SECRET).rc == 0
    status_becomes(live, "acme", "toggle", SECRET, 200)
    r = live.cli("client", "disable", "--tenant", "acme", "toggle")
    assert r.rc == 0, r.err
    assert r.out["disabled"] is True
    assert_invalid_client(status_becomes(live, "acme", "toggle", SECRET, 401))
    assert live.cli("client", "enable", "--tenant", "acme", "toggle").rc == 0
    status_becomes(live, "acme", "toggle", SECRET, 200)


def test_a_rotated_secret_replaces_the_old_one_within_2_s(live):
    assert live.cli("client", "create", "--tenant", "acme", "rot", "--secret", SECRET).rc == 0
    status_becomes(live, "acme", "rot", SECRET, 200)
    r = live.cli("client", "rotate-secret", "--tenant", "acme", "rot")
    assert r.rc == 0, r.err
    new = r.out["client_secret"]
    assert new != SECRET and len(new) >= 32
    status_becomes(live, "acme", "rot", new, 200)
    status_becomes(live, "acme", "rot", SECRET, 401)


def test_a_deleted_client_is_refused_within_2_s(live):
    assert live.cli("client", "create", "--tenant", "acme", "gone", "--secret", SECRET).rc == 0
    status_becomes(live, "acme", "gone", SECRET, 200)
    assert live.cli("client", "delete", "--tenant", "acme", "gone").rc == 0
    status_becomes(live, "acme", "gone", SECRET, 401)


def test_a_tenant_created_and_deleted_by_the_cli_follows_within_2_s(live):
    r = live.cli("tenant", "create", "fresh", "--display-name", "Fresh")
    assert r.rc == 0, r.err
    assert r.out["issuer"] == live.issuer("fresh")
    url = live.issuer("fresh") + "/.well-known/openid-configuration"
    got, elapsed = wait_until(lambda: requests.get(url, timeout=5).status_code == 200,
                              timeout=RELOAD_BUDGET_S + 1)
    assert got and elapsed <= RELOAD_BUDGET_S, elapsed
    assert discovery(live, "fresh")["issuer"] == live.issuer("fresh")
    assert live.cli("tenant", "delete", "fresh").rc == 0
    gone, elapsed = wait_until(lambda: requests.get(url, timeout=5).status_code == 404,
                               timeout=RELOAD_BUDGET_S + 1)
    assert gone and elapsed <= RELOAD_BUDGET_S, elapsed


def test_a_bootstrap_edit_reaches_the_running_server_within_2_s(live):
    client = {"client_id": "editsvc", "secret": SECRET, "scopes": ["tasks:read"]}
    live.bootstrap_ok(acme_with(client))
    status_becomes(live, "acme", "editsvc", SECRET, 200)
    with pytest.raises(OAuthError):
        fetch_token(live, "acme", "editsvc", scope="tasks:write")
    client["scopes"] = ["tasks:read", "tasks:write"]
    r = live.bootstrap(acme_with(client))
    assert clients_of(tenants_of(r)["acme"])["editsvc"]["created"] == "updated"

    def scope_granted():
        try:
            return fetch_token(live, "acme", "editsvc", scope="tasks:write")
        except OAuthError:
            return None
    tok, elapsed = wait_until(scope_granted, timeout=RELOAD_BUDGET_S + 1)
    assert tok and elapsed <= RELOAD_BUDGET_S, elapsed
    assert tok["scope"] == "tasks:write"


@pytest.mark.parametrize("url", [
    "postgres://tessera:pw-not-shown@127.0.0.1:1/tessera",
    "postgresql://tessera:pw-not-shown@127.0.0.1:1/tessera?password=pw-not-shown",
])
def test_a_database_url_password_is_never_printed(empty, url):
    # Nothing listens on port 1: opening fails, and the message names the
    # database without its user information or query.
    empty.db = url
    r = empty.cli("tenant", "list", json_out=False)
    assert r.rc == 1, r
    assert "pw-not-shown" not in r.err and "127.0.0.1:1/tessera" in r.err, r.err


# -- version and help --------------------------------------------------------------

def test_version_names_the_release_and_the_libraries(empty):
    r = empty.cli("--version")
    assert r.rc == 0, r.err
    assert r.out["version"].count(".") == 2
    assert r.out["commit"]
    for lib in ("openssl", "sqlite", "libpq", "libmicrohttpd", "jansson", "libcurl"):
        assert r.out[lib], lib
    plain = empty.cli("version", json_out=False)
    assert plain.rc == 0
    assert plain.out.startswith("tessera %s" % r.out["version"])


@pytest.mark.parametrize("argv", [["help"], ["--help"]])
def test_help_prints_usage_and_exits_0(empty, argv):
    r = empty.cli(*argv, json_out=False)
    assert r.rc == 0
    assert "usage: tessera" in r.out


def test_help_and_version_never_create_a_database(tmp_path):
    import os
    import subprocess
    from e2e_util import tessera_bin
    for argv in (["help"], ["--help"], ["--version"], ["version"]):
        db = tmp_path / "never.db"
        p = subprocess.run([tessera_bin(), "--db", "sqlite:%s" % db] + argv,
                           capture_output=True, text=True, cwd=tmp_path, timeout=30,
                           env=dict(os.environ))
        assert p.returncode == 0, (argv, p.stderr)
        assert not db.exists(), argv


@pytest.mark.parametrize("argv", [
    ["tenant", "list"], ["tenant", "show", "acme"], ["audit", "--tenant", "acme"],
    ["client", "list", "--tenant", "acme"], ["user", "list", "--tenant", "acme"],
    ["keys", "list", "--tenant", "acme"], ["connection", "list", "--tenant", "acme"],
    ["client", "create", "--tenant", "acme", "c1"],
])
def test_a_missing_database_is_refused_not_created(tmp_path, argv):
    import os
    import subprocess
    from e2e_util import tessera_bin
    db = tmp_path / "mistyped.db"
    p = subprocess.run([tessera_bin(), "--db", "sqlite:%s" % db, "--json"] + argv,
                       capture_output=True, text=True, cwd=tmp_path, timeout=30,
                       env=dict(os.environ, TESSERA_MASTER_KEY="11" * 32))
    assert p.returncode == 1, (argv, p.stdout, p.stderr)
    assert "does not exist" in p.stderr
    assert not db.exists()
    assert not (tmp_path / "tessera.db").exists()


def json_error(r):
    assert r.err_json is not None, r
    assert r.err.count("\n") == 1, r.err
    return r.err_json


def test_errors_are_json_with_json(applied):
    inst = applied
    r = inst.cli("tenant", "show", "no-such-tenant")
    assert r.rc == 1
    assert json_error(r)["error"] == "not_found"
    assert "no-such-tenant" in json_error(r)["message"]
    r = inst.cli("tenant", "create", "acme")
    assert r.rc == 1
    assert json_error(r)["error"] == "already_exists"
    r = inst.cli("tenant", "frobnicate", "acme")
    assert r.rc == 2
    assert json_error(r)["error"] == "usage"
    r = inst.cli("no-such-command")
    assert r.rc == 2
    assert json_error(r)["error"] == "usage"


def test_errors_are_one_sentence_without_json(applied):
    inst = applied
    r = inst.cli("tenant", "show", "no-such-tenant", json_out=False)
    assert r.rc == 1
    assert r.err.startswith("tessera: ") and r.err.count("\n") == 1


@pytest.mark.parametrize("argv", [["serve", "--help"], ["serve", "-h"], ["tenant", "--help"],
                                  ["bootstrap", "--help"], ["keys", "rotate", "--help"],
                                  ["user", "delete", "--tenant", "acme", "x", "--help"]])
def test_command_help_prints_usage_and_does_nothing(tmp_path, argv):
    import os
    import subprocess
    from e2e_util import tessera_bin
    db = tmp_path / "t.db"
    p = subprocess.run([tessera_bin(), "--db", "sqlite:%s" % db, "--listen", "127.0.0.1:0"] + argv,
                       capture_output=True, text=True, cwd=tmp_path, timeout=10,
                       env=dict(os.environ, TESSERA_MASTER_KEY="22" * 32))
    assert p.returncode == 0, (argv, p.stderr)
    assert "usage: tessera" in p.stdout
    assert not db.exists()


def test_a_tenant_that_cannot_get_keys_is_not_created(applied):
    r = applied.cli("tenant", "create", "keyless", env={"TESSERA_MASTER_KEY": ""})
    assert r.rc == 1 and "TESSERA_MASTER_KEY" in r.err, r
    assert "keyless" not in [t["name"] for t in applied.cli("tenant", "list").out["tenants"]]
    r = applied.cli("tenant", "create", "keyless")
    assert r.rc == 0, r.err
    assert applied.cli("keys", "list", "--tenant", "keyless").out


def test_a_failed_tenant_create_on_a_new_path_creates_no_database(tmp_path):
    import os
    import subprocess
    from e2e_util import tessera_bin
    db = tmp_path / "new.db"
    env = {k: v for k, v in os.environ.items() if k != "TESSERA_MASTER_KEY"}
    p = subprocess.run([tessera_bin(), "--db", "sqlite:%s" % db, "tenant", "create", "x"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=30, env=env)
    assert p.returncode == 1 and "TESSERA_MASTER_KEY" in p.stderr
    assert not db.exists()
