"""End-to-end tests of examples/tasks-api, the CRM task API built on
libtessera: the real tessera and tasks-api binaries on 127.0.0.1,
each with its own SQLite file, driven over HTTP.

- The README's walkthrough is executed as written (every `sh` block, in one
  bash shell, each `text` block compared with what its block printed), with
  only the setup block's locations replaced by this test's.
- The three stories (mobile API key, browser session with CSRF, OAuth
  Bearer), the role, scope and CSRF rules, buckets, filters, validation,
  GET /team with the service token, and clean shutdown.
- The resource-side attacks a verifier must refuse, each answered 401:
  alg none, HS256 keyed with the public key, unknown kid, expired, wrong
  iss, wrong aud, another tenant's token, a truncated signature, an
  all-zero ES256 signature, an embedded JWK.

The tasks-api binary comes from $TASKS_API_BIN (set by ctest).
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from jwcrypto import jwk

from e2e_util import (HTTP_TIMEOUT_S, SECRET, START_TIMEOUT_S, STOP_TIMEOUT_S, clean_env,
                      fetch_jwks, free_port, jose_header, tessera_bin)
from people_helpers import password_grant

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "tasks-api"
README = EXAMPLE / "README.md"
BOOTSTRAP = EXAMPLE / "bootstrap.json"

TASKS_SECRET = "tasks-api-secret-0123456789abcdefghij"
AUDIENCE = "https://tasks.acme.test"   # the test tenant's audience (--audience)
DOMAIN = "auth.acme.test"              # a second issuer of the same tenant, same keys
ALICE = ("alice@acme.test", "alice-correct-horse-battery")
BOB = ("bob@acme.test", "bob-staple-battery-horse")
CAROL = ("carol@acme.test", "carol-has-no-sales-role-42")
ALICE_MOBILE = {"username": "alice@acme.test", "app_password": "alice-app-password-2718",
                "device_id": "ALICE-PHONE-1"}
RW = "tasks:read tasks:write"


def tasks_api_bin():
    return os.environ.get("TASKS_API_BIN", "")


pytestmark = pytest.mark.skipif(
    not (tasks_api_bin() and os.access(tasks_api_bin(), os.X_OK)),
    reason="TASKS_API_BIN does not name the tasks-api binary (build it; run through ctest)")


# -- the tasks-api process ------------------------------------------------------

class TasksApi:
    """One tasks-api process on its own port and SQLite file."""

    def __init__(self, workdir, issuer, *, team_group=None, extra=(), secret=TASKS_SECRET):
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.issuer = issuer
        self.argv_tail = ["--issuer", issuer, "--db", "sqlite:%s" % (self.dir / "tasks.db"),
                          "--client-id", "tasks-api", "--client-secret", secret,
                          "--threads", "4"] + list(extra)
        if team_group:
            self.argv_tail += ["--team-group", team_group]
        self.log_path = self.dir / "tasks-api.log"
        self.proc = None
        self.port = None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def url(self, path):
        return self.base + path

    def start(self):
        for _ in range(3):
            self.port = free_port()
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [tasks_api_bin(), "--listen", "127.0.0.1:%d" % self.port] + self.argv_tail,
                env=clean_env(), cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
            log.close()
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if requests.get(self.url("/healthz"), timeout=1).status_code == 200:
                        return self
                except requests.RequestException:
                    pass
                time.sleep(0.02)
            if self.proc.poll() is None or "cannot listen" not in self.log_text():
                break
        self.kill()
        raise AssertionError("tasks-api did not start:\n" + self.log_text())

    def stop(self):
        """SIGTERM; the exit status, or None if it hung (then killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


@pytest.fixture(scope="module")
def make_tasks_api(tmp_path_factory):
    apis = []

    def make(issuer, **kw):
        api = TasksApi(tmp_path_factory.mktemp("tasks-api"), issuer, **kw)
        apis.append(api)
        return api.start()

    yield make
    problems = []
    for api in apis:
        rc = api.stop()
        if rc != 0:
            problems.append("tasks-api on port %s: exit status %r after SIGTERM\n%s"
                            % (api.port, rc, api.log_text()[-3000:]))
    assert not problems, "\n\n".join(problems)


# -- the installation under test ------------------------------------------------

def tasks_bootstrap(ttl=None):
    """examples/tasks-api/bootstrap.json, plus what the tests need: a second
    issuer for acme (DOMAIN) and an explicit audience, a user without a
    sales role, a service client that may read tasks (and one that may also
    write), and a second tenant."""
    doc = json.loads(BOOTSTRAP.read_text())
    acme = next(t for t in doc["tenants"] if t["name"] == "acme")
    acme["domains"] = [DOMAIN]
    acme["audience"] = AUDIENCE
    if ttl is not None:
        acme["access_token_ttl"] = ttl
    acme["users"].append({"username": CAROL[0], "password": CAROL[1], "roles": []})
    acme["clients"] += [
        {"client_id": "reporting", "type": "confidential", "secret": SECRET,
         "grant_types": ["client_credentials"], "scopes": ["tasks:read"]},
        {"client_id": "importer", "type": "confidential", "secret": SECRET,
         "grant_types": ["client_credentials"], "scopes": ["tasks:read", "tasks:write"]},
    ]
    doc["tenants"].append({
        "name": "globex", "scopes": [{"name": "tasks:read"}, {"name": "tasks:write"}],
        "clients": [{"client_id": "globex-svc", "type": "confidential", "secret": SECRET,
                     "grant_types": ["client_credentials"], "scopes": ["tasks:read"]}]})
    return doc




def start_pair(make_server, make_tasks_api, ttl=None, extra=()):
    srv = make_server(start=False, env={"TASKS_API_SECRET": TASKS_SECRET})
    out = srv.bootstrap_ok(tasks_bootstrap(ttl))
    srv.start()
    acme = next(t for t in out["tenants"] if t["name"] == "acme")
    team = next(g["id"] for g in acme["groups"] if g["name"] == "Sales Team")
    api = make_tasks_api(srv.issuer("acme"), team_group=team,
                         extra=["--audience", AUDIENCE] + list(extra))
    return srv, api


@pytest.fixture(scope="module")
def pair(make_module_server, make_tasks_api):
    return start_pair(make_module_server, make_tasks_api)


@pytest.fixture(scope="module")
def srv(pair):
    return pair[0]


@pytest.fixture(scope="module")
def api(pair):
    return pair[1]


# -- clients --------------------------------------------------------------------

class Caller:
    """Requests to the tasks API with one credential."""

    def __init__(self, api, headers=None, cookies=None):
        self.api = api
        self.headers = dict(headers or {})
        self.cookies = dict(cookies or {})

    def req(self, method, path, body=None, headers=None, raw=None, **kw):
        h = dict(self.headers)
        h.update(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        return requests.request(method, self.api.url(path), headers=h, cookies=self.cookies,
                                data=data, timeout=HTTP_TIMEOUT_S, **kw)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.req("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.req("DELETE", path, **kw)

    def create(self, title, due, **fields):
        body = {"title": title, "due_date": str(due)}
        body.update(fields)
        r = self.post("/tasks", body)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()


def bearer(srv, user, scope=RW):
    r = password_grant(srv, "acme", user[0], user[1], scope=scope)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def service_token(srv, client_id, tenant="acme", host=None, **extra):
    headers = {"Host": host} if host else {}
    url = srv.url("/oauth2/token") if host else srv.endpoint(tenant, "token")
    data = {"grant_type": "client_credentials"}
    data.update(extra)
    r = requests.post(url, data=data, auth=(client_id, SECRET), headers=headers,
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def as_bearer(api, token):
    return Caller(api, {"Authorization": "Bearer " + token})


def mobile_login(srv):
    r = requests.post(srv.issuer("acme") + "/api/mobile/login", json=ALICE_MOBILE,
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    return r.json()


def session_login(srv, user):
    s = requests.Session()
    r = s.post(srv.issuer("acme") + "/api/login", json={"username": user[0], "password": user[1]},
               timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    cookie = next(c.value for c in s.cookies if c.name == "tessera_session")
    return cookie, r.json()["csrf_token"]


@pytest.fixture(scope="module")
def alice(api, srv):
    return as_bearer(api, bearer(srv, ALICE))


@pytest.fixture(scope="module")
def bob(api, srv):
    return as_bearer(api, bearer(srv, BOB))


def marker():
    return "m" + uuid.uuid4().hex[:12]


def ids(tasks):
    return {t["id"] for t in tasks}


def assert_error(r, status, error=None, fragment=None):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    if error:
        assert body["error"] == error, body
    if fragment:
        assert fragment in body.get("error_description", ""), body
    return body


def today():
    return datetime.date.today()


# -- the README, executed -------------------------------------------------------

SETUP_VARS = ["TESSERA", "TASKS_API", "DIR", "TESSERA_URL", "TASKS"]


def readme_blocks():
    """[(sh code, expected output or None)] in README order: a `text` block
    belongs to the nearest `sh` block before it."""
    blocks = []
    for m in re.finditer(r"^```(\w*)\n(.*?)^```\s*$", README.read_text(), re.M | re.S):
        lang, body = m.group(1), m.group(2)
        if lang == "sh":
            blocks.append([body, None])
        elif lang == "text":
            assert blocks and blocks[-1][1] is None, "a text block without its sh block"
            blocks[-1][1] = body
    return blocks


def run_readme(workdir):
    blocks = readme_blocks()
    setup = [l for l in blocks[0][0].splitlines() if l.strip()]
    assert [l.split("=", 1)[0] for l in setup] == SETUP_VARS, setup
    values = {"TESSERA": tessera_bin(), "TASKS_API": tasks_api_bin(), "DIR": str(workdir),
              "TESSERA_URL": "http://127.0.0.1:%d" % free_port(),
              "TASKS": "http://127.0.0.1:%d" % free_port()}
    script = ["set -euo pipefail"] + ["%s=%s" % (k, shlex.quote(values[k])) for k in SETUP_VARS]
    for i, (code, _) in enumerate(blocks[1:], 1):
        script += ["echo '@@block %d@@'" % i, code]
    p = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=ROOT, env=clean_env(),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=240)
    finally:
        # The walkthrough starts servers in the background; whatever it left
        # behind (after a failure) goes with its process group.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    return blocks, p.returncode, out, err


def test_the_readme_walkthrough_runs_as_written(tmp_path):
    missing = [t for t in ("bash", "curl", "jq", "openssl") if shutil.which(t) is None]
    if missing:
        pytest.skip("the walkthrough needs %s" % ", ".join(missing))
    for attempt in range(2):
        workdir = tmp_path / ("run%d" % attempt)
        workdir.mkdir()
        blocks, rc, out, err = run_readme(workdir)
        logs = "".join("\n--- %s ---\n%s" % (f.name, f.read_text(errors="replace")[-3000:])
                       for f in sorted(workdir.glob("*.log")))
        if rc != 0 and ("cannot listen" in logs or "Address already in use" in logs):
            continue  # a port taken between free_port() and the bind
        break
    assert rc == 0, "the walkthrough failed (%d)\nstdout:\n%s\nstderr:\n%s%s" % (rc, out, err, logs)
    parts = re.split(r"^@@block (\d+)@@\n", out, flags=re.M)
    printed = {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    checked = 0
    for i, (code, expected) in enumerate(blocks[1:], 1):
        if expected is None:
            continue
        assert printed.get(i, "").rstrip() == expected.rstrip(), (
            "README block %d printed something else\n--- code ---\n%s--- expected ---\n%s"
            "--- printed ---\n%s" % (i, code, expected, printed.get(i)))
        checked += 1
    assert checked >= 6


# -- the three stories -------------------------------------------------------------

def test_story_mobile_login_with_an_api_key(api, srv):
    login = mobile_login(srv)
    app = Caller(api, {"Authorization": "token %s:%s" % (login["api_key"], login["api_secret"])})
    t = app.create("Mobile " + marker(), today(), priority="high")
    assert t["owner_username"] == ALICE[0] and t["owner_sub"] == login["user"]["id"]
    r = app.get("/tasks/today")
    assert r.status_code == 200 and t["id"] in ids(r.json()["tasks"]), r.text
    assert r.json()["date"] == today().isoformat()
    # Basic key:secret is the same credential.
    basic = Caller(api, {}, None)
    r = basic.get("/tasks/" + t["id"], auth=(login["api_key"], login["api_secret"]))
    assert r.status_code == 200 and r.json()["id"] == t["id"], r.text
    # A wrong secret is refused.
    r = Caller(api, {"Authorization": "token %s:wrong" % login["api_key"]}).get("/tasks")
    assert_error(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer realm=")


def test_story_browser_session_with_csrf(api, srv):
    cookie, csrf = session_login(srv, BOB)
    browser = Caller(api, cookies={"tessera_session": cookie})
    assert browser.get("/tasks").status_code == 200
    body = {"title": "Session " + marker(), "due_date": str(today())}
    # State-changing requests need the CSRF header, and the right one.
    assert_error(browser.post("/tasks", body), 403)
    wrong = ("y" if csrf[0] == "x" else "x") + csrf[1:]
    assert_error(browser.post("/tasks", body, headers={"X-CSRF-Token": wrong}), 403)
    r = browser.post("/tasks", body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert r.headers["Location"] == "/tasks/" + tid
    assert_error(browser.patch("/tasks/%s/status" % tid, {"status": "done"}), 403)
    assert_error(browser.delete("/tasks/" + tid), 403)
    r = browser.patch("/tasks/%s/status" % tid, {"status": "done"},
                      headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["status"] == "done", r.text
    r = browser.delete("/tasks/" + tid, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204 and r.content == b""
    assert browser.get("/tasks/" + tid).status_code == 404
    # A forged session id is no credential.
    assert_error(Caller(api, cookies={"tessera_session": "A" * 43}).get("/tasks"), 401)


def origin_of(url):
    parts = urllib.parse.urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc)


def test_another_sites_request_cannot_use_the_session_cookie(api, srv):
    """A browser sends the cookie along with another site's requests too:
    such a request (Sec-Fetch-Site cross-site, or an Origin that is neither
    the issuer's nor the API's own) is refused before anything is read or
    changed; the issuer's pages and the API's own origin keep working."""
    cookie, csrf = session_login(srv, BOB)
    browser = Caller(api, cookies={"tessera_session": cookie})
    frappe = Caller(api, cookies={"sid": cookie})
    body = {"title": "Cross " + marker(), "due_date": str(today())}
    evil = {"Origin": "https://evil.test"}
    cross = {"Sec-Fetch-Site": "cross-site"}
    for h in (evil, cross, {"Origin": "null"}, dict(cross, Origin=origin_of(api.url("/")))):
        assert_error(browser.get("/tasks", headers=h), 403, "cross_site_request")
        assert_error(browser.post("/tasks", body, headers=dict(h, **{"X-CSRF-Token": csrf})),
                     403, "cross_site_request")
        r = frappe.get("/api/method/crm.api.mobile_api.home_tasks", headers=h)
        assert r.status_code == 403, (r.status_code, r.text)
    for h in ({"Origin": origin_of(srv.issuer("acme"))}, {"Origin": origin_of(api.url("/"))},
              {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "same-site"}):
        assert browser.get("/tasks", headers=h).status_code == 200, h
    r = browser.post("/tasks", body, headers={"X-CSRF-Token": csrf,
                                              "Origin": origin_of(api.url("/"))})
    assert r.status_code == 201, r.text
    # A token is no cookie: another site's page may call with one.
    tok = as_bearer(api, bearer(srv, BOB))
    assert tok.get("/tasks", headers=dict(evil, **cross)).status_code == 200


def test_story_bearer_token_from_the_password_grant(api, srv):
    at = bearer(srv, ALICE)
    assert "tasks:write" in json.loads(
        base64.urlsafe_b64decode(at.split(".")[1] + "==").decode())["scope"].split()
    caller = as_bearer(api, at)
    t = caller.create("Bearer " + marker(), today() + datetime.timedelta(days=3))
    assert caller.get("/tasks/" + t["id"]).json()["title"] == t["title"]


def test_unauthenticated_requests_get_a_bearer_challenge(api):
    for method, path in [("GET", "/tasks"), ("GET", "/tasks/today"), ("GET", "/tasks/buckets"),
                         ("POST", "/tasks"), ("GET", "/team"),
                         ("DELETE", "/tasks/" + str(uuid.uuid4()))]:
        r = requests.request(method, api.url(path), timeout=HTTP_TIMEOUT_S)
        assert_error(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer realm="), r.headers


def test_unknown_routes_and_methods(api, alice):
    assert_error(alice.get("/nope"), 404, "not_found")
    assert_error(alice.get("/tasks/"), 404)
    r = alice.req("PUT", "/tasks")
    assert_error(r, 405)
    assert r.headers["Allow"] == "GET, POST"
    assert alice.req("POST", "/tasks/today").headers.get("Allow") == "GET"


# -- roles and scopes -------------------------------------------------------------

def test_a_sales_user_sees_and_edits_only_own_tasks(api, alice, bob):
    m = marker()
    a = alice.create(m + " alice", today())
    b = bob.create(m + " bob", today())
    got = alice.get("/tasks", params={"q": m}).json()
    assert ids(got["tasks"]) == {a["id"]} and got["count"] == 1
    # Bob's task does not exist for Alice, whatever she tries.
    assert_error(alice.get("/tasks/" + b["id"]), 404, "not_found")
    assert_error(alice.patch("/tasks/" + b["id"], {"title": "mine now"}), 404)
    assert_error(alice.patch("/tasks/%s/status" % b["id"], {"status": "done"}), 404)
    assert_error(alice.delete("/tasks/" + b["id"]), 404)
    assert bob.get("/tasks/" + b["id"]).json()["title"] == m + " bob"
    for path in ["/tasks/today", "/tasks/buckets"]:
        body = json.dumps(alice.get(path).json())
        assert b["id"] not in body and a["id"] in body


def test_a_sales_manager_sees_and_edits_all_tasks(api, alice, bob):
    m = marker()
    a = alice.create(m + " alice", today())
    b = bob.create(m + " bob", today())
    assert ids(bob.get("/tasks", params={"q": m}).json()["tasks"]) == {a["id"], b["id"]}
    assert ids(bob.get("/tasks/today").json()["tasks"]) >= {a["id"], b["id"]}
    r = bob.patch("/tasks/" + a["id"], {"priority": "high", "description": "from Bob"})
    assert r.status_code == 200, r.text
    assert r.json()["priority"] == "high" and r.json()["owner_username"] == ALICE[0]
    assert alice.get("/tasks/" + a["id"]).json()["description"] == "from Bob"
    assert bob.delete("/tasks/" + a["id"]).status_code == 204
    assert_error(alice.get("/tasks/" + a["id"]), 404)


def test_a_user_without_a_sales_role_is_forbidden(api, srv):
    carol = as_bearer(api, bearer(srv, CAROL))
    assert_error(carol.get("/tasks"), 403, "forbidden")
    assert_error(carol.post("/tasks", {"title": "x", "due_date": "2030-01-01"}), 403, "forbidden")
    assert_error(carol.get("/team"), 403, "forbidden")


def test_a_service_with_tasks_read_reads_every_task_but_never_writes(api, srv, alice, bob):
    m = marker()
    a = alice.create(m + " a", today())
    b = bob.create(m + " b", today())
    svc = as_bearer(api, service_token(srv, "reporting"))
    assert ids(svc.get("/tasks", params={"q": m}).json()["tasks"]) == {a["id"], b["id"]}
    assert svc.get("/tasks/" + a["id"]).status_code == 200
    # tasks:read only: a write is an insufficient scope ...
    r = svc.post("/tasks", {"title": "x", "due_date": "2030-01-01"})
    assert_error(r, 403, "insufficient_scope")
    # ... and even with tasks:write a service does not own tasks.
    rw = as_bearer(api, service_token(srv, "importer"))
    assert_error(rw.post("/tasks", {"title": "x", "due_date": "2030-01-01"}), 403, "forbidden")
    assert_error(rw.delete("/tasks/" + a["id"]), 403, "forbidden")


def test_a_token_with_only_tasks_read_cannot_write(api, srv, alice):
    t = alice.create("Scope " + marker(), today())
    ro = as_bearer(api, bearer(srv, ALICE, scope="tasks:read"))
    assert ro.get("/tasks/" + t["id"]).status_code == 200
    for r in [ro.post("/tasks", {"title": "x", "due_date": "2030-01-01"}),
              ro.patch("/tasks/" + t["id"], {"title": "y"}),
              ro.patch("/tasks/%s/status" % t["id"], {"status": "done"}),
              ro.delete("/tasks/" + t["id"])]:
        assert_error(r, 403, "insufficient_scope")
        www = r.headers["WWW-Authenticate"]
        assert www.startswith("Bearer ") and 'error="insufficient_scope"' in www, www
        assert 'scope="tasks:write"' in www, www
    assert alice.get("/tasks/" + t["id"]).json()["title"] == t["title"]


def test_a_token_with_only_tasks_write_cannot_read(api, srv):
    wo = as_bearer(api, bearer(srv, ALICE, scope="tasks:write"))
    assert_error(wo.get("/tasks"), 403, "insufficient_scope")
    r = wo.post("/tasks", {"title": "w " + marker(), "due_date": "2030-01-01"})
    assert r.status_code == 201, r.text


# -- buckets, filters, search --------------------------------------------------------

def test_buckets(api, alice):
    t0 = today()
    d = datetime.timedelta
    week_end = t0 + d(days=7 - t0.isoweekday())
    later_from = max(t0 + d(days=1), week_end) + d(days=1)
    m = marker()
    made = {
        "yesterday": alice.create(m + " yesterday", t0 - d(days=1)),
        "yesterday-done": alice.create(m + " yesterday done", t0 - d(days=1), status="done"),
        "last-month": alice.create(m + " last month", t0 - d(days=30), status="in_progress"),
        "today": alice.create(m + " today", t0),
        "today-done": alice.create(m + " today done", t0, status="done"),
        "tomorrow": alice.create(m + " tomorrow", t0 + d(days=1)),
        "in-2-days": alice.create(m + " in 2 days", t0 + d(days=2)),
        "week-end": alice.create(m + " week end", week_end),
        "after-week": alice.create(m + " after week", week_end + d(days=1)),
        "next-month": alice.create(m + " next month", t0 + d(days=31)),
    }

    def bucket_of(t):
        due = datetime.date.fromisoformat(t["due_date"])
        if due < t0:
            return "overdue" if t["status"] != "done" else None
        if due == t0:
            return "today"
        if due == t0 + d(days=1):
            return "tomorrow"
        if due <= week_end:
            return "this_week"
        assert due >= later_from
        return "later"

    r = alice.get("/tasks/buckets")
    assert r.status_code == 200, r.text
    got = r.json()
    if got["as_of"] != t0.isoformat():
        pytest.skip("the date changed during the test")
    assert got["week_end"] == week_end.isoformat()
    for name in ["overdue", "today", "tomorrow", "this_week", "later"]:
        want = {t["id"] for t in made.values() if bucket_of(t) == name}
        assert ids(got[name]) & ids(made.values()) == want, (name, got[name])
    assert made["yesterday"]["id"] in ids(got["overdue"])
    assert made["last-month"]["id"] in ids(got["overdue"])
    assert made["next-month"]["id"] in ids(got["later"])
    assert {made["today"]["id"], made["today-done"]["id"]} <= ids(got["today"])
    everywhere = set().union(*(ids(got[n]) for n in
                               ["overdue", "today", "tomorrow", "this_week", "later"]))
    assert made["yesterday-done"]["id"] not in everywhere
    # Each bucket is ordered by due date.
    for name in ["overdue", "this_week", "later"]:
        dates = [t["due_date"] for t in got[name]]
        assert dates == sorted(dates)
    assert_error(alice.get("/tasks/buckets", params={"limit": "0"}), 400)
    assert len(alice.get("/tasks/buckets", params={"limit": "1"}).json()["overdue"]) == 1


def test_today_orders_by_priority_and_honours_limit(api, alice):
    m = marker()
    low = alice.create(m + " low", today(), priority="low")
    high = alice.create(m + " high", today(), priority="high")
    tasks = alice.get("/tasks/today").json()["tasks"]
    pos = [t["id"] for t in tasks]
    assert pos.index(high["id"]) < pos.index(low["id"])
    assert all(t["due_date"] == today().isoformat() for t in tasks)
    r = alice.get("/tasks/today", params={"limit": "1"})
    assert r.json()["count"] == 1 and len(r.json()["tasks"]) == 1
    for bad in ["0", "201", "abc", "-1", "1.5", ""]:
        assert_error(alice.get("/tasks/today", params={"limit": bad}), 400, "invalid_request",
                     "limit")
    assert alice.get("/tasks/today", params={"limit": "200"}).status_code == 200


def test_filters_and_search(api, alice):
    m = marker()
    d1, d2, d3 = "2031-03-01", "2031-03-15", "2031-04-01"
    t1 = alice.create(m + " Alpha call", d1, priority="high")
    t2 = alice.create(m + " beta visit", d2, priority="low", status="done")
    t3 = alice.create("Gamma", d3, status="in_progress", description="About %s pricing" % m.upper())
    t4 = alice.create("Unrelated 100% sure_thing", d2)

    def q(**params):
        r = alice.get("/tasks", params=params)
        assert r.status_code == 200, r.text
        return ids(r.json()["tasks"])

    assert q(q=m) == {t1["id"], t2["id"], t3["id"]}
    assert q(q=m.upper()) == {t1["id"], t2["id"], t3["id"]}      # case-insensitive
    assert q(q=m + " BETA") == {t2["id"]}
    assert q(q="pricing", **{"from": d1, "to": d3}) >= {t3["id"]}  # the description
    assert q(q=m, status="done") == {t2["id"]}
    assert q(q=m, status="in_progress") == {t3["id"]}
    assert q(q=m, priority="high") == {t1["id"]}
    assert q(q=m, priority="medium") == {t3["id"]}
    assert q(q=m, **{"from": d2}) == {t2["id"], t3["id"]}
    assert q(q=m, to=d2) == {t1["id"], t2["id"]}
    assert q(q=m, **{"from": d2, "to": d2}) == {t2["id"]}
    assert q(q=m, priority="low", status="open") == set()
    assert t4["id"] in q(q="100%") and t4["id"] in q(q="e_t")
    assert q(q=m + "%") == set()                                  # no wildcards
    assert q(**{"from": d2, "to": d2}) >= {t2["id"], t4["id"]}
    listed = alice.get("/tasks", params={"q": m}).json()["tasks"]
    assert [t["due_date"] for t in listed] == [d1, d2, d3]
    assert len(alice.get("/tasks", params={"q": m, "limit": "2"}).json()["tasks"]) == 2
    for params, frag in [({"status": "closed"}, "status"), ({"priority": "urgent"}, "priority"),
                         ({"from": "2031-13-01"}, "from"), ({"to": "tomorrow"}, "to"),
                         ({"from": d3, "to": d1}, "after"), ({"owner": "bob"}, "unknown"),
                         ({"q": "x" * 201}, "q"), ({"limit": "500"}, "limit")]:
        assert_error(alice.get("/tasks", params=params), 400, "invalid_request", frag)
    r = requests.get(api.url("/tasks?status=open&status=done"), headers=alice.headers,
                     timeout=HTTP_TIMEOUT_S)
    assert_error(r, 400, "invalid_request", "repeated")


# -- validation ---------------------------------------------------------------------

def test_create_defaults_and_edits(api, alice):
    t = alice.create("Defaults " + marker(), "2030-06-30")
    assert (t["priority"], t["status"], t["description"]) == ("medium", "open", None)
    assert t["created_at"] == t["updated_at"] and t["created_at"].endswith("Z")
    uuid.UUID(t["id"])
    time.sleep(0.01)
    r = alice.patch("/tasks/" + t["id"], {"title": "Edited", "due_date": "2030-07-01",
                                          "priority": "low", "status": "in_progress",
                                          "description": "notes"})
    assert r.status_code == 200, r.text
    e = r.json()
    assert (e["title"], e["due_date"], e["priority"], e["status"], e["description"]) == (
        "Edited", "2030-07-01", "low", "in_progress", "notes")
    assert e["updated_at"] > e["created_at"] and e["created_at"] == t["created_at"]
    e = alice.patch("/tasks/" + t["id"], {"description": None}).json()
    assert e["description"] is None and e["title"] == "Edited"
    e = alice.patch("/tasks/%s/status" % t["id"], {"status": "done"}).json()
    assert e["status"] == "done"
    assert alice.get("/tasks/" + t["id"]).json() == e


def test_priority_and_status_may_be_written_as_people_write_them(api, alice):
    r = alice.post("/tasks", {"title": "Cased " + marker(), "due_date": "2030-01-01",
                              "priority": "High", "status": "In Progress"})
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["priority"], t["status"]) == ("high", "in_progress"), t
    r = alice.patch("/tasks/%s/status" % t["id"], {"status": "DONE"})
    assert r.status_code == 200 and r.json()["status"] == "done", r.text
    r = alice.get("/tasks", params={"status": "Done", "priority": "HIGH"})
    assert r.status_code == 200 and t["id"] in ids(r.json()["tasks"]), r.text
    for bad in ("In  Progress", "in-progress", "Hígh"):
        r = alice.post("/tasks", {"title": "x", "due_date": "2030-01-01", "priority": bad})
        assert_error(r, 400, None, "priority")


def test_validation_errors(api, alice):
    t = alice.create("Valid " + marker(), "2030-01-01")
    tid = t["id"]
    long_title = "x" * 201
    cases = [
        ("POST", "/tasks", "{", "application/json", 400, "not valid JSON"),
        ("POST", "/tasks", "[]", "application/json", 400, "JSON object"),
        ("POST", "/tasks", "", "application/json", 400, "JSON object"),
        ("POST", "/tasks", '{"title":"a","title":"b","due_date":"2030-01-01"}',
         "application/json", 400, "not valid JSON"),
        ("POST", "/tasks", {"due_date": "2030-01-01"}, None, 400, '"title" is required'),
        ("POST", "/tasks", {"title": "x"}, None, 400, '"due_date" is required'),
        ("POST", "/tasks", {"title": "x", "due_date": "2030-02-30"}, None, 400, "due_date"),
        ("POST", "/tasks", {"title": "x", "due_date": "30/01/2030"}, None, 400, "due_date"),
        ("POST", "/tasks", {"title": "x", "due_date": "2030-1-1"}, None, 400, "due_date"),
        ("POST", "/tasks", {"title": "x", "due_date": 20300101}, None, 400, "due_date"),
        ("POST", "/tasks", {"title": "x", "due_date": "2030-01-01", "priority": "urgent"},
         None, 400, "priority"),
        ("POST", "/tasks", {"title": "x", "due_date": "2030-01-01", "status": "closed"},
         None, 400, "status"),
        ("POST", "/tasks", {"title": "x", "due_date": "2030-01-01", "owner_sub": "bob"},
         None, 400, 'unknown field "owner_sub"'),
        ("POST", "/tasks", {"title": long_title, "due_date": "2030-01-01"}, None, 400,
         "longer than 200"),
        ("POST", "/tasks", {"title": "  ", "due_date": "2030-01-01"}, None, 400, "empty"),
        ("POST", "/tasks", {"title": 5, "due_date": "2030-01-01"}, None, 400, "string"),
        ("POST", "/tasks", {"title": "x", "due_date": "2030-01-01", "description": ["a"]},
         None, 400, "description"),
        ("POST", "/tasks", {"title": "x", "due_date": "2030-01-01"}, "text/plain", 415, "json"),
        ("PATCH", "/tasks/" + tid, {}, None, 400, "nothing to change"),
        ("PATCH", "/tasks/" + tid, {"id": "x"}, None, 400, 'unknown field "id"'),
        ("PATCH", "/tasks/" + tid, {"due_date": "2030-13-01"}, None, 400, "due_date"),
        ("PATCH", "/tasks/%s/status" % tid, {}, None, 400, '"status" is required'),
        ("PATCH", "/tasks/%s/status" % tid, {"status": "done", "title": "x"}, None, 400,
         "only"),
        ("PATCH", "/tasks/%s/status" % tid, {"status": "finished"}, None, 400, "status"),
    ]
    for method, path, body, ctype, status, frag in cases:
        headers = {"Content-Type": ctype or "application/json"}
        raw = body if isinstance(body, str) else json.dumps(body)
        r = alice.req(method, path, raw=raw, headers=headers)
        assert_error(r, status, None, None)
        assert frag.lower() in r.json().get("error_description", "").lower(), (body, r.json())
        if status == 400:
            assert r.json()["error"] == "invalid_request"
    # Nothing was changed by the refused edits.
    assert alice.get("/tasks/" + tid).json() == t
    # 200 characters is fine, and counts characters, not bytes.
    assert alice.post("/tasks", {"title": "é" * 200, "due_date": "2030-01-01"}).status_code == 201
    # The body cap: 64 KiB.
    big = json.dumps({"title": "x", "due_date": "2030-01-01", "description": "d" * 70000})
    r = alice.req("POST", "/tasks", raw=big, headers={"Content-Type": "application/json"})
    assert_error(r, 413)
    # Ids that cannot be ours are simply not found.
    for bad in ["not-a-uuid", "../etc", "0" * 36, str(uuid.uuid4())]:
        assert_error(alice.get("/tasks/" + bad), 404)


def test_a_large_body_is_refused_before_it_is_read(api, alice):
    r = alice.req("POST", "/tasks", raw=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                  headers={"Content-Type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("framing,status", [
    ("Transfer-Encoding: gzip", 501), ("Transfer-Encoding: identity", 501),
    ("Transfer-Encoding: chunked\r\nContent-Length: 2", 400)])
def test_a_body_it_cannot_frame_is_answered_at_once(api, alice, framing, status):
    """RFC 9112 §6: a transfer coding other than chunked is answered 501,
    chunked with a Content-Length 400, and the connection closed, never
    left waiting for a body it cannot read."""
    import socket
    host, port = urllib.parse.urlsplit(api.url("/")).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(("POST /tasks HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
                   "Content-Type: application/json\r\n%s\r\n\r\n"
                   % (alice.headers["Authorization"], framing)).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 %d" % status), data[:200]


# -- GET /team ----------------------------------------------------------------------

def test_team_comes_from_tessera_with_the_service_token(api, srv, alice):
    r = alice.get("/team")
    assert r.status_code == 200, (r.text, api.log_text()[-2000:])
    body = r.json()
    assert body["group"]["name"] == "Sales Team"
    members = {m["username"]: m for m in body["members"]}
    assert set(members) == {ALICE[0], BOB[0]}
    assert members[ALICE[0]]["name"] == "Alice Archer"
    assert all(set(m) <= {"id", "username", "name", "email"} for m in body["members"])
    # Services with the read scope see it too; a second call is served
    # from the cache and says the same.
    svc = as_bearer(api, service_token(srv, "reporting"))
    assert svc.get("/team").json() == body
    assert_error(alice.get("/team", params={"x": "1"}), 400)


def test_team_follows_tessera_after_its_cache_and_tessera_down_is_503(make_server,
                                                                      make_tasks_api):
    srv, api = start_pair(make_server, make_tasks_api, extra=["--team-cache", "5"])
    bob = as_bearer(api, bearer(srv, BOB))
    login = mobile_login(srv)  # a key the API has never seen
    names = lambda: {m["username"] for m in bob.get("/team").json()["members"]}  # noqa: E731
    assert names() == {ALICE[0], BOB[0]}
    r = srv.cli("group", "add-member", "--tenant", "acme", "Sales Team", CAROL[0])
    assert r.rc == 0, r.err
    started = time.monotonic()
    assert names() == {ALICE[0], BOB[0]}  # still the cached answer
    while CAROL[0] not in names():
        assert time.monotonic() - started < 15, "GET /team never saw the new member"
        time.sleep(0.25)
    # Tessera goes away: a credential that needs Tessera to be checked is
    # answered 503, never 401.
    assert srv.stop() == 0
    r = Caller(api, {"Authorization": "token %s:%s" % (login["api_key"],
                                                       login["api_secret"])}).get("/tasks")
    assert_error(r, 503)


def test_without_audience_it_takes_the_tenants_from_its_own_token(make_tasks_api, srv, alice):
    """No --audience: tasks-api expects the aud of its own client-credentials
    token, the tenant's audience, so the tenant's user tokens are taken and
    a token for another audience is not."""
    other = make_tasks_api(srv.issuer("acme"))
    assert "Bearer tokens must carry aud %s" % AUDIENCE in other.log_text()
    r = Caller(other, alice.headers).get("/tasks")
    assert r.status_code == 200, r.text
    foreign = requests.post(srv.endpoint("acme", "token"), data={
        "grant_type": "client_credentials", "resource": "https://elsewhere.test"},
        auth=("reporting", SECRET), timeout=HTTP_TIMEOUT_S)
    assert foreign.status_code == 200, foreign.text
    r = Caller(other, {"Authorization": "Bearer " + foreign.json()["access_token"]}).get("/tasks")
    assert_error(r, 401)


def test_team_without_a_configured_group_is_404(make_tasks_api, srv, alice):
    other = make_tasks_api(srv.issuer("acme"), extra=["--audience", AUDIENCE])
    r = Caller(other, alice.headers).get("/team")
    assert_error(r, 404, "not_found", "--team-group")


# -- attacks on the Bearer path -------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header, payload, sign):
    """header and payload are dicts; sign(signing_input bytes) -> signature bytes."""
    si = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    return si + "." + b64url(sign(si.encode()))


def claims_of(token):
    p = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def es256_sign(key):
    """A signer with jwcrypto EC key `key`: raw r || s, as JWS wants it
    (RFC 7518 §3.4)."""
    priv = key.get_op_key("sign")

    def sign(si):
        r, s = utils.decode_dss_signature(priv.sign(si, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return sign


def assert_refused(api, token, why):
    r = as_bearer(api, token).get("/tasks")
    assert r.status_code == 401, (why, r.status_code, r.text)
    assert r.json().get("error") == "invalid_token", (why, r.json())
    www = r.headers.get("WWW-Authenticate", "")
    assert www.startswith("Bearer ") and 'error="invalid_token"' in www, (why, www)


@pytest.fixture(scope="module")
def genuine(api, srv):
    """A genuine user token, accepted by the API (the control), with its
    parts and the tenant's public key for it."""
    at = bearer(srv, ALICE)
    assert as_bearer(api, at).get("/tasks").status_code == 200
    header = jose_header(at)
    key = fetch_jwks(srv, "acme").get_key(header["kid"])
    assert header["alg"] == "ES256" and key is not None
    return at, header, claims_of(at), key


def test_attack_alg_none(api, genuine):
    at, header, claims, _ = genuine
    for alg in ["none", "None", "NONE"]:
        h = dict(header, alg=alg)
        forged = b64url(json.dumps(h).encode()) + "." + at.split(".")[1] + "."
        assert_refused(api, forged, alg)


def test_attack_hs256_keyed_with_the_public_key(api, genuine):
    _, header, claims, key = genuine
    pub = json.loads(key.export_public())
    point = base64.urlsafe_b64decode(pub["x"] + "==") + base64.urlsafe_b64decode(pub["y"] + "==")
    secrets = [key.export_to_pem(),                 # PEM SubjectPublicKeyInfo
               key.export_public().encode(),        # the JWK as JSON
               point]                               # the raw point x || y
    for secret in secrets:
        forged = forge(dict(header, alg="HS256"), claims,
                       lambda si: hmac.new(secret, si, hashlib.sha256).digest())
        assert_refused(api, forged, "HS256 with %r" % secret[:20])


def test_attack_unknown_kid(api, genuine):
    _, header, claims, _ = genuine
    mine = jwk.JWK.generate(kty="EC", crv="P-256")
    assert_refused(api, forge(dict(header, kid="attacker-" + uuid.uuid4().hex), claims,
                              es256_sign(mine)), "unknown kid")
    no_kid = {k: v for k, v in header.items() if k != "kid"}
    assert_refused(api, forge(no_kid, claims, es256_sign(mine)), "no kid")


def test_attack_embedded_jwk(api, genuine):
    _, header, claims, _ = genuine
    mine = jwk.JWK.generate(kty="EC", crv="P-256")
    pub = json.loads(mine.export_public())
    # The attacker's key in the header, with and without the genuine kid.
    assert_refused(api, forge(dict(header, jwk=pub), claims, es256_sign(mine)), "jwk + kid")
    h = {k: v for k, v in header.items() if k != "kid"}
    assert_refused(api, forge(dict(h, jwk=pub), claims, es256_sign(mine)), "jwk")
    assert_refused(api, forge(dict(header, jku="http://127.0.0.1:1/jwks.json"), claims,
                              es256_sign(mine)), "jku")


def test_attack_truncated_and_zero_signatures(api, genuine):
    at, header, claims, _ = genuine
    h, p, s = at.split(".")
    assert_refused(api, "%s.%s.%s" % (h, p, s[:-8]), "truncated signature")
    assert_refused(api, "%s.%s.%s" % (h, p, s[:len(s) // 2]), "half a signature")
    assert_refused(api, "%s.%s." % (h, p), "no signature")
    assert_refused(api, "%s.%s.%s" % (h, p, b64url(b"\0" * 64)), "all-zero ES256 signature")
    # The classic "psychic signature" (CVE-2022-21449): r = s = 0 in DER.
    assert_refused(api, "%s.%s.%s" % (h, p, b64url(bytes.fromhex("3006020100020100"))), "DER 0,0")
    # A genuine signature over other claims.
    altered = dict(claims, scope="tasks:read tasks:write admin", sub=str(uuid.uuid4()))
    assert_refused(api, "%s.%s.%s" % (h, b64url(json.dumps(altered).encode()), s), "altered")


def test_attack_wrong_issuer(api, srv):
    # The same tenant also answers as http://auth.acme.test: same keys, same
    # audience, another issuer. tasks-api trusts only the configured one.
    svc = as_bearer(api, service_token(srv, "reporting"))
    assert svc.get("/tasks").status_code == 200
    at = service_token(srv, "reporting", host=DOMAIN)
    c = claims_of(at)
    assert c["iss"] == "http://" + DOMAIN and c["aud"] == AUDIENCE, c
    assert_refused(api, at, "wrong iss")


def test_attack_wrong_audience(api, srv):
    at = service_token(srv, "reporting", resource="https://other-api.acme.test")
    assert claims_of(at)["aud"] == "https://other-api.acme.test"
    assert_refused(api, at, "wrong aud")


def test_attack_another_tenants_token(api, srv):
    at = service_token(srv, "globex-svc", tenant="globex")
    assert claims_of(at)["iss"] == srv.issuer("globex")
    assert_refused(api, at, "globex token")
    # Also with acme's issuer claim pasted in: the signature no longer holds.
    h, p, s = at.split(".")
    c = dict(claims_of(at), iss=srv.issuer("acme"), aud=AUDIENCE)
    assert_refused(api, "%s.%s.%s" % (h, b64url(json.dumps(c).encode()), s), "globex relabelled")


def test_attack_garbage_tokens(api):
    for junk in ["", "a", "a.b", "a.b.c", "a.b.c.d.e", "..", "x" * 20000,
                 b64url(b'{"alg":"ES256","crit":["exp"]}') + ".e30.AAAA"]:
        r = Caller(api, {"Authorization": "Bearer " + junk}).get("/tasks")
        assert r.status_code in (400, 401), (junk[:40], r.status_code, r.text)
        assert r.json()["error"] in ("invalid_token", "invalid_request", "unauthorized")


def test_attack_expired_token(make_server, make_tasks_api):
    # A tenant whose access tokens live 1 s, and an API with 1 s of leeway.
    srv, short_api = start_pair(make_server, make_tasks_api, ttl=1, extra=["--leeway", "1"])
    at = bearer(srv, ALICE)
    c = claims_of(at)
    assert c["exp"] - c["iat"] == 1
    time.sleep(max(0.0, c["exp"] + 1 + 1.5 - time.time()))
    assert_refused(short_api, at, "expired")


# -- process --------------------------------------------------------------------------

def test_sigterm_stops_cleanly(tmp_path, srv):
    api = TasksApi(tmp_path, srv.issuer("acme")).start()
    api.proc.send_signal(signal.SIGTERM)
    assert api.proc.wait(timeout=STOP_TIMEOUT_S) == 0
    assert "stopped" in api.log_text()


def test_usage_errors_exit_2(tmp_path):
    for argv in [[], ["--issuer", "ftp://x", "--db", "sqlite:x", "--client-id", "c",
                      "--client-secret", "s"], ["--bogus"]]:
        p = subprocess.run([tasks_api_bin()] + argv, env=clean_env(), cwd=tmp_path,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 2, (argv, p.returncode, p.stderr)
        assert "usage:" in p.stderr


def test_empty_filters_are_no_filters(api, alice):
    m = marker()
    d1, d2 = "2032-05-01", "2032-05-20"
    t1 = alice.create(m + " one", d1, priority="high")
    t2 = alice.create(m + " two", d2, priority="low", status="done")

    def get(target):
        r = requests.get(api.url(target), headers=alice.headers, timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 200, (target, r.status_code, r.text)
        return ids(r.json()["tasks"])

    # The route as a form sends it: every filter named, none filled in.
    everything = get("/tasks?status=&priority=&q=&from=&to=&limit=200")
    assert {t1["id"], t2["id"]} <= everything
    get("/tasks?status=&priority=&q=&from=&to=")  # the route exactly as written
    assert get("/tasks?status=&priority=&q=%s&from=&to=" % m) == {t1["id"], t2["id"]}
    assert get("/tasks?status=&priority=high&q=%s&from=&to=" % m) == {t1["id"]}
    assert get("/tasks?status=done&priority=&q=%s&from=&to=" % m) == {t2["id"]}
    assert get("/tasks?status=&priority=&q=%s&from=%s&to=" % (m, d2)) == {t2["id"]}
    assert get("/tasks?status=&priority=&q=%s&from=&to=%s" % (m, d1)) == {t1["id"]}
    # A value that is there but wrong is still refused.
    for target, frag in [("/tasks?status=%20&q=" + m, "status"),
                         ("/tasks?priority=urgent&status=", "priority"),
                         ("/tasks?from=soon&to=", "from"), ("/tasks?from=&to=2032-13-01", "to")]:
        r = requests.get(api.url(target), headers=alice.headers, timeout=HTTP_TIMEOUT_S)
        assert_error(r, 400, "invalid_request", frag)
