"""Groups carry an optional organization id and memberships record when
and by whom they were added, for every tenant: the bootstrap file and
POST /api/groups set org_id, GET /api/groups/{id} shows it, and
GET /api/groups/{id}/members shows added_at (Unix seconds) and added_by
(the username of a person, the client_id of a service, "bootstrap" or
"cli" for administrative additions), on SQLite here and on PostgreSQL in
the store contract suites."""
import time

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, fetch_token

SCOPES = [{"name": "groups:read"}, {"name": "members:read"}, {"name": "groups:write"}]
ALICE = {"username": "alice@acme.test", "password": "alice-correct-horse-battery",
         "email": "alice@acme.test", "roles": ["Staff"]}
BOB = {"username": "bob@acme.test", "password": "bob-staple-battery-horse",
       "email": "bob@acme.test", "roles": ["Staff"]}
CAROL = {"username": "carol@acme.test", "password": "carol-viewer-password-1", "roles": ["Staff"]}


def conf(cid, scopes):
    return {"client_id": cid, "type": "confidential", "secret": SECRET,
            "grant_types": ["client_credentials"], "scopes": scopes}


DOC = {"tenants": [{
    "name": "acme", "audience": "https://api.acme.test", "roles": ["Staff"], "scopes": SCOPES,
    "users": [ALICE, BOB, CAROL],
    "groups": [{"name": "Org Team", "org_id": "org-7f3e", "members": [ALICE["username"]]},
               {"name": "Plain", "members": []}],
    "clients": [conf("reader", ["groups:read", "members:read"]),
                conf("writer", ["groups:write", "groups:read", "members:read"])]}]}


@pytest.fixture(scope="module")
def env(make_module_server):
    srv = make_module_server(None, start=False)
    before = int(time.time())
    result = srv.bootstrap_ok(DOC)
    srv.start()
    groups = {g["name"]: g["id"] for g in result["tenants"][0]["groups"]}
    return {"srv": srv, "groups": groups, "before": before}


def api(srv, method, path, token, **kw):
    return requests.request(method, srv.issuer("acme") + path, timeout=HTTP_TIMEOUT_S,
                            headers={"Authorization": "Bearer " + token}, **kw)


def tok(srv, cid):
    return fetch_token(srv, "acme", cid)["access_token"]


def test_bootstrap_org_id_and_membership_record(env):
    srv, gid = env["srv"], env["groups"]["Org Team"]
    t = tok(srv, "reader")
    r = api(srv, "GET", "/api/groups/%s" % gid, t)
    assert r.status_code == 200, r.text
    assert r.json()["org_id"] == "org-7f3e"
    r = api(srv, "GET", "/api/groups/%s" % env["groups"]["Plain"], t)
    assert r.status_code == 200 and r.json()["org_id"] is None, r.text
    r = api(srv, "GET", "/api/groups/%s/members" % gid, t)
    assert r.status_code == 200, r.text
    (m,) = r.json()["members"]
    assert m["username"] == ALICE["username"] and m["added_by"] == "bootstrap"
    assert env["before"] <= m["added_at"] <= int(time.time())


def test_api_create_with_org_id_and_service_adds(env):
    srv = env["srv"]
    w = tok(srv, "writer")
    r = api(srv, "POST", "/api/groups", w, json={"name": "From API", "org_id": "org-api-1"})
    assert r.status_code == 201, r.text
    assert r.json()["org_id"] == "org-api-1"
    gid = r.json()["id"]
    before = int(time.time())
    r = api(srv, "POST", "/api/groups/%s/members" % gid, w, json={"username": BOB["username"]})
    assert r.status_code == 201, r.text
    r = api(srv, "GET", "/api/groups/%s" % gid, tok(srv, "reader"))
    assert r.json()["org_id"] == "org-api-1"
    r = api(srv, "GET", "/api/groups/%s/members" % gid, tok(srv, "reader"))
    (m,) = r.json()["members"]
    assert m["added_by"] == "writer" and before <= m["added_at"] <= int(time.time())
    assert m["email"] == BOB["email"]
    # Adding again keeps the first record.
    time.sleep(1.1)
    r = api(srv, "POST", "/api/groups/%s/members" % gid, w, json={"username": BOB["username"]})
    assert r.status_code == 201, r.text
    r = api(srv, "GET", "/api/groups/%s/members" % gid, tok(srv, "reader"))
    assert r.json()["members"][0]["added_at"] == m["added_at"]


@pytest.mark.parametrize("org", ["", " x", "a b", "x" * 129, 42, ["org"]])
def test_api_refuses_a_bad_org_id(env, org):
    r = api(env["srv"], "POST", "/api/groups", tok(env["srv"], "writer"),
            json={"name": "Bad %r" % (org,), "org_id": org})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text


def test_cli_add_is_recorded_as_cli(env):
    srv = env["srv"]
    r = srv.cli("group", "add-member", "--tenant", "acme", "Plain", CAROL["username"])
    assert r.rc == 0, r
    r = api(srv, "GET", "/api/groups/%s/members" % env["groups"]["Plain"], tok(srv, "reader"))
    (m,) = r.json()["members"]
    assert m["username"] == CAROL["username"] and m["added_by"] == "cli"


def test_bootstrap_refuses_a_bad_org_id(make_server):
    srv = make_server(None, start=False)
    doc = {"tenants": [dict(DOC["tenants"][0], groups=[{"name": "G", "org_id": "has space"}])]}
    r = srv.bootstrap(doc)
    assert r.rc != 0 and "org_id" in str(r.err or r.out), r
