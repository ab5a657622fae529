"""Helpers shared by the end-to-end tests.

Everything here treats tessera as a black box: the real binary is started
on 127.0.0.1 with a free port, a fresh SQLite file and a fresh master key;
its CLI is run as a subprocess; what it issues is checked with independent
libraries only (authlib as the OAuth client, jwcrypto for JOSE, requests for
raw HTTP). Nothing here links to or imports the project's own code.
"""
import base64
import collections
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import requests
from authlib.integrations.requests_client import OAuth2Session
from jwcrypto import jwk, jwt

START_TIMEOUT_S = 15
STOP_TIMEOUT_S = 15  # a clean SIGTERM shutdown must finish within this
RELOAD_BUDGET_S = 2.0  # CLI changes reach a running server within 2 s
RELOAD_INTERVAL_MS = 200  # poll interval the tests give the server
HTTP_TIMEOUT_S = 10

# A confidential client's secret must have at least 32 characters.
SECRET = "e2e-secret-0123456789abcdefghijklmnop"

# err is the error sentence (the "message" of a JSON error under --json);
# err_json the parsed JSON error, or None.
CliResult = collections.namedtuple("CliResult", "rc out err err_json")


def tessera_bin():
    """The binary under test: $TESSERA_BIN (set by ctest)."""
    path = os.environ.get("TESSERA_BIN")
    if not path:
        raise RuntimeError("TESSERA_BIN is not set; run the e2e tests through ctest "
                           "or export TESSERA_BIN=/path/to/tessera")
    if not os.access(path, os.X_OK):
        raise RuntimeError("TESSERA_BIN=%s is not an executable file" % path)
    return path


def free_port():
    """A port that was free a moment ago (bind to port 0, then release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(extra=None):
    """The environment for tessera: ours without any TESSERA_* setting that
    could leak in from the developer's shell, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env.update(extra or {})
    return env


