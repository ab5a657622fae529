"""Introspection (RFC 7662), revocation (RFC 7009) and tenant isolation
(a credential of tenant A is rejected at tenant B as if it did not
exist)."""
import base64
import json
import time

import pytest
import requests

from e2e_util import (HTTP_TIMEOUT_S, SECRET, assert_invalid_client, assert_oauth_error,
                      fetch_token, introspect, revoke, token_request)

OTHER_SECRET = "a-different-secret-for-tenant-b-0123456789"


def svc(client_id, secret=SECRET, scopes=("tasks:read",)):
    return {"client_id": client_id, "secret": secret, "scopes": list(scopes)}


DOC = {"tenants": [
    {"name": "a", "audience": "https://api.a.test",
     "clients": [svc("svc1"), svc("svc2"), svc("only-in-a"),
                 {"client_id": "pub", "type": "public", "redirect_uris": ["https://a.test/cb"]}]},
    {"name": "b", "clients": [svc("svc1", OTHER_SECRET), svc("svc2")]},
    {"name": "short", "access_token_ttl": 1, "clients": [svc("svc1")]},
]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def post(srv, tenant, endpoint, data, auth=None):
    return requests.post(srv.endpoint(tenant, endpoint), data=data, auth=auth,
                         timeout=HTTP_TIMEOUT_S)


def active(srv, tenant, token, client_id="svc1", secret=SECRET):
    r = introspect(srv, tenant, token, client_id, secret)
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    return r.json()


# -- introspection ----------------------------------------------------------------

def test_an_active_token_introspects_with_its_claims(srv):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    info = active(srv, "a", at, "svc2")  # any confidential client of the tenant may ask
    assert info["active"] is True
    assert info["token_type"] == "Bearer"
    assert info["client_id"] == "svc1" and info["sub"] == "svc1"
    assert info["scope"] == "tasks:read"
    assert info["iss"] == srv.issuer("a")
    assert info["aud"] == "https://api.a.test"
    assert info["exp"] > time.time() and info["iat"] <= time.time() + 5
    assert isinstance(info["jti"], str)


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.e30.",
                                     "x" * 5000])
def test_garbage_is_inactive(srv, garbage):
    r = post(srv, "a", "introspect", {"token": garbage}, auth=("svc1", SECRET))
    assert r.status_code == 200, r.text
    assert r.json() == {"active": False}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_token_with_altered_claims_is_inactive(srv):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    h, p, s = at.split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    claims["scope"] = "everything"
    forged = ".".join([h, b64url(json.dumps(claims).encode()), s])
    assert active(srv, "a", forged) == {"active": False}


def test_an_unsigned_copy_of_a_token_is_inactive(srv):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    _, p, _ = at.split(".")
    forged = b64url(b'{"alg":"none","typ":"at+jwt"}') + "." + p + "."
    assert active(srv, "a", forged) == {"active": False}


def test_an_expired_token_is_inactive(srv):
    at = fetch_token(srv, "short", "svc1")["access_token"]
    info = active(srv, "short", at)
    if info["active"]:
        time.sleep(max(0.0, info["exp"] - time.time()) + 1.1)
    assert active(srv, "short", at) == {"active": False}


def test_introspection_requires_client_authentication(srv):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    r = post(srv, "a", "introspect", {"token": at})
    assert_invalid_client(r)
    assert "active" not in r.json()


def test_a_public_client_cannot_introspect(srv):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    r = post(srv, "a", "introspect", {"token": at, "client_id": "pub"})
    assert_invalid_client(r)


def test_introspection_with_a_wrong_secret_is_refused(srv):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    r = post(srv, "a", "introspect", {"token": at}, auth=("svc2", "wrong" + SECRET))
    assert_invalid_client(r)


def test_introspection_without_token_is_invalid_request(srv):
    r = post(srv, "a", "introspect", {"token_type_hint": "access_token"}, auth=("svc1", SECRET))
    assert_oauth_error(r, 400, "invalid_request")


def test_introspection_with_a_repeated_token_is_invalid_request(srv):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    r = post(srv, "a", "introspect", [("token", at), ("token", at)], auth=("svc1", SECRET))
    assert_oauth_error(r, 400, "invalid_request")


