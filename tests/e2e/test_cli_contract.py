"""The command line's contract: a command that fails changes nothing (a
bootstrap file is applied whole or not at all, on SQLite and PostgreSQL,
and no failing command leaves a new database behind), errors on stderr are
only the error, every option has an environment variable and a config-file
key, and --print-secrets echoes every secret the file supplied."""
import json
import os
import subprocess
import threading
import time
import uuid

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, clean_env, tessera_bin, wait_until
from test_postgres import cluster, on_postgres  # noqa: F401 (cluster is a fixture)

ALICE = {"username": "alice@acme.test", "password": "alice-correct-horse",
         "email": "alice@acme.test", "name": "Alice", "roles": ["Sales User"]}


def acme(**over):
    t = {"name": "acme", "display_name": "Acme Corp", "roles": ["Sales User"],
         "scopes": [{"name": "tasks:read"}],
         "clients": [{"client_id": "svc", "secret": SECRET, "scopes": ["tasks:read"]}],
         "users": [dict(ALICE)],
         "groups": [{"name": "G", "members": [ALICE["username"]]}]}
    t.update(over)
    return t


GOOD = {"tenants": [acme()]}


def changed_acme(**over):
    """acme with its display name and alice's name changed."""
    return acme(display_name="CHANGED", users=[dict(ALICE, name="Alice CHANGED")], **over)


# A file that creates a tenant and changes another before it fails, late.
BAD_GROUP = {"tenants": [{"name": "newco"}, changed_acme(
    groups=[{"name": "G", "members": [ALICE["username"], "ghost@acme.test"]}])]}
BAD_CONNECTION = {"tenants": [{"name": "newco"}, changed_acme(
    connections=[{"provider": "nowhere", "name": "svc"}])]}


@pytest.fixture(params=["sqlite", "postgres"])
def inst(request, make_server):
    """A fresh installation (no server) on each database."""
    if request.param == "sqlite":
        return make_server(start=False)
    c = request.getfixturevalue("cluster")
    url = c.create_database("cli_" + uuid.uuid4().hex[:12])
    return on_postgres(make_server, "pg-cli", url)


def state(inst):
    """Everything the CLI shows of the installation's configuration."""
    r = inst.cli("tenant", "list")
    if r.rc == 1 and "does not exist" in r.err:
        return None
    assert r.rc == 0, r.err
    out = {"tenants": r.out}
    for t in r.out["tenants"]:
        name = t["name"]
        for what in (("tenant", "show", name), ("client", "list", "--tenant", name),
                     ("user", "list", "--tenant", name), ("group", "list", "--tenant", name),
                     ("provider", "list", "--tenant", name),
                     ("connection", "list", "--tenant", name),
                     ("audit", "--tenant", name)):
            s = inst.cli(*what)
            assert s.rc == 0, (what, s.err)
            out[" ".join(what)] = s.out
    return out


@pytest.mark.parametrize("doc,reason", [(BAD_GROUP, "group G: no user \"ghost@acme.test\""),
                                        (BAD_CONNECTION, "has no provider \"nowhere\"")])
def test_a_failed_bootstrap_changes_nothing(inst, doc, reason):
    inst.bootstrap_ok(GOOD)
    before = state(inst)
    r = inst.bootstrap(doc)
    assert r.rc == 1 and reason in r.err, r.err
    assert r.out is None, "no result is printed for a file that failed"
    assert state(inst) == before
    # The good file still applies, and applying it again changes nothing.
    out = inst.bootstrap_ok(GOOD)
    assert out["tenants"][0]["created"] is False
    assert state(inst) == before


@pytest.mark.parametrize("doc", [BAD_GROUP, BAD_CONNECTION])
def test_a_failed_bootstrap_on_an_empty_database_changes_nothing(inst, doc):
    r = inst.bootstrap(doc)
    assert r.rc == 1, r.err
    s = state(inst)
    assert s is None or s["tenants"] == {"tenants": []}, s


def test_a_good_file_applies_whole_and_again_changes_nothing(inst):
    doc = {"tenants": [{"name": "newco"}, acme()]}
    out = inst.bootstrap_ok(doc)
    assert [t["created"] for t in out["tenants"]] == [True, True]
    acme_out = out["tenants"][1]
    assert acme_out["users"] == [{"username": ALICE["username"], "created": True}]
    assert acme_out["groups"][0]["created"] is True
    first = state(inst)
    again = inst.bootstrap_ok(doc)
    assert [t["created"] for t in again["tenants"]] == [False, False]
    assert again["tenants"][1]["groups"][0]["id"] == acme_out["groups"][0]["id"]
    assert state(inst) == first
    # An edited file is applied as a whole too.
    doc["tenants"][1] = changed_acme()
    edited = inst.bootstrap_ok(doc)
    assert edited["tenants"][1]["created"] == "updated"
    assert edited["tenants"][1]["users"][0]["created"] == "updated"


