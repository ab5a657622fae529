"""Behind a reverse proxy, and the throttles that must never lock out the
innocent: nginx in front of tessera with --trusted-proxies (the client
address comes from X-Forwarded-For), forged forwarding headers from an
untrusted peer (ignored), failed logins per account and per client
address, client authentication per client and address, and a burst of
parallel wrong passwords that cannot get more passwords checked than the
limit.

nginx is started here on loopback, as a child process in the foreground,
with a private prefix, configuration, pid and log files."""
import concurrent.futures
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, free_port, wait_until
from people_helpers import ALICE, BOB, _SourceAdapter, people_tenant, web_client, mobile_client

TENANT = "px"
DOC = {"tenants": [people_tenant(TENANT, users=(ALICE, BOB), clients=[
    mobile_client(), web_client(),
    {"client_id": "svc", "secret": SECRET, "grant_types": ["client_credentials"],
     "scopes": ["tasks:read"]}])]}
WRONG = "not-the-password"
ACCOUNT_FREE = 5    # failures for one account before the delays start
ACCOUNT_MAX = 20    # failures for one account before every attempt is refused
ADDRESS_MAX = 100   # failures from one client address across accounts

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# The configuration README.md shows, with private paths for a test.
NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

    upstream tessera {{
        server 127.0.0.1:{upstream};
        keepalive 16;
        keepalive_timeout 20s;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://tessera;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, workdir, upstream_port):
        self.prefix = pathlib.Path(workdir)
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(NGINX_CONF.format(prefix=self.prefix, upstream=upstream_port,
                                               port=self.port))
        self.log = open(self.prefix / "stderr.log", "ab")
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.prefix), "-c", str(self.conf), "-e",
             str(self.prefix / "error.log")],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.error_log()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not start:\n" + self.error_log())

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def error_log(self):
        try:
            return (self.prefix / "error.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def template(make_module_server):
    return make_module_server(DOC, start=False, name="proxy")


@pytest.fixture
def proxied(make_server, template, tmp_path):
    """tessera that trusts 127.0.0.1 (where nginx connects from), and nginx
    in front of it; yields (tessera, nginx)."""
    if not os.access(NGINX, os.X_OK):
        pytest.skip("nginx is not installed (scripts/deps.sh --tests installs it)")
    srv = make_server(copy_of=template, start=False, name="proxied",
                      env={"TESSERA_TRUSTED_PROXIES": "127.0.0.1/32"})
    srv.start()
    ng = Nginx(tmp_path / "nginx", srv.port)
    yield srv, ng
    ng.stop()


@pytest.fixture
def untrusted_proxy(make_server, template, tmp_path):
    """nginx in front of a tessera that was not told to trust it."""
    if not os.access(NGINX, os.X_OK):
        pytest.skip("nginx is not installed (scripts/deps.sh --tests installs it)")
    srv = make_server(copy_of=template, name="untrusted")
    ng = Nginx(tmp_path / "nginx", srv.port)
    yield srv, ng
    ng.stop()


@pytest.fixture
def direct(make_server, template):
    """tessera that trusts only 127.0.0.1 as a proxy, reached directly."""
    return make_server(copy_of=template, name="direct",
                       env={"TESSERA_TRUSTED_PROXIES": "127.0.0.1"})


def session(source):
    s = requests.Session()
    s.mount("http://", _SourceAdapter(source))
    return s


def grant(base, username, password, source, headers=None):
    return session(source).post(
        "%s/t/%s/oauth2/token" % (base, TENANT),
        data={"grant_type": "password", "client_id": "mobile", "username": username,
              "password": password},
        headers=headers or {}, timeout=HTTP_TIMEOUT_S)


def assert_throttled(r):
    assert r.status_code == 429, (r.status_code, r.text[:300])
    assert r.json()["error"] == "invalid_grant", r.text
    assert int(r.headers["Retry-After"]) >= 1, r.headers


def access_lines(srv):
    out = []
    for line in srv.log_text().splitlines():
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if "remote" in j:
            out.append(j)
    return out


# -- through nginx ----------------------------------------------------------------------

def test_behind_nginx_other_peoples_failures_never_lock_out_a_user(proxied):
    srv, ng = proxied
    # Thirty made-up users mistype, all from one client: none is refused,
    # and a real user then signs in from the same client.
    for i in range(30):
        r = grant(ng.base, "made-up-%d@acme.test" % i, WRONG, "127.0.0.21")
        assert r.status_code == 400, (i, r.status_code, r.text[:200])
    r = grant(ng.base, ALICE["username"], ALICE["password"], "127.0.0.21")
    assert r.status_code == 200, r.text
    # tessera saw the client's address, not nginx's.
    wait_until(lambda: len([j for j in access_lines(srv) if j.get("route") == "token"]) == 31)
    lines = [j for j in access_lines(srv) if j.get("route") == "token"]
    assert lines and all(j["remote"] == "127.0.0.21" and j.get("peer") == "127.0.0.1"
                         for j in lines), lines[-3:]
    audit = [j for j in access_lines(srv) if j.get("audit") == "login.failed"]
    assert len(audit) == 30 and all(j["remote"] == "127.0.0.21" for j in audit), audit[-3:]


def test_behind_nginx_one_account_is_refused_by_the_21st_failure(proxied):
    _, ng = proxied
    statuses = []
    for i in range(25):
        r = grant(ng.base, BOB["username"], WRONG, "127.0.0.%d" % (30 + i))
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert_throttled(r)
        else:
            assert r.status_code == 400, r.text[:200]
    assert 429 in statuses[:ACCOUNT_MAX + 1], statuses
    assert statuses[-1] == 429 and statuses.count(400) <= ACCOUNT_MAX, statuses
    # Another user, from an address that took part, is not affected.
    r = grant(ng.base, ALICE["username"], ALICE["password"], "127.0.0.30")
    assert r.status_code == 200, r.text


def test_behind_nginx_the_address_limit_is_per_client(proxied):
    """A hundred failures from one client across accounts refuse that
    client, never the other clients behind the same proxy."""
    _, ng = proxied
    for i in range(ADDRESS_MAX):
        r = grant(ng.base, "someone-%d@acme.test" % i, WRONG, "127.0.0.60")
        assert r.status_code == 400, (i, r.status_code, r.text[:200])
    assert_throttled(grant(ng.base, "someone-else@acme.test", WRONG, "127.0.0.60"))
    assert_throttled(grant(ng.base, ALICE["username"], ALICE["password"], "127.0.0.60"))
    r = grant(ng.base, ALICE["username"], ALICE["password"], "127.0.0.61")
    assert r.status_code == 200, r.text


def test_behind_an_untrusted_nginx_every_client_is_the_proxy(untrusted_proxy):
    """Without --trusted-proxies the header nginx adds is ignored: every
    client has nginx's address, so a hundred failures from one client
    refuse the others too (which is why the proxy must be listed), but
    thirty failures from anyone still lock nobody out."""
    srv, ng = untrusted_proxy
    for i in range(30):
        assert grant(ng.base, "made-up-%d@acme.test" % i, WRONG, "127.0.0.40").status_code == 400
    r = grant(ng.base, ALICE["username"], ALICE["password"], "127.0.0.41")
    assert r.status_code == 200, r.text
    for i in range(ADDRESS_MAX - 30):
        assert grant(ng.base, "other-%d@acme.test" % i, WRONG, "127.0.0.40").status_code == 400
    assert_throttled(grant(ng.base, ALICE["username"], ALICE["password"], "127.0.0.41"))
    lines = [j for j in access_lines(srv) if j.get("route") == "token"]
    assert lines and all(j["remote"] == "127.0.0.1" and "peer" not in j for j in lines)


# -- forged headers ---------------------------------------------------------------------

@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded"])
def test_forwarding_headers_from_an_untrusted_peer_are_ignored(make_server, template, header):
    """Without --trusted-proxies (and from a peer outside them) a forged
    header names nobody: every failure counts against the real address."""
    for env, source in (({}, "127.0.0.70"), ({"TESSERA_TRUSTED_PROXIES": "127.0.0.1"},
                                             "127.0.0.71")):
        srv = make_server(copy_of=template, name="forged", env=env)
        statuses = []
        for i in range(ADDRESS_MAX + 1):
            forged = "198.51.100.%d" % (i % 250 + 1)
            value = forged if header == "X-Forwarded-For" else "for=" + forged
            r = grant(srv.base, "user-%d@acme.test" % i, WRONG, source, headers={header: value})
            statuses.append(r.status_code)
        assert statuses[:ADDRESS_MAX] == [400] * ADDRESS_MAX, statuses
        assert_throttled(r)
        lines = [j for j in access_lines(srv) if j.get("route") == "token"]
        assert all(j["remote"] == source and "peer" not in j for j in lines), lines[-3:]
        srv.stop()


# -- client authentication ----------------------------------------------------------------

def client_credentials(srv, secret, source):
    return session(source).post("%s/t/%s/oauth2/token" % (srv.base, TENANT),
                                data={"grant_type": "client_credentials"},
                                auth=("svc", secret), timeout=HTTP_TIMEOUT_S)


def test_a_strangers_wrong_secrets_never_make_the_right_one_fail(direct):
    codes = [client_credentials(direct, "wrong-" + SECRET, "127.0.0.80").status_code
             for _ in range(25)]
    assert codes[:5] == [401] * 5 and codes[-1] == 429, codes
    # The service, from its own address, is not affected.
    r = client_credentials(direct, SECRET, "127.0.0.1")
    assert r.status_code == 200, r.text
    # The stranger stays refused, even with the right secret.
    r = client_credentials(direct, SECRET, "127.0.0.80")
    assert r.status_code == 429 and r.json()["error"] == "invalid_client", r.text


# -- concurrency --------------------------------------------------------------------------

def test_a_burst_of_parallel_wrong_passwords_checks_at_most_twenty(direct):
    def attempt(i):
        return grant(direct.base, ALICE["username"], WRONG, "127.0.1.%d" % (i + 1)).status_code

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=60) as ex:
        statuses = list(ex.map(attempt, range(60)))
    elapsed = time.monotonic() - t0
    checked = statuses.count(400)
    assert set(statuses) <= {400, 429}, statuses
    assert 1 <= checked <= ACCOUNT_MAX, statuses
    # Each attempt counts before its hash, so the delays apply inside the
    # burst too: five free, then one more per delay that has run out (the
    # first after 1 s, the next after 2 s more, ...).
    assert checked <= ACCOUNT_FREE + int(elapsed) + 1, (checked, elapsed, statuses)
    # The right password is refused too while the account is throttled.
    assert_throttled(grant(direct.base, ALICE["username"], ALICE["password"], "127.0.1.99"))


