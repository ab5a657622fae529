"""Automatic signing-key rotation, driven through the real server.

A tenant's key_rotation (whole seconds; 0 for rotation by hand only; 90 days
by default) says how long a key signs. To see days pass in seconds, the
servers here are test builds started with TESSERA_TEST_KEY_ROTATION_SKEW_S,
which runs the rotation schedule's clock two hours ahead (a key promoted
now, rotating every hour, is due), and TESSERA_TEST_KEY_ROTATION_CHECK_MS,
which checks every 50 ms instead of every minute. Only Debug test builds
(TS_TEST_HOOKS) read them; with another binary the tests that need them are
skipped.

Proven here: a tenant rotates when due, once, and not before; key_rotation
0 never rotates; a next key published less than a JWKS cache lifetime ago is
not promoted (the one place the database is edited: its publication time is
moved, since no clock skew can make a key younger than the key it follows);
a token signed before the rotation still verifies through libtessera's JWKS
cache (which may not refetch) and through jwcrypto, and the token signed
after it verifies against the key set fetched before it, so no verifier
meets an unknown kid; bad values are refused with a clear error; rotations
at once take turns; a server with the wrong master key rotates nothing,
and waits a minute before it tries that tenant again;
and two servers on one SQLite file, or on one PostgreSQL database, rotate
each tenant once, not twice."""
import collections
import concurrent.futures
import os
import re
import sqlite3
import time

import pytest
import requests

from e2e_util import (HTTP_TIMEOUT_S, RELOAD_BUDGET_S, SECRET, fetch_jwks, fetch_token,
                      jose_header, verify_access_token, wait_until)
from test_libtessera import Probe
from test_postgres import cluster, on_postgres  # noqa: F401 (cluster is a fixture)

HOUR = 3600
ROT = HOUR + 300                # the shortest key_rotation there is: a retired key's stay in JWKS
SKEW = 2 * HOUR                 # how far ahead the schedule's clock runs
DEFAULT_ROT = 90 * 24 * HOUR
MAX_ROT = 3650 * 24 * HOUR
PUBLISH_LEAD = 302              # JWKS max-age, and 2 s for every server to see a change
FAST = {"TESSERA_TEST_KEY_ROTATION_CHECK_MS": "50",
        "TESSERA_TEST_KEY_ROTATION_SKEW_S": str(SKEW)}
# The scheduler's tests need a binary with test hooks (a Debug test build);
# ctest says whether it has them.
HOOKS = pytest.mark.skipif(
    os.environ.get("TESSERA_TEST_HOOKS", "1") in ("0", ""),
    reason="tessera was built without TS_TEST_HOOKS, so its key-rotation schedule cannot be "
           "run ahead; these tests need a Debug build with TS_TESTS=ON")
QUIET_S = 1.5                   # 30 checks: long enough for a wrong rotation to happen
ROTATE_TIMEOUT_S = 15
ALGS = ("ES256", "EdDSA")
SVC = {"client_id": "svc", "secret": SECRET}


def tenant(name, rotation=None):
    t = {"name": name, "clients": [dict(SVC)]}
    if rotation is not None:
        t["key_rotation"] = rotation
    return t


DOC = {"tenants": [
    tenant("hourly", ROT), tenant("later", 3 * ROT), tenant("manual", 0), tenant("default"),
    tenant("rp", 0), tenant("young", 0), tenant("byhand", 0), tenant("sealed", 0),
    tenant("forced", 0),
] + [tenant("twin%d" % i, 0) for i in range(4)]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC, env=FAST)


def listing(srv, name):
    r = srv.cli("keys", "list", "--tenant", name)
    assert r.rc == 0, r.err
    return r.out


def current(srv, name):
    return {s["alg"]: s["current"] for s in listing(srv, name)["schedule"]}


def schedule(srv, name):
    return {s["alg"]: s for s in listing(srv, name)["schedule"]}


def retired(srv, name):
    out = {}
    for k in listing(srv, name)["keys"]:
        if k["state"] == "retired":
            out.setdefault(k["alg"], []).append(k)
    return out


def wait_rotated(srv, name, before):
    """Waits until every algorithm's current key differs from before."""
    def changed():
        now = current(srv, name)
        return now if all(now[a] != before[a] for a in before) else None
    now, elapsed = wait_until(changed, timeout=ROTATE_TIMEOUT_S, interval=0.1)
    assert now, "%s was not rotated within %.1f s" % (name, elapsed)
    return now


