"""The Debian packages: built from the tree by scripts/package.sh, installed
with dpkg on this machine (as root), the unit checked by systemd-analyze,
and the installed binary started the way the unit starts it: as the
`tessera` user, with the packaged configuration and environment file,
telling systemd it is ready through NOTIFY_SOCKET, reloading on SIGHUP and
stopping cleanly on SIGTERM. Finally the packages are purged."""
import os
import pathlib
import pwd
import re
import signal
import socket
import stat
import subprocess
import tempfile
import time

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
UNIT = "/lib/systemd/system/tessera.service"
ENV_FILE = "/etc/tessera/tessera.env"
CONFIG = "/etc/tessera/tessera.json"


def run(*argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 900)
    return subprocess.run([str(a) for a in argv], **kw)


@pytest.fixture(scope="module")
def debs():
    p = run(ROOT / "scripts" / "package.sh", cwd=ROOT)
    assert p.returncode == 0, p.stderr
    paths = [pathlib.Path(l) for l in p.stdout.split() if l.endswith(".deb")]
    server = [d for d in paths if d.name.startswith("tessera_")]
    dev = [d for d in paths if d.name.startswith("libtessera-dev_")]
    assert len(server) == 1 and len(dev) == 1, paths
    return server[0], dev[0]


def contents(deb):
    p = run("dpkg-deb", "-c", deb)
    assert p.returncode == 0, p.stderr
    return [line.split(" -> ")[0].split()[-1].lstrip(".") for line in p.stdout.splitlines()]


def test_the_server_package_holds_the_product_and_not_the_example(debs):
    files = contents(debs[0])
    for want in ("/usr/bin/tessera", UNIT, CONFIG,
                 "/usr/share/doc/tessera/OPERATIONS.md",
                 "/usr/share/doc/tessera/examples/tessera-alerts.yml"):
        assert want in files, (want, files)
    assert any(re.search(r"/libtessera\.so\.\d+$", f) for f in files), files
    assert not [f for f in files if "tasks-api" in f]
    assert ENV_FILE not in files  # made at installation, with a fresh key


def test_the_packaged_server_has_no_test_hooks(debs, tmp_path):
    # Test builds read TESSERA_TEST_* settings (such as a skewed clock for
    # the key-rotation schedule); the package is not a test build.
    p = run("dpkg-deb", "-x", debs[0], tmp_path)
    assert p.returncode == 0, p.stderr
    binary = (tmp_path / "usr" / "bin" / "tessera").read_bytes()
    assert b"TESSERA_TEST_" not in binary


def test_the_dev_package_holds_headers_link_library_and_pkgconfig(debs):
    files = contents(debs[1])
    assert "/usr/include/tessera/tessera.h" in files, files
    assert any(f.endswith("/pkgconfig/tessera.pc") for f in files), files
    assert any(f.endswith("/libtessera.so") for f in files), files


def test_the_server_package_declares_its_conffile_and_scripts(debs):
    p = run("dpkg-deb", "-I", debs[0])
    assert p.returncode == 0, p.stderr
    for part in ("postinst", "prerm", "postrm", "conffiles"):
        assert part in p.stdout, p.stdout
    assert re.search(r"^ Depends:.*libmicrohttpd", p.stdout, re.M), p.stdout


