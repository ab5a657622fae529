"""libtessera against the real server: a small C program,
libtessera_probe ($TESSERA_PROBE, built by CMake and linked to the shared
library), verifies the credentials this test obtains from a running tessera:
Bearer access tokens of a service and of a user (with roles through
introspection), an API key from /api/mobile/login (token and Basic forms), a
session cookie from /api/login with its CSRF token; and the token client.

Every attack is refused: alg none, HS256 keyed with the public key, an
unknown kid, an embedded JWK, a truncated or all-zero signature, another
tenant's token, and tokens signed with the tenant's real signing key (taken
from the database with the master key, as an insider or a thief would have
it) whose only defect is one claim: expired, not yet valid, wrong iss, wrong
aud, wrong typ. A control token made the same way with correct claims is
accepted, so each refusal is the check's doing and not the forgery's.
"""
import base64
import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import load_der_private_key
from jwcrypto import jwk, jws

from e2e_util import HTTP_TIMEOUT_S, SECRET, es256_with_s, fetch_token, jose_header
from people_helpers import mobile_client, password_grant

PROBE_TIMEOUT_S = 20
SCOPES = [{"name": "tasks:read"}, {"name": "tasks:write"},
          {"name": "tasks:admin", "includes": ["tasks:read", "tasks:write"]}]
ALICE = {"username": "alice@acme.test", "password": "alice-correct-horse-battery",
         "roles": ["Sales User"], "mobile_access": True,
         "app_password": "alice-app-password-2718"}
BOB = {"username": "bob@acme.test", "password": "bob-staple-battery-horse",
       "roles": ["Sales Manager"]}
DEVICE = "ALICE-PHONE-1"


def tenant(name):
    return {"name": name, "display_name": name.title(), "roles": ["Sales User", "Sales Manager"],
            "scopes": SCOPES, "users": [dict(ALICE), dict(BOB)],
            "clients": [
                # The resource server's own identity: introspection and the
                # token client.
                {"client_id": "tasks-api", "name": "Tasks API", "type": "confidential",
                 "secret": SECRET, "grant_types": ["client_credentials"],
                 "scopes": ["tasks:read"]},
                {"client_id": "worker", "name": "Worker", "type": "confidential",
                 "secret": SECRET, "grant_types": ["client_credentials"],
                 "scopes": ["tasks:admin"]},
                mobile_client(scopes=["openid", "tasks:read", "tasks:write"])]}


DOC = {"tenants": [tenant("acme"), tenant("beta")]}


def probe_bin():
    path = os.environ.get("TESSERA_PROBE")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("TESSERA_PROBE is not set to the libtessera_probe binary (run through ctest)")
    return path


class Probe:
    """One libtessera_probe process: a verifier (and a token client) for
    issuer; ask() verifies one request, token() gets a service token."""

    def __init__(self, tmp_path, issuer, client_id="tasks-api", secret=SECRET, **opts):
        first = " ".join([issuer, client_id, secret] +
                         ["%s=%s" % kv for kv in sorted(opts.items())])
        self.log_path = tmp_path / ("probe-%d.log" % time.monotonic_ns())
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([probe_bin()], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        self._send(first)

    def _send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def _answer(self):
        out = self.proc.stdout.readline()
        assert out, "the probe died:\n" + self.log_path.read_text()
        return json.loads(out)

    def ask(self, method="GET", authorization=None, cookie=None, csrf=None, scope=None,
            uri=None, origin=None, site=None):
        fields = [method, authorization, cookie, csrf, scope, uri, None, origin, site]
        assert not any(f and ("|" in f or "\n" in f) for f in fields)
        self._send("|".join(f or "" for f in fields))
        return self._answer()

    def bearer(self, token, **kw):
        return self.ask(authorization="Bearer " + token, **kw)

    def token(self):
        self._send("!token")
        return self._answer()

    def close(self):
        """Ends the probe; a clean exit (0, no sanitizer report) is required."""
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=PROBE_TIMEOUT_S)
        self.log.close()
        assert rc == 0, "probe exit %d:\n%s" % (rc, self.log_path.read_text())


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


@pytest.fixture
def probe(srv, tmp_path):
    """A probe for acme with introspection, and a short introspection cache
    so that ended sessions are seen within a second."""
    p = Probe(tmp_path, srv.issuer("acme"), cache=1)
    yield p
    p.close()


