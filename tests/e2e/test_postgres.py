"""Scale-out on PostgreSQL: two `tessera serve` processes on ports
of their own share one PostgreSQL database and one master key behind one
public URL, as behind a load balancer, and behave as one process: one set of
signing keys, CLI changes reaching both within 2 s even on an
empty database, refresh-token rotation and reuse detection across servers,
single-use codes and refresh tokens under concurrent use at both,
revocation seen at once at the server that made it and within 2 s at the
other.
Then a storage outage (the cluster stopped under both servers: 503, never a
credential error, and recovery without a restart) and the bootstrap file
applied a second time (nothing changes).

The PostgreSQL cluster is private to this module (tests/pg/cluster.sh, in a
fresh directory, so its database starts empty; one test creates a second
database, empty too). Without a PostgreSQL server
installed the module is skipped on a developer's machine and fails in CI.
The clients are the same independent ones as everywhere in the e2e suite:
requests, authlib and jwcrypto."""
import concurrent.futures
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from e2e_util import (HTTP_TIMEOUT_S, RELOAD_BUDGET_S, SECRET, Tessera, assert_oauth_error,
                      discovery, fetch_jwks, fetch_token, introspect, revoke,
                      token_request, verify_access_token, wait_until)
from people_helpers import (ALICE, AUD, MOBILE_URI, RP, Browser, authorize, code_only, in_ci,
                            mobile_client, password_grant, people_tenant, userinfo,
                            verify_user_access_token, web_client)

CLUSTER_SH = pathlib.Path(__file__).resolve().parent.parent / "pg" / "cluster.sh"
TENANT = "acme"
GROUP = "Field Sales"
# How long the servers may take to be ready again once the cluster is back:
# the pool replaces dead connections at their next use, so this is mostly
# the cluster's own start-up.
RECOVERY_S = RELOAD_BUDGET_S + 3
RACERS_PER_SERVER = 10

DOC = {"tenants": [people_tenant(
    TENANT, users=(ALICE,),
    clients=[mobile_client(), web_client(),
             {"client_id": "svc", "secret": SECRET, "scopes": ["tasks:read"]}],
    groups=[{"name": GROUP, "members": [ALICE["username"]]}])]}


# -- the PostgreSQL cluster ---------------------------------------------------------------

def pg_bindir():
    """The server binaries cluster.sh uses: $PG_BINDIR, else the newest
    /usr/lib/postgresql/*/bin."""
    if os.environ.get("PG_BINDIR"):
        return pathlib.Path(os.environ["PG_BINDIR"])

    def version(p):
        return [int(x) if x.isdigit() else 0 for x in re.split(r"[.]", p.parent.name)]
    found = [p for p in pathlib.Path("/usr/lib/postgresql").glob("*/bin")
             if all((p / b).exists() for b in ("initdb", "pg_ctl", "postgres"))]
    assert found, "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
    return max(found, key=version)


class Cluster:
    """A PostgreSQL cluster that cluster.sh started in dir. cluster.sh only
    creates and stops clusters; start_again brings a stopped one back on the
    same port with the same options, so that the servers holding its URL
    find it again."""

    def __init__(self, dir, url):
        self.dir = pathlib.Path(dir)
        self.url = url
        self.port = int((self.dir / "port").read_text())
        self.running = True

    def create_database(self, name):
        """A new, empty database in the cluster; returns its URL."""
        role = self.url.split("://", 1)[1].split("@", 1)[0]
        p = subprocess.run([str(pg_bindir() / "createdb"), "-h", "127.0.0.1", "-p",
                            str(self.port), "-U", role, name], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, "createdb failed: %s" % p.stderr
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self):
        p = subprocess.run([str(CLUSTER_SH), "stop", str(self.dir)], capture_output=True,
                           text=True, timeout=90)
        assert p.returncode == 0, "cluster.sh stop failed: %s" % p.stderr
        self.running = False

    def start_again(self):
        opts = "-p %d -k %s -c listen_addresses=127.0.0.1 -c shared_buffers=32MB" % (
            self.port, self.dir)
        argv = [str(pg_bindir() / "pg_ctl"), "-D", str(self.dir / "data"), "-l",
                str(self.dir / "log"), "-w", "-t", "60", "-o", opts, "start"]
        if os.getuid() == 0:  # the server refuses to run as root
            argv = ["runuser", "-u", "postgres", "--"] + argv
        p = subprocess.run(argv, capture_output=True, text=True, timeout=90)
        assert p.returncode == 0, "pg_ctl start failed: %s%s\n%s" % (
            p.stdout, p.stderr, (self.dir / "log").read_text(errors="replace")[-2000:])
        self.running = True