def audit(srv, name, type_):
    r = srv.cli("audit", "--tenant", name)
    assert r.rc == 0, r.err
    return [e for e in r.out["events"] if e["type"] == type_]


def rotations_metric(srv, name):
    text = requests.get(srv.url("/metrics"), timeout=HTTP_TIMEOUT_S).text
    assert "# TYPE tessera_key_rotations_total counter" in text
    found = {}
    for alg, n in re.findall(r'^tessera_key_rotations_total\{tenant="%s",alg="([^"]+)"\} (\d+)$'
                             % re.escape(name), text, re.M):
        found[alg] = int(n)
    return found


def set_rotation(srv, name, value):
    r = srv.cli("tenant", "update", name, "--key-rotation", str(value))
    assert r.rc == 0, r.err
    assert r.out["key_rotation"] == value


# -- when due, once, and not before -------------------------------------------------

@HOOKS
def test_a_due_tenant_rotates_once_and_is_audited_and_counted(srv):
    def rotated_once():
        r = retired(srv, "hourly")
        return r if all(len(r.get(a, [])) == 1 for a in ALGS) else None
    r, elapsed = wait_until(rotated_once, timeout=ROTATE_TIMEOUT_S, interval=0.1)
    assert r, "hourly was not rotated within %.1f s" % elapsed
    time.sleep(QUIET_S)
    assert {a: len(v) for a, v in retired(srv, "hourly").items()} == {a: 1 for a in ALGS}
    sched = schedule(srv, "hourly")
    for alg in ALGS:
        s = sched[alg]
        # The retired key stopped when its successor started, and the next
        # rotation is one key_rotation after that.
        assert r[alg][0]["retired_at"] == s["promoted_at"]
        assert s["next_rotation_at"] == s["promoted_at"] + ROT
        assert s["next"] and s["next"] != s["current"]
    activated = audit(srv, "hourly", "key.activated")
    assert len(activated) == len(ALGS)
    assert {e["actor"] for e in activated} == {"scheduler"}
    assert {e["subject"] for e in activated} == set(current(srv, "hourly").values())
    assert rotations_metric(srv, "hourly") == {a: 1 for a in ALGS}


@HOOKS
def test_a_tenant_that_is_not_due_waits_until_it_is(srv):
    before = current(srv, "later")
    sched = schedule(srv, "later")
    for alg in ALGS:
        assert sched[alg]["next_rotation_at"] == sched[alg]["promoted_at"] + 3 * ROT
    # Ten minutes short of due on the schedule's clock: still nothing.
    set_rotation(srv, "later", SKEW + 600)
    time.sleep(QUIET_S)
    assert current(srv, "later") == before
    assert retired(srv, "later") == {}
    assert rotations_metric(srv, "later") == {}
    set_rotation(srv, "later", ROT)
    wait_rotated(srv, "later", before)
    assert rotations_metric(srv, "later") == {a: 1 for a in ALGS}


@HOOKS
def test_zero_and_the_default_never_rotate_here(srv):
    manual, default = current(srv, "manual"), current(srv, "default")
    time.sleep(QUIET_S)
    assert current(srv, "manual") == manual and retired(srv, "manual") == {}
    assert current(srv, "default") == default and retired(srv, "default") == {}
    for s in schedule(srv, "manual").values():
        assert s["next_rotation_at"] is None
    for s in schedule(srv, "default").values():
        assert s["next_rotation_at"] == s["promoted_at"] + DEFAULT_ROT
    r = srv.cli("tenant", "show", "default")
    assert r.rc == 0 and r.out["key_rotation"] == DEFAULT_ROT
    r = srv.cli("tenant", "list")
    shown = {t["name"]: t["key_rotation"] for t in r.out["tenants"]}
    assert shown["manual"] == 0 and shown["default"] == DEFAULT_ROT
    # Rotation by hand still works at key_rotation 0.
    r = srv.cli("keys", "rotate", "--tenant", "manual", "--alg", "ES256", "--force")
    assert r.rc == 0, r.err
    assert current(srv, "manual")["ES256"] != manual["ES256"]


def test_keys_list_without_a_tenant_shows_every_schedule(srv):
    r = srv.cli("keys", "list")
    assert r.rc == 0, r.err
    by_name = {t["tenant"]: t for t in r.out["tenants"]}
    assert {t["name"] for t in DOC["tenants"]} <= set(by_name)
    assert by_name["manual"]["key_rotation"] == 0
    assert {s["alg"] for s in by_name["hourly"]["schedule"]} == set(ALGS)


PARALLEL = 4


