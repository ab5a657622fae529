"""The token endpoint with the client_credentials grant (RFC 6749 §4.4):
access tokens per RFC 9068, verified independently with jwcrypto against the
JWKS the tenant publishes; scopes; audiences (RFC 8707); and every error the
endpoint must give (RFC 6749 §5.2)."""
import base64
import concurrent.futures
import json
import time

import pytest
import requests
from authlib.integrations.base_client import OAuthError

from e2e_util import (HTTP_TIMEOUT_S, SECRET, assert_invalid_client, assert_oauth_error,
                      discovery, fetch_jwks, fetch_token, jose_header, token_request,
                      verify_access_token)

AUD = "https://api.acme.test"
SCOPES = [{"name": "groups:read"}, {"name": "members:read"}, {"name": "groups:write"},
          {"name": "groups:admin", "includes": ["groups:read", "groups:write", "members:read"]},
          {"name": "super", "includes": ["groups:admin"]}]


def svc(client_id, scopes=(), **kw):
    return dict({"client_id": client_id, "secret": SECRET, "grant_types": ["client_credentials"],
                 "scopes": list(scopes)}, **kw)


DOC = {"tenants": [
    {"name": "acme", "audience": AUD, "access_token_ttl": 600, "scopes": SCOPES,
     "clients": [
         svc("reader", ["groups:read", "members:read"]),
         svc("admin", ["groups:admin"]),
         svc("root", ["super"]),
         svc("noscope"),
         svc("pw-only", ["groups:read"], grant_types=["password"]),
         svc("throttled-1"), svc("throttled-2"),
         {"client_id": "mobile", "type": "public", "redirect_uris": ["app.acme://cb"],
          "scopes": ["groups:read"]},
     ]},
    {"name": "rs", "access_token_alg": "RS256", "clients": [svc("svc", ["x"])]},
    {"name": "ed", "access_token_alg": "EdDSA", "clients": [svc("svc")]},
    {"name": "ps", "access_token_alg": "PS256", "clients": [svc("svc")]},
]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


@pytest.fixture(scope="module")
def acme_keys(srv):
    return fetch_jwks(srv, "acme")


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


# -- issuing and verifying ----------------------------------------------------

@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_token_verifies_against_the_published_jwks(srv, acme_keys, method):
    tok = fetch_token(srv, "acme", "reader", method=method)
    header, claims = verify_access_token(
        tok["access_token"], acme_keys, issuer=srv.issuer("acme"), client_id="reader",
        audience=AUD, alg="ES256", scope="groups:read members:read", ttl=600)
    assert claims["sub"] == "reader" and claims["client_id"] == "reader"


def test_token_response_is_a_bearer_token_and_not_cached(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials"}, auth=("reader", SECRET))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("Cache-Control") == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert sorted(body["scope"].split()) == ["groups:read", "members:read"]
    assert "refresh_token" not in body  # RFC 6749 §4.4.3


def test_each_token_has_a_fresh_jti(srv, acme_keys):
    jtis = set()
    for _ in range(3):
        tok = fetch_token(srv, "acme", "reader")
        _, claims = verify_access_token(tok["access_token"], acme_keys, issuer=srv.issuer("acme"),
                                        client_id="reader", audience=AUD)
        jtis.add(claims["jti"])
    assert len(jtis) == 3


def test_default_audience_is_the_issuer_when_the_tenant_sets_none(srv):
    tok = fetch_token(srv, "rs", "svc")
    verify_access_token(tok["access_token"], fetch_jwks(srv, "rs"), issuer=srv.issuer("rs"),
                        client_id="svc", audience=srv.issuer("rs"), alg="RS256", scope="x",
                        ttl=900)


def test_resource_parameter_sets_the_audience(srv, acme_keys):
    tok = fetch_token(srv, "acme", "reader", resource="https://tasks.acme.test/")
    verify_access_token(tok["access_token"], acme_keys, issuer=srv.issuer("acme"),
                        client_id="reader", audience="https://tasks.acme.test/")


def test_several_resource_parameters_give_an_audience_list(srv, acme_keys):
    r = token_request(srv, "acme", [("grant_type", "client_credentials"),
                                    ("resource", "https://a.acme.test"),
                                    ("resource", "urn:acme:b")], auth=("reader", SECRET))
    assert r.status_code == 200, r.text
    verify_access_token(r.json()["access_token"], acme_keys, issuer=srv.issuer("acme"),
                        client_id="reader", audience=["https://a.acme.test", "urn:acme:b"])


@pytest.mark.parametrize("resource", ["https://a.acme.test/#frag", "relative/path", ""])
def test_invalid_resource_is_invalid_target(srv, resource):
    r = token_request(srv, "acme", {"grant_type": "client_credentials", "resource": resource},
                      auth=("reader", SECRET))
    assert_oauth_error(r, 400, "invalid_target")


@pytest.mark.parametrize("tenant,alg", [("rs", "RS256"), ("ed", "EdDSA"), ("ps", "PS256")])
def test_access_token_alg_of_the_tenant_is_used(srv, tenant, alg):
    keys = fetch_jwks(srv, tenant)
    tok = fetch_token(srv, tenant, "svc")
    header, _ = verify_access_token(tok["access_token"], keys, issuer=srv.issuer(tenant),
                                    client_id="svc", audience=srv.issuer(tenant), alg=alg)
    assert keys.get_key(header["kid"]).get("alg") == alg
    meta = discovery(srv, tenant)
    assert meta["access_token_signing_alg_values_supported"] == [alg]


def test_jwks_of_a_ps256_tenant_adds_ps256_keys(srv):
    algs = [k.get("alg") for k in fetch_jwks(srv, "ps")["keys"]]
    assert algs.count("PS256") == 2  # current and next
    assert {"ES256", "EdDSA"} <= set(algs)


def test_a_token_does_not_verify_with_another_tenants_keys(srv):
    tok = fetch_token(srv, "rs", "svc")
    kid = jose_header(tok["access_token"])["kid"]
    assert fetch_jwks(srv, "rs").get_key(kid) is not None
    assert fetch_jwks(srv, "ps").get_key(kid) is None


# -- scopes -------------------------------------------------------------------

def test_omitted_scope_gives_every_allowed_scope(srv):
    tok = fetch_token(srv, "acme", "reader")
    assert sorted(tok["scope"].split()) == ["groups:read", "members:read"]


def test_a_subset_of_allowed_scopes_can_be_requested(srv, acme_keys):
    tok = fetch_token(srv, "acme", "reader", scope="members:read")
    assert tok["scope"] == "members:read"
    verify_access_token(tok["access_token"], acme_keys, issuer=srv.issuer("acme"),
                        client_id="reader", audience=AUD, scope="members:read")


def test_a_scope_included_by_an_allowed_scope_is_granted(srv, acme_keys):
    tok = fetch_token(srv, "acme", "admin", scope="groups:read members:read")
    verify_access_token(tok["access_token"], acme_keys, issuer=srv.issuer("acme"),
                        client_id="admin", audience=AUD, scope="groups:read members:read")


def test_scope_includes_are_transitive(srv):
    tok = fetch_token(srv, "acme", "root", scope="members:read groups:admin")
    assert sorted(tok["scope"].split()) == ["groups:admin", "members:read"]


def test_a_scope_that_includes_an_allowed_one_is_not_granted(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials", "scope": "groups:admin"},
                      auth=("reader", SECRET))
    assert_oauth_error(r, 400, "invalid_scope")


@pytest.mark.parametrize("scope", ["groups:write", "groups:read nosuch", "openid"])
def test_a_scope_not_allowed_is_invalid_scope(srv, scope):
    with pytest.raises(OAuthError) as e:
        fetch_token(srv, "acme", "reader", scope=scope)
    assert e.value.error == "invalid_scope"


@pytest.mark.parametrize("scope", ["groups:read  members:read", " groups:read", "groups:read ",
                                   'groups:"read"'])
def test_a_malformed_scope_is_invalid_scope(srv, scope):
    r = token_request(srv, "acme", {"grant_type": "client_credentials", "scope": scope},
                      auth=("reader", SECRET))
    assert_oauth_error(r, 400, "invalid_scope")


def test_a_client_without_scopes_gets_a_token_without_scope(srv, acme_keys):
    tok = fetch_token(srv, "acme", "noscope")
    _, claims = verify_access_token(tok["access_token"], acme_keys, issuer=srv.issuer("acme"),
                                    client_id="noscope", audience=AUD)
    assert not claims.get("scope")


# -- client authentication errors --------------------------------------------

def test_a_wrong_secret_is_invalid_client(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials"},
                      auth=("reader", SECRET + "x"))
    assert_invalid_client(r)
    assert r.headers.get("Cache-Control") == "no-store"


def test_a_wrong_secret_by_post_is_invalid_client(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials", "client_id": "reader",
                                    "client_secret": "nope" * 10})
    assert_invalid_client(r)


def test_an_unknown_client_is_invalid_client(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials"},
                      auth=("nobody", SECRET))
    assert_invalid_client(r)


def test_no_client_authentication_is_invalid_client(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials"})
    assert_invalid_client(r)


def test_authlib_reports_invalid_client(srv):
    with pytest.raises(OAuthError) as e:
        fetch_token(srv, "acme", "reader", secret="wrong-" + SECRET)
    assert e.value.error == "invalid_client"


def test_basic_and_post_authentication_together_is_invalid_request(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials", "client_id": "reader",
                                    "client_secret": SECRET}, auth=("reader", SECRET))
    assert_oauth_error(r, 400, "invalid_request")


def test_a_body_client_id_other_than_the_basic_one_is_invalid_request(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials", "client_id": "admin"},
                      auth=("reader", SECRET))
    assert_oauth_error(r, 400, "invalid_request")


@pytest.mark.parametrize("header", [
    "Basic !!!not-base64!!!",
    basic("reader", SECRET)[:-3] + "%%%",
    "Basic " + base64.b64encode(b"reader-without-colon").decode(),
    "Basic",
    "Basic " + base64.b64encode(b"reader:%zz").decode(),
])
def test_a_malformed_basic_header_is_invalid_client(srv, header):
    r = token_request(srv, "acme", {"grant_type": "client_credentials"},
                      headers={"Authorization": header})
    assert_invalid_client(r)


def test_a_bearer_header_is_no_client_authentication(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials"},
                      headers={"Authorization": "Bearer abc"})
    assert_invalid_client(r)


def test_basic_credentials_are_form_decoded(srv):
    """RFC 6749 §2.3.1: client_id and secret are form-encoded before Basic."""
    r = token_request(srv, "acme", {"grant_type": "client_credentials"},
                      headers={"Authorization": basic("reader", SECRET.replace("-", "%2D"))})
    assert r.status_code == 200, r.text


THROTTLE_FREE = 5  # failures are slowed, then refused with 429


def fail_then_try(srv, client_id):
    """THROTTLE_FREE failed authentications of client_id, then an attempt with
    the right secret; returns (answers, whether a second boundary passed).
    The server counts in whole seconds: starting early in a second keeps the
    attempt inside the first delay."""
    while time.time() % 1 > 0.3:
        time.sleep(0.05)
    second = int(time.time())
    codes = [token_request(srv, "acme", {"grant_type": "client_credentials"},
                           auth=(client_id, "wrong-" + SECRET)) for _ in range(THROTTLE_FREE)]
    r = token_request(srv, "acme", {"grant_type": "client_credentials"}, auth=(client_id, SECRET))
    return codes, r, int(time.time()) != second


def test_repeated_client_authentication_failures_are_throttled(srv):
    for client_id in ("throttled-1", "throttled-2"):
        codes, r, late = fail_then_try(srv, client_id)
        if not (late and r.status_code != 429):
            break  # (else the delay had passed already: again with a fresh client)
    assert [c.status_code for c in codes] == [401] * THROTTLE_FREE
    assert r.status_code == 429, r.text  # even the right secret must wait
    assert r.json()["error"] == "invalid_client"
    assert int(r.headers["Retry-After"]) >= 1


def test_unknown_client_ids_are_throttled_the_same(srv):
    for client_id in ("ghost-1", "ghost-2"):
        codes, r, late = fail_then_try(srv, client_id)
        if not (late and r.status_code != 429):
            break
    assert [c.status_code for c in codes] == [401] * THROTTLE_FREE
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) >= 1