def service_token(srv, tenant="acme", client_id="worker", scope="tasks:admin"):
    return fetch_token(srv, tenant, client_id, scope=scope)["access_token"]


def user_token(srv, user=ALICE, tenant="acme"):
    r = password_grant(srv, tenant, user["username"], user["password"],
                       scope="openid tasks:read tasks:write")
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def assert_refused(answer, status=401, error="invalid_token"):
    assert answer["ok"] is False, answer
    assert answer["status"] == status, answer
    assert answer["error"] == error, answer
    if status in (400, 401) and error != "unauthorized":
        assert ('error="%s"' % error) in answer["www_authenticate"], answer
    return answer


# -- the three credentials ------------------------------------------------------

def test_service_bearer(srv, probe):
    a = probe.bearer(service_token(srv), scope="tasks:read")
    assert a["ok"] is True, a
    assert a["auth"] == "bearer" and a["is_user"] is False
    assert a["sub"] == "worker" and a["client_id"] == "worker"
    assert a["scopes"] == ["tasks:admin"] and a["roles"] == []
    # tasks:admin includes tasks:read (discovery's tessera_scope_includes).
    assert a["has_scope"] is True
    assert probe.bearer(service_token(srv), scope="groups:read")["has_scope"] is False


def test_user_bearer_has_roles(srv, probe):
    a = probe.bearer(user_token(srv), scope="tasks:write")
    assert a["ok"] is True, a
    assert a["auth"] == "bearer" and a["is_user"] is True
    assert a["client_id"] == "mobile" and a["sub"] != "mobile"
    assert a["username"] == ALICE["username"] and a["roles"] == ["Sales User"]
    assert a["tenant"] == "acme"
    assert sorted(a["scopes"]) == ["openid", "tasks:read", "tasks:write"]
    assert a["has_scope"] is True


def test_user_bearer_without_introspection(srv, tmp_path):
    p = Probe(tmp_path, srv.issuer("acme"), client_id="-", secret="-")
    try:
        a = p.bearer(user_token(srv, BOB))
        assert a["ok"] is True and a["is_user"] is True, a
        assert a["roles"] == [] and a["username"] is None
        # API keys and cookies need introspection: refused, and ignored.
        assert_refused(p.ask(authorization="token tk_x:y"))
        assert_refused(p.ask(cookie="tessera_session=" + "A" * 43), 401, "unauthorized")
    finally:
        p.close()