def test_the_readme_example_proxies_as_this_test_does():
    """README.md's nginx example has the same upstream and location
    settings as the configuration these tests run."""
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Behind a reverse proxy", 1)[1]
    block = section.split("```nginx", 1)[1].split("```", 1)[0]

    def settings(text):
        lines = [ln.split("#")[0].strip() for ln in text.splitlines()]
        keep = ("proxy_pass", "proxy_http_version", "proxy_set_header", "keepalive")
        return [ln for ln in lines if ln.startswith(keep)]

    assert settings(block) and settings(block) == settings(NGINX_CONF), \
        (settings(block), settings(NGINX_CONF))


@pytest.mark.parametrize("value", ["bogus", "10.1.2.3/8", "10.0.0.0/33", "10.0.0.0/8,",
                                   "2001:db8::/129", "127.0.0.1 10.0.0.1"])
def test_a_malformed_trusted_proxy_list_is_a_usage_error(template, value):
    r = template.cli("serve", "--trusted-proxies", value, "--listen", "127.0.0.1:1",
                     json_out=False, timeout=20)
    assert r.rc == 2, (r.rc, r.err)
    assert "trusted proxies" in r.err, r.err


def test_trusted_proxies_from_a_config_file(make_server, template, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"trusted_proxies": ["127.0.0.1"]}))
    r = template.cli("--config", str(bad), "serve", json_out=False, timeout=20)
    assert r.rc == 2 and "trusted_proxies" in r.err and "type" in r.err, (r.rc, r.err)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"trusted_proxies": "127.0.0.0/8"}))
    srv = make_server(copy_of=template, name="cfg", env={"TESSERA_CONFIG": str(good)})
    r = grant(srv.base, "x@acme.test", WRONG, "127.0.0.90",
              headers={"X-Forwarded-For": "198.51.100.77"})
    assert r.status_code == 400

    def token_lines():
        return [j for j in access_lines(srv) if j.get("route") == "token"]

    wait_until(token_lines)  # the access log is written once the answer went out
    lines = token_lines()
    assert lines[-1]["remote"] == "198.51.100.77" and lines[-1]["peer"] == "127.0.0.90", lines


def test_serve_help_names_the_proxy_options_and_starts_nothing(template):
    r = template.cli("serve", "--help", json_out=False, timeout=20)
    assert r.rc == 0, r.err
    assert "--trusted-proxies" in r.out and "--metrics-listen" in r.out, r.out
