"""Running Tessera as an operator does: an online backup taken under load
that restores to a database serving the same tokens and refresh tokens,
the config file (keys spelled like the flags, types checked, unknown keys
refused), SIGHUP reloading instead of stopping, and the build and readiness
gauges of /metrics."""
import json
import signal
import threading
import time

import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, introspect, token_request, wait_until

PASSWORD = "correct horse battery staple 42"
DOC = {"tenants": [{
    "name": "ops", "roles": ["staff"],
    "users": [{"username": "ann@ops.test", "password": PASSWORD, "roles": ["staff"]}],
    "clients": [
        {"client_id": "svc", "secret": SECRET, "grant_types": ["client_credentials"],
         "scopes": ["openid"]},
        {"client_id": "app", "secret": SECRET, "grant_types": ["password", "refresh_token"],
         "scopes": ["openid", "offline_access"]},
    ]}]}


def password_grant(srv):
    r = token_request(srv, "ops", {"grant_type": "password", "username": "ann@ops.test",
                                   "password": PASSWORD, "scope": "openid offline_access"},
                      auth=("app", SECRET))
    assert r.status_code == 200, r.text
    return r.json()


def refresh(srv, rt):
    return token_request(srv, "ops", {"grant_type": "refresh_token", "refresh_token": rt},
                         auth=("app", SECRET))


def test_a_backup_under_load_restores_to_the_same_tokens(make_server):
    srv = make_server(DOC)
    before = password_grant(srv)
    stop = threading.Event()
    errors = []

    def load():
        chain = password_grant(srv)["refresh_token"]
        while not stop.is_set():
            r = refresh(srv, chain)
            if r.status_code != 200:
                errors.append(r.text)
                return
            chain = r.json()["refresh_token"]
            token_request(srv, "ops", {"grant_type": "client_credentials"}, auth=("svc", SECRET))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    backup = srv.dir / "backup.db"
    r = srv.cli("backup", str(backup))
    stop.set()
    for t in threads:
        t.join()
    assert r.rc == 0, r.err
    assert not errors, errors
    assert r.out["backup"] == str(backup) and backup.stat().st_mode & 0o077 == 0
    # A backup never overwrites.
    again = srv.cli("backup", str(backup))
    assert again.rc == 1 and again.err_json["error"] == "already_exists"

    srv.stop()
    restored = make_server(start=False, name="restored")
    restored.master_key = srv.master_key
    restored.public_url = srv.public_base  # the same issuer as before
    backup.replace(restored.db_path)
    restored.start()
    r = introspect(restored, "ops", before["access_token"], "app")
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    r = refresh(restored, before["refresh_token"])
    assert r.status_code == 200, r.text


def test_backup_refuses_a_missing_database_and_postgres(make_server, tmp_path):
    srv = make_server(start=False)
    r = srv.cli("backup", str(tmp_path / "x.db"))
    assert r.rc == 1 and "does not exist" in r.err
    r = srv.cli("--db", "postgres://127.0.0.1:1/nothing", "backup", str(tmp_path / "y.db"))
    assert r.rc == 1 and "pg_dump" in r.err


def test_config_keys_are_spelled_like_the_flags_and_checked(make_server, tmp_path):
    srv = make_server(DOC, start=False)
    cfg = tmp_path / "tessera.json"
    for doc, word in (({"db": 5}, "db"), ({"access-log": "yes"}, "access-log"),
                      ({"threads": -1}, "threads"), ({"no-such-key": "x"}, "no-such-key"),
                      ({"public-url": ["x"]}, "public-url")):
        cfg.write_text(json.dumps(doc))
        r = srv.cli("--config", str(cfg), "tenant", "list")
        assert r.rc == 2, (doc, r)
        assert word in r.err and r.err_json["error"] == "usage", (doc, r.err)
    cfg.write_text(json.dumps({"db": srv.db, "log-level": "warn", "access-log": False,
                               "public_url": "http://127.0.0.1:9"}))
    r = srv.cli("--config", str(cfg), "tenant", "list")
    assert r.rc == 0, r.err
    assert [t["name"] for t in r.out["tenants"]] == ["ops"]