def test_a_public_client_cannot_use_client_credentials(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials", "client_id": "mobile"})
    assert_oauth_error(r, 400, "unauthorized_client")


# -- request errors -------------------------------------------------------------

def test_a_missing_grant_type_is_invalid_request(srv):
    r = token_request(srv, "acme", {"scope": "groups:read"}, auth=("reader", SECRET))
    assert_oauth_error(r, 400, "invalid_request")


def test_an_unknown_grant_type_is_unsupported_grant_type(srv):
    r = token_request(srv, "acme", {"grant_type": "urn:example:magic"}, auth=("reader", SECRET))
    assert_oauth_error(r, 400, "unsupported_grant_type")


def test_a_grant_the_client_may_not_use_is_unauthorized_client(srv):
    r = token_request(srv, "acme", {"grant_type": "client_credentials"}, auth=("pw-only", SECRET))
    assert_oauth_error(r, 400, "unauthorized_client")


@pytest.mark.parametrize("name", ["grant_type", "scope", "client_id"])
def test_a_repeated_parameter_is_invalid_request(srv, name):
    pairs = [("grant_type", "client_credentials"), ("scope", "groups:read"),
             ("client_id", "reader")]
    pairs.append((name, dict(pairs)[name]))
    r = token_request(srv, "acme", pairs, auth=("reader", SECRET))
    assert_oauth_error(r, 400, "invalid_request")


def test_a_json_body_is_invalid_request(srv):
    r = requests.post(srv.endpoint("acme", "token"), json={"grant_type": "client_credentials"},
                      auth=("reader", SECRET), timeout=HTTP_TIMEOUT_S)
    assert_oauth_error(r, 400, "invalid_request")


def test_an_empty_body_is_invalid_request(srv):
    r = requests.post(srv.endpoint("acme", "token"), auth=("reader", SECRET),
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 400, r.text
    assert r.json()["error"] in ("invalid_request", "invalid_client")


@pytest.mark.parametrize("ctype", ["application/x-www-form-urlencoded; charset=UTF-8",
                                   "Application/X-WWW-Form-URLEncoded"])
def test_form_media_type_parameters_and_case_are_accepted(srv, ctype):
    r = requests.post(srv.endpoint("acme", "token"), data="grant_type=client_credentials",
                      headers={"Content-Type": ctype}, auth=("reader", SECRET),
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text


def test_a_malformed_form_body_is_400(srv):
    r = requests.post(srv.endpoint("acme", "token"), data="grant_type=%zz",
                      headers={"Content-Type": "application/x-www-form-urlencoded"},
                      auth=("reader", SECRET), timeout=HTTP_TIMEOUT_S)
    assert_oauth_error(r, 400, "invalid_request")


def test_a_body_over_64_kib_is_413(srv):
    body = "grant_type=client_credentials&pad=" + "a" * (64 * 1024)
    r = requests.post(srv.endpoint("acme", "token"), data=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"},
                      auth=("reader", SECRET), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 413, r.text


def test_a_chunked_body_over_64_kib_is_413(srv):
    def chunks():
        yield b"grant_type=client_credentials&pad="
        for _ in range(20):
            yield b"a" * 4096
    r = requests.post(srv.endpoint("acme", "token"), data=chunks(),
                      headers={"Content-Type": "application/x-www-form-urlencoded"},
                      auth=("reader", SECRET), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 413, r.text


def test_a_body_just_under_the_limit_is_accepted(srv):
    head = "grant_type=client_credentials&pad="
    r = requests.post(srv.endpoint("acme", "token"), data=head + "a" * (64 * 1024 - len(head)),
                      headers={"Content-Type": "application/x-www-form-urlencoded"},
                      auth=("reader", SECRET), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text


def test_a_url_over_8_kib_is_414(srv):
    r = requests.post(srv.endpoint("acme", "token") + "?pad=" + "a" * (8 * 1024),
                      data={"grant_type": "client_credentials"}, auth=("reader", SECRET),
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 414, r.text


def test_more_than_64_parameters_is_400(srv):
    data = [("grant_type", "client_credentials")] + [("p%d" % i, "v") for i in range(64)]
    r = token_request(srv, "acme", data, auth=("reader", SECRET))
    assert_oauth_error(r, 400, "invalid_request")


def test_64_parameters_are_accepted(srv):
    data = [("grant_type", "client_credentials")] + [("p%d" % i, "v") for i in range(63)]
    r = token_request(srv, "acme", data, auth=("reader", SECRET))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_is_405(srv, method):
    r = requests.request(method, srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 405, r.text
    assert "POST" in r.headers.get("Allow", "")
    json.loads(r.text)


def test_token_endpoint_of_unknown_tenant_is_404(srv):
    r = requests.post(srv.endpoint("nosuch", "token"), data={"grant_type": "client_credentials"},
                      auth=("reader", SECRET), timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 404


def test_concurrent_token_requests_all_succeed(srv, acme_keys):
    def one(i):
        return fetch_token(srv, "acme", "reader" if i % 2 else "admin")["access_token"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        tokens = list(pool.map(one, range(40)))
    jtis = set()
    for i, at in enumerate(tokens):
        _, claims = verify_access_token(at, acme_keys, issuer=srv.issuer("acme"),
                                        client_id="reader" if i % 2 else "admin", audience=AUD)
        jtis.add(claims["jti"])
    assert len(jtis) == len(tokens)