MOBILE = {"client_id": "mobile", "type": "public", "redirect_uris": ["app.acme://cb"],
          "grant_types": ["authorization_code", "refresh_token", "password"],
          "scopes": ["openid", "offline_access"]}


def test_a_running_server_keeps_serving_through_a_failed_and_a_good_bootstrap(make_server):
    """The server keeps answering, writes included (a password grant stores
    a refresh token), while files are applied on its SQLite database; a
    good file of 20 users holds the write lock for about half a second."""
    clients = GOOD["tenants"][0]["clients"] + [MOBILE]
    srv = make_server({"tenants": [acme(clients=clients)]})
    token_url = srv.endpoint("acme", "token")

    def token():
        r = requests.post(token_url, data={"grant_type": "client_credentials"},
                          auth=("svc", SECRET), timeout=HTTP_TIMEOUT_S)
        return r.status_code

    def password():
        r = requests.post(token_url, data={
            "grant_type": "password", "client_id": "mobile", "username": ALICE["username"],
            "password": ALICE["password"], "scope": "openid offline_access"},
            timeout=HTTP_TIMEOUT_S)
        assert r.status_code != 200 or "refresh_token" in r.json(), r.text
        return r.status_code

    statuses = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            statuses.append(token())
            statuses.append(password())
            statuses.append(requests.get(srv.url("/readyz"), timeout=HTTP_TIMEOUT_S).status_code)
            time.sleep(0.02)

    th = threading.Thread(target=poll)
    th.start()
    try:
        r = srv.bootstrap(BAD_GROUP)
        assert r.rc == 1, r.err
        many = [dict(ALICE)] + [{"username": "u%d@acme.test" % i, "password": "pw-%d-long" % i}
                                for i in range(19)]
        out = srv.bootstrap_ok({"tenants": [acme(clients=clients, users=many),
                                            {"name": "newco"}]})
        assert out["tenants"][1]["created"] is True
    finally:
        stop.set()
        th.join()
    assert statuses and set(statuses) == {200}, statuses
    wait_until(lambda: requests.get(srv.issuer("newco") + "/.well-known/openid-configuration",
                                    timeout=HTTP_TIMEOUT_S).status_code == 200)
    # What the failed file did to acme never reached the server.
    assert srv.cli("tenant", "show", "acme").out["display_name"] == "Acme Corp"


# -- a failing command leaves no new database --------------------------------------------

def run_in(d, *args, env=None, timeout=30):
    """tessera ARGS in directory d, with the default database (tessera.db there)."""
    e = clean_env({"TESSERA_MASTER_KEY": os.urandom(32).hex()})
    e.update(env or {})
    return subprocess.run([tessera_bin()] + list(args), cwd=d, env=e, capture_output=True,
                          text=True, timeout=timeout)


def bad_bootstrap_file(d):
    f = d / "bad.json"
    f.write_text(json.dumps({"tenants": [{"name": "newco"}, {"name": "acme", "groups": [
        {"name": "G", "members": ["ghost@acme.test"]}]}]}))
    return str(f)


@pytest.mark.parametrize("args", [
    ("tenant", "create", "ok", "--alg", "XX"),
    ("tenant", "create", "Bad Name"),
    ("serve", "--listen", "bogus"),
    ("serve", "--metrics-listen", "bogus"),
    ("bootstrap", "FILE"),
    ("--json", "bootstrap", "FILE"),
])
def test_a_failing_command_leaves_no_new_database(tmp_path, args):
    args = [bad_bootstrap_file(tmp_path) if a == "FILE" else a for a in args]
    p = run_in(tmp_path, *args)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert sorted(x.name for x in tmp_path.iterdir() if x.name.startswith("tessera")) == []
    # A command that succeeds still creates it.
    assert run_in(tmp_path, "tenant", "create", "ok").returncode == 0
    assert (tmp_path / "tessera.db").exists()