@pytest.fixture(scope="module")
def cluster():
    # Not under pytest's temporary directories: those are private to root,
    # and the cluster's files belong to the postgres user.
    d = tempfile.mkdtemp(prefix="tessera-e2e-pg.")
    p = subprocess.run([str(CLUSTER_SH), "start", d], capture_output=True, text=True,
                       timeout=120)
    if p.returncode != 0:
        shutil.rmtree(d, ignore_errors=True)
        if p.returncode == 77:
            msg = "no PostgreSQL server installed: " + p.stderr.strip()
            if in_ci():
                pytest.fail(msg, pytrace=False)
            pytest.skip(msg)
        pytest.fail("cluster.sh start failed (%d): %s" % (p.returncode, p.stderr), pytrace=False)
    c = Cluster(d, p.stdout.strip().splitlines()[-1])
    yield c
    try:
        if not c.running:
            c.start_again()  # so that stopping it below stops it cleanly
        c.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def on_postgres(make, name, url, master_key=None):
    """An installation whose database is the cluster's: TESSERA_DB for the
    process, and db (which cli() and start() pass as --db, the option that
    wins over the environment) for every command."""
    s = make(start=False, name=name, env={"TESSERA_DB": url})
    s.db = url
    if master_key is not None:
        s.master_key = master_key
    return s


@pytest.fixture(scope="module")
def pair(cluster, make_module_server):
    """Servers A and B on one database and one master key, behind one public
    URL (A's address stands for the load balancer's, so that the browser
    flows can run through A). Two commands migrate the empty database at
    once (one waits for the other's lock), DOC is applied once through A's
    CLI, and both servers start together. Returns (A, B, bootstrap result).
    The servers are stopped before the cluster: pytest tears fixtures down
    in reverse order."""
    a = on_postgres(make_module_server, "pg-a", cluster.url)
    b = on_postgres(make_module_server, "pg-b", cluster.url, master_key=a.master_key)
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        listed = list(ex.map(lambda s: s.cli("tenant", "list"), (a, b)))
    for r in listed:
        assert r.rc == 0, r.err
        assert r.out["tenants"] == [], r.out
    result = a.bootstrap_ok(DOC)
    a.start()
    b.public_url = a.base
    b.start()
    return a, b, result


@pytest.fixture(scope="module")
def alice_at_a(pair):
    """A browser where alice has signed in at A (once: each sign-in costs an
    Argon2id hash)."""
    a = pair[0]
    br = Browser(a)
    authorize(br, mobile(a), ALICE)
    assert br.cookie()
    return br


# -- helpers ---------------------------------------------------------------------------------

def mobile(srv, scope="openid profile email offline_access"):
    return RP(srv, TENANT, "mobile", MOBILE_URI, scope=scope)


def signed_in_tokens(a, browser):
    """A token response of the code flow with PKCE through A, for alice."""
    rp = mobile(a)
    loc, seen = authorize(browser, rp, ALICE)
    assert seen == [], seen  # signed in already; the client skips consent
    return rp.fetch_token(loc)


def active(srv, token):
    """Introspection by the confidential web client."""
    r = introspect(srv, TENANT, token, "web")
    assert r.status_code == 200, r.text
    return r.json()["active"]


def assert_grant_gone(servers, tok):
    """Neither the access token nor the refresh token of tok works at any
    of servers."""
    for s in servers:
        assert not active(s, tok["access_token"]), s.port
        assert userinfo(s, TENANT, tok["access_token"]).status_code == 401
        assert_oauth_error(mobile(s).refresh_raw(tok["refresh_token"]), 400, "invalid_grant")


def race(servers, data):
    """The same token request sent by RACERS_PER_SERVER threads to each of
    servers, all released at once. Returns (the one 200 response's JSON,
    every response); asserts that exactly one succeeded and every other was
    invalid_grant."""
    barrier = threading.Barrier(RACERS_PER_SERVER * len(servers))

    def post(srv):
        with requests.Session() as s:
            barrier.wait(timeout=10)
            return s.post(srv.endpoint(TENANT, "token"), data=data, timeout=HTTP_TIMEOUT_S)

    with concurrent.futures.ThreadPoolExecutor(RACERS_PER_SERVER * len(servers)) as ex:
        results = list(ex.map(post, list(servers) * RACERS_PER_SERVER))
    statuses = [r.status_code for r in results]
    assert statuses.count(200) == 1, statuses
    for r in results:
        if r.status_code != 200:
            assert_oauth_error(r, 400, "invalid_grant")
    return [r.json() for r in results if r.status_code == 200][0], results


