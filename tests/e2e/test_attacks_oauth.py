"""Attacks on the authorization server that Tessera refuses, one test each,
named after the attack. Each was first run against a server that let it
through. Clients are independent libraries only: requests (raw HTTP and the
browser), authlib (the OAuth client), jwcrypto (keys and assertions)."""
import base64
import concurrent.futures
import json
import sqlite3
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest
import requests
from jwcrypto import jwk, jwt

from e2e_util import (HTTP_TIMEOUT_S, P256_N, RELOAD_BUDGET_S, SECRET, assert_oauth_error,
                      es256_with_s,
                      fetch_token, introspect, tessera_bin, token_request, wait_until)
from test_libtessera import Probe
from people_helpers import (ALICE, AUD, MOBILE_URI, WEB_LOGOUT_URI, WEB_URI, RP, Browser,
                            assert_error_page, authorize, is_consent_page, is_login_page,
                            left_to, mobile_client, only_form, password_grant, people_tenant,
                            query_of, userinfo, web_client)

PARALLEL = 40
ROUNDS = 3
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

DAVE = {"username": "dave@acme.test", "password": "dave-correct-horse-battery",
        "email": "dave@acme.test", "name": "Dave", "roles": ["Sales User"]}
ERIN = {"username": "erin@acme.test", "password": "erin-correct-horse-battery",
        "email": "erin@acme.test", "name": "Erin", "roles": ["Sales User"]}

CLIENT_KEY = jwk.JWK.generate(kty="EC", crv="P-256", kid="assertion-key")


def jwt_client(client_id):
    return {"client_id": client_id, "type": "confidential", "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "private_key_jwt", "scopes": ["tasks:read"],
            "jwks": {"keys": [json.loads(CLIENT_KEY.export_public())]}}


def people_app(client_id, **over):
    """A public app with the password grant and refresh tokens."""
    c = mobile_client(client_id=client_id, name="App " + client_id,
                      scopes=["openid", "profile", "offline_access", "tasks:read",
                              "tasks:write"])
    c.update(over)
    return c


def device_client(client_id="tv", **over):
    c = {"client_id": client_id, "name": "Living Room TV", "type": "public",
         "grant_types": [DEVICE_GRANT, "refresh_token"],
         "scopes": ["tasks:read", "tasks:write"], "skip_consent": True}
    c.update(over)
    return c


def service(client_id):
    return {"client_id": client_id, "secret": SECRET, "grant_types": ["client_credentials"],
            "scopes": ["tasks:read"]}


CLIENTS = ([mobile_client(), web_client(), device_client(),
            device_client("kiosk", name="Kiosk", skip_consent=False),
            people_app("shrink"), people_app("app-off"), people_app("app-gone"),
            people_app("single", redirect_uris=[MOBILE_URI]),
            people_app("legacy", redirect_uris=[MOBILE_URI]),
            service("svc"), service("svc-off"), service("svc-gone")]
           + [jwt_client("jwt%d" % i) for i in range(ROUNDS + 2)])