@pytest.fixture(scope="module")
def installed(debs):
    if os.geteuid() != 0:
        pytest.skip("installing a package needs root")
    if os.path.exists("/var/lib/tessera") or os.path.exists("/usr/bin/tessera"):
        pytest.fail("this machine already has a tessera installation; the test would change it")
    p = run("dpkg", "-i", *debs, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    assert p.returncode == 0, p.stdout + p.stderr
    yield debs
    p = run("dpkg", "--purge", "libtessera-dev", "tessera")
    assert p.returncode == 0, p.stdout + p.stderr
    assert not os.path.exists("/usr/bin/tessera")
    assert not os.path.exists(ENV_FILE)
    # Purging keeps the data (and its owner); this test then removes what
    # it made, so that it can run again on the same machine.
    assert os.path.isdir("/var/lib/tessera")
    run("rm", "-rf", "/var/lib/tessera")
    run("deluser", "--quiet", "--system", "tessera")


def test_installation_makes_the_user_the_state_directory_and_a_secret_master_key(installed):
    user = pwd.getpwnam("tessera")
    st = os.stat("/var/lib/tessera")
    assert st.st_uid == user.pw_uid and stat.S_IMODE(st.st_mode) == 0o750
    st = os.stat(ENV_FILE)
    assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600
    keys = re.findall(r"^TESSERA_MASTER_KEY=([0-9a-f]{64})$", open(ENV_FILE).read(), re.M)
    assert len(keys) == 1
    p = run("tessera", "--version")
    assert p.returncode == 0 and p.stdout.startswith("tessera "), p


def test_the_unit_verifies(installed):
    p = run("systemd-analyze", "verify", UNIT)
    assert p.returncode == 0, p.stdout + p.stderr
    unit = open(UNIT).read()
    for line in ("Type=notify", "User=tessera", "ProtectSystem=strict", "NoNewPrivileges=yes",
                 "PrivateTmp=yes", "CapabilityBoundingSet=\n", "ReadWritePaths=/var/lib/tessera",
                 "ExecReload=/bin/kill -HUP $MAINPID", "EnvironmentFile=" + ENV_FILE):
        assert line in unit, line


def env_file():
    env = {}
    for line in open(ENV_FILE):
        if "=" in line and not line.startswith("#"):
            k, v = line.strip().split("=", 1)
            env[k] = v
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notifications(sock, want, timeout=30):
    """Reads sd_notify datagrams until one holds the line `want`."""
    deadline = time.time() + timeout
    seen = []
    while time.time() < deadline:
        sock.settimeout(max(0.1, deadline - time.time()))
        try:
            msg = sock.recv(4096).decode()
        except socket.timeout:
            break
        seen.append(msg)
        if want in msg.split("\n"):
            return seen
    raise AssertionError("no %s among %r" % (want, seen))


def test_the_installed_server_runs_as_the_unit_runs_it(installed):
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        path = os.path.join(d, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        os.chmod(path, 0o666)
        env = dict(env_file(), PATH="/usr/bin:/bin", NOTIFY_SOCKET=path,
                   TESSERA_LISTEN="127.0.0.1:%d" % port,
                   TESSERA_PUBLIC_URL="http://127.0.0.1:%d" % port)
        doc = os.path.join(d, "tenants.json")
        with open(doc, "w") as f:
            f.write('{"tenants": [{"name": "pkg", "clients": [{"client_id": "svc", '
                    '"secret": "packaged-service-secret-0123456789"}]}]}')
        os.chmod(doc, 0o644)
        boot = run("runuser", "-u", "tessera", "--", "env", *["%s=%s" % kv for kv in env.items()],
                   "tessera", "--config", CONFIG, "bootstrap", doc, cwd="/var/lib/tessera")
        assert boot.returncode == 0, boot.stderr
        proc = subprocess.Popen(
            ["runuser", "-u", "tessera", "--", "env"] + ["%s=%s" % kv for kv in env.items()]
            + ["tessera", "--config", CONFIG, "serve"],
            cwd="/var/lib/tessera", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            notifications(sock, "READY=1")
            r = requests.get("http://127.0.0.1:%d/readyz" % port, timeout=5)
            assert r.status_code == 200, r.text
            r = requests.post("http://127.0.0.1:%d/t/pkg/oauth2/token" % port,
                              data={"grant_type": "client_credentials"},
                              auth=("svc", "packaged-service-secret-0123456789"), timeout=5)
            assert r.status_code == 200, r.text
            # SIGHUP reloads, it never stops the server.
            children = run("pgrep", "-P", str(proc.pid)).stdout.split()
            server = int(children[0]) if children else proc.pid
            os.kill(server, signal.SIGHUP)
            notifications(sock, "RELOADING=1")
            notifications(sock, "READY=1")
            assert requests.get("http://127.0.0.1:%d/healthz" % port, timeout=5).status_code == 200
            os.kill(server, signal.SIGTERM)
            notifications(sock, "STOPPING=1")
            assert proc.wait(timeout=30) == 0, proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            sock.close()
    db = pathlib.Path("/var/lib/tessera/tessera.db")
    assert db.exists() and db.stat().st_uid == pwd.getpwnam("tessera").pw_uid