def test_a_failing_command_keeps_a_database_that_was_there(tmp_path):
    assert run_in(tmp_path, "tenant", "create", "ok").returncode == 0
    assert run_in(tmp_path, "tenant", "create", "Bad Name").returncode == 1
    assert run_in(tmp_path, "bootstrap", bad_bootstrap_file(tmp_path)).returncode == 1
    p = run_in(tmp_path, "--json", "tenant", "list")
    assert p.returncode == 0 and [t["name"] for t in json.loads(p.stdout)["tenants"]] == ["ok"]


# -- stderr holds the error alone -----------------------------------------------------------

def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_json_error(stderr):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    e = json.loads(lines[0])
    assert set(e) == {"error", "message"}, e
    return e


def test_a_failed_bootstrap_on_a_new_database_prints_only_the_error(tmp_path):
    p = run_in(tmp_path, "--json", "bootstrap", bad_bootstrap_file(tmp_path))
    assert p.returncode == 1 and p.stdout == ""
    e = one_json_error(p.stderr)
    assert e["error"] == "failed" and 'no user "ghost@acme.test"' in e["message"], e
    p = run_in(tmp_path, "bootstrap", bad_bootstrap_file(tmp_path))
    assert p.returncode == 1
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("tessera: group G"), p.stderr


def test_an_unreachable_database_is_one_error_that_names_the_reason(tmp_path):
    url = "postgresql://user:pw-secret@127.0.0.1:%d/db" % free_port()
    p = run_in(tmp_path, "--json", "--db", url, "tenant", "list")
    assert p.returncode == 1
    e = one_json_error(p.stderr)
    assert "cannot open the database" in e["message"], e
    assert "Connection refused" in e["message"] and "pw-secret" not in p.stderr, e
    p = run_in(tmp_path, "--db", "sqlite:%s/no/such/dir/t.db" % tmp_path, "tenant", "create", "a")
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
    assert "unable to open database file" in p.stderr, p.stderr


def test_a_command_succeeding_prints_nothing_on_stderr_unless_asked_to_log(tmp_path):
    p = run_in(tmp_path, "--json", "tenant", "create", "ok")
    assert p.returncode == 0 and p.stderr == "", p.stderr
    # An explicit log level shows the logs again.
    p = run_in(tmp_path, "--log-level", "debug", "--json", "tenant", "list")
    assert p.returncode == 0 and '"level":"debug"' in p.stderr, p.stderr
    p = run_in(tmp_path, "--json", "tenant", "list", env={"TESSERA_LOG_LEVEL": "debug"})
    assert p.returncode == 0 and '"level":"debug"' in p.stderr, p.stderr


# -- flags ---------------------------------------------------------------------------------

def last_word(inst, *args):
    """tessera --json --db DB ARGS, with ARGS last on the command line."""
    return subprocess.run([tessera_bin(), "--json", "--db", inst.db] + list(args),
                          env=inst.env(), cwd=inst.dir, capture_output=True, text=True,
                          timeout=60)


def current_kids(out):
    return {s["alg"]: s["current"] for s in out["schedule"]}


@pytest.mark.parametrize("order", ["force_last", "force_before_alg", "force_first"])
def test_keys_rotate_force_is_a_flag(make_server, order):
    inst = make_server(start=False)
    inst.bootstrap_ok({"tenants": [{"name": "acme"}]})
    before = current_kids(inst.cli("keys", "list", "--tenant", "acme").out)
    args = {"force_last": ("keys", "rotate", "--tenant", "acme", "--alg", "ES256", "--force"),
            "force_before_alg": ("keys", "rotate", "--tenant", "acme", "--force", "--alg",
                                 "ES256"),
            "force_first": ("keys", "rotate", "--force", "--tenant", "acme", "--alg",
                            "ES256")}[order]
    r = last_word(inst, *args)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", "a forced rotation warns of nothing: %s" % r.stderr
    assert {k["alg"] for k in json.loads(r.stdout)["keys"]} == {"ES256"}
    after = current_kids(inst.cli("keys", "list", "--tenant", "acme").out)
    assert after["ES256"] != before["ES256"] and after["EdDSA"] == before["EdDSA"]
    # Without --alg, every algorithm is rotated.
    r = last_word(inst, "keys", "rotate", "--tenant", "acme", "--force")
    assert r.returncode == 0, r.stderr
    again = current_kids(inst.cli("keys", "list", "--tenant", "acme").out)
    assert all(again[a] != after[a] for a in after), (after, again)


# -- every option from the environment and the config file -----------------------------------

