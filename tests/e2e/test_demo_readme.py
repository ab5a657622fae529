"""End-to-end test of README.md's "Signing people in (demo tenant)".

scripts/demo.sh itself sets the installation up and runs the server, as a
reader would run it, except that it is given the binary under test
(TESSERA_BIN: no package check, no build), a free port and a state
directory of the test's own. The section's `sh` blocks then run as written,
in order, in one bash shell under `set -euo pipefail`, in the directory
that holds that state directory (so `.tessera/...` is found); only the
port of the first block's ISSUER line is replaced. Each `text` block must
match what the `sh` block before it printed, `…` standing for any
non-empty text.

Then the outcomes are checked independently of the README: both apps got
access tokens signed with the tenant's keys for the demo user, ID tokens
for the right audience, a userinfo answer with the user's id; the refresh
token rotated; the reused token's grant, the revoked grants and the logout
are visible at the introspection endpoint and in the audit trail.

Finally demo.sh runs a second time on the same state directory: it keeps
the master key, the secrets and the password, changes nothing in the
database, and the walkthrough works again (the consent approved on the
first run must not break it).
"""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time
import urllib.parse

import pytest
import requests
from jwcrypto import jwk, jwt

from e2e_util import (HTTP_TIMEOUT_S, START_TIMEOUT_S, STOP_TIMEOUT_S, clean_env, free_port,
                      jose_header, tessera_bin)

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DEMO_SH = ROOT / "scripts" / "demo.sh"
HEADING = "## Signing people in (demo tenant)"
README_ISSUER = "http://127.0.0.1:8080/t/demo"
USERNAME = "demo@demo.test"
STATE_FILES = ["master.key", "demo-secret", "demo-web-secret", "demo-password"]
WALKTHROUGH_TIMEOUT_S = 120


# -- the README section ------------------------------------------------------

def section_blocks():
    """[[sh code, expected text or None]] of the section, in order: a `text`
    block belongs to the nearest `sh` block before it."""
    text = README.read_text()
    start = text.index(HEADING)
    end = text.find("\n## ", start + len(HEADING))
    body = text[start:end if end >= 0 else len(text)]
    blocks = []
    for m in re.finditer(r"^```(\w*)\n(.*?)^```\s*$", body, re.M | re.S):
        lang, code = m.group(1), m.group(2)
        if lang == "sh":
            blocks.append([code, None])
        elif lang == "text":
            assert blocks and blocks[-1][1] is None, "a text block without its sh block"
            blocks[-1][1] = code
    return blocks


def expected_line_re(line, port):
    """A README output line as a regex: `…` is any non-empty text, and the
    README's port 8080 is the port under test."""
    line = line.replace("127.0.0.1:8080", "127.0.0.1:%d" % port)
    line = line.replace("127.0.0.1%3A8080", "127.0.0.1%%3A%d" % port)
    return re.compile(".+?".join(re.escape(part) for part in line.split("…")))


# -- demo.sh -------------------------------------------------------------------