class Tessera:
    """One tessera installation: a database, a master key and (once started)
    a `tessera serve` process on its own port."""

    # Every instance ever created, so that a failing test can show the logs.
    instances = []

    def __init__(self, workdir, env=None, copy_of=None):
        """copy_of: another (stopped) installation whose database and master
        key this one starts from: cheaper than applying the same bootstrap
        file again, which generates signing keys."""
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.dir / "t.db"
        self.db = "sqlite:%s" % self.db_path
        self.master_key = os.urandom(32).hex()
        if copy_of is not None:
            assert not copy_of.running, "copy a database only while no server uses it"
            self.master_key = copy_of.master_key
            for suffix in ("", "-wal"):
                src = pathlib.Path(str(copy_of.db_path) + suffix)
                if src.exists():
                    shutil.copyfile(src, str(self.db_path) + suffix)
        self.port = free_port()
        self.log_path = self.dir / "tessera.log"
        self.proc = None
        self.returncode = None
        self.extra_env = dict(env or {})
        # The --public-url when it is not this server's own address (servers
        # behind one load balancer share one); None: base.
        self.public_url = None
        Tessera.instances.append(self)

    # -- URLs ---------------------------------------------------------------
    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def public_base(self):
        """The public URL the server is given: public_url, else base."""
        return self.public_url or self.base

    def url(self, path):
        return self.base + path

    def issuer(self, tenant):
        return "%s/t/%s" % (self.base, tenant)

    def endpoint(self, tenant, name):
        """{issuer}/oauth2/{name}"""
        return "%s/oauth2/%s" % (self.issuer(tenant), name)

    # -- environment and CLI ------------------------------------------------
    def env(self, extra=None):
        e = clean_env({"TESSERA_MASTER_KEY": self.master_key,
                       "TESSERA_RELOAD_INTERVAL_MS": str(RELOAD_INTERVAL_MS)})
        e.update(self.extra_env)
        e.update(extra or {})
        return e

    def cli(self, *args, env=None, json_out=True, timeout=60):
        """Runs `tessera --db DB --public-url URL ARGS... [--json]` and returns
        CliResult(exit code, parsed JSON stdout or None, stderr text)."""
        argv = [tessera_bin(), "--db", self.db, "--public-url", self.public_base] + list(args)
        if json_out:
            argv.append("--json")
        p = subprocess.run(argv, env=self.env(env), cwd=self.dir, capture_output=True,
                           text=True, timeout=timeout)
        out = None
        if p.stdout.strip():
            try:
                out = json.loads(p.stdout)
            except ValueError:
                out = p.stdout
        err, err_json = p.stderr, None
        if json_out and p.stderr.strip():
            try:
                err_json = json.loads(p.stderr.strip().splitlines()[-1])
                err = err_json["message"] + "\n"
            except (ValueError, KeyError, TypeError):
                err_json = None
        return CliResult(p.returncode, out, err, err_json)

    def bootstrap(self, doc, *flags, env=None, name="bootstrap.json"):
        """Writes doc (a dict, or raw text) to a file and applies it."""
        path = self.dir / name
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
        return self.cli("bootstrap", str(path), *flags, env=env)

    def bootstrap_ok(self, doc, *flags, env=None):
        r = self.bootstrap(doc, *flags, env=env)
        assert r.rc == 0, "bootstrap failed (%d): %s" % (r.rc, r.err)
        return r.out

    # -- process ------------------------------------------------------------
    def start(self):
        """Starts `tessera serve` and waits for GET /healthz. A port taken by
        someone else between free_port() and the bind is retried."""
        for attempt in range(3):
            if attempt:
                self.port = free_port()
            log = open(self.log_path, "ab")
            argv = [tessera_bin(), "--db", self.db, "serve", "--listen",
                    "127.0.0.1:%d" % self.port, "--public-url", self.public_base]
            self.proc = subprocess.Popen(argv, env=self.env(), cwd=self.dir, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)
            log.close()
            self.returncode = None
            if self._wait_healthy():
                return self
            if self.proc.poll() is None:
                break  # running but not answering: not a port clash
            if "cannot listen" not in self.log_tail():
                break
        self.kill()
        raise AssertionError("tessera did not become healthy on port %d:\n%s"
                             % (self.port, self.log_tail()))

    def _wait_healthy(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if requests.get(self.url("/healthz"), timeout=1).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.02)
        return False

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT_S):
        """Waits for the process to exit; returns its exit status, or None if
        it is still running after timeout seconds."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self):
        """SIGTERM, then the exit status (None if it hung; it is then killed)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            if self.wait() is None:
                self.kill()
                return None
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines=60):
        return "\n".join(self.log_text().splitlines()[-lines:])


# -- OAuth clients (authlib) ------------------------------------------------

def oauth_session(client_id, secret, method="client_secret_basic", scope=None):
    return OAuth2Session(client_id, secret, token_endpoint_auth_method=method, scope=scope)


def fetch_token(server, tenant, client_id, secret=SECRET, method="client_secret_basic",
                scope=None, **params):
    """A client_credentials token through authlib; raises OAuthError on an
    error response."""
    sess = oauth_session(client_id, secret, method, scope)
    return sess.fetch_token(server.endpoint(tenant, "token"), grant_type="client_credentials",
                            timeout=HTTP_TIMEOUT_S, **params)


def token_request(server, tenant, data, auth=None, headers=None, host=None):
    """A raw POST to the token endpoint (requests); data may be a list of pairs
    to send repeated parameters."""
    h = dict(headers or {})
    if host:
        h["Host"] = host
    return requests.post(server.endpoint(tenant, "token"), data=data, auth=auth, headers=h,
                         timeout=HTTP_TIMEOUT_S)


def introspect(server, tenant, token, client_id, secret=SECRET):
    sess = oauth_session(client_id, secret)
    return sess.introspect_token(server.endpoint(tenant, "introspect"), token=token,
                                 timeout=HTTP_TIMEOUT_S)