def test_json_from_the_environment_and_the_config_file(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"json": True}))
    assert run_in(tmp_path, "tenant", "create", "acme").returncode == 0
    for how in ({"env": {"TESSERA_JSON": "1"}}, {"env": {"TESSERA_JSON": "true"}},
                {"args": ("--config", str(cfg))}, {"env": {"TESSERA_CONFIG": str(cfg)}}):
        p = run_in(tmp_path, *how.get("args", ()), "tenant", "show", "acme",
                   env=how.get("env"))
        assert p.returncode == 0 and json.loads(p.stdout)["name"] == "acme", (how, p.stdout)
        p = run_in(tmp_path, *how.get("args", ()), "tenant", "show", "nobody",
                   env=how.get("env"))
        assert p.returncode == 1 and one_json_error(p.stderr)["error"] == "not_found", how
    # The environment wins over the file, and the flag over both.
    p = run_in(tmp_path, "--config", str(cfg), "tenant", "show", "acme",
               env={"TESSERA_JSON": "0"})
    assert p.returncode == 0 and p.stdout.startswith("name: acme"), p.stdout
    p = run_in(tmp_path, "--json", "tenant", "show", "acme", env={"TESSERA_JSON": "0"})
    assert json.loads(p.stdout)["name"] == "acme"
    p = run_in(tmp_path, "tenant", "list", env={"TESSERA_JSON": "maybe"})
    assert p.returncode == 2 and "TESSERA_JSON" in p.stderr, p.stderr
    cfg.write_text(json.dumps({"json": "yes"}))
    p = run_in(tmp_path, "--config", str(cfg), "tenant", "list")
    assert p.returncode == 2 and '"json"' in p.stderr and "true or false" in p.stderr, p.stderr


