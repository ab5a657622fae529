"""Discovery (OpenID Connect Discovery 1.0, RFC 8414) and JWKS: the documents
must describe what the server actually does."""
import json

import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from e2e_util import (HTTP_TIMEOUT_S, SECRET, assert_oauth_error, discovery, fetch_jwks,
                      fetch_token, jose_header, token_request)

DOC = {"tenants": [
    {"name": "acme", "display_name": "Acme Corp", "audience": "https://api.acme.test",
     "scopes": [{"name": "groups:read"}, {"name": "groups:write"},
                {"name": "groups:admin", "includes": ["groups:read", "groups:write"]}],
     "clients": [{"client_id": "svc", "secret": SECRET, "scopes": ["groups:read"]}]},
]}

WELL_KNOWN = ("openid-configuration", "oauth-authorization-server")
# Grant types whose requests go through the authorization endpoint (RFC 8414 §2).
AUTHORIZE_GRANTS = {"authorization_code", "implicit"}
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
KTY_FOR_ALG = {"ES256": ("EC", "P-256"), "RS256": ("RSA", None), "PS256": ("RSA", None),
               "EdDSA": ("OKP", "Ed25519")}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def get(url, **kw):
    return requests.get(url, timeout=HTTP_TIMEOUT_S, **kw)


@pytest.mark.parametrize("doc", WELL_KNOWN)
def test_discovery_names_the_issuer_and_its_endpoints(srv, doc):
    r = get(srv.issuer("acme") + "/.well-known/" + doc)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    meta = r.json()
    iss = srv.issuer("acme")
    assert meta["issuer"] == iss
    assert meta["token_endpoint"] == iss + "/oauth2/token"
    assert meta["jwks_uri"] == iss + "/oauth2/jwks"
    assert meta["introspection_endpoint"] == iss + "/oauth2/introspect"
    assert meta["revocation_endpoint"] == iss + "/oauth2/revoke"


def test_every_advertised_endpoint_is_served(srv):
    meta = discovery(srv, "acme")
    urls = {k: v for k, v in meta.items() if k.endswith("_endpoint") or k.endswith("_uri")}
    assert urls, meta
    for key, url in urls.items():
        assert url.startswith(srv.issuer("acme") + "/"), (key, url)
        r = get(url)
        if r.status_code == 405:  # a POST endpoint: it exists, and wants POST
            r = requests.post(url, data={}, timeout=HTTP_TIMEOUT_S)
        assert r.status_code != 404, (key, url, r.status_code)
        assert r.status_code < 500, (key, url, r.status_code, r.text)
    assert get(meta["jwks_uri"]).status_code == 200


def test_both_documents_are_the_same(srv):
    a, b = (discovery(srv, "acme", d) for d in WELL_KNOWN)
    assert a == b


@pytest.mark.parametrize("doc", WELL_KNOWN)
def test_rfc8414_path_inserted_placement_serves_the_same_document(srv, doc):
    """RFC 8414 §3.1: /.well-known/{doc}{issuer path}; the issuer inside must
    be the tenant's issuer (§3.3)."""
    r = get(srv.url("/.well-known/%s/t/acme" % doc))
    assert r.status_code == 200, r.text
    assert r.json() == discovery(srv, "acme", doc)
    assert r.json()["issuer"] == srv.issuer("acme")


@pytest.mark.parametrize("path", [
    "/t/nosuch/.well-known/openid-configuration",
    "/t/nosuch/.well-known/oauth-authorization-server",
    "/.well-known/oauth-authorization-server/t/nosuch",
    "/.well-known/openid-configuration/t/nosuch",
    "/t/nosuch/oauth2/jwks",
])
def test_unknown_tenant_is_404(srv, path):
    assert get(srv.url(path)).status_code == 404


def test_metadata_validates_with_authlib(srv):
    for doc in WELL_KNOWN:
        meta = AuthorizationServerMetadata(discovery(srv, "acme", doc))
        if meta.get("response_types_supported"):
            meta.validate()
            continue
        # No authorization endpoint is served yet, so no response type is
        # supported: the truthful list is empty, which authlib's check of
        # this REQUIRED member reads as missing. Everything else must pass,
        # and nothing may claim the authorization endpoint.
        assert meta["response_types_supported"] == []
        assert "authorization_endpoint" not in meta
        assert not set(meta.grant_types_supported) & AUTHORIZE_GRANTS
        for key in AuthorizationServerMetadata.REGISTRY_KEYS:
            if key != "response_types_supported":
                getattr(meta, "validate_" + key)()


