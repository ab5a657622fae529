"""Helpers for the end-to-end tests of the people features: the login,
consent and logout pages, the authorization code grant with PKCE, refresh
tokens, the password grant, ID tokens and UserInfo.

Like e2e_util.py this treats tessera as a black box: a browser is played by
requests (cookies kept in its jar, redirects followed by hand so that every
hop can be checked, HTML forms read with the standard library's parser), the
OAuth client is authlib, and every token is verified with jwcrypto against
the JWKS the tenant publishes.
"""
import base64
import hashlib
import html.parser
import json
import os
import pathlib
import shutil
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from jwcrypto import jwt
from requests.adapters import HTTPAdapter

from e2e_util import HTTP_TIMEOUT_S, SECRET, jose_header

AUD = "https://api.acme.test"
MOBILE_URI = "app.acme://oauth2redirect"
LOOPBACK_URI = "http://127.0.0.1/cb"
WEB_URI = "https://acme.test/oauth/callback"
WEB_LOGOUT_URI = "https://acme.test/signed-out"
SESSION_COOKIE = "tessera_session"
MOBILE_SCOPES = ["openid", "profile", "email", "offline_access", "tasks:read"]

ALICE = {"username": "alice@acme.test", "password": "alice-correct-horse-battery",
         "email": "alice@acme.test", "name": "Alice Example", "roles": ["Sales User"]}
BOB = {"username": "bob@acme.test", "password": "bob-staple-battery-horse",
       "email": "bob@acme.test", "name": "Bob Example", "roles": ["Sales Manager"]}


def mobile_client(**over):
    """The public native app: custom scheme and loopback redirect URIs,
    PKCE, refresh tokens and the password grant, no consent page."""
    c = {"client_id": "mobile", "name": "Mobile App", "type": "public",
         "redirect_uris": [MOBILE_URI, LOOPBACK_URI],
         "grant_types": ["authorization_code", "refresh_token", "password"],
         "scopes": list(MOBILE_SCOPES), "skip_consent": True}
    c.update(over)
    return c


def web_client(**over):
    """The confidential web application: asks for consent."""
    c = {"client_id": "web", "name": "Acme Web", "type": "confidential", "secret": SECRET,
         "redirect_uris": [WEB_URI], "post_logout_redirect_uris": [WEB_LOGOUT_URI],
         "grant_types": ["authorization_code", "refresh_token"],
         "scopes": ["openid", "profile", "email", "offline_access", "tasks:read"],
         "skip_consent": False}
    c.update(over)
    return c


def people_tenant(name, users=(ALICE, BOB), clients=None, **over):
    t = {"name": name, "display_name": "Acme Corp", "audience": AUD,
         "roles": ["Sales User", "Sales Manager"],
         "scopes": [{"name": "tasks:read"}, {"name": "tasks:write"}],
         "users": [dict(u) for u in users],
         "clients": clients if clients is not None else [mobile_client(), web_client()]}
    t.update(over)
    return t


# -- HTML forms ---------------------------------------------------------------

class Form:
    def __init__(self, action, method):
        self.action = action
        self.method = (method or "get").lower()
        self.fields = {}    # name -> value of every <input> (hidden, text, password)
        self.types = {}     # name -> type of that input
        self.buttons = []   # (name, value) of every submit button

    def data(self, button=None, **values):
        d = dict(self.fields)
        d.update(values)
        if button is not None:
            assert button in self.buttons, (button, self.buttons)
            if button[0]:
                d[button[0]] = button[1]
        return d