def test_the_global_options_from_the_environment_and_the_config_file(tmp_path):
    """db, public-url, master-key-file and log-level, each as TESSERA_<NAME>
    and as a config-file key (the server's own options are the next test)."""
    key = os.urandom(32).hex()
    (tmp_path / "mk").write_text(key + "\n")
    db = "sqlite:%s" % (tmp_path / "other.db")
    settings = {"db": db, "public-url": "https://id.example.test",
                "master-key-file": str(tmp_path / "mk"), "log-level": "debug"}
    env_of = {k: "TESSERA_" + k.upper().replace("-", "_") for k in settings}
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(settings))
    no_key = {"TESSERA_MASTER_KEY": ""}
    p = run_in(tmp_path, "--config", str(cfg), "--json", "tenant", "create", "acme", env=no_key)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["issuer"] == "https://id.example.test/t/acme"
    # The file's log level is the server's: a command logs only when told
    # on its command line or in its environment.
    assert p.stderr == ""
    assert (tmp_path / "other.db").exists() and not (tmp_path / "tessera.db").exists()
    env = dict(no_key, **{env_of[k]: v for k, v in settings.items()})
    p = run_in(tmp_path, "--json", "tenant", "create", "beta", env=env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["issuer"] == "https://id.example.test/t/beta"
    assert '"level":"debug"' in p.stderr
    # The master key file's key sealed both tenants' keys: a rotation opens them.
    p = run_in(tmp_path, "--json", "--db", db, "keys", "rotate", "--tenant", "beta",
               "--force", env={"TESSERA_MASTER_KEY": key})
    assert p.returncode == 0, p.stderr


def serve_in(d, *args, env=None):
    e = clean_env({"TESSERA_MASTER_KEY": os.urandom(32).hex()})
    e.update(env or {})
    return subprocess.Popen([tessera_bin()] + list(args), cwd=d, env=e,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("how", ["env", "env-words", "config", "flags"])
def test_the_server_options_from_the_environment_and_the_config_file(tmp_path, how):
    from e2e_util import free_port as port
    main, metrics = port(), port()
    settings = {"listen": "127.0.0.1:%d" % main, "metrics-listen": "127.0.0.1:%d" % metrics,
                "threads": 2, "trusted-proxies": "10.0.0.0/8", "access-log": False,
                "db": "sqlite:%s" % (tmp_path / "s.db")}
    if how.startswith("env"):
        # An on/off variable takes the words the flag takes too.
        off = "off" if how == "env-words" else "false"
        env = {"TESSERA_" + k.upper().replace("-", "_"):
               off if v is False else str(v) for k, v in settings.items()}
        args = ()
    elif how == "config":
        (tmp_path / "c.json").write_text(json.dumps(settings))
        env, args = {}, ("--config", str(tmp_path / "c.json"))
    else:
        env, args = {}, ()
        for k, v in settings.items():
            args += ("--" + k, "off" if v is False else str(v))
    proc = serve_in(tmp_path, *args, "serve", env=env)
    try:
        def healthy():
            try:
                return requests.get("http://127.0.0.1:%d/healthz" % main,
                                    timeout=1).status_code == 200
            except requests.RequestException:
                return False
        assert wait_until(healthy, timeout=15)[0], "the server did not start"
        r = requests.get("http://127.0.0.1:%d/metrics" % metrics, timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 200 and "tessera_" in r.text
        for _ in range(3):
            requests.get("http://127.0.0.1:%d/t/none/.well-known/openid-configuration" % main,
                         headers={"X-Forwarded-For": "10.9.8.7"}, timeout=HTTP_TIMEOUT_S)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    # access-log false: no request lines.
    assert '"path":"/t/none/' not in err, err


# -- JSON-level errors of the config file and the bootstrap file -------------------------------

@pytest.mark.parametrize("text,why", [
    ("[]", "the top level must be a JSON object of settings, not an array"),
    ('"sqlite:x.db"', "the top level must be a JSON object of settings, not a string"),
    ("", "expected"),
    ('{"db": 1,}', "(line 1, column 10)"),
    ('{"db": "a", "db": "b"}', "duplicate object key"),
    (None, "No such file or directory"),
])
def test_a_config_file_that_is_not_an_object_of_settings_is_an_error_naming_why(
        tmp_path, text, why):
    cfg = tmp_path / "x.json"
    if text is not None:
        cfg.write_text(text)
    p = run_in(tmp_path, "--config", str(cfg), "tenant", "list")
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("tessera: ") and why in p.stderr, p.stderr
    assert "line -1" not in p.stderr and ":  " not in p.stderr, p.stderr
    p = run_in(tmp_path, "--json", "--config", str(cfg), "tenant", "list")
    e = one_json_error(p.stderr)
    assert e["error"] == "usage" and why in e["message"], e


@pytest.mark.parametrize("text,why", [
    ("[]", 'the top level must be a JSON object with "tenants", not an array'),
    ("42", 'the top level must be a JSON object with "tenants", not a number'),
    ('{"tenants": [}', "(line 1, column 14)"),
    (None, "No such file or directory"),
])
def test_a_bootstrap_file_that_is_not_json_is_an_error_naming_why(tmp_path, text, why):
    f = tmp_path / "b.json"
    if text is not None:
        f.write_text(text)
    p = run_in(tmp_path, "bootstrap", str(f))
    assert p.returncode == 1 and why in p.stderr and "line -1" not in p.stderr, p.stderr
    assert not (tmp_path / "tessera.db").exists()


# -- --print-secrets ------------------------------------------------------------------------

PW_ALICE, PW_BOB, APP_ALICE = "alice-password-1", "bob-password-from-env", "alice-app-password"
SVC_SECRET, ENV_SECRET = SECRET, "client-secret-from-the-environment-0123456789"
CRM_SECRET, CRM2_SECRET, SHOP_KEY = "crm-client-secret", "crm2-secret-from-env", "shopee-key-env"
SECRET_ENV = {"BOB_PW": PW_BOB, "ALICE_APP": APP_ALICE, "SVC2_SECRET": ENV_SECRET,
              "CRM2_SECRET": CRM2_SECRET, "SHOP_KEY": SHOP_KEY}


def secrets_doc():
    return {"tenants": [{
        "name": "acme", "roles": ["Sales User"], "scopes": [{"name": "tasks:read"}],
        "users": [{"username": "alice@acme.test", "password": PW_ALICE,
                   "app_password_env": "ALICE_APP"},
                  {"username": "bob@acme.test", "password_env": "BOB_PW"},
                  {"username": "carol@acme.test"}],
        "clients": [{"client_id": "svc", "secret": SVC_SECRET, "scopes": ["tasks:read"]},
                    {"client_id": "svc2", "secret_env": "SVC2_SECRET", "scopes": ["tasks:read"]},
                    {"client_id": "gen", "scopes": ["tasks:read"]}],
        "providers": [
            {"name": "crm", "kind": "oauth2", "grant": "client_credentials",
             "token_url": "https://crm.example.test/token", "client_id": "c",
             "client_secret": CRM_SECRET},
            {"name": "crm2", "kind": "oauth2", "grant": "client_credentials",
             "token_url": "https://crm2.example.test/token", "client_id": "c",
             "client_secret_env": "CRM2_SECRET"},
            {"name": "shop", "profile": "shopee", "partner_id": 1001,
             "partner_key_env": "SHOP_KEY", "base_url": "https://shop.example.test"}]}]}


def by(items, key):
    return {i[key]: i for i in items}


def test_print_secrets_echoes_every_secret_the_file_supplied(make_server):
    inst = make_server(start=False)
    p = subprocess.run([tessera_bin(), "--db", inst.db, "bootstrap",
                        str(write(inst.dir / "s.json", secrets_doc()))],
                       env=inst.env(SECRET_ENV), cwd=inst.dir, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    for s in (PW_ALICE, PW_BOB, APP_ALICE, SVC_SECRET, ENV_SECRET, CRM_SECRET, CRM2_SECRET,
              SHOP_KEY):
        assert s not in p.stdout, "printed without --print-secrets: %s" % s
    t = json.loads(p.stdout)["tenants"][0]
    generated = by(t["clients"], "client_id")["gen"]["client_secret"]
    assert "client_secret" not in by(t["clients"], "client_id")["svc"]
    assert all(set(u) == {"username", "created"} for u in t["users"]), t["users"]
    assert all(set(x) == {"name", "created"} for x in t["providers"]), t["providers"]

    p = subprocess.run([tessera_bin(), "--db", inst.db, "bootstrap",
                        str(inst.dir / "s.json"), "--print-secrets"],
                       env=inst.env(SECRET_ENV), cwd=inst.dir, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    t = json.loads(p.stdout)["tenants"][0]
    users, clients, providers = (by(t["users"], "username"), by(t["clients"], "client_id"),
                                 by(t["providers"], "name"))
    assert users["alice@acme.test"] == {"username": "alice@acme.test", "created": False,
                                        "password": PW_ALICE, "app_password": APP_ALICE}
    assert users["bob@acme.test"] == {"username": "bob@acme.test", "created": False,
                                      "password": PW_BOB}
    assert users["carol@acme.test"] == {"username": "carol@acme.test", "created": False}
    assert clients["svc"]["client_secret"] == SVC_SECRET
    assert clients["svc2"]["client_secret"] == ENV_SECRET
    # A generated secret is printed once, at creation, and never again.
    assert "client_secret" not in clients["gen"] and generated not in p.stdout
    assert providers["crm"] == {"name": "crm", "created": False, "client_secret": CRM_SECRET}
    assert providers["crm2"] == {"name": "crm2", "created": False,
                                 "client_secret": CRM2_SECRET}
    assert providers["shop"] == {"name": "shop", "created": False, "partner_key": SHOP_KEY}


def write(path, doc):
    path.write_text(json.dumps(doc))
    return path


def test_people_who_share_a_password_get_hashes_of_their_own(make_server):
    """The password hashes of a bootstrap file are worked out before its
    write batch; each secret still gets its own salt, and an edited password
    is picked up."""
    import sqlite3
    shared = "the-same-long-password-42"
    people = [{"username": "%s@acme.test" % n, "password": shared, "app_password": shared,
               "mobile_access": True} for n in ("ann", "ben")]
    client = {"client_id": "mobile", "type": "public", "grant_types": ["password"],
              "scopes": ["tasks:read"]}
    doc = {"tenants": [acme(users=people, groups=[], clients=[client])]}
    srv = make_server(start=False)
    srv.bootstrap_ok(doc)
    con = sqlite3.connect(str(srv.db_path))
    try:
        rows = con.execute("SELECT password_hash, app_password_hash FROM users").fetchall()
    finally:
        con.close()
    hashes = [h for row in rows for h in row]
    assert len(hashes) == 4 and all(hashes) and len(set(hashes)) == 4, hashes
    again = srv.bootstrap_ok(doc)
    assert [u["created"] for u in again["tenants"][0]["users"]] == [False, False]
    people[0]["password"] = "ann-has-a-new-password"
    edited = srv.bootstrap_ok(doc)
    assert [u["created"] for u in edited["tenants"][0]["users"]] == ["updated", False]
    srv.start()

    def login(user, password):
        return requests.post(srv.issuer("acme") + "/api/login", timeout=HTTP_TIMEOUT_S,
                             json={"username": user, "password": password}).status_code

    assert login("ann@acme.test", "ann-has-a-new-password") == 200
    assert login("ann@acme.test", shared) == 401
    assert login("ben@acme.test", shared) == 200