DOC = {"tenants": [
    people_tenant("acme", users=(ALICE, DAVE, ERIN), clients=CLIENTS,
                  scopes=[{"name": "tasks:read"},
                          {"name": "tasks:write", "description": "Change your tasks"}]),
]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def parallel(fn, n=PARALLEL):
    """Runs fn(i) n times at once (released together by a barrier)."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return fn(i)
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        return list(ex.map(run, range(n)))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def assertion(srv, client_id, jti=None, high_s=False, aud=None, iat_ahead=0):
    now = int(time.time())
    t = jwt.JWT(header={"alg": "ES256", "kid": "assertion-key"},
                claims={"iss": client_id, "sub": client_id,
                        "aud": aud or srv.endpoint("acme", "token"),
                        "jti": jti or str(uuid.uuid4()), "iat": now + iat_ahead,
                        "exp": now + 120})
    t.make_signed_token(CLIENT_KEY)
    return es256_with_s(t.serialize(), high_s)


def assertion_request(srv, client_id, token):
    return requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S, data={
        "grant_type": "client_credentials", "client_assertion": token,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})


def api_me(srv, token):
    return requests.get(srv.issuer("acme") + "/api/me", timeout=HTTP_TIMEOUT_S,
                        headers={"Authorization": "Bearer " + token})


def active(srv, token):
    r = introspect(srv, "acme", token, "web")
    assert r.status_code == 200, r.text
    return r.json()["active"]


# -- single-use values under concurrency ----------------------------------------------

def test_one_client_assertion_sent_many_times_at_once_gives_one_token(srv):
    for rnd in range(ROUNDS):
        client_id = "jwt%d" % rnd  # failed attempts are throttled per client
        token = assertion(srv, client_id)
        codes = [r.status_code for r in
                 parallel(lambda i: assertion_request(srv, client_id, token))]
        assert codes.count(200) == 1, (rnd, sorted(codes))
        assert set(codes) <= {200, 401, 429}, codes


def test_an_assertion_may_name_the_endpoint_it_is_sent_to(srv):
    """RFC 9126 §2 (and what client libraries do): an assertion's aud may be
    the issuer, the token endpoint, or the endpoint it is sent to, but not
    another endpoint."""
    cid = "jwt%d" % (ROUNDS + 1)
    tok = assertion_request(srv, cid, assertion(srv, cid)).json()["access_token"]
    kind = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    def call(endpoint, aud):
        return requests.post(srv.endpoint("acme", endpoint), timeout=HTTP_TIMEOUT_S, data={
            "token": tok, "client_assertion_type": kind,
            "client_assertion": assertion(srv, cid, aud=aud)})
    for endpoint in ("introspect", "revoke"):
        for aud in (srv.endpoint("acme", endpoint), srv.issuer("acme")):
            assert call(endpoint, aud).status_code == 200, (endpoint, aud)
    # Another endpoint's URL is not this one's audience.
    r = call("introspect", srv.endpoint("acme", "revoke"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
    r = assertion_request(srv, cid, assertion(srv, cid, aud=srv.endpoint("acme", "introspect")))
    assert r.status_code == 401, r.text
    # Nor one issued in the future.
    r = assertion_request(srv, cid, assertion(srv, cid, iat_ahead=600))
    assert r.status_code == 401, r.text


def consent_page(srv, browser, rp):
    resp = browser.open(rp.authorization_url(prompt="consent"))
    if is_login_page(resp):
        resp = browser.login(resp, ALICE)
    assert is_consent_page(resp), (resp.status_code, resp.text[:300])
    return resp


def test_one_consent_form_posted_many_times_at_once_gives_one_code(srv):
    for rnd in range(ROUNDS):
        b = Browser(srv)
        rp = RP(srv, "acme", "web", WEB_URI, secret=SECRET, scope="openid tasks:read")
        page = consent_page(srv, b, rp)
        form = only_form(page)
        action = urllib.parse.urljoin(page.url, form.action)
        data = form.data(("decision", "approve"))
        cookies = b.http.cookies.get_dict()

        def post(i):
            return requests.post(action, data=data, cookies=cookies, allow_redirects=False,
                                 timeout=HTTP_TIMEOUT_S)
        locs = [left_to(r) or "" for r in parallel(post)]
        codes = [query_of(loc)["code"] for loc in locs if loc.startswith(WEB_URI + "?")
                 and "code" in query_of(loc)]
        assert len(codes) == 1, (rnd, locs[:3])


def device_start(srv, client_id, scope="tasks:read tasks:write"):
    r = requests.post(srv.endpoint("acme", "device_authorization"), timeout=HTTP_TIMEOUT_S,
                      data={"client_id": client_id, "scope": scope})
    assert r.status_code == 200, r.text
    return r.json()


def device_poll(srv, client_id, device_code):
    return token_request(srv, "acme", {"grant_type": DEVICE_GRANT, "client_id": client_id,
                                       "device_code": device_code})


def device_enter(srv, browser, user_code, user=ALICE):
    """Types the user code at {issuer}/device and signs in: returns the
    page that follows."""
    page = browser.open(srv.issuer("acme") + "/device")
    resp = browser.submit(page, user_code=user_code)
    if is_login_page(resp):
        resp = browser.login(resp, user)
    return resp


def test_a_device_is_never_approved_without_a_page_naming_the_client_and_scopes(srv):
    # The client skips consent, and the user approved these scopes before:
    # a phishing device still needs the user to confirm what it asks for.
    b = Browser(srv)
    for _ in range(2):
        d = device_start(srv, "tv")
        page = device_enter(srv, b, d["user_code"])
        assert is_consent_page(page), (page.status_code, page.text[:400])
        assert "Living Room TV" in page.text
        assert "tasks:write" in page.text and "tasks:read" in page.text
        assert_oauth_error(device_poll(srv, "tv", d["device_code"]), 400, "authorization_pending")
        done = b.submit(page, button=("decision", "approve"))
        assert done.status_code == 200, done.text[:300]
        r = device_poll(srv, "tv", d["device_code"])
        assert r.status_code == 200 and r.json()["scope"] == "tasks:read tasks:write", r.text


def test_the_device_pages_answer_posts_with_303_and_a_denial_with_a_page(srv):
    """RFC 9700 §4.12: the way on from a POST is a 303, here from the user
    code as from the sign-in and consent pages; the user's own denial is an
    answer, shown as a page (200), that the device learns by polling."""
    b = Browser(srv)
    d = device_start(srv, "tv")
    page = b.open(srv.issuer("acme") + "/device")
    # The user code typed on another site's form: refused.
    f = only_form(page)
    r = b.post(urllib.parse.urljoin(page.url, f.action), f.data(user_code=d["user_code"]),
               headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403, r.status_code
    nxt = b.submit(page, user_code=d["user_code"])
    assert b.hops[0].status_code == 303, b.hops[0].status_code
    if is_login_page(nxt):
        nxt = b.login(nxt, ALICE)
        assert b.hops[0].status_code == 303, b.hops[0].status_code
    assert is_consent_page(nxt)
    done = b.submit(nxt, button=("decision", "deny"))
    assert done.status_code == 200 and "denied" in done.text, (done.status_code, done.text[:300])
    assert_oauth_error(device_poll(srv, "tv", d["device_code"]), 400, "access_denied")


def test_a_device_poll_racing_the_approval_never_undoes_it(srv):
    b = Browser(srv)
    for rnd in range(ROUNDS):
        d = device_start(srv, "kiosk")
        page = device_enter(srv, b, d["user_code"])
        assert is_consent_page(page), (page.status_code, page.text[:300])
        stop = threading.Event()

        def poll(i):
            if i == 0:
                time.sleep(0.05)
                done = b.submit(page, button=("decision", "approve"))
                stop.set()
                return done.status_code, None
            got = []
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline and not (stop.is_set() and got):
                r = device_poll(srv, "kiosk", d["device_code"])
                got.append((r.status_code, r.json().get("error")))
            return None, got
        out = parallel(poll, 30)
        assert out[0][0] == 200, out[0]
        polls = [g for _, gs in out[1:] for g in gs]
        tokens = sum(1 for st, _ in polls if st == 200)
        if tokens == 0:
            # Approved and never lost: the next poll gets the token.
            r = device_poll(srv, "kiosk", d["device_code"])
            assert r.status_code == 200, (rnd, r.text)
            tokens = 1
        assert tokens == 1, (rnd, polls)
        last = device_poll(srv, "kiosk", d["device_code"])
        assert last.status_code == 400 and last.json()["error"] in (
            "invalid_grant", "expired_token"), last.text


def test_one_approved_device_code_polled_many_times_at_once_gives_one_token(srv):
    b = Browser(srv)
    for rnd in range(ROUNDS):
        d = device_start(srv, "kiosk", "tasks:read")
        page = device_enter(srv, b, d["user_code"])
        assert b.submit(page, button=("decision", "approve")).status_code == 200
        codes = [r.status_code for r in
                 parallel(lambda i: device_poll(srv, "kiosk", d["device_code"]))]
        assert codes.count(200) == 1, (rnd, sorted(codes))


def test_one_device_confirmation_posted_many_times_at_once_approves_once(srv):
    b = Browser(srv)
    for rnd in range(ROUNDS):
        d = device_start(srv, "kiosk", "tasks:read")
        page = device_enter(srv, b, d["user_code"])
        form = only_form(page)
        action = urllib.parse.urljoin(page.url, form.action)
        data = form.data(("decision", "approve"))
        cookies = b.http.cookies.get_dict()
        answers = parallel(lambda i: requests.post(action, data=data, cookies=cookies,
                                                   allow_redirects=False,
                                                   timeout=HTTP_TIMEOUT_S))
        assert [r.status_code for r in answers].count(200) == 1, (rnd, [r.status_code
                                                                        for r in answers])
        r = device_poll(srv, "kiosk", d["device_code"])
        assert r.status_code == 200, r.text


# -- what a token may still do after the client or user changed -----------------------

def test_a_refresh_never_regains_a_scope_removed_from_the_client(srv):
    r = password_grant(srv, "acme", ALICE["username"], ALICE["password"], client_id="shrink",
                       scope="tasks:read tasks:write")
    assert r.status_code == 200 and r.json()["scope"] == "tasks:read tasks:write", r.text
    rt = r.json()["refresh_token"]
    assert srv.cli("client", "update", "--tenant", "acme", "shrink", "--scope",
                   "tasks:read").rc == 0
    time.sleep(RELOAD_BUDGET_S)
    r = requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S, data={
        "grant_type": "refresh_token", "refresh_token": rt, "client_id": "shrink"})
    assert r.status_code == 200 and r.json()["scope"] == "tasks:read", r.text
    claims = json.loads(b64url_decode(r.json()["access_token"].split(".")[1]))
    assert claims["scope"] == "tasks:read", claims
    assert_oauth_error(requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S, data={
        "grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"],
        "client_id": "shrink", "scope": "tasks:write"}), 400, "invalid_scope")


def inactive_within_budget(srv, tokens, check_refresh=True):
    """Every place that takes the tokens refuses them within 2 s."""
    at, rt = tokens

    def all_refused():
        if active(srv, at):
            return False
        if rt and check_refresh and active(srv, rt):
            return False
        if api_me(srv, at).status_code != 401:
            return False
        return True
    ok, elapsed = wait_until(all_refused, timeout=RELOAD_BUDGET_S + 1)
    assert ok and elapsed <= RELOAD_BUDGET_S, elapsed
    assert userinfo(srv, "acme", at).status_code == 401


def person_tokens(srv, client_id, user=ALICE):
    r = password_grant(srv, "acme", user["username"], user["password"], client_id=client_id,
                       scope="openid tasks:read offline_access")
    assert r.status_code == 200, r.text
    at, rt = r.json()["access_token"], r.json()["refresh_token"]
    assert active(srv, at) and active(srv, rt)
    assert api_me(srv, at).status_code == 200 and userinfo(srv, "acme", at).status_code == 200
    return at, rt


@pytest.mark.parametrize("verb", ["disable", "delete"])
def test_tokens_of_a_disabled_or_deleted_service_client_stop_working(srv, verb):
    at = fetch_token(srv, "acme", "svc-off" if verb == "disable" else "svc-gone")["access_token"]
    assert active(srv, at) and api_me(srv, at).status_code == 200
    assert srv.cli("client", verb, "--tenant", "acme",
                   "svc-off" if verb == "disable" else "svc-gone").rc == 0
    ok, elapsed = wait_until(lambda: not active(srv, at) and api_me(srv, at).status_code == 401,
                             timeout=RELOAD_BUDGET_S + 1)
    assert ok and elapsed <= RELOAD_BUDGET_S, elapsed


@pytest.mark.parametrize("verb", ["disable", "delete"])
def test_tokens_of_a_disabled_or_deleted_app_stop_working(srv, verb):
    client_id = "app-off" if verb == "disable" else "app-gone"
    tokens = person_tokens(srv, client_id)
    assert srv.cli("client", verb, "--tenant", "acme", client_id).rc == 0
    inactive_within_budget(srv, tokens)
    r = requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S, data={
        "grant_type": "refresh_token", "refresh_token": tokens[1], "client_id": client_id})
    assert r.status_code in (400, 401) and "access_token" not in r.text, r.text


@pytest.mark.parametrize("user", [DAVE, ERIN], ids=["disable", "delete"])
def test_tokens_of_a_disabled_or_deleted_user_stop_working(srv, user):
    tokens = person_tokens(srv, "mobile", user)
    verb = "disable" if user is DAVE else "delete"
    assert srv.cli("user", verb, "--tenant", "acme", user["username"]).rc == 0
    inactive_within_budget(srv, tokens)
    r = requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S, data={
        "grant_type": "refresh_token", "refresh_token": tokens[1], "client_id": "mobile"})
    assert_oauth_error(r, 400, "invalid_grant")


# -- logout, resource, signatures -------------------------------------------------------

def test_logout_refuses_a_client_id_other_than_the_id_token_hint_audience(srv):
    r = password_grant(srv, "acme", ALICE["username"], ALICE["password"], scope="openid")
    hint = r.json()["id_token"]  # issued to "mobile"
    b = Browser(srv)
    q = {"id_token_hint": hint, "client_id": "web", "post_logout_redirect_uri": WEB_LOGOUT_URI}
    resp = b.get(srv.issuer("acme") + "/logout?" + urllib.parse.urlencode(q))
    assert_error_page(resp, 400)
    # The matching pair is fine.
    q["client_id"] = "mobile"
    del q["post_logout_redirect_uri"]
    assert b.get(srv.issuer("acme") + "/logout?" + urllib.parse.urlencode(q)).status_code == 200


BAD_RESOURCES = ["https%3A%2F%2Fapi.acme.test%2F%FF", "https%3A%2F%2Fapi.acme.test%2F%C3%A9",
                 "https%3A%2F%2Fapi.acme.test%2F%01", "https%3A%2F%2Fapi.acme.test%2F%7F",
                 "api.acme.test%2Fx", "https%3A%2F%2Fapi.acme.test%2F%23frag",
                 "https%3A%2F%2Fapi.acme.test%2F" + "a" * 3000, "1http%3A%2F%2Fx"]


@pytest.mark.parametrize("bad", BAD_RESOURCES)
def test_a_resource_that_is_not_a_printable_ascii_absolute_uri_is_refused_everywhere(srv, bad):
    b = Browser(srv)
    rp = RP(srv, "acme", "mobile", MOBILE_URI)
    resp = b.get(rp.authorization_url() + "&resource=" + bad)
    loc = left_to(resp)
    assert loc and loc.startswith(MOBILE_URI + "?"), (resp.status_code, resp.headers)
    assert query_of(loc).get("error") == "invalid_target", loc
    body = "grant_type=client_credentials&resource=" + bad
    r = requests.post(srv.endpoint("acme", "token"), data=body, auth=("svc", SECRET),
                      timeout=HTTP_TIMEOUT_S,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    r2 = requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S,
                       headers={"Content-Type": "application/x-www-form-urlencoded"},
                       data="grant_type=password&client_id=mobile&scope=tasks:read"
                            "&username=%s&password=%s&resource=%s"
                            % (urllib.parse.quote(ALICE["username"]),
                               urllib.parse.quote(ALICE["password"]), bad))
    assert_oauth_error(r, 400, "invalid_target")
    assert_oauth_error(r2, 400, "invalid_target")


@pytest.mark.parametrize("param, value", [
    ("state", "s%FF"), ("state", "s%0A%0DSet-Cookie:x"), ("state", "s" * 2049),
    ("nonce", "n%C3%A9"), ("nonce", "n%7Fx"), ("nonce", "n%1B"), ("nonce", "n" * 513),
])
def test_a_state_or_nonce_that_is_not_printable_ascii_is_refused(srv, param, value):
    # Dropping a state silently would hand a code to a client that checks
    # state; a nonce is copied into a signed ID token.
    b = Browser(srv)
    rp = RP(srv, "acme", "mobile", MOBILE_URI)
    url = rp.authorization_url()
    q = urllib.parse.urlencode({k: v for k, v in query_of(url).items() if k != param})
    resp = b.get(url.split("?")[0] + "?" + q + "&%s=%s" % (param, value))
    loc = left_to(resp)
    assert loc and loc.startswith(MOBILE_URI + "?"), (resp.status_code, resp.headers)
    q = query_of(loc)
    assert q.get("error") == "invalid_request" and "code" not in q, loc
    assert "state" not in q if param == "state" else q["state"] == rp.state, q


def test_logout_refuses_a_state_it_would_echo_unprintable(srv):
    b = Browser(srv)
    resp = b.get(srv.issuer("acme") + "/logout?client_id=web&post_logout_redirect_uri="
                 + urllib.parse.quote(WEB_LOGOUT_URI, safe="") + "&state=" + "s" * 2049)
    assert_error_page(resp, 400)
    resp = b.get(srv.issuer("acme") + "/logout?client_id=web&state=a%0Db")
    assert_error_page(resp, 400)


def test_the_other_s_twin_of_a_used_client_assertion_is_refused(srv):
    # A client's library may sign either form (both are accepted), but the
    # twin of an assertion already used carries the same jti.
    for first_high in (True, False):
        jti = str(uuid.uuid4())
        r = assertion_request(srv, "jwt%d" % ROUNDS,
                              assertion(srv, "jwt%d" % ROUNDS, jti, high_s=first_high))
        assert r.status_code == 200, r.text
        assert_oauth_error(assertion_request(srv, "jwt%d" % ROUNDS,
                                             assertion(srv, "jwt%d" % ROUNDS, jti,
                                                       high_s=not first_high)),
                           401, "invalid_client")


def test_a_high_s_twin_of_a_real_access_token_is_refused_by_server_and_libtessera(
        srv, tmp_path):
    token = fetch_token(srv, "acme", "svc")["access_token"]
    twin = es256_with_s(token, high=True)
    assert twin != token and es256_with_s(twin) == token
    assert active(srv, token) and not active(srv, twin)
    assert api_me(srv, token).status_code == 200 and api_me(srv, twin).status_code == 401
    probe = Probe(tmp_path, srv.issuer("acme"), client_id="svc", secret=SECRET, audience=AUD)
    try:
        ok = probe.bearer(token)
        assert ok["ok"] is True, ok
        assert probe.bearer(twin)["ok"] is False
    finally:
        probe.close()


def test_every_es256_signature_tessera_makes_is_low_s(srv):
    # Half of all ECDSA signatures come out high-S unless the signer
    # normalizes them: 24 in a row would all be low by chance once in 2^24.
    for _ in range(24):
        t = fetch_token(srv, "acme", "svc")["access_token"]
        s = int.from_bytes(b64url_decode(t.split(".")[2])[32:], "big")
        assert s <= P256_N // 2


# -- registration and the browser flow -------------------------------------------------

@pytest.mark.parametrize("uri", ["javascript:alert(1)", "JavaScript://x/%0aalert(1)",
                                 "data:text/html,<script>x</script>", "vbscript:msgbox(1)",
                                 "FILE:///etc/passwd", "https://acme.test/cb#frag",
                                 "http://127.0.0.1:99999/cb", "http://[::1]:0/cb",
                                 "http://127.0.0.1:80a/cb"])
def test_registering_a_dangerous_redirect_uri_is_refused(srv, uri):
    doc = {"tenants": [people_tenant("acme", users=(ALICE, DAVE, ERIN), clients=CLIENTS + [
        web_client(client_id="evil", redirect_uris=[WEB_URI, uri])])]}
    r = srv.bootstrap(doc, name="evil.json")
    assert r.rc == 1 and "redirect_uris" in r.err, r
    doc["tenants"][0]["clients"][-1]["redirect_uris"] = [WEB_URI]
    doc["tenants"][0]["clients"][-1]["post_logout_redirect_uris"] = [uri]
    r = srv.bootstrap(doc, name="evil2.json")
    assert r.rc == 1 and "post_logout_redirect_uris" in r.err, r
    r = srv.cli("client", "create", "--tenant", "acme", "evil-cli", "--type", "public",
                "--grant", "authorization_code", "--redirect-uri", uri)
    assert r.rc == 1, r
    r = srv.cli("client", "update", "--tenant", "acme", "single", "--redirect-uri", uri)
    assert r.rc == 1, r


def test_a_dangerous_redirect_uri_stored_before_the_rule_is_never_used(srv):
    # As an older version could have stored it: written straight into the
    # database, then the configuration generation moved for the reload.
    evil = "javascript:alert(document.cookie)"
    db = sqlite3.connect(str(srv.db_path), timeout=10)
    try:
        with db:
            db.execute("UPDATE clients SET config = json_set(config, '$.redirect_uris', "
                       "json_array(?), '$.post_logout_redirect_uris', json_array(?)) "
                       "WHERE client_id = 'legacy'", (evil, evil))
            db.execute("UPDATE meta SET value = value + 1 WHERE name = 'generation'")
    finally:
        db.close()
    b = Browser(srv)
    url = (srv.endpoint("acme", "authorize") + "?response_type=code&client_id=legacy&scope="
           "tasks:read&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
           "&code_challenge_method=S256&redirect_uri=" + urllib.parse.quote(evil, safe=""))
    implied = url.replace("&redirect_uri=", "&x=")  # the one registered URI
    ok, _ = wait_until(lambda: b.get(implied).status_code == 400, timeout=RELOAD_BUDGET_S + 1)
    assert ok
    assert_error_page(b.get(implied), 400)
    assert_error_page(b.get(url), 400)
    assert_error_page(b.get(srv.issuer("acme") + "/logout?client_id=legacy&"
                            "post_logout_redirect_uri=" + urllib.parse.quote(evil, safe="")), 400)


def test_an_openid_request_without_redirect_uri_is_an_error_page(srv):
    b = Browser(srv)
    base = srv.endpoint("acme", "authorize") + "?response_type=code&client_id=single" \
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256" \
        "&state=s1"
    assert_error_page(b.get(base + "&scope=openid%20tasks:read"), 400)
    # Without openid, the only registered URI may be implied (RFC 6749 3.1.2.3).
    r = b.get(base + "&scope=tasks:read")
    assert r.status_code in (302, 303) and "/login?" in r.headers["Location"], r.headers


def test_login_and_consent_posts_answer_303_see_other(srv):
    b = Browser(srv)
    rp = RP(srv, "acme", "web", WEB_URI, secret=SECRET, scope="openid email")
    page = b.open(rp.authorization_url())
    assert is_login_page(page)
    f = only_form(page)
    r = b.post(urllib.parse.urljoin(page.url, f.action),
               f.data(username=ALICE["username"], password=ALICE["password"]))
    assert r.status_code == 303, r.status_code
    page = b.follow(b.get(urllib.parse.urljoin(r.url, r.headers["Location"])))
    assert is_consent_page(page), page.text[:300]
    f = only_form(page)
    r = b.post(urllib.parse.urljoin(page.url, f.action), f.data(("decision", "approve")))
    assert r.status_code == 303 and r.headers["Location"].startswith(WEB_URI + "?"), r.headers


# -- the command line ---------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "postgres://tessera:Sekr3t/Leak@127.0.0.1:1/tessera",
    "postgres://tessera:Sekr3t?Leak@127.0.0.1:1/tessera",
    "postgres://tessera:123456/Sekr3tLeak@127.0.0.1:1/tessera",
    "postgresql://tessera:pw@127.0.0.1:1/tessera?sslmode=Sekr3tLeak",
    "postgresql://tessera@127.0.0.1:1/tessera?password=Sekr3tLeak&application_name=x",
    "postgres://tessera:Sekr3t%2FLeak@127.0.0.1:1/tessera",
    "mysql://tessera:Sekr3tLeak@127.0.0.1:1/tessera",
])
def test_the_cli_never_prints_a_database_password(srv, url):
    # Nothing listens on port 1; libpq's own messages may quote what it read.
    p = subprocess.run([tessera_bin(), "--db", url, "tenant", "list"], env=srv.env(),
                       cwd=srv.dir, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p
    for piece in ("Sekr3t", "Leak", "123456"):
        assert piece not in p.stderr + p.stdout, p.stderr


def test_a_flood_of_device_codes_from_one_address_stops_and_others_go_on(make_server):
    proxied = make_server(DOC, env={"TESSERA_TRUSTED_PROXIES": "127.0.0.1/32"}, name="devflood")

    def ask(addr):
        return requests.post(proxied.endpoint("acme", "device_authorization"),
                             data={"client_id": "tv", "scope": "tasks:read"},
                             headers={"X-Forwarded-For": addr}, timeout=HTTP_TIMEOUT_S)

    codes = [ask("198.51.100.7").status_code for _ in range(101)]
    assert codes == [200] * 100 + [429], codes
    r = ask("198.51.100.7")
    assert r.status_code == 429 and r.json()["error"] == "slow_down", r.text
    assert int(r.headers["Retry-After"]) > 0 and r.headers["Cache-Control"] == "no-store"
    assert ask("198.51.100.8").status_code == 200  # another address is not held back