def usable_everywhere(servers, client_id, secret):
    """Polls client_credentials at every server until each has issued a
    token; returns {port: seconds until its first success}. Failed
    authentications count towards the client's throttle, so the polling is
    slow enough to stay under it while the change is on its way."""
    t0 = time.monotonic()
    first_ok = {}

    def probe():
        for s in servers:
            if s.port in first_ok:
                continue
            r = token_request(s, TENANT, {"grant_type": "client_credentials"},
                              auth=(client_id, secret))
            assert r.status_code in (200, 401), r.text
            if r.status_code == 200:
                first_ok[s.port] = time.monotonic() - t0
        return len(first_ok) == len(servers)
    done, elapsed = wait_until(probe, timeout=RELOAD_BUDGET_S + 1, interval=0.25)
    assert done, "%s usable only at %r after %.1f s" % (client_id, first_ok, elapsed)
    return first_ok


def ready_status(srv):
    return requests.get(srv.url("/readyz"), timeout=HTTP_TIMEOUT_S).status_code


def assert_unavailable(r):
    """A storage failure (docs/BEHAVIOUR.md): 503 temporarily_unavailable
    with Retry-After, never a credential error."""
    body = assert_oauth_error(r, 503, "temporarily_unavailable")
    assert int(r.headers["Retry-After"]) > 0, r.headers
    return body


def created_flags(node, path="result"):
    """Every (path, created) pair in a bootstrap result."""
    if isinstance(node, dict):
        found = [(path, node["created"])] if "created" in node else []
        label = node.get("name") or node.get("client_id") or node.get("username") or ""
        for k, v in node.items():
            found += created_flags(v, "%s/%s%s" % (path, label + "." if label else "", k))
        return found
    if isinstance(node, list):
        return [f for i, v in enumerate(node) for f in created_flags(v, "%s[%d]" % (path, i))]
    return []


# -- one set of keys, one configuration -------------------------------------------------------

def test_both_servers_issue_tokens_that_verify_against_either_jwks(pair):
    a, b, result = pair
    (t,) = result["tenants"]
    assert t["name"] == TENANT and t["issuer"] == a.issuer(TENANT)
    flags = created_flags(result)
    assert len(flags) >= 6, flags  # the tenant, 3 clients, the user, the group
    assert all(v is True for _, v in flags), flags

    keysets = [fetch_jwks(s, TENANT) for s in (a, b)]
    kids = [sorted(k["kid"] for k in ks["keys"]) for ks in keysets]
    assert kids[0] == kids[1], kids
    for s in (a, b):
        # One issuer, whichever server answers.
        assert discovery(s, TENANT)["issuer"] == a.issuer(TENANT)
        tok = fetch_token(s, TENANT, "svc")
        for ks in keysets:
            verify_access_token(tok["access_token"], ks, issuer=a.issuer(TENANT),
                                client_id="svc", audience=AUD, scope="tasks:read", ttl=900)


def test_a_client_created_by_the_cli_works_at_both_servers_within_2_s(pair):
    a, b, _ = pair
    r = a.cli("client", "create", "--tenant", TENANT, "cli-svc", "--grant",
              "client_credentials", "--scope", "tasks:read")
    assert r.rc == 0, r.err
    assert r.out["result"] == "created"
    secret = r.out["client_secret"]
    took = usable_everywhere((a, b), "cli-svc", secret)
    assert max(took.values()) <= RELOAD_BUDGET_S, took
    keys = fetch_jwks(b, TENANT)
    for s in (a, b):
        tok = fetch_token(s, TENANT, "cli-svc", secret=secret)
        verify_access_token(tok["access_token"], keys, issuer=a.issuer(TENANT),
                            client_id="cli-svc", audience=AUD, scope="tasks:read")
    # B's CLI reads the same database.
    shown = b.cli("client", "show", "--tenant", TENANT, "cli-svc")
    assert shown.rc == 0, shown.err
    assert shown.out["client_id"] == "cli-svc" and shown.out["scopes"] == ["tasks:read"]