def access_lines(srv):
    return [l for l in srv.log_text().splitlines() if '"route":"healthz"' in l]


def test_sighup_reloads_the_config_file_and_keeps_serving(make_server, tmp_path):
    cfg = tmp_path / "tessera.json"
    cfg.write_text(json.dumps({"access-log": True}))
    srv = make_server(DOC, env={"TESSERA_CONFIG": str(cfg)})
    requests.get(srv.url("/healthz"), timeout=HTTP_TIMEOUT_S)
    assert wait_until(lambda: len(access_lines(srv)) >= 1, timeout=5)[0]
    cfg.write_text(json.dumps({"access-log": False}))
    srv.signal(signal.SIGHUP)
    assert wait_until(lambda: "configuration reloaded" in srv.log_text(), timeout=5)[0]
    n = len(access_lines(srv))
    for _ in range(3):
        assert requests.get(srv.url("/healthz"), timeout=HTTP_TIMEOUT_S).status_code == 200
    time.sleep(0.3)
    assert srv.running and len(access_lines(srv)) == n
    # A file that no longer loads changes nothing and stops nothing.
    cfg.write_text("{not json")
    srv.signal(signal.SIGHUP)
    assert wait_until(lambda: "does not load" in srv.log_text(), timeout=5)[0]
    assert requests.get(srv.url("/readyz"), timeout=HTTP_TIMEOUT_S).status_code == 200


def test_metrics_name_the_build_and_readiness(make_server):
    srv = make_server(DOC)
    text = requests.get(srv.url("/metrics"), timeout=HTTP_TIMEOUT_S).text
    version = srv.cli("--version").out
    assert 'tessera_build_info{version="%s",commit="%s"} 1' % (
        version["version"], version["commit"]) in text
    assert "\ntessera_ready 1\n" in text


def test_revoking_a_refresh_token_is_counted(make_server):
    srv = make_server(DOC)
    tokens = password_grant(srv)
    r = requests.post(srv.endpoint("ops", "revoke"), data={"token": tokens["refresh_token"]},
                      auth=("app", SECRET), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    text = requests.get(srv.url("/metrics"), timeout=HTTP_TIMEOUT_S).text
    assert 'tessera_tokens_revoked_total{tenant="ops"} 1' in text, text


def test_every_log_line_has_one_time_format(make_server):
    import re
    srv = make_server(DOC)
    password_grant(srv)
    token_request(srv, "ops", {"grant_type": "client_credentials"}, auth=("svc", "wrong"))
    time.sleep(0.5)  # the audit writer's batch
    lines = [json.loads(l) for l in srv.log_text().splitlines() if l.startswith("{")]
    kinds = {("audit" in l, "route" in l, "src" in l) for l in lines}
    assert len(kinds) >= 3, kinds  # audit lines, access lines and diagnostics
    for l in lines:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", l["time"]), l


def test_migrate_checks_then_applies_the_schema(make_server, tmp_path):
    import sqlite3
    srv = make_server(start=False)
    r = srv.cli("migrate", "--check")
    assert r.rc == 1 and r.err_json["error"] == "not_found"  # never created
    sqlite3.connect(str(srv.db_path)).close()  # an empty database file
    r = srv.cli("migrate", "--check")
    assert r.rc == 1 and r.out["version"] == 0 and r.out["pending"] == r.out["latest"] > 0, r
    r = srv.cli("migrate")
    assert r.rc == 0 and r.out["version"] == r.out["latest"] and r.out["pending"] == 0, r
    assert srv.cli("migrate", "--check").rc == 0
    # A schema newer than the binary is refused, not touched.
    db = sqlite3.connect(str(srv.db_path))
    db.execute("UPDATE schema_version SET version = version + 1")
    db.commit()
    db.close()
    r = srv.cli("migrate")
    assert r.rc == 1 and "newer than this binary" in r.err