class Demo:
    """scripts/demo.sh on a free port with the state directory `state`;
    demo.sh ends by exec'ing `tessera serve`, so its process is the server."""

    def __init__(self, state, log_path):
        self.state = pathlib.Path(state)
        self.log_path = pathlib.Path(log_path)
        self.proc = None
        self.port = None

    @property
    def issuer(self):
        return "http://127.0.0.1:%d/t/demo" % self.port

    def start(self):
        for _ in range(3):
            self.port = free_port()
            env = clean_env({"PORT": str(self.port), "TESSERA_BIN": tessera_bin(),
                             "TESSERA_STATE_DIR": str(self.state)})
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(["bash", str(DEMO_SH)], env=env,
                                             stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
            if self._wait_healthy():
                return self
            text = self.log_text()
            if self.proc.poll() is None or not ("already listens" in text
                                                or "cannot listen" in text):
                break
        self.kill()
        raise AssertionError("demo.sh did not bring the server up:\n" + self.log_text()[-4000:])

    def _wait_healthy(self):
        # demo.sh applies the bootstrap file (new signing keys) before it
        # serves: allow for that on top of the server's own start.
        deadline = time.monotonic() + START_TIMEOUT_S + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                r = requests.get("http://127.0.0.1:%d/healthz" % self.port, timeout=1)
                if r.status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.05)
        return False

    def stop(self):
        """SIGTERM; the exit status, or None if it hung (then killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def cli(self, *args):
        """`tessera --db <the demo database> ARGS --json`, parsed."""
        env = clean_env({"TESSERA_MASTER_KEY_FILE": str(self.state / "master.key")})
        p = subprocess.run([tessera_bin(), "--db", "sqlite:%s" % (self.state / "tessera.db")]
                           + list(args) + ["--json"], env=env, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, (args, p.returncode, p.stderr)
        return json.loads(p.stdout)


@pytest.fixture
def demos():
    started = []
    yield started
    for d in started:
        d.kill()


# -- running the walkthrough ---------------------------------------------------

def run_walkthrough(demo, workdir):
    """Runs the section's sh blocks in one bash shell, in the directory that
    holds demo's state directory. Returns (blocks, {block: printed}, WORK)."""
    blocks = section_blocks()
    first = blocks[0][0]
    assert first.startswith("ISSUER=%s\n" % README_ISSUER), first
    script = ["set -euo pipefail"]
    for i, (code, _) in enumerate(blocks):
        if i == 0:
            code = code.replace(README_ISSUER, demo.issuer, 1)
        script += ["echo '@@block %d@@'" % i, code]
    script += ["echo '@@work@@'", 'echo "$WORK"']
    # mktemp -d in the walkthrough lands in the test's directory.
    env = clean_env({"TMPDIR": str(workdir)})
    p = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=demo.state.parent, env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=WALKTHROUGH_TIMEOUT_S)
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    assert p.returncode == 0, ("the walkthrough failed (%d)\nstdout:\n%s\nstderr:\n%s"
                               "\n--- demo.sh log ---\n%s"
                               % (p.returncode, out, err, demo.log_text()[-4000:]))
    parts = re.split(r"^@@(block \d+|work)@@\n", out, flags=re.M)
    printed = {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    work = pathlib.Path(printed.pop("work").strip())
    assert work.is_dir() and workdir in work.parents, work
    outputs = {int(k.split()[1]): v for k, v in printed.items()}
    return blocks, outputs, work


def check_printed(blocks, outputs, port):
    checked = 0
    for i, (code, expected) in enumerate(blocks):
        if expected is None:
            continue
        got = outputs.get(i, "").rstrip("\n").split("\n")
        want = expected.rstrip("\n").split("\n")
        ok = len(got) == len(want) and all(expected_line_re(w, port).fullmatch(g)
                                          for w, g in zip(want, got))
        assert ok, ("README block %d printed something else\n--- code ---\n%s--- expected ---\n"
                    "%s--- printed ---\n%s" % (i, code, expected, outputs.get(i)))
        checked += 1
    assert checked >= 7, checked


def printed_line(outputs, prefix):
    lines = [l for out in outputs.values() for l in out.splitlines() if l.startswith(prefix)]
    assert len(lines) == 1, (prefix, lines)
    return lines[0]


# -- checking the outcomes -------------------------------------------------------

def keyset(issuer):
    meta = requests.get(issuer + "/.well-known/openid-configuration",
                        timeout=HTTP_TIMEOUT_S).json()
    assert meta["issuer"] == issuer, meta
    r = requests.get(meta["jwks_uri"], timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return jwk.JWKSet.from_json(r.text)


def verified(token, keys, alg, **claims):
    """The claims of a JWT whose signature holds and whose claims include
    `claims` (None: present, any value)."""
    header = jose_header(token)
    assert header["alg"] == alg, header
    check = {"exp": None, "iat": None}
    check.update(claims)
    return json.loads(jwt.JWT(jwt=token, key=keys, algs=[alg], check_claims=check).claims)


def check_tokens(demo, work, user_id):
    keys = keyset(demo.issuer)
    tokens = {name: json.loads((work / ("%s.json" % name)).read_text())
              for name in ["mobile", "mobile-2", "mobile-3", "web", "web-2"]}
    for name, t in tokens.items():
        client = "demo-web" if name.startswith("web") else "demo-mobile"
        assert t["token_type"] == "Bearer" and t["expires_in"] == 900, (name, t)
        assert sorted(t["scope"].split()) == sorted(
            ["openid", "profile", "email", "offline_access", "reports:read"]), (name, t)
        assert jose_header(t["access_token"])["typ"] == "at+jwt"
        verified(t["access_token"], keys, "ES256", iss=demo.issuer, sub=user_id,
                 client_id=client)
        assert t.get("refresh_token"), (name, t)
        if "id_token" in t:
            idt = verified(t["id_token"], keys, "RS256", iss=demo.issuer, sub=user_id,
                           aud=client)
            assert idt["email"] == USERNAME and idt["name"] == "Demo User", idt
    web_id = verified(tokens["web"]["id_token"], keys, "RS256", aud="demo-web")
    assert re.fullmatch(r"[0-9a-f]{32}", web_id.get("nonce", "")), web_id
    # Rotation: every refresh gave a new refresh and access token.
    for before, after in [("mobile", "mobile-2"), ("web", "web-2")]:
        assert tokens[before]["refresh_token"] != tokens[after]["refresh_token"]
        assert tokens[before]["access_token"] != tokens[after]["access_token"]
    return tokens


def introspect(demo, token):
    secret = (demo.state / "demo-secret").read_text()
    r = requests.post(demo.issuer + "/oauth2/introspect", data={"token": token},
                      auth=("demo-service", secret), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return r.json()


def check_grants_ended(demo, tokens):
    # The reused grant (mobile, mobile-2), the revoked ones (mobile-3 and
    # web-2): none of their tokens is active any more.
    for name, t in tokens.items():
        for kind in ("access_token", "refresh_token"):
            assert introspect(demo, t[kind]) == {"active": False}, (name, kind)
    # The service's own token is still fine: only the grants ended.
    secret = (demo.state / "demo-secret").read_text()
    r = requests.post(demo.issuer + "/oauth2/token", data={"grant_type": "client_credentials"},
                      auth=("demo-service", secret), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    assert introspect(demo, r.json()["access_token"])["active"] is True


def check_audit(demo, user_id, runs):
    events = demo.cli("audit", "--tenant", "demo")["events"]

    def count(type_, actor=None, reason=None):
        return sum(1 for e in events if e["type"] == type_
                   and (actor is None or e.get("actor") == actor)
                   and (reason is None or (e.get("detail") or {}).get("reason") == reason))
    assert count("login.succeeded", actor=user_id) == 2 * runs
    assert count("consent.granted", actor=user_id) == runs
    assert count("grant.revoked", actor="demo-mobile", reason="refresh_token_reuse") == runs
    assert count("token.revoked", actor="demo-mobile") == runs
    assert count("token.revoked", actor="demo-web") == runs
    assert count("logout") == runs
    assert count("user.created") == 1
    assert count("user.updated") == 1  # the password, set once


def walkthrough_and_check(demo, workdir, runs):
    blocks, outputs, work = run_walkthrough(demo, workdir)
    check_printed(blocks, outputs, demo.port)
    user = demo.cli("user", "show", "--tenant", "demo", USERNAME)
    iss = "iss=" + urllib.parse.quote(demo.issuer, safe="")
    assert re.fullmatch(r"app\.demo://oauth2redirect\?code=[\w-]{20,}&state=[0-9a-f]{32}&"
                        + re.escape(iss), printed_line(outputs, "app.demo://"))
    assert re.fullmatch(r"http://127\.0\.0\.1:3000/callback\?code=[\w-]{20,}&state=[0-9a-f]{32}&"
                        + re.escape(iss), printed_line(outputs, "http://127.0.0.1:3000/callback"))
    assert re.fullmatch(r"http://127\.0\.0\.1:3000/\?state=[0-9a-f]{32}",
                        printed_line(outputs, "http://127.0.0.1:3000/?"))
    infos = [json.loads(l) for out in outputs.values() for l in out.splitlines()
             if l.startswith('{"sub"')]
    assert len(infos) == 2 and all(i["sub"] == user["id"] for i in infos), infos
    assert all(i["email"] == USERNAME and i["name"] == "Demo User" for i in infos), infos
    tokens = check_tokens(demo, work, user["id"])
    check_grants_ended(demo, tokens)
    shutil.rmtree(work)  # tokens and cookies; the assertions are done
    assert demo.stop() == 0, demo.log_text()[-3000:]
    check_audit(demo, user["id"], runs)


def test_the_demo_sign_in_walkthrough_runs_as_written(tmp_path, demos):
    missing = [t for t in ("bash", "curl", "openssl", "python3", "sed", "grep")
               if shutil.which(t) is None]
    if missing:
        pytest.skip("the walkthrough needs %s" % ", ".join(missing))
    state = tmp_path / "checkout" / ".tessera"
    state.parent.mkdir()

    first = Demo(state, tmp_path / "demo-1.log")
    demos.append(first)
    first.start()
    for name in STATE_FILES:
        f = state / name
        assert f.stat().st_mode & 0o777 == 0o600, name
        assert f.read_text().strip(), name
    password = (state / "demo-password").read_text()
    assert password not in README.read_text()
    assert "created the password of %s" % USERNAME in first.log_text()
    walkthrough_and_check(first, tmp_path, runs=1)

    # A second run on the same state keeps every secret and the password.
    kept = {name: (state / name).read_text() for name in STATE_FILES}
    second = Demo(state, tmp_path / "demo-2.log")
    demos.append(second)
    second.start()
    log = second.log_text()
    assert "created" not in log.split("applying")[0], log
    assert {name: (state / name).read_text() for name in STATE_FILES} == kept
    boot = json.loads(log[log.index("{\n"):log.index("\n}\n") + 2])
    demo_tenant = boot["tenants"][0]
    assert demo_tenant["created"] is False, demo_tenant
    assert all(o["created"] is False for kind in ("clients", "users")
               for o in demo_tenant[kind]), demo_tenant
    walkthrough_and_check(second, tmp_path, runs=2)