@pytest.mark.parametrize("round_", range(3))
def test_rotations_at_once_take_turns(srv, round_):
    """Rotations of one tenant at the same moment (by hand here; the
    scheduler takes the same lease) run one after the other, each reading
    the keys again under the lease: the first promotes the next key,
    published a JWKS cache lifetime ago, and the others each promote the
    next key the one before published a moment ago, with a warning. Never
    two current or two next keys."""
    move_next_keys(srv, "byhand", int(time.time()) - PUBLISH_LEAD)
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as ex:
        done = list(ex.map(lambda _: srv.cli("keys", "rotate", "--tenant", "byhand", "--alg",
                                             "ES256"), range(PARALLEL)))
    assert [r.rc for r in done] == [0] * PARALLEL, [r.err for r in done]
    warned = [r for r in done if "warning" in r.err]
    assert len(warned) == PARALLEL - 1, [r.err for r in done]
    assert all("published" in r.err and "--force" in r.err for r in warned), warned
    r = srv.cli("keys", "list", "--tenant", "byhand", "--alg", "ES256")
    states = collections.Counter(k["state"] for k in r.out["keys"])
    assert states == {"current": 1, "next": 1, "retired": PARALLEL * (round_ + 1)}, states


@pytest.mark.parametrize("round_", range(2))
def test_forced_rotations_at_once_take_turns(srv, round_):
    """Forced rotations at the same moment all rotate, one after the other."""
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as ex:
        done = list(ex.map(lambda _: srv.cli("keys", "rotate", "--tenant", "forced", "--alg",
                                             "ES256", "--force"), range(PARALLEL)))
    assert [r.rc for r in done] == [0] * PARALLEL, [r.err for r in done]
    r = srv.cli("keys", "list", "--tenant", "forced", "--alg", "ES256")
    states = collections.Counter(k["state"] for k in r.out["keys"])
    assert states == {"current": 1, "next": 1, "retired": PARALLEL * (round_ + 1)}, states


# -- publish before sign --------------------------------------------------------

def move_next_keys(srv, name, published_at):
    with sqlite3.connect(str(srv.db_path), timeout=10) as db:
        n = db.execute("UPDATE keys SET created_at = ? WHERE state = 'next' AND tenant_id ="
                       " (SELECT id FROM tenants WHERE name = ?)", (published_at, name)).rowcount
    assert n == len(ALGS)


@HOOKS
def test_a_next_key_younger_than_the_jwks_cache_is_not_promoted(srv):
    before = current(srv, "young")
    # On the schedule's clock the next keys were published 100 s ago.
    move_next_keys(srv, "young", int(time.time()) + SKEW - 100)
    set_rotation(srv, "young", ROT)
    time.sleep(QUIET_S)
    assert current(srv, "young") == before
    for s in schedule(srv, "young").values():
        assert s["next_rotation_at"] == s["next_published_at"] + PUBLISH_LEAD
        assert s["next_rotation_at"] > s["promoted_at"] + ROT
    move_next_keys(srv, "young", int(time.time()) + SKEW - PUBLISH_LEAD - 1)
    after = wait_rotated(srv, "young", before)
    assert len(after) == len(ALGS)


@HOOKS
def test_a_server_whose_master_key_cannot_open_the_keys_does_not_rotate(srv, make_server):
    """A server started with the wrong master key must not promote a key
    it cannot open, nor seal new keys that the others cannot open."""
    before = current(srv, "sealed")
    # Due on the stranger's clock (four hours ahead), not on srv's (two).
    set_rotation(srv, "sealed", 3 * ROT)
    stranger = make_server(start=False, name="stranger",
                           env=dict(FAST, TESSERA_TEST_KEY_ROTATION_SKEW_S=str(4 * HOUR)))
    stranger.db, stranger.db_path = srv.db, srv.db_path
    assert stranger.master_key != srv.master_key
    stranger.start()
    try:
        ok, _ = wait_until(lambda: "does not open" in stranger.log_text(),
                           timeout=ROTATE_TIMEOUT_S)
        assert ok, stranger.log_tail()
        time.sleep(QUIET_S)
        assert current(srv, "sealed") == before
        assert retired(srv, "sealed") == {}
        assert len(listing(srv, "sealed")["keys"]) == 2 * len(ALGS)
        failures = re.search(r'^tessera_key_rotation_failures_total\{tenant="sealed"\} (\d+)$',
                             requests.get(stranger.url("/metrics"), timeout=HTTP_TIMEOUT_S).text,
                             re.M)
        # Checked every 50 ms, tried once: a failing tenant waits a minute
        # before its next try.
        assert failures and int(failures.group(1)) == 1, failures
        assert "tenant sealed: automatic key rotation is tried again in 60 s" in \
            stranger.log_text(), stranger.log_tail()
        # Nor does a rotation by hand with that key.
        r = stranger.cli("keys", "rotate", "--tenant", "sealed")
        assert r.rc != 0 and "master key does not open" in r.err, r.err
        assert current(srv, "sealed") == before
        assert len(listing(srv, "sealed")["keys"]) == 2 * len(ALGS)
    finally:
        assert stranger.stop() == 0


