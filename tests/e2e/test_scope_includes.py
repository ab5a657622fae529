"""A scope that `includes` others satisfies them everywhere a scope is
narrowed: a refresh request and a token exchange may ask for an included
scope of what was granted, never for one outside it. Clients are
independent libraries: requests (raw HTTP) and jwcrypto (the tokens,
against the JWKS)."""
import json

import pytest
import requests
from jwcrypto import jwt

from e2e_util import HTTP_TIMEOUT_S, SECRET, assert_oauth_error, fetch_jwks

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
AT = "urn:ietf:params:oauth:token-type:access_token"
USER = {"username": "gail@acme.test", "password": "gail-long-password-1"}
SCOPES = [{"name": "groups:read"}, {"name": "groups:write"}, {"name": "members:read"},
          {"name": "reports:read"},
          {"name": "groups:admin", "includes": ["groups:read", "groups:write", "members:read"]}]


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server({"tenants": [{
        "name": "acme", "scopes": SCOPES, "users": [USER],
        "clients": [
            {"client_id": "app", "type": "public", "grant_types": ["password", "refresh_token"],
             "scopes": ["offline_access", "groups:admin", "reports:read"]},
            {"client_id": "gateway", "secret": SECRET, "grant_types": [EXCHANGE],
             "scopes": ["groups:admin", "reports:read"]},
        ]}]})


def token(srv, data, auth=None):
    return requests.post(srv.endpoint("acme", "token"), data=data, auth=auth,
                         timeout=HTTP_TIMEOUT_S)


def granted(srv, scope):
    r = token(srv, {"grant_type": "password", "client_id": "app", "scope": scope,
                    "username": USER["username"], "password": USER["password"]})
    assert r.status_code == 200, r.text
    return r.json()


def scope_of(srv, access_token):
    t = jwt.JWT(jwt=access_token, key=fetch_jwks(srv, "acme"), algs=["ES256"])
    return json.loads(t.claims)["scope"]


def test_a_refresh_may_ask_for_a_scope_its_grant_includes(srv):
    rt = granted(srv, "offline_access groups:admin")["refresh_token"]
    r = token(srv, {"grant_type": "refresh_token", "client_id": "app", "refresh_token": rt,
                    "scope": "groups:read members:read"})
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "groups:read members:read"
    assert scope_of(srv, r.json()["access_token"]) == "groups:read members:read"
    # The grant stays as it was: the next refresh may have all of it again.
    r = token(srv, {"grant_type": "refresh_token", "client_id": "app",
                    "refresh_token": r.json()["refresh_token"], "scope": "groups:admin"})
    assert r.status_code == 200 and r.json()["scope"] == "groups:admin", r.text


def test_a_refresh_never_reaches_outside_its_grant(srv):
    rt = granted(srv, "offline_access groups:read")["refresh_token"]
    for scope in ("groups:admin", "reports:read", "groups:read groups:write"):
        r = token(srv, {"grant_type": "refresh_token", "client_id": "app", "refresh_token": rt,
                        "scope": scope})
        assert_oauth_error(r, 400, "invalid_scope")


def test_an_exchange_may_ask_for_a_scope_the_subject_token_includes(srv):
    subject = granted(srv, "groups:admin")["access_token"]
    base = {"grant_type": EXCHANGE, "subject_token": subject, "subject_token_type": AT}
    r = token(srv, dict(base, scope="groups:read"), auth=("gateway", SECRET))
    assert r.status_code == 200, r.text
    assert scope_of(srv, r.json()["access_token"]) == "groups:read"
    r = token(srv, dict(base, scope="reports:read"), auth=("gateway", SECRET))
    assert_oauth_error(r, 400, "invalid_scope")