def test_the_first_tenant_created_while_servers_run_is_served_by_both(cluster, tmp_path):
    """An empty database, two servers that poll it every millisecond, and
    `tessera tenant create`: the servers load the tenant's row before its
    signing keys exist (the tenant and each key are separate writes), and
    must get through that to serving the tenant with its keys."""
    url = cluster.create_database("first_tenant")
    servers = []
    for i in range(2):
        s = Tessera(tmp_path / ("srv%d" % i), env={"TESSERA_DB": url,
                                                   "TESSERA_RELOAD_INTERVAL_MS": "1"})
        s.db = url
        if servers:
            s.master_key = servers[0].master_key
        servers.append(s)
    try:
        for s in servers:
            s.start()
        r = servers[0].cli("tenant", "create", "first")
        assert r.rc == 0, r.err
        t0 = time.monotonic()
        for s in servers:
            def keys_served():
                r = requests.get(s.issuer("first") + "/oauth2/jwks", timeout=HTTP_TIMEOUT_S)
                return r.status_code == 200 and len(r.json()["keys"]) >= 3
            served, _ = wait_until(keys_served, timeout=RELOAD_BUDGET_S + 1)
            assert served and time.monotonic() - t0 <= RELOAD_BUDGET_S, s.log_tail()
        for s in servers:
            assert s.running, s.log_tail()
            assert s.stop() == 0, s.log_tail()
            assert "runtime error" not in s.log_text(), s.log_tail()
    finally:
        for s in servers:
            s.kill()


# -- grants across servers --------------------------------------------------------------------

def test_refresh_rotation_and_reuse_detection_across_servers(pair, alice_at_a):
    a, b, _ = pair
    keys = fetch_jwks(b, TENANT)
    tok1 = signed_in_tokens(a, alice_at_a)
    rt1, at1 = tok1["refresh_token"], tok1["access_token"]
    c1 = verify_user_access_token(at1, keys, issuer=a.issuer(TENANT), client_id="mobile",
                                  scope=tok1["scope"])

    # B rotates what A issued.
    r = mobile(b).refresh_raw(rt1)
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    tok2 = r.json()
    rt2, at2 = tok2["refresh_token"], tok2["access_token"]
    assert rt2 != rt1 and at2 != at1
    c2 = verify_user_access_token(at2, keys, issuer=a.issuer(TENANT), client_id="mobile",
                                  scope=tok1["scope"])
    assert c2["sub"] == c1["sub"] and c2["auth_time"] == c1["auth_time"]
    assert active(a, at2) and active(b, at1)

    # The rotated token presented again, at A: refused, and the whole grant
    # goes, at A at once and at B within 2 s (B answered at1 from memory).
    assert_oauth_error(mobile(a).refresh_raw(rt1), 400, "invalid_grant")
    assert_grant_gone((a,), tok2)
    assert not active(a, at1)
    ok, elapsed = wait_until(lambda: not active(b, at1) and not active(b, at2),
                             timeout=RELOAD_BUDGET_S + 1)
    assert ok and elapsed <= RELOAD_BUDGET_S, elapsed
    assert_grant_gone((b,), tok2)


def test_one_code_redeemed_concurrently_at_both_servers_gives_one_token(pair, alice_at_a):
    a, b, _ = pair
    rp = mobile(a)
    code, _ = code_only(a, TENANT, rp, browser=alice_at_a)
    won, _ = race((a, b), {"grant_type": "authorization_code", "code": code,
                           "redirect_uri": MOBILE_URI, "code_verifier": rp.verifier,
                           "client_id": "mobile"})
    assert won["access_token"] and won["refresh_token"]
    # Every other attempt replayed a used code, which revokes what
    # the code issued, whichever server issued it.
    assert_grant_gone((a, b), won)


def test_one_refresh_token_used_concurrently_at_both_servers_rotates_once(pair, alice_at_a):
    a, b, _ = pair
    rt = signed_in_tokens(a, alice_at_a)["refresh_token"]
    won, _ = race((a, b), {"grant_type": "refresh_token", "refresh_token": rt,
                           "client_id": "mobile"})
    # Every other attempt presented a rotated token: the grant is revoked.
    assert_grant_gone((a, b), won)


