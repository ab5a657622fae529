"""The "activity" profile: an auth-api / chat-api pair of services pointed
at a tessera tenant, sending what they send. The chat service gets its
token at /oauth/token (client credentials, form or JSON), reads a group
with its org_id at /api/auth/groups/{id} and its members with user_id,
email, added_at and added_by at /api/auth/groups/{id}/members; its users
sign in at /auth/login with email and password for a JWT; access tokens
carry "type": "access" and aud as an array. The same requests at a tenant
without the profile answer 404, and each profile route refuses what its
native twin refuses: wrong secrets, other tenants' credentials, missing
scopes, throttled logins."""
import base64
import itertools
import json
import re

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, fetch_token, wait_until
from people_helpers import _SourceAdapter
from test_postgres import cluster  # noqa: F401 (the module's PostgreSQL cluster)

AUD = "https://api.activity.com"
SERVICE_ID = "chat-api-service"
SERVICE_SECRET = "your-service-secret-change-in-production"
SCOPES = [{"name": "groups:read"}, {"name": "members:read"}, {"name": "groups:write"}]
ALICE = {"username": "alice@activity.test", "password": "alice-correct-horse-battery",
         "email": "alice@activity.test", "roles": ["Member"]}
BOB = {"username": "bob@activity.test", "password": "bob-staple-battery-horse",
       "roles": ["Member"]}
MALLORY = {"username": "mallory@activity.test", "password": "mallory-password-12345",
           "roles": ["Member"]}
GROUP = "E2E Test Group"
ORG = "7d3c1f0e-0a4b-4c1e-9a51-3f1f2b7c9d10"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def tenant(name, compat=("activity",), login_client="chat-web", **over):
    t = {"name": name, "audience": AUD, "roles": ["Member"], "scopes": SCOPES,
         "users": [dict(ALICE), dict(BOB), dict(MALLORY)],
         "groups": [{"name": GROUP, "org_id": ORG, "members": [ALICE["username"]]},
                    {"name": "Other Group", "members": [BOB["username"]]}],
         "clients": [
             {"client_id": SERVICE_ID, "type": "confidential", "secret": SERVICE_SECRET,
              "token_endpoint_auth_method": "client_secret_post",
              "grant_types": ["client_credentials"], "scopes": ["groups:read", "members:read"]},
             {"client_id": "groups-only", "type": "confidential", "secret": SECRET,
              "token_endpoint_auth_method": "client_secret_post",
              "grant_types": ["client_credentials"], "scopes": ["groups:read"]},
             # People's logins: their tokens read groups by membership.
             {"client_id": "chat-web", "type": "public", "grant_types": ["password"],
              "scopes": ["openid"]}]}
    if compat:
        t["compat"] = list(compat)
    if login_client:
        t["login_client"] = login_client
    t.update(over)
    return t


DOC = {"tenants": [tenant("activity"), tenant("plain", compat=None, login_client=None),
                   tenant("other"), tenant("nologin", login_client=None)]}

_sources = itertools.count(1)