# -- verifiers across a rotation ------------------------------------------------

@HOOKS
def test_tokens_verify_across_a_rotation_with_no_unknown_kid(srv, tmp_path):
    # A resource server that fetched the key set once and may not fetch it
    # again for an hour: every kid it meets must be in what it holds.
    probe = Probe(tmp_path, srv.issuer("rp"), "-", SECRET, min_refresh=HOUR)
    try:
        old = fetch_token(srv, "rp", "svc")["access_token"]
        assert probe.bearer(old)["ok"] is True
        cached = fetch_jwks(srv, "rp")
        old_kid = jose_header(old)["kid"]

        before = current(srv, "rp")
        set_rotation(srv, "rp", ROT)
        after = wait_rotated(srv, "rp", before)

        def new_token():
            tok = fetch_token(srv, "rp", "svc")["access_token"]
            return tok if jose_header(tok)["kid"] == after["ES256"] else None
        new, elapsed = wait_until(new_token, timeout=RELOAD_BUDGET_S + 1)
        assert new, "tokens are not signed by the promoted key after %.1f s" % elapsed
        assert jose_header(new)["kid"] != old_kid

        # libtessera: both from its cache, without a refetch.
        a = probe.bearer(new)
        assert a["ok"] is True, a
        a = probe.bearer(old)
        assert a["ok"] is True, a
        # jwcrypto: the new token against the key set fetched before the
        # rotation, the old one against the key set served after it.
        assert cached.get_key(jose_header(new)["kid"]) is not None
        iss = srv.issuer("rp")
        verify_access_token(new, cached, issuer=iss, client_id="svc", audience=iss)
        fresh = fetch_jwks(srv, "rp")
        assert fresh.get_key(old_kid) is not None
        verify_access_token(old, fresh, issuer=iss, client_id="svc", audience=iss)
    finally:
        probe.close()


# -- bad values -----------------------------------------------------------------

@pytest.mark.parametrize("value", ["59", "-1", str(ROT - 1), str(MAX_ROT + 1)])
def test_out_of_range_values_are_refused(srv, value):
    # The message states the tenant's own range: its shortest key_rotation is
    # max(access_token_ttl, 1 h) + 300 s.
    r = srv.cli("tenant", "create", "bad-rotation", "--key-rotation", value)
    assert r.rc != 0
    assert "key_rotation" in r.err and "between %d and %d" % (ROT, MAX_ROT) in r.err, r.err
    r = srv.cli("tenant", "create", "bad-rotation", "--key-rotation", value,
                "--access-token-ttl", "86400")
    assert r.rc != 0
    assert "key_rotation" in r.err and "between %d and %d" % (86400 + 300, MAX_ROT) in r.err, \
        r.err
    assert srv.cli("tenant", "show", "bad-rotation").rc != 0
    r = srv.cli("tenant", "update", "manual", "--key-rotation", value)
    assert r.rc != 0 and "key_rotation" in r.err, r.err
    assert srv.cli("tenant", "show", "manual").out["key_rotation"] == 0


def test_a_key_rotation_shorter_than_a_retired_keys_stay_is_refused(srv):
    """A retired key stays in JWKS for max(access_token_ttl, 1 h) + 300 s;
    key_rotation may not be shorter, whichever of the two changes."""
    r = srv.cli("tenant", "create", "bad-rotation", "--key-rotation", str(HOUR))
    assert r.rc == 1 and "key_rotation" in r.err and str(ROT) in r.err, r.err
    r = srv.cli("tenant", "create", "bad-rotation", "--key-rotation", str(ROT),
                "--access-token-ttl", "86400")
    assert r.rc == 1, r
    assert "key_rotation" in r.err and "access_token_ttl" in r.err and "86700" in r.err, r.err
    assert srv.cli("tenant", "show", "bad-rotation").rc != 0
    r = srv.cli("tenant", "update", "later", "--access-token-ttl", "86400")
    assert r.rc == 1 and "access_token_ttl" in r.err and "key_rotation" in r.err, r.err
    assert srv.cli("tenant", "show", "later").out.get("access_token_ttl") != 86400
    r = srv.cli("tenant", "update", "manual", "--access-token-ttl", "86400")
    assert r.rc == 0, r.err  # rotation by hand only: no bound
    assert srv.cli("tenant", "update", "manual", "--access-token-ttl", str(HOUR)).rc == 0