def test_grant_types_supported_match_the_token_endpoint(srv):
    meta = discovery(srv, "acme")
    listed = meta["grant_types_supported"]
    assert "client_credentials" in listed
    for grant in listed:  # every listed grant is understood (error, if any, is about the request)
        r = token_request(srv, "acme", {"grant_type": grant}, auth=("svc", SECRET))
        assert r.status_code == 200 or r.json()["error"] != "unsupported_grant_type", (grant, r.text)
    for grant in ["password", "authorization_code", "refresh_token",
                  "urn:ietf:params:oauth:grant-type:device_code", "urn:example:nothing"]:
        if grant not in listed:
            r = token_request(srv, "acme", {"grant_type": grant}, auth=("svc", SECRET))
            assert_oauth_error(r, 400, "unsupported_grant_type")


def test_advertised_client_auth_methods_work(srv):
    meta = discovery(srv, "acme")
    methods = meta["token_endpoint_auth_methods_supported"]
    assert {"client_secret_basic", "client_secret_post"} <= set(methods)
    for m in methods:
        if m in ("client_secret_basic", "client_secret_post"):
            tok = fetch_token(srv, "acme", "svc", method=m)
            assert tok["token_type"].lower() == "bearer"
    with pytest.raises(OAuthError):  # and an unadvertised one is refused
        fetch_token(srv, "acme", "svc", method="none")


def test_scopes_supported_lists_the_tenant_scopes(srv):
    meta = discovery(srv, "acme")
    assert {"groups:read", "groups:write", "groups:admin"} <= set(meta["scopes_supported"])
    assert len(set(meta["scopes_supported"])) == len(meta["scopes_supported"])


def test_jwks_publishes_a_current_and_a_next_public_key_per_algorithm(srv):
    r = get(srv.endpoint("acme", "jwks"))
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/jwk-set+json")
    keys = r.json()["keys"]
    by_alg = {}
    for k in keys:
        assert not PRIVATE_JWK_MEMBERS & set(k), "private key material published: %s" % k
        assert k.get("use") == "sig" and k.get("kid"), k
        kty, crv = KTY_FOR_ALG[k["alg"]]
        assert k["kty"] == kty and k.get("crv") == crv, k
        by_alg.setdefault(k["alg"], []).append(k["kid"])
    # No RS256: no client of acme signs people in (ID tokens default to RS256).
    assert {a: len(v) for a, v in by_alg.items()} == {"ES256": 2, "EdDSA": 2}
    assert len({k["kid"] for k in keys}) == len(keys)
    # jwcrypto accepts every key
    assert len(fetch_jwks(srv, "acme")["keys"]) == len(keys)


def test_advertised_access_token_alg_is_the_one_used(srv):
    """(The other algorithms are checked in test_token.py.)"""
    assert discovery(srv, "acme")["access_token_signing_alg_values_supported"] == ["ES256"]
    assert jose_header(fetch_token(srv, "acme", "svc")["access_token"])["alg"] == "ES256"


def test_public_documents_are_readable_from_any_origin(srv):
    for url in [srv.issuer("acme") + "/.well-known/openid-configuration",
                srv.endpoint("acme", "jwks")]:
        r = get(url, headers={"Origin": "https://anywhere.example"})
        assert r.status_code == 200
        assert r.headers.get("Access-Control-Allow-Origin") == "*"
        assert "Access-Control-Allow-Credentials" not in r.headers


def test_discovery_and_jwks_only_answer_get(srv):
    for url in [srv.issuer("acme") + "/.well-known/openid-configuration",
                srv.endpoint("acme", "jwks")]:
        r = requests.post(url, data={"a": "b"}, timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 405
        assert "GET" in r.headers.get("Allow", "")
        json.loads(r.text)  # still a JSON error body