def fresh_source():
    n = next(_sources)
    return "127.0.%d.%d" % (90 + n // 250, 1 + n % 250)


@pytest.fixture(scope="module")
def env(make_module_server):
    srv = make_module_server(None, start=False)
    result = srv.bootstrap_ok(DOC)
    srv.start()
    groups = {t["name"]: {g["name"]: g["id"] for g in t["groups"]} for t in result["tenants"]}
    return {"srv": srv, "groups": groups}


@pytest.fixture(scope="module")
def srv(env):
    return env["srv"]


def url(srv, tenant, path):
    return srv.issuer(tenant) + path


def claims(jwt):
    p = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def seed_token(srv, tenant="activity", secret=SERVICE_SECRET, as_json=False, **extra):
    """Test 1 of the seed: the chat service's token request."""
    body = {"grant_type": "client_credentials", "client_id": SERVICE_ID, "client_secret": secret,
            "scope": "groups:read members:read"}
    body.update(extra)
    kw = {"json": body} if as_json else {"data": body}
    return requests.post(url(srv, tenant, "/oauth/token"), timeout=HTTP_TIMEOUT_S, **kw)


def get(srv, path, token, tenant="activity"):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return requests.get(url(srv, tenant, path), headers=headers, timeout=HTTP_TIMEOUT_S)


def login(srv, email, password, tenant="activity", source=None):
    s = requests.Session()
    s.mount("http://", _SourceAdapter(source or fresh_source()))
    return s.post(url(srv, tenant, "/auth/login"), json={"email": email, "password": password},
                  timeout=HTTP_TIMEOUT_S)


# -- the seed's examples -------------------------------------------------------

@pytest.mark.parametrize("as_json", [False, True])
def test_service_token_as_the_seed_shows(srv, as_json):
    r = seed_token(srv, as_json=as_json)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["token_type"] == "Bearer" and b["scope"] == "groups:read members:read", b
    assert isinstance(b["expires_in"], int) and b["expires_in"] > 0
    c = claims(b["access_token"])
    assert c["sub"] == SERVICE_ID and c["client_id"] == SERVICE_ID, c
    assert c["scope"] == "groups:read members:read" and c["type"] == "access", c
    assert c["aud"] == [AUD], c
    assert c["exp"] - c["iat"] == b["expires_in"]


def test_group_and_members_with_a_service_token(env, srv):
    gid = env["groups"]["activity"][GROUP]
    tok = seed_token(srv).json()["access_token"]
    r = get(srv, "/api/auth/groups/%s" % gid, tok)
    assert r.status_code == 200, r.text
    g = r.json()
    assert g["id"] == gid and g["name"] == GROUP and g["org_id"] == ORG, g
    r = get(srv, "/api/auth/groups/%s/members" % gid, tok)
    assert r.status_code == 200, r.text
    (m,) = r.json()["members"]
    assert set(m) == {"user_id", "email", "added_at", "added_by"}, m
    assert UUID.match(m["user_id"]) and m["email"] == ALICE["email"], m
    assert ISO.match(m["added_at"]) and m["added_by"] == "bootstrap", m
    assert set(r.json()) == {"members"}


def test_user_login_gives_a_user_jwt(env, srv):
    r = login(srv, ALICE["email"], ALICE["password"])
    assert r.status_code == 200, r.text
    b = r.json()
    assert set(b) == {"access_token", "token_type", "expires_in"}, b
    assert b["token_type"] == "Bearer" and b["expires_in"] > 0
    c = claims(b["access_token"])
    assert UUID.match(c["sub"]) and c["type"] == "access" and c["aud"] == [AUD], c
    # A member reads their group with it; not a group they are not in.
    gid = env["groups"]["activity"][GROUP]
    assert get(srv, "/api/auth/groups/%s" % gid, b["access_token"]).status_code == 200
    members = get(srv, "/api/auth/groups/%s/members" % gid, b["access_token"]).json()["members"]
    assert members[0]["user_id"] == c["sub"]
    r = get(srv, "/api/auth/groups/%s" % env["groups"]["activity"]["Other Group"],
            b["access_token"])
    assert r.status_code == 403, r.text
    # The native identity API takes the same token.
    r = requests.get(url(srv, "activity", "/api/me"),
                     headers={"Authorization": "Bearer " + b["access_token"]},
                     timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200 and r.json()["username"] == ALICE["username"], r.text


def test_native_tokens_of_the_tenant_carry_the_profile_claims(srv):
    tok = fetch_token(srv, "activity", "groups-only", method="client_secret_post")
    c = claims(tok["access_token"])
    assert c["type"] == "access" and c["aud"] == [AUD], c
    # Without the profile: a string aud and no type.
    tok = fetch_token(srv, "plain", "groups-only", method="client_secret_post")
    c = claims(tok["access_token"])
    assert c["aud"] == AUD and "type" not in c, c


def test_a_tenant_without_the_profile_answers_404(env, srv):
    gid = env["groups"]["plain"][GROUP]
    tok = fetch_token(srv, "plain", "groups-only", method="client_secret_post")["access_token"]
    assert seed_token(srv, tenant="plain").status_code == 404
    assert seed_token(srv, tenant="plain", as_json=True).status_code == 404
    assert login(srv, ALICE["email"], ALICE["password"], tenant="plain").status_code == 404
    assert get(srv, "/api/auth/groups/%s" % gid, tok, tenant="plain").status_code == 404
    assert get(srv, "/api/auth/groups/%s/members" % gid, tok, tenant="plain").status_code == 404
    # The native routes are there, with the new fields.
    r = get(srv, "/api/groups/%s" % gid, tok, tenant="plain")
    assert r.status_code == 200 and r.json()["org_id"] == ORG, r.text
    # A tenant with the profile and no login client has no /auth/login.
    assert login(srv, ALICE["email"], ALICE["password"], tenant="nologin").status_code == 404


# -- what the native twins refuse ------------------------------------------------

@pytest.mark.parametrize("as_json", [False, True])
def test_wrong_secret_and_other_tenants_clients_are_refused(srv, as_json):
    r = seed_token(srv, secret="your-service-secret-change-in-productioN", as_json=as_json)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
    assert "access_token" not in r.text
    # "other" has a client of the same name and secret: its tenant only.
    other = seed_token(srv, tenant="other").json()["access_token"]
    r = get(srv, "/api/auth/groups/%s" % "x", other)
    assert r.status_code == 401, r.text
    # A scope the client may not have.
    r = seed_token(srv, scope="groups:write", as_json=as_json)
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope", r.text


def test_only_client_credentials_at_the_service_token_path(srv):
    r = seed_token(srv, grant_type="password", username=ALICE["username"],
                   password=ALICE["password"])
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type", r.text
    r = requests.post(url(srv, "activity", "/oauth/token"), timeout=HTTP_TIMEOUT_S,
                      json={"grant_type": "client_credentials", "client_id": SERVICE_ID,
                            "client_secret": SERVICE_SECRET, "scope": ["groups:read"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text


def test_group_reads_need_the_scope_or_membership(env, srv):
    gid = env["groups"]["activity"][GROUP]
    only_groups = fetch_token(srv, "activity", "groups-only",
                              method="client_secret_post")["access_token"]
    assert get(srv, "/api/auth/groups/%s" % gid, only_groups).status_code == 200
    r = get(srv, "/api/auth/groups/%s/members" % gid, only_groups)
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope", r.text
    assert get(srv, "/api/auth/groups/%s" % gid, None).status_code == 401
    # The other tenant's group id is unknown here, even with a valid token.
    tok = seed_token(srv).json()["access_token"]
    r = get(srv, "/api/auth/groups/%s" % env["groups"]["other"][GROUP], tok)
    assert r.status_code == 404, r.text


def test_login_refusals_and_throttling_are_the_native_ones(srv):
    src = fresh_source()
    r = login(srv, MALLORY["username"], "wrong-password", source=src)
    assert r.status_code == 401 and r.json() == {"detail": "Incorrect email or password"}, r.text
    r = login(srv, "nobody@activity.test", "whatever-password", source=src)
    assert r.status_code == 401 and r.json() == {"detail": "Incorrect email or password"}, r.text
    r = requests.post(url(srv, "activity", "/auth/login"), json={"email": MALLORY["username"]},
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 400 and "detail" in r.json(), r.text
    # Five free failures, then the account waits: here and at the native
    # login, which shares the count, even with the right password.
    for _ in range(4):
        login(srv, MALLORY["username"], "wrong-password", source=fresh_source())
    r = login(srv, MALLORY["username"], MALLORY["password"], source=fresh_source())
    assert r.status_code == 429 and r.headers.get("Retry-After"), r.text
    r = requests.post(url(srv, "activity", "/api/login"), timeout=HTTP_TIMEOUT_S,
                      json={"username": MALLORY["username"], "password": MALLORY["password"]})
    assert r.status_code == 429, r.text
    # A login at another tenant gives a token this tenant refuses.
    r = login(srv, ALICE["email"], ALICE["password"], tenant="other")
    assert r.status_code == 200
    tok = r.json()["access_token"]
    r = requests.get(url(srv, "activity", "/api/me"),
                     headers={"Authorization": "Bearer " + tok}, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 401, r.text


def test_a_bad_login_client_is_refused_by_the_bootstrap(make_server):
    srv = make_server(start=False)
    r = srv.bootstrap({"tenants": [tenant("bad", login_client="has space")]})
    assert r.rc == 1 and "login_client" in r.err, r


def test_the_cli_names_the_login_client_of_a_running_server(make_server):
    srv = make_server({"tenants": [tenant("late", login_client=None)]})
    assert login(srv, ALICE["email"], ALICE["password"], tenant="late").status_code == 404
    r = srv.cli("tenant", "update", "late", "--login-client", "chat-web")
    assert r.rc == 0 and r.out["login_client"] == "chat-web", r
    ok, _ = wait_until(lambda: login(srv, ALICE["email"], ALICE["password"],
                                     tenant="late").status_code == 200)
    assert ok


def test_the_profile_on_postgresql(cluster, make_server):  # noqa: F811
    """The group organization, the membership records and the profile's
    routes on the PostgreSQL backend."""
    s = make_server(start=False, name="pg-activity", env={"TESSERA_DB": cluster.url})
    s.db = cluster.url
    result = s.bootstrap_ok({"tenants": [tenant("pgact")]})
    gid = {g["name"]: g["id"] for g in result["tenants"][0]["groups"]}[GROUP]
    s.start()
    tok = seed_token(s, tenant="pgact").json()["access_token"]
    assert get(s, "/api/auth/groups/%s" % gid, tok, tenant="pgact").json()["org_id"] == ORG
    r = s.cli("group", "add-member", "--tenant", "pgact", GROUP, BOB["username"])
    assert r.rc == 0, r
    r = get(s, "/api/auth/groups/%s/members" % gid, tok, tenant="pgact")
    assert r.status_code == 200, r.text
    by = {m["added_by"] for m in r.json()["members"]}
    assert by == {"bootstrap", "cli"} and all(ISO.match(m["added_at"])
                                              for m in r.json()["members"]), r.text
    r = login(s, ALICE["email"], ALICE["password"], tenant="pgact")
    assert r.status_code == 200 and claims(r.json()["access_token"])["type"] == "access", r.text