def mobile_login(srv, tenant="acme"):
    r = requests.post(srv.issuer(tenant) + "/api/mobile/login",
                      json={"username": ALICE["username"], "app_password": ALICE["app_password"],
                            "device_id": DEVICE}, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return r.json()["api_key"], r.json()["api_secret"]


def test_api_key(srv, probe):
    key, secret = mobile_login(srv)
    a = probe.ask("POST", "token %s:%s" % (key, secret))
    assert a["ok"] is True, a
    assert a["auth"] == "api_key" and a["is_user"] is True
    assert a["username"] == ALICE["username"] and a["roles"] == ["Sales User"]
    # A person acting directly holds the person scopes (what the mobile
    # client may be given), not a scope only services hold; roles limit them.
    assert a["tenant"] == "acme" and a["client_id"] is None
    assert sorted(a["scopes"]) == ["openid", "tasks:read", "tasks:write"], a
    assert probe.ask(authorization="token %s:%s" % (key, secret),
                     scope="tasks:write")["has_scope"] is True
    assert probe.ask(authorization="token %s:%s" % (key, secret),
                     scope="tasks:admin")["has_scope"] is False
    basic = base64.b64encode(("%s:%s" % (key, secret)).encode()).decode()
    assert probe.ask("DELETE", "Basic " + basic)["auth"] == "api_key"
    assert_refused(probe.ask(authorization="token %s:%s" % (key, secret + "x")))
    assert_refused(probe.ask(authorization="token tk_unknown:%s" % secret))
    # A new login replaces the secret: the old one stops working (after the
    # one-second cache of this probe).
    key2, secret2 = mobile_login(srv)
    assert key2 == key and secret2 != secret
    time.sleep(1.2)
    assert_refused(probe.ask(authorization="token %s:%s" % (key, secret)))
    assert probe.ask(authorization="token %s:%s" % (key2, secret2))["ok"] is True


def api_login(srv, user=BOB, tenant="acme"):
    s = requests.Session()
    r = s.post(srv.issuer(tenant) + "/api/login",
               json={"username": user["username"], "password": user["password"]},
               timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return s, s.cookies.get("tessera_session"), r.json()["csrf_token"]


def test_session_and_csrf(srv, probe):
    s, sid, csrf = api_login(srv)
    cookie = "theme=dark; tessera_session=%s; lang=en" % sid
    a = probe.ask("GET", cookie=cookie)
    assert a["ok"] is True, a
    assert a["auth"] == "session" and a["is_user"] is True
    assert a["username"] == BOB["username"] and a["roles"] == ["Sales Manager"]
    # State-changing requests need the session's CSRF token.
    assert_refused(probe.ask("POST", cookie=cookie), 403, "csrf_failed")
    wrong = csrf[:10] + ("B" if csrf[10] == "A" else "A") + csrf[11:]
    assert_refused(probe.ask("PATCH", cookie=cookie, csrf=wrong), 403, "csrf_failed")
    assert probe.ask("POST", cookie=cookie, csrf=csrf)["ok"] is True
    assert probe.ask("HEAD", cookie='tessera_session="%s"' % sid)["ok"] is True
    # Another user's CSRF token does not fit this session.
    _, _, other = api_login(srv, ALICE)
    assert_refused(probe.ask("DELETE", cookie=cookie, csrf=other), 403, "csrf_failed")
    # Logged out: the session ends (once the probe's one-second cache has).
    r = s.post(srv.issuer("acme") + "/api/logout", headers={"X-CSRF-Token": csrf},
               timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    time.sleep(1.2)
    a = assert_refused(probe.ask("GET", cookie=cookie), 401, "unauthorized")
    assert a["www_authenticate"] == 'Bearer realm="%s"' % srv.issuer("acme")


def test_a_session_cookie_from_another_site_is_refused(srv, probe):
    """tessera_verify_request with Origin and Sec-Fetch-Site: the cookie
    works from the issuer's origin and the resource server's own (its uri),
    never from another site, whatever the method."""
    _, sid, csrf = api_login(srv)
    cookie = "tessera_session=%s" % sid
    own = "https://tasks.acme.test"
    issuer = "/".join(srv.issuer("acme").split("/")[:3])
    for kw in ({"origin": "https://evil.test"}, {"site": "cross-site"}, {"origin": "null"},
               {"origin": own}, {"origin": issuer + ".evil.test"},
               {"origin": own, "site": "cross-site", "uri": own + "/tasks"}):
        for method in ("GET", "POST"):
            assert_refused(probe.ask(method, cookie=cookie, csrf=csrf, **kw), 403,
                           "cross_site_request")
    for kw in ({"origin": issuer}, {"origin": own, "uri": own + "/tasks?x=1"},
               {"site": "same-origin"}, {"site": "same-site", "origin": issuer}, {"site": "none"}):
        a = probe.ask("POST", cookie=cookie, csrf=csrf, **kw)
        assert a["ok"] is True and a["auth"] == "session", (kw, a)


def test_missing_and_malformed(srv, probe):
    a = assert_refused(probe.ask("GET"), 401, "unauthorized")
    # RFC 6750 §3.1: no credential, no error code in the challenge.
    assert a["www_authenticate"] == 'Bearer realm="%s"' % srv.issuer("acme")
    assert_refused(probe.ask("GET", cookie="tessera_browser=x; other=y"), 401, "unauthorized")
    for bad in ("Digest abc", "Bearer", "Bearer a b", "token nocolon", "Basic !!!"):
        assert_refused(probe.ask(authorization=bad), 400, "invalid_request")


def test_token_client(srv, probe):
    first, second = probe.token(), probe.token()
    assert first["ok"] is True and second["ok"] is True, (first, second)
    assert first["token"] == second["token"]  # cached
    a = probe.bearer(first["token"])
    assert a["ok"] is True and a["sub"] == "tasks-api" and a["is_user"] is False, a
    assert a["scopes"] == ["tasks:read"]


def test_token_client_refused(srv, tmp_path):
    p = Probe(tmp_path, srv.issuer("acme"), secret="not-the-secret-0123456789abcdefgh")
    try:
        a = p.token()
        assert a["ok"] is False and a["error"] == "invalid_client", a
    finally:
        p.close()


# -- attacks --------------------------------------------------------------------

def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(obj):
    return b64url(json.dumps(obj, separators=(",", ":")))


def parts(token):
    h, p, s = token.split(".")
    pad = lambda x: x + "=" * (-len(x) % 4)
    return (json.loads(base64.urlsafe_b64decode(pad(h))),
            json.loads(base64.urlsafe_b64decode(pad(p))), s)


def sign_with(key, header, claims):
    """A compact JWS with exactly this protected header (jwcrypto)."""
    s = jws.JWS(json.dumps(claims, separators=(",", ":")).encode())
    s.add_signature(key, None, protected=json.dumps(header))
    return es256_with_s(s.serialize(compact=True))


def attacker_key():
    return jwk.JWK.generate(kty="EC", crv="P-256")


def tenant_signing_key(srv, tenant, kid):
    """The tenant's private signing key for kid, opened from the database
    with the master key (what a verifier must never be able to tell from
    the real issuer)."""
    db = sqlite3.connect("file:%s?mode=ro" % srv.db_path, uri=True)
    try:
        tid, sealed = db.execute(
            "SELECT t.id, k.sealed_private FROM keys k JOIN tenants t ON t.id = k.tenant_id "
            "WHERE t.name = ? AND k.kid = ?", (tenant, kid)).fetchone()
    finally:
        db.close()
    _, _, body = sealed.split(".", 2)
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    der = AESGCM(bytes.fromhex(srv.master_key)).decrypt(
        raw[:12], raw[12:], ("tessera:signing-key:%s:%s" % (tid, kid)).encode())
    return jwk.JWK.from_pyca(load_der_private_key(der, password=None))


@pytest.fixture(scope="module")
def real(srv):
    """A real service token of acme, its header and claims, and acme's own
    signing key for its kid."""
    tok = service_token(srv)
    header, claims, _ = parts(tok)
    return {"token": tok, "header": header, "claims": claims,
            "key": tenant_signing_key(srv, "acme", header["kid"])}


def forged(real, **changes):
    """A token signed with acme's real key: the real claims, fresh dates,
    then changes (None removes a member); header members via header={...}."""
    header = dict(real["header"])
    header.update(changes.pop("header", {}))
    claims = dict(real["claims"])
    now = int(time.time())
    claims.update({"iat": now, "nbf": now, "exp": now + 600, "jti": b64url(os.urandom(12))})
    claims.update(changes)
    return sign_with(real["key"], {k: v for k, v in header.items() if v is not None},
                     {k: v for k, v in claims.items() if v is not None})


def test_forged_control_is_accepted(probe, real):
    """The forging path itself is sound: right key, right claims, accepted."""
    assert real["header"]["alg"] == "ES256" and real["header"]["typ"] == "at+jwt"
    a = probe.bearer(forged(real))
    assert a["ok"] is True and a["sub"] == "worker", a
    assert probe.bearer(real["token"])["ok"] is True


@pytest.mark.parametrize("name, changes, why", [
    ("expired", {"exp": -3600}, "expired"),
    ("not yet valid", {"nbf": 3600}, "not valid yet"),
    ("issued in the future", {"iat": 3600}, "not valid yet"),
    ("wrong iss", {"iss": "beta"}, "another issuer"),
    ("wrong aud", {"aud": "https://elsewhere.test"}, "not meant for this server"),
    ("wrong aud list", {"aud": ["https://elsewhere.test"]}, "not meant for this server"),
    ("no client_id", {"client_id": None}, "client_id"),
    ("typ JWT", {"header": {"typ": "JWT"}}, "typ"),
    ("no typ", {"header": {"typ": None}}, "typ"),
])
def test_forged_with_the_real_key(srv, probe, real, name, changes, why):
    changes = dict(changes)
    now = int(time.time())
    for k in ("exp", "nbf", "iat"):
        if k in changes:
            changes[k] = now + changes[k]
    if changes.get("iss") == "beta":
        changes["iss"] = srv.issuer("beta")
    a = assert_refused(probe.bearer(forged(real, **changes)))
    assert why in a["description"], (name, a)


def test_wrong_audience_configured(srv, tmp_path, real):
    """A real token is refused by a resource server with another audience."""
    p = Probe(tmp_path, srv.issuer("acme"), audience="https://other-api.acme.test")
    try:
        a = assert_refused(p.bearer(real["token"]))
        assert "not meant for this server" in a["description"]
    finally:
        p.close()


def test_alg_none(probe, real):
    h = dict(real["header"], alg="none")
    tok = "%s.%s." % (b64url_json(h), b64url_json(real["claims"]))
    assert_refused(probe.bearer(tok))
    h = dict(real["header"], alg="None")
    tok = "%s.%s." % (b64url_json(h), b64url_json(real["claims"]))
    assert_refused(probe.bearer(tok))


def test_hs256_keyed_with_the_public_key(srv, probe, real):
    """The classic confusion: HMAC keyed with the verifier's public key."""
    jwks = requests.get(srv.issuer("acme") + "/oauth2/jwks", timeout=HTTP_TIMEOUT_S).text
    pub = [k for k in json.loads(jwks)["keys"] if k["kid"] == real["header"]["kid"]][0]
    pem = jwk.JWK(**pub).export_to_pem()
    h = dict(real["header"], alg="HS256")
    for secret in (pem, json.dumps(pub).encode(), jwks.encode()):
        si = "%s.%s" % (b64url_json(h), b64url_json(real["claims"]))
        sig = hmac.new(secret, si.encode(), hashlib.sha256).digest()
        assert_refused(probe.bearer(si + "." + b64url(sig)))


def test_unknown_kid(probe, real):
    k = attacker_key()
    assert_refused(probe.bearer(sign_with(k, dict(real["header"], kid="attacker-key"),
                                          real["claims"])))
    # The real kid with the attacker's key: the signature fails.
    assert_refused(probe.bearer(sign_with(k, real["header"], real["claims"])))


def test_embedded_jwk(probe, real):
    k = attacker_key()
    h = dict(real["header"], jwk=json.loads(k.export_public()))
    assert_refused(probe.bearer(sign_with(k, h, real["claims"])))
    for member in ("jku", "x5u"):
        h = dict(real["header"], **{member: "https://attacker.test/keys"})
        assert_refused(probe.bearer(sign_with(k, h, real["claims"])))


def test_another_tenants_token(srv, probe):
    tok = service_token(srv, tenant="beta")
    assert jose_header(tok)["kid"]
    assert_refused(probe.bearer(tok))
    assert_refused(probe.bearer(user_token(srv, tenant="beta")))


def test_bad_signatures(probe, real):
    tok = real["token"]
    head, payload, sig = tok.split(".")
    assert_refused(probe.bearer(tok[:-10]))
    assert_refused(probe.bearer("%s.%s." % (head, payload)))
    assert_refused(probe.bearer("%s.%s.%s" % (head, payload, b64url(bytes(64)))))
    # Another payload under this token's signature.
    _, payload2, _ = forged(real, sub="someone-else", client_id="someone-else").split(".")
    assert_refused(probe.bearer("%s.%s.%s" % (head, payload2, sig)))
    # The same signature, DER-encoded instead of R || S (RFC 7518 §3.4).
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    assert_refused(probe.bearer("%s.%s.%s" % (head, payload, b64url(der))))


def jwks_requests(srv, tenant="acme"):
    """How many times the tenant's JWKS was fetched (the access log)."""
    path = "/t/%s/oauth2/jwks" % tenant
    return sum(1 for line in srv.log_text().splitlines() if ('"path":"%s"' % path) in line)


def test_unknown_kid_does_not_flood_tessera(srv, probe, real):
    """Many unknown kids in a row: each is answered 401 at once, and the
    JWKS is refetched at most once per interval (30 s by default)."""
    k = attacker_key()
    assert probe.bearer(real["token"])["ok"] is True  # the JWKS is cached now
    time.sleep(0.3)
    before = jwks_requests(srv)
    start = time.monotonic()
    for i in range(50):
        tok = sign_with(k, dict(real["header"], kid="made-up-%d" % i), real["claims"])
        a = assert_refused(probe.bearer(tok))
        assert "unknown" in a["description"], a
    assert time.monotonic() - start < 10
    time.sleep(0.3)  # the access log line is written after the answer
    assert jwks_requests(srv) - before <= 1
    assert probe.bearer(forged(real))["ok"] is True