@pytest.mark.parametrize("value", ["abc", "1.5", "90d", ""])
def test_values_that_are_not_whole_numbers_are_refused(srv, value):
    r = srv.cli("tenant", "create", "bad-rotation", "--key-rotation", value)
    assert r.rc != 0
    assert "--key-rotation" in r.err and "whole number" in r.err, r.err


@pytest.mark.parametrize("value", ["7776000", True, 3600.5, None, [3600]])
def test_the_bootstrap_file_refuses_what_is_not_seconds(srv, value):
    r = srv.bootstrap({"tenants": [{"name": "bad-rotation", "key_rotation": value}]},
                      name="bad-rotation.json")
    assert r.rc != 0
    assert "key_rotation" in r.err, r.err
    assert srv.cli("tenant", "show", "bad-rotation").rc != 0


@pytest.mark.parametrize("value", [0, ROT, MAX_ROT])
def test_the_bounds_are_accepted(make_server, value):
    s = make_server({"tenants": [{"name": "bounds", "key_rotation": value}]}, start=False)
    r = s.cli("tenant", "show", "bounds")
    assert r.rc == 0 and r.out["key_rotation"] == value


# -- two servers, one database --------------------------------------------------

def assert_rotated_once(servers, name):
    assert {alg: len(v) for alg, v in retired(servers[0], name).items()} == \
        {alg: 1 for alg in ALGS}, name
    states = sorted((k["alg"], k["state"]) for k in listing(servers[0], name)["keys"])
    assert states == sorted((alg, st) for alg in ALGS for st in ("current", "next", "retired"))
    activated = audit(servers[0], name, "key.activated")
    assert len(activated) == len(ALGS), (name, activated)
    assert {e["actor"] for e in activated} == {"scheduler"}
    counted = [rotations_metric(s, name) for s in servers]
    for alg in ALGS:
        assert sum(c.get(alg, 0) for c in counted) == 1, (name, counted)


@HOOKS
def test_two_servers_on_one_sqlite_file_rotate_each_tenant_once(srv, make_server):
    twin = make_server(start=False, name="twin", env=FAST)
    twin.db, twin.db_path, twin.master_key = srv.db, srv.db_path, srv.master_key
    twin.start()
    names = ["twin%d" % i for i in range(4)]
    before = {n: current(srv, n) for n in names}
    # All due at once: both servers find the same tenants at their next
    # check and race for each.
    srv.bootstrap_ok({"tenants": [tenant(n, ROT) for n in names]})
    for n in names:
        wait_rotated(srv, n, before[n])
    time.sleep(QUIET_S)
    for n in names:
        assert_rotated_once((srv, twin), n)
    assert twin.stop() == 0


PG_TENANTS = ["pg%d" % i for i in range(6)]


@pytest.fixture(scope="module")
def pg_pair(cluster, make_module_server):  # noqa: F811 (the imported fixture)
    a = on_postgres(make_module_server, "rot-pg-a", cluster.url)
    b = on_postgres(make_module_server, "rot-pg-b", cluster.url, master_key=a.master_key)
    for s in (a, b):
        s.extra_env.update(FAST)
    a.bootstrap_ok({"tenants": [tenant(n, 0) for n in PG_TENANTS]})
    a.start()
    b.start()
    return a, b


@HOOKS
def test_two_servers_on_one_database_rotate_each_tenant_once(pg_pair):
    a, b = pg_pair
    before = {n: current(a, n) for n in PG_TENANTS}
    for n in PG_TENANTS:  # each a race between the two servers
        set_rotation(a, n, ROT)
    for n in PG_TENANTS:
        wait_rotated(a, n, before[n])
    time.sleep(QUIET_S)
    for n in PG_TENANTS:
        assert_rotated_once((a, b), n)
    # Both servers serve the promoted keys.
    for n in PG_TENANTS[:2]:
        for s in (a, b):
            tok = fetch_token(s, n, "svc")["access_token"]
            assert jose_header(tok)["kid"] in current(a, n).values()