def test_a_revocation_at_one_server_is_seen_by_introspection_at_the_other(pair):
    a, b, _ = pair
    at = fetch_token(b, TENANT, "svc")["access_token"]
    other = fetch_token(a, TENANT, "svc")["access_token"]
    assert active(a, at) and active(b, at)
    r = revoke(a, TENANT, at, "svc")
    assert r.status_code == 200, r.text
    # Acknowledged: inactive at once at both servers, as on one server,
    # also at the one that has just answered it active.
    assert not active(a, at)
    r = introspect(b, TENANT, at, "web")
    assert r.status_code == 200 and r.json() == {"active": False}, r.text
    me = requests.get(b.issuer(TENANT) + "/api/me",
                      headers={"Authorization": "Bearer " + at}, timeout=HTTP_TIMEOUT_S)
    assert me.status_code == 401, me.text
    # Only that token.
    assert active(a, other) and active(b, other)


def test_a_refresh_token_revoked_at_one_server_ends_its_grant_at_the_other(pair, alice_at_a):
    a, b, _ = pair
    tok = signed_in_tokens(a, alice_at_a)
    assert active(a, tok["access_token"])
    # A public client revokes its own token (RFC 7009, docs/BEHAVIOUR.md).
    r = requests.post(b.endpoint(TENANT, "revoke"),
                      data={"token": tok["refresh_token"], "client_id": "mobile"},
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    # At once at B, which revoked it; within 2 s at A.
    assert_grant_gone((b,), tok)
    ok, elapsed = wait_until(lambda: not active(a, tok["access_token"]),
                             timeout=RELOAD_BUDGET_S + 1)
    assert ok and elapsed <= RELOAD_BUDGET_S, elapsed
    assert_grant_gone((a,), tok)


# -- throttling -------------------------------------------------------------------------------

def test_failures_for_one_user_count_across_both_servers(pair):
    """Throttling across servers: the failures for one username,
    spread over A and B and each from a source address of its own (so no
    per-address count and neither server's own count reaches the five free
    failures), add up in the database: the attempt after the fifth is
    refused with 429 at both servers. The username is unknown (it counts
    the same), so alice's sign-ins elsewhere stay unthrottled."""
    a, b, _ = pair
    username = "nobody-%d@acme.test" % os.getpid()
    servers = (a, b)
    statuses = []
    for i in range(5):
        r = password_grant(servers[i % 2], TENANT, username, "not-the-password",
                           source="127.0.9.%d" % (i + 1))
        statuses.append(r.status_code)
    assert statuses == [400] * 5, statuses
    # The next attempts come well within the first delay (at least 1 s from
    # the end of the fifth failure's second), at B and then at A.
    for i, srv in enumerate((b, a)):
        r = password_grant(srv, TENANT, username, "not-the-password",
                           source="127.0.9.%d" % (10 + i))
        assert r.status_code == 429, (srv.port, r.status_code, r.text[:300])
        assert r.json()["error"] == "invalid_grant", r.text
        retry = r.headers.get("Retry-After", "")
        assert retry.isdigit() and 1 <= int(retry) <= 2, r.headers


def test_a_parallel_burst_at_both_servers_checks_no_more_than_the_limit(pair):
    """Attempts reserve their count in the database before the password is
    hashed: sixty wrong passwords for one user, in parallel at both
    servers, get at most the free five checked (one more per delay that
    runs out during the burst), never more than twenty."""
    a, b, _ = pair
    username = "burst-%d@acme.test" % os.getpid()

    def attempt(i):
        return password_grant((a, b)[i % 2], TENANT, username, "not-the-password",
                              source="127.0.10.%d" % (i + 1)).status_code

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=60) as ex:
        statuses = list(ex.map(attempt, range(60)))
    elapsed = time.monotonic() - t0
    checked = statuses.count(400)
    assert set(statuses) <= {400, 429}, statuses
    assert 1 <= checked <= min(20, 5 + int(elapsed) + 1), (checked, elapsed, statuses)


# -- storage outage ---------------------------------------------------------------------------