class _FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._cur = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._cur = Form(a.get("action"), a.get("method"))
            self.forms.append(self._cur)
        elif self._cur is None:
            return
        elif tag == "input" and a.get("name"):
            t = (a.get("type") or "text").lower()
            if t == "submit":
                self._cur.buttons.append((a["name"], a.get("value", "")))
            else:
                self._cur.fields[a["name"]] = a.get("value", "")
                self._cur.types[a["name"]] = t
        elif tag == "button" and (a.get("type") or "submit").lower() == "submit":
            self._cur.buttons.append((a.get("name"), a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._cur = None


def parse_forms(text):
    p = _FormParser()
    p.feed(text)
    p.close()
    return p.forms


def only_form(resp):
    forms = parse_forms(resp.text)
    assert len(forms) == 1, (resp.status_code, resp.text)
    return forms[0]


def is_login_page(resp):
    if resp.status_code not in (200, 400, 401):
        return False
    forms = parse_forms(resp.text)
    return (len(forms) == 1 and forms[0].action.endswith("/login")
            and forms[0].types.get("password") == "password")


def is_consent_page(resp):
    if resp.status_code != 200:
        return False
    forms = parse_forms(resp.text)
    return (len(forms) == 1 and forms[0].action.endswith("/consent")
            and ("decision", "approve") in forms[0].buttons)


def assert_error_page(resp, status=400):
    """An HTML error page, never a redirect."""
    assert resp.status_code == status, (resp.status_code, resp.headers, resp.text[:500])
    assert "Location" not in resp.headers, resp.headers
    assert resp.headers.get("Content-Type", "").startswith("text/html"), resp.headers
    assert "<html" in resp.text.lower()


# -- the browser ----------------------------------------------------------------

class _SourceAdapter(HTTPAdapter):
    """Connects from a chosen loopback address (127.0.0.0/8 all reaches
    127.0.0.1), so that a test can play several clients."""

    def __init__(self, source, **kw):
        self._source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self._source, 0)
        return super().init_poolmanager(*args, **kw)


class Browser:
    """A user agent: a cookie jar, redirects followed one at a time while
    they stay on the server; a redirect that leaves it (to a client's
    redirect URI, custom scheme or not) is never followed."""

    def __init__(self, server, source=None):
        self.server = server
        self.http = requests.Session()
        self.hops = []
        if source:
            ad = _SourceAdapter(source)
            self.http.mount("http://", ad)

    def get(self, url, **kw):
        return self.http.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT_S, **kw)

    def post(self, url, data, **kw):
        return self.http.post(url, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT_S, **kw)

    def follow(self, resp):
        self.hops = [resp]
        while resp.is_redirect:
            loc = urllib.parse.urljoin(resp.url, resp.headers["Location"])
            if not loc.startswith(self.server.base + "/"):
                break
            resp = self.get(loc)
            self.hops.append(resp)
        return resp

    def open(self, url):
        return self.follow(self.get(url))

    def submit(self, resp, button=None, **values):
        """Fills the page's only form with values and submits it (by button,
        a (name, value) pair), following redirects."""
        f = only_form(resp)
        action = urllib.parse.urljoin(resp.url, f.action)
        assert f.method == "post", f.method
        return self.follow(self.post(action, f.data(button, **values)))

    def login(self, resp, user):
        assert is_login_page(resp), (resp.status_code, resp.text[:500])
        return self.submit(resp, username=user["username"], password=user["password"])

    def cookie(self, name=SESSION_COOKIE):
        for c in self.http.cookies:
            if c.name == name:
                return c.value
        return None


def left_to(resp):
    """The URL a final response sends the browser to, outside the server
    (None when it is a page)."""
    if resp.is_redirect:
        return resp.headers["Location"]
    return None


def query_of(url):
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in q.values()), url
    return {k: v[0] for k, v in q.items()}


# -- the OAuth client (authlib) ---------------------------------------------------

OMIT = object()  # a parameter left out of a request


class RP:
    """One OAuth client of one tenant: authlib's OAuth2Session with PKCE
    S256 for the authorization request and the code exchange."""

    def __init__(self, server, tenant, client_id, redirect_uri, secret=None,
                 scope="openid profile email offline_access", pkce=True):
        self.server, self.tenant, self.client_id = server, tenant, client_id
        self.redirect_uri = redirect_uri
        self.secret = secret
        self.pkce = pkce
        self.oauth = OAuth2Session(client_id, secret, scope=scope, redirect_uri=redirect_uri,
                                   code_challenge_method="S256" if pkce else None,
                                   token_endpoint_auth_method=("client_secret_basic" if secret
                                                               else "none"))
        self.verifier = self.nonce = self.state = self.last_url = None

    @property
    def issuer(self):
        return self.server.issuer(self.tenant)

    def endpoint(self, name):
        return self.server.endpoint(self.tenant, name)

    def authorization_url(self, **extra):
        self.verifier = generate_token(64) if self.pkce else None
        self.nonce = generate_token(24)
        extra.setdefault("nonce", self.nonce)
        url, self.state = self.oauth.create_authorization_url(
            self.endpoint("authorize"), code_verifier=self.verifier, **extra)
        self.last_url = url
        return url

    def fetch_token(self, callback, **kw):
        """Exchanges the code of callback (authlib checks its state)."""
        if self.verifier and "code_verifier" not in kw:
            kw["code_verifier"] = self.verifier
        return self.oauth.fetch_token(self.endpoint("token"), authorization_response=callback,
                                      timeout=HTTP_TIMEOUT_S, **kw)

    def token_raw(self, data, auth=None):
        """A raw token request (requests), for the error cases."""
        d = dict(data)
        if auth is None:
            if self.secret:
                auth = (self.client_id, self.secret)
            else:
                d.setdefault("client_id", self.client_id)
        return requests.post(self.endpoint("token"), data=d, auth=auth or None,
                             timeout=HTTP_TIMEOUT_S)

    def redeem_raw(self, code, verifier="same", redirect_uri=None, auth=None, **extra):
        """redirect_uri=OMIT sends none."""
        d = {"grant_type": "authorization_code", "code": code}
        if redirect_uri is not OMIT:
            d["redirect_uri"] = redirect_uri or self.redirect_uri
        if verifier == "same":
            verifier = self.verifier
        if verifier:
            d["code_verifier"] = verifier
        d.update(extra)
        return self.token_raw(d, auth=auth)

    def refresh_raw(self, refresh_token, **extra):
        d = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        d.update(extra)
        return self.token_raw(d)