def test_introspection_only_answers_post(srv):
    r = requests.get(srv.endpoint("a", "introspect"), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 405


# -- revocation -------------------------------------------------------------------

def test_a_revoked_token_becomes_inactive(srv):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    assert active(srv, "a", at)["active"] is True
    r = revoke(srv, "a", at, "svc1")
    assert r.status_code == 200, r.text
    assert active(srv, "a", at) == {"active": False}
    # revoking it again is harmless (RFC 7009 §2.2)
    assert revoke(srv, "a", at, "svc1").status_code == 200


def test_revocation_leaves_other_tokens_of_the_client_active(srv):
    at1 = fetch_token(srv, "a", "svc1")["access_token"]
    at2 = fetch_token(srv, "a", "svc1")["access_token"]
    assert revoke(srv, "a", at1, "svc1").status_code == 200
    assert active(srv, "a", at1)["active"] is False
    assert active(srv, "a", at2)["active"] is True


def test_revocation_by_post_authentication(srv):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    r = post(srv, "a", "revoke", {"token": at, "token_type_hint": "access_token",
                                  "client_id": "svc1", "client_secret": SECRET})
    assert r.status_code == 200, r.text
    assert active(srv, "a", at) == {"active": False}


def test_another_clients_token_cannot_be_revoked(srv):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    r = revoke(srv, "a", at, "svc2")
    assert_oauth_error(r, 400, "unauthorized_client")
    assert active(srv, "a", at)["active"] is True


def test_a_public_client_cannot_revoke_another_clients_token(srv):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    r = post(srv, "a", "revoke", {"token": at, "client_id": "pub"})
    assert r.status_code in (400, 401), r.text
    assert r.json()["error"] in ("unauthorized_client", "invalid_client")
    assert active(srv, "a", at)["active"] is True


def test_revoking_an_unknown_token_is_200(srv):
    for token in ["not-a-token", "a.b.c"]:
        r = post(srv, "a", "revoke", {"token": token}, auth=("svc1", SECRET))
        assert r.status_code == 200, r.text


def test_revocation_requires_client_authentication(srv):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    assert_invalid_client(post(srv, "a", "revoke", {"token": at}))
    assert_invalid_client(post(srv, "a", "revoke", {"token": at}, auth=("svc1", "x" * 40)))
    assert active(srv, "a", at)["active"] is True


def test_revocation_without_token_is_invalid_request(srv):
    assert_oauth_error(post(srv, "a", "revoke", {}, auth=("svc1", SECRET)), 400,
                       "invalid_request")


def test_revocation_only_answers_post(srv):
    assert requests.get(srv.endpoint("a", "revoke"), timeout=HTTP_TIMEOUT_S).status_code == 405


@pytest.mark.parametrize("endpoint", ["introspect", "revoke"])
def test_a_json_body_is_invalid_request(srv, endpoint):
    at = fetch_token(srv, "a", "svc1")["access_token"]
    r = requests.post(srv.endpoint("a", endpoint), json={"token": at}, auth=("svc1", SECRET),
                      timeout=HTTP_TIMEOUT_S)
    assert_oauth_error(r, 400, "invalid_request")
    assert active(srv, "a", at)["active"] is True


# -- tenant isolation -----------------------------------------------------------

def test_a_token_of_tenant_a_is_inactive_at_tenant_b(srv):
    at = fetch_token(srv, "a", "svc2")["access_token"]
    assert active(srv, "a", at)["active"] is True
    assert active(srv, "b", at, "svc2") == {"active": False}


def test_a_token_of_tenant_a_cannot_be_revoked_at_tenant_b(srv):
    at = fetch_token(srv, "a", "svc2")["access_token"]
    r = revoke(srv, "b", at, "svc2")
    assert r.status_code == 200, r.text  # unknown there: nothing to do
    assert active(srv, "a", at)["active"] is True


def test_a_client_of_tenant_a_cannot_authenticate_at_tenant_b(srv):
    assert_invalid_client(token_request(srv, "b", {"grant_type": "client_credentials"},
                                        auth=("only-in-a", SECRET)))
    # same client_id in both tenants: each tenant knows only its own secret
    assert_invalid_client(token_request(srv, "b", {"grant_type": "client_credentials"},
                                        auth=("svc1", SECRET)))
    assert fetch_token(srv, "b", "svc1", secret=OTHER_SECRET)["access_token"]
    at = fetch_token(srv, "a", "svc1")["access_token"]
    assert_invalid_client(post(srv, "b", "introspect", {"token": at},
                               auth=("only-in-a", SECRET)))


def test_tokens_name_their_own_tenant(srv):
    at_b = fetch_token(srv, "b", "svc2")["access_token"]
    info = active(srv, "b", at_b, "svc2")
    assert info["iss"] == srv.issuer("b")
    assert info["aud"] == srv.issuer("b")
    assert active(srv, "a", at_b, "svc2") == {"active": False}