def test_a_postgres_outage_is_503_at_both_servers_and_both_recover_by_themselves(pair, cluster):
    a, b, _ = pair
    keys = fetch_jwks(a, TENANT)
    r = password_grant(a, TENANT, ALICE["username"], ALICE["password"],
                       scope="openid offline_access tasks:read")
    assert r.status_code == 200, r.text
    rt = r.json()["refresh_token"]
    live = fetch_token(a, TENANT, "svc")["access_token"]
    revoked = fetch_token(b, TENANT, "svc")["access_token"]
    assert revoke(b, TENANT, revoked, "svc").status_code == 200
    time.sleep(0.5)  # the audit writer (200 ms) flushes before the outage

    cluster.stop()
    try:
        for s in (a, b):
            down, elapsed = wait_until(lambda: ready_status(s) == 503, timeout=RELOAD_BUDGET_S)
            assert down, "port %d still ready %.1f s into the outage" % (s.port, elapsed)
            assert_unavailable(requests.get(s.url("/readyz"), timeout=HTTP_TIMEOUT_S))
            # alive throughout
            assert requests.get(s.url("/healthz"), timeout=HTTP_TIMEOUT_S).status_code == 200
            # Grants that need storage.
            assert_unavailable(password_grant(s, TENANT, ALICE["username"], ALICE["password"],
                                              scope="openid offline_access"))
            r = mobile(s).refresh_raw(rt)
            assert_unavailable(r)
            assert r.headers.get("Cache-Control") == "no-store"
            # Never an inactive token either, and a revocation that cannot
            # be stored is not acknowledged.
            for endpoint in ("introspect", "revoke"):
                assert_unavailable(requests.post(s.endpoint(TENANT, endpoint),
                                                 data={"token": live}, auth=("svc", SECRET),
                                                 timeout=HTTP_TIMEOUT_S))
            # client_credentials reads only the in-memory configuration
            # (docs/ARCHITECTURE.md, the token endpoint's hot path), but an
            # outage is an outage: nothing is issued that storage could not
            # record.
            assert_unavailable(token_request(s, TENANT, {"grant_type": "client_credentials"},
                                             auth=("svc", SECRET)))
    finally:
        cluster.start_again()

    for s in (a, b):
        up, elapsed = wait_until(lambda: ready_status(s) == 200, timeout=RECOVERY_S, interval=0.1)
        assert up, "port %d not ready %.1f s after the cluster came back" % (s.port, elapsed)
    # The refresh token that met the outage was not used up by it.
    r = mobile(b).refresh_raw(rt)
    assert r.status_code == 200, r.text
    r = mobile(a).refresh_raw(r.json()["refresh_token"])
    assert r.status_code == 200, r.text
    assert password_grant(b, TENANT, ALICE["username"], ALICE["password"]).status_code == 200
    # What was acknowledged before the outage holds; what was refused
    # during it did not happen.
    for s in (a, b):
        assert active(s, live)
        assert not active(s, revoked)
    # Each server's configuration reload is back too.
    r = b.cli("client", "create", "--tenant", TENANT, "after-outage", "--secret", SECRET)
    assert r.rc == 0, r.err
    took = usable_everywhere((a, b), "after-outage", SECRET)
    assert max(took.values()) <= RELOAD_BUDGET_S, took


# -- bootstrap --------------------------------------------------------------------------------

def test_applying_the_bootstrap_file_again_changes_nothing(pair):
    a, b, first = pair
    keys_before = a.cli("keys", "list", "--tenant", TENANT)
    shown_before = a.cli("tenant", "show", TENANT)
    assert keys_before.rc == 0 and shown_before.rc == 0, (keys_before.err, shown_before.err)
    result = b.bootstrap_ok(DOC)
    (t,) = result["tenants"]
    assert t["issuer"] == a.issuer(TENANT)  # B's public URL is the shared one
    flags = created_flags(result)
    assert [p for p, _ in flags] == [p for p, _ in created_flags(first)], flags
    assert all(v is False for _, v in flags), [f for f in flags if f[1] is not False]
    assert "client_secret" not in str(result)
    assert t["groups"] == [dict(g, created=False) for g in first["tenants"][0]["groups"]]
    assert a.cli("keys", "list", "--tenant", TENANT).out == keys_before.out
    assert a.cli("tenant", "show", TENANT).out == shown_before.out


def test_migrate_checks_then_applies_the_schema_on_postgres(cluster, tmp_path):
    url = cluster.create_database("migrate_step")
    s = Tessera(tmp_path / "migrate", env={"TESSERA_DB": url})
    s.db = url
    r = s.cli("migrate", "--check")
    assert r.rc == 1 and r.out["version"] == 0 and r.out["pending"] == r.out["latest"] > 0, r
    r = s.cli("migrate")
    assert r.rc == 0 and r.out["pending"] == 0 and r.out["version"] == r.out["latest"], r
    r = s.cli("migrate", "--check")
    assert r.rc == 0 and r.out["pending"] == 0, r
