"""Introspection answered from memory keeps the revocation guarantees: a
token revoked at this server is inactive at once, even right after it was
introspected as active (when the answer is served from memory), a refresh
token revoked here ends its grant's access tokens at once, and many
distinct tokens, some revoked, are each answered right. (Across servers
sharing PostgreSQL, see test_postgres.py: within 2 s.)"""
import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, fetch_token, introspect, revoke
from people_helpers import ALICE, password_grant, people_tenant, mobile_client

ROUNDS = 20
WARM = 3  # introspections before the revocation: the later ones come from memory
MANY = 300

DOC = {"tenants": [people_tenant(
    "acme", users=(ALICE,),
    clients=[mobile_client(), {"client_id": "svc", "secret": SECRET, "scopes": ["tasks:read"]},
             {"client_id": "rs", "secret": SECRET, "scopes": ["tasks:read"]}])]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def is_active(srv, token):
    r = introspect(srv, "acme", token, "rs")
    assert r.status_code == 200, r.text
    return r.json()["active"]


def api_me(srv, token):
    return requests.get(srv.issuer("acme") + "/api/me",
                        headers={"Authorization": "Bearer " + token}, timeout=HTTP_TIMEOUT_S)


def test_a_token_revoked_here_is_inactive_at_once_after_being_answered_active(srv):
    for _ in range(ROUNDS):
        at = fetch_token(srv, "acme", "svc")["access_token"]
        for _ in range(WARM):
            assert is_active(srv, at)
        r = revoke(srv, "acme", at, "svc")
        assert r.status_code == 200, r.text
        assert not is_active(srv, at)
        assert api_me(srv, at).status_code == 401


def test_a_refresh_token_revoked_here_ends_its_access_token_at_once(srv):
    for _ in range(3):
        r = password_grant(srv, "acme", ALICE["username"], ALICE["password"],
                           scope="openid offline_access")
        assert r.status_code == 200, r.text
        at, rt = r.json()["access_token"], r.json()["refresh_token"]
        for _ in range(WARM):
            assert is_active(srv, at)
        assert api_me(srv, at).status_code == 200
        r = requests.post(srv.endpoint("acme", "revoke"),
                          data={"token": rt, "client_id": "mobile"}, timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 200, r.text
        assert not is_active(srv, at)
        assert api_me(srv, at).status_code == 401


def test_many_tokens_some_revoked_are_each_answered_right(srv):
    tokens = [fetch_token(srv, "acme", "svc")["access_token"] for _ in range(MANY)]
    with requests.Session() as s:
        def ask(t):
            r = s.post(srv.endpoint("acme", "introspect"), data={"token": t},
                       auth=("rs", SECRET), timeout=HTTP_TIMEOUT_S)
            assert r.status_code == 200, r.text
            return r.json()["active"]
        assert all(ask(t) for t in tokens)
        revoked = set(tokens[::3])
        for t in revoked:
            assert revoke(srv, "acme", t, "svc").status_code == 200
        for t in tokens:
            assert ask(t) is (t not in revoked)