def authorize(browser, rp, user=None, consent="approve", **extra):
    """Runs an authorization request in browser: signs in as user when the
    login page comes, answers the consent page when it comes. Returns the
    URL the browser is finally sent to (the client's redirect URI with code
    or error) and the pages seen on the way."""
    seen = []
    resp = browser.open(rp.authorization_url(**extra))
    for _ in range(3):
        if is_login_page(resp) and user is not None:
            seen.append("login")
            resp = browser.login(resp, user)
        elif is_consent_page(resp) and consent is not None:
            seen.append("consent")
            resp = browser.submit(resp, button=("decision", consent))
        else:
            break
    loc = left_to(resp)
    assert loc is not None, ("no redirect to the client", seen, resp.status_code, resp.text[:800])
    return loc, seen


def code_flow(server, tenant, client_id="mobile", redirect_uri=MOBILE_URI, user=ALICE,
              secret=None, scope="openid profile email offline_access", browser=None, **extra):
    """A complete authorization code flow through authlib: returns (rp,
    token response, browser)."""
    browser = browser or Browser(server)
    rp = RP(server, tenant, client_id, redirect_uri, secret=secret, scope=scope)
    loc, _ = authorize(browser, rp, user, **extra)
    tok = rp.fetch_token(loc)
    return rp, tok, browser


def code_only(server, tenant, rp, user=ALICE, browser=None, **extra):
    """An authorization that stops at the code: returns (code, callback URL)."""
    loc, _ = authorize(browser or Browser(server), rp, user, **extra)
    q = query_of(loc)
    assert "code" in q, loc
    assert q["state"] == rp.state and q["iss"] == rp.issuer, q
    return q["code"], loc