def revoke(server, tenant, token, client_id, secret=SECRET):
    sess = oauth_session(client_id, secret)
    return sess.revoke_token(server.endpoint(tenant, "revoke"), token=token,
                             timeout=HTTP_TIMEOUT_S)


def assert_oauth_error(resp, status, error):
    """An RFC 6749 §5.2 error response."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert body.get("error") == error, body
    if "error_description" in body:
        assert isinstance(body["error_description"], str)
    return body


def assert_invalid_client(resp):
    body = assert_oauth_error(resp, 401, "invalid_client")
    assert resp.headers.get("WWW-Authenticate", "").lower().startswith("basic"), resp.headers
    return body


# -- JOSE (jwcrypto) ----------------------------------------------------------

def discovery(server, tenant, doc="openid-configuration", host=None):
    """A discovery document: under the tenant's path issuer, or (host given)
    at the root of a host-based tenant, reached through our 127.0.0.1 port
    with that Host header."""
    if host:
        r = requests.get(server.url("/.well-known/" + doc), headers={"Host": host},
                         timeout=HTTP_TIMEOUT_S)
    else:
        r = requests.get(server.issuer(tenant) + "/.well-known/" + doc, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def fetch_jwks(server, tenant):
    """The tenant's key set, fetched from the jwks_uri its discovery names."""
    meta = discovery(server, tenant)
    r = requests.get(meta["jwks_uri"], timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return jwk.JWKSet.from_json(r.text)


def jose_header(token):
    """The protected header, decoded without verification."""
    seg = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


def verify_access_token(token, keyset, *, issuer, client_id, audience, alg="ES256",
                        scope=None, ttl=None):
    """Verifies an RFC 9068 access token against keyset and checks every claim.
    audience is a string or a list (the exact aud expected). Returns
    (header, claims)."""
    header = jose_header(token)
    assert header.get("typ") == "at+jwt", header
    assert header.get("alg") == alg, header
    assert header.get("kid"), header
    assert keyset.get_key(header["kid"]) is not None, "kid %s not in JWKS" % header["kid"]
    t = jwt.JWT(jwt=token, key=keyset, algs=[alg],
                check_claims={"iss": issuer, "sub": client_id, "exp": None, "nbf": None,
                              "iat": None, "jti": None, "client_id": client_id})
    claims = json.loads(t.claims)
    assert claims["aud"] == audience, (claims["aud"], audience)
    now = time.time()
    assert claims["iat"] <= now + 5 and claims["iat"] > now - 120, claims
    assert claims["nbf"] <= claims["iat"] + 1, claims
    assert claims["exp"] > claims["iat"], claims
    if ttl is not None:
        assert claims["exp"] - claims["iat"] == ttl, claims
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16, claims
    if scope is not None:
        assert sorted(claims.get("scope", "").split()) == sorted(scope.split()), claims
    return header, claims


def wait_until(fn, timeout=RELOAD_BUDGET_S, interval=0.05):
    """Polls fn() until it returns a true value or timeout passes; returns the
    last value and the seconds it took."""
    start = time.monotonic()
    while True:
        v = fn()
        elapsed = time.monotonic() - start
        if v or elapsed >= timeout:
            return v, elapsed
        time.sleep(interval)


# The order of the P-256 group (SEC 2 §2.4.2).
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def es256_with_s(token, high=False):
    """The same compact ES256 JWS with its S in the low half (S <= n/2, the
    only form Tessera and libtessera accept: (R, S) and (R, n - S) both
    verify, and jwcrypto, like most signers, picks either) or, with
    high=True, in the high half. Other algorithms pass through."""
    head, payload, sig = token.split(".")
    if json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))).get("alg") != "ES256":
        return token
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    s = int.from_bytes(raw[32:], "big")
    if (s > P256_N // 2) != high:
        s = P256_N - s
    sig = base64.urlsafe_b64encode(raw[:32] + s.to_bytes(32, "big")).rstrip(b"=").decode()
    return "%s.%s.%s" % (head, payload, sig)