# -- tokens -----------------------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def expected_at_hash(access_token, alg="RS256"):
    """OpenID Connect Core §3.1.3.6, computed here from the token itself."""
    h = hashlib.sha512 if alg == "EdDSA" else {"256": hashlib.sha256, "384": hashlib.sha384,
                                               "512": hashlib.sha512}[alg[-3:]]
    d = h(access_token.encode("ascii")).digest()
    return b64url(d[:len(d) // 2])


def is_uuid(s):
    try:
        return str(uuid.UUID(s)) == s.lower()
    except (ValueError, TypeError, AttributeError):
        return False


def verify_user_access_token(token, keyset, *, issuer, client_id, scope, audience=AUD,
                             alg="ES256"):
    """An RFC 9068 access token issued for a person: returns its claims."""
    header = jose_header(token)
    assert header.get("typ") == "at+jwt" and header.get("alg") == alg, header
    t = jwt.JWT(jwt=token, key=keyset, algs=[alg],
                check_claims={"iss": issuer, "exp": None, "iat": None, "jti": None,
                              "client_id": client_id})
    c = json.loads(t.claims)
    assert is_uuid(c["sub"]), c
    assert c["client_id"] == client_id, c
    assert c["aud"] == audience, c
    assert sorted(c["scope"].split()) == sorted(scope.split()), c
    now = time.time()
    assert now - 120 < c["iat"] <= now + 5 and c["exp"] > c["iat"], c
    assert isinstance(c.get("auth_time"), int) and c["auth_time"] <= c["iat"], c
    return c


def verify_id_token(id_token, keyset, *, issuer, client_id, nonce, access_token, alg="RS256"):
    """An OpenID Connect ID token (Core §2, §3.1.3.7): returns its claims."""
    header = jose_header(id_token)
    assert header.get("alg") == alg and header.get("kid"), header
    t = jwt.JWT(jwt=id_token, key=keyset, algs=[alg],
                check_claims={"iss": issuer, "aud": client_id, "exp": None, "iat": None,
                              "sub": None})
    c = json.loads(t.claims)
    assert c["aud"] == client_id and c["azp"] == client_id, c
    assert is_uuid(c["sub"]), c
    if nonce is None:
        assert "nonce" not in c, c
    else:
        assert c["nonce"] == nonce, c
    assert c["at_hash"] == expected_at_hash(access_token, alg), c
    now = time.time()
    assert isinstance(c["auth_time"], int) and now - 600 < c["auth_time"] <= c["iat"] + 1, c
    assert c["exp"] - c["iat"] == 3600, c
    return c


def userinfo(server, tenant, access_token):
    return requests.get(server.endpoint(tenant, "userinfo"),
                        headers={"Authorization": "Bearer " + access_token},
                        timeout=HTTP_TIMEOUT_S)


def device_approved(server, tenant, client_id, user, scope, resources=()):
    """A device code of client_id for scope (and resources), approved in a
    browser by user (signing in when asked)."""
    r = requests.post(server.endpoint(tenant, "device_authorization"), timeout=HTTP_TIMEOUT_S,
                      data=[("client_id", client_id), ("scope", scope)]
                      + [("resource", x) for x in resources])
    assert r.status_code == 200, r.text
    d = r.json()
    b = Browser(server)
    page = b.submit(b.open(server.issuer(tenant) + "/device"), user_code=d["user_code"])
    if is_login_page(page):
        page = b.login(page, user)
    assert is_consent_page(page), (page.status_code, page.text[:400])
    done = b.submit(page, button=("decision", "approve"))
    assert done.status_code == 200, done.text[:300]
    return d["device_code"]


def password_grant(server, tenant, username, password, client_id="mobile", source=None, **extra):
    d = {"grant_type": "password", "client_id": client_id, "username": username,
         "password": password}
    d.update(extra)
    s = requests.Session()
    if source:
        s.mount("http://", _SourceAdapter(source))
    return s.post(server.endpoint(tenant, "token"), data=d, timeout=HTTP_TIMEOUT_S)


# -- the node.js clients in browser/ ------------------------------------------------

BROWSER_DIR = pathlib.Path(__file__).resolve().parent / "browser"
CHROMIUM_DEFAULT = "/usr/bin/chromium"


def in_ci():
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(what):
    """A tool the test needs is not there: a failure in CI (it must be
    installed there), a skip on a developer's machine."""
    msg = "%s (needs node >= 20 with npm, Debian's chromium, and `npm ci` in %s)" % (
        what, BROWSER_DIR)
    if in_ci():
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


def node_ready(module):
    """The path of node, once BROWSER_DIR/node_modules holds module
    (installed by `npm ci` from the committed package-lock.json if needed)."""
    node = shutil.which("node")
    if node is None:
        missing("node is not installed")
    v = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    if int((v.strip().lstrip("v").split(".") or ["0"])[0] or 0) < 20:
        missing("node %s is too old: playwright-core and openid-client need 20 or later"
                % v.strip())
    if not (BROWSER_DIR / "node_modules" / module / "package.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            missing("npm is not installed and %s/node_modules is missing" % BROWSER_DIR)
        p = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR,
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            missing("`npm ci` failed in %s:\n%s" % (BROWSER_DIR, p.stderr[-3000:]))
    return node


def run_node(script, env, timeout=120):
    """Runs a script of BROWSER_DIR with node; returns the JSON of its last
    line of output, failing with its stderr when it fails."""
    node = node_ready("playwright-core" if "login" in script else "openid-client")
    e = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    e.update(env)
    p = subprocess.run([node, script], cwd=BROWSER_DIR, env=e, capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, "node %s failed (%d):\n%s\n%s" % (script, p.returncode,
                                                              p.stdout[-2000:], p.stderr[-4000:])
    lines = p.stdout.strip().splitlines()
    assert lines, "node %s printed nothing:\n%s" % (script, p.stderr[-2000:])
    return json.loads(lines[-1])
