"""Resource indicators (RFC 8707) for the grants that carry an authorization
forward: the authorization code, the refresh token and the device code.

A `resource` is checked by one syntax rule everywhere (an absolute URI of
printable ASCII without a fragment). At the token endpoint a resource may
only narrow what was authorized: a grant authorized for some resources
yields an access token for any of them and for no other; a grant
authorized without one takes a resource as the password and client
credentials grants do. The refresh token keeps the grant as it was.

Clients are independent libraries: requests (raw HTTP and the browser),
authlib (the OAuth client), jwcrypto (the tokens, against the JWKS)."""
import json
import urllib.parse

import pytest
import requests
from jwcrypto import jwt

from e2e_util import HTTP_TIMEOUT_S, assert_oauth_error, fetch_jwks
from people_helpers import (ALICE, AUD, MOBILE_URI, RP, Browser, is_consent_page,
                            is_login_page, left_to, mobile_client, people_tenant, query_of)
from people_helpers import device_approved as people_device_approved

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SCOPE = "openid offline_access tasks:read"
R1, R2, R3, R4 = ("https://r1.test", "https://r2.test/api", "https://r3.test",
                  "urn:acme:r4")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# Percent-encoded as sent on the wire: relative, fragment, non-ASCII,
# a control byte, empty.
BAD = ["relative", "https%3A%2F%2Fr1.test%2F%23frag", "https%3A%2F%2Fr1.test%2F%C3%A9",
       "https%3A%2F%2Fr1.test%2F%01", ""]


def device_client():
    return {"client_id": "tv", "name": "Living Room TV", "type": "public",
            "grant_types": [DEVICE_GRANT, "refresh_token"],
            "scopes": ["tasks:read"], "skip_consent": True}


@pytest.fixture(scope="module")
def srv(make_module_server):
    doc = {"tenants": [people_tenant("acme", users=(ALICE,),
                                     clients=[mobile_client(), device_client()])]}
    return make_module_server(doc)


@pytest.fixture(scope="module")
def keys(srv):
    return fetch_jwks(srv, "acme")


def aud_of(token, keys):
    """The aud of an access token whose signature checks out."""
    t = jwt.JWT(jwt=token, key=keys, algs=["ES256"])
    return json.loads(t.claims)["aud"]


def token_post(srv, body):
    """A raw token request; body is already form-encoded."""
    return requests.post(srv.endpoint("acme", "token"), data=body, headers=FORM,
                         timeout=HTTP_TIMEOUT_S)


def authorized_code(srv, resources=()):
    """Signs alice in for the mobile app with these resources: (rp, code)."""
    b = Browser(srv)
    rp = RP(srv, "acme", "mobile", MOBILE_URI, scope=SCOPE)
    url = rp.authorization_url()
    if resources:
        url += "&" + urllib.parse.urlencode([("resource", r) for r in resources])
    resp = b.open(url)
    if is_login_page(resp):
        resp = b.login(resp, ALICE)
    assert not is_consent_page(resp)
    loc = left_to(resp)
    assert loc and loc.startswith(MOBILE_URI + "?"), (resp.status_code, resp.text[:400])
    q = query_of(loc)
    assert "code" in q, loc
    return rp, q["code"]


def redeem(srv, rp, code, resources=(), raw=None):
    """Redeems code, naming these resources (or the raw encoded value)."""
    pairs = [("grant_type", "authorization_code"), ("code", code),
             ("redirect_uri", MOBILE_URI), ("code_verifier", rp.verifier),
             ("client_id", "mobile")] + [("resource", r) for r in resources]
    body = urllib.parse.urlencode(pairs)
    if raw is not None:
        body += "&resource=" + raw
    return token_post(srv, body)


def refresh(srv, rt, resources=(), raw=None):
    pairs = [("grant_type", "refresh_token"), ("refresh_token", rt), ("client_id", "mobile")]
    body = urllib.parse.urlencode(pairs + [("resource", r) for r in resources])
    if raw is not None:
        body += "&resource=" + raw
    return token_post(srv, body)


def ok(resp):
    assert resp.status_code == 200, (resp.status_code, resp.text)
    return resp.json()


# -- syntax, everywhere ----------------------------------------------------------------

@pytest.mark.parametrize("bad", BAD)
def test_a_malformed_resource_is_refused_at_code_redemption(srv, bad):
    rp, code = authorized_code(srv)
    assert_oauth_error(redeem(srv, rp, code, raw=bad), 400, "invalid_target")


@pytest.mark.parametrize("bad", BAD)
def test_a_malformed_resource_is_refused_at_refresh(srv, bad):
    rp, code = authorized_code(srv)
    rt = ok(redeem(srv, rp, code))["refresh_token"]
    assert_oauth_error(refresh(srv, rt, raw=bad), 400, "invalid_target")
    # The refusal spent nothing: the refresh token still works.
    assert "access_token" in ok(refresh(srv, rt))


@pytest.mark.parametrize("bad", BAD)
def test_a_malformed_resource_is_refused_at_device_authorization(srv, bad):
    r = requests.post(srv.endpoint("acme", "device_authorization"), headers=FORM,
                      data="client_id=tv&scope=tasks%3Aread&resource=" + bad,
                      timeout=HTTP_TIMEOUT_S)
    assert_oauth_error(r, 400, "invalid_target")


# -- the authorization code ---------------------------------------------------------------

def test_a_code_authorized_without_a_resource_takes_one_as_the_password_grant_does(srv, keys):
    rp, code = authorized_code(srv)
    tok = ok(redeem(srv, rp, code, [R3]))
    assert aud_of(tok["access_token"], keys) == R3
    # The grant itself is unchanged: a refresh without a resource gets the
    # tenant's audience again.
    again = ok(refresh(srv, tok["refresh_token"]))
    assert aud_of(again["access_token"], keys) == AUD


def test_a_code_is_redeemed_only_for_a_resource_it_was_authorized_for(srv):
    rp, code = authorized_code(srv, [R1])
    body = assert_oauth_error(redeem(srv, rp, code, [R2]), 400, "invalid_target")
    assert "access_token" not in body


def test_the_tenant_audience_is_not_a_way_around_the_authorized_resources(srv):
    rp, code = authorized_code(srv, [R1])
    assert_oauth_error(redeem(srv, rp, code, [AUD]), 400, "invalid_target")


def test_a_code_authorized_for_several_resources_narrows_to_one(srv, keys):
    rp, code = authorized_code(srv, [R1, R2])
    tok = ok(redeem(srv, rp, code, [R2]))
    assert aud_of(tok["access_token"], keys) == R2
    # The refresh token keeps both.
    full = ok(refresh(srv, tok["refresh_token"]))
    assert aud_of(full["access_token"], keys) == [R1, R2]
    one = ok(refresh(srv, full["refresh_token"], [R1]))
    assert aud_of(one["access_token"], keys) == R1
    both = ok(refresh(srv, one["refresh_token"]))
    assert aud_of(both["access_token"], keys) == [R1, R2]


def test_a_code_authorized_for_a_resource_without_one_at_the_token_endpoint(srv, keys):
    rp, code = authorized_code(srv, [R1])
    tok = ok(redeem(srv, rp, code))
    assert aud_of(tok["access_token"], keys) == R1


# -- the refresh token -------------------------------------------------------------------

def test_a_refresh_never_widens_the_resources_of_the_grant(srv, keys):
    rp, code = authorized_code(srv, [R1])
    rt = ok(redeem(srv, rp, code))["refresh_token"]
    for extra in ([R4], [R1, R4], [AUD]):
        assert_oauth_error(refresh(srv, rt, extra), 400, "invalid_target")
    # Refused before anything was spent: the same refresh token goes on.
    tok = ok(refresh(srv, rt, [R1]))
    assert aud_of(tok["access_token"], keys) == R1


def test_a_refresh_of_a_grant_without_a_resource_takes_one(srv, keys):
    rp, code = authorized_code(srv)
    rt = ok(redeem(srv, rp, code))["refresh_token"]
    tok = ok(refresh(srv, rt, [R4]))
    assert aud_of(tok["access_token"], keys) == R4
    assert aud_of(ok(refresh(srv, tok["refresh_token"]))["access_token"], keys) == AUD


def test_the_password_grant_resource_stays_with_its_refresh_tokens(srv, keys):
    r = requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S, data=[
        ("grant_type", "password"), ("client_id", "mobile"), ("scope", "tasks:read"),
        ("username", ALICE["username"]), ("password", ALICE["password"]),
        ("resource", R1), ("resource", R2)])
    tok = ok(r)
    assert aud_of(tok["access_token"], keys) == [R1, R2]
    assert_oauth_error(refresh(srv, tok["refresh_token"], [R3]), 400, "invalid_target")
    assert aud_of(ok(refresh(srv, tok["refresh_token"], [R2]))["access_token"], keys) == R2


# -- the device code ---------------------------------------------------------------------

def device_approved(srv, resources=()):
    """A device code for tv with these resources, approved by alice."""
    return people_device_approved(srv, "acme", "tv", ALICE, "tasks:read", resources)


def device_token(srv, device_code, resources=()):
    return requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S,
                         data=[("grant_type", DEVICE_GRANT), ("client_id", "tv"),
                               ("device_code", device_code)]
                         + [("resource", x) for x in resources])


def test_a_device_code_carries_its_resources_to_the_token(srv, keys):
    dc = device_approved(srv, [R1, R2])
    assert_oauth_error(device_token(srv, dc, [R3]), 400, "invalid_target")
    tok = ok(device_token(srv, dc, [R1]))
    assert aud_of(tok["access_token"], keys) == R1
    # Its refresh token keeps the device's resources.
    again = ok(refresh_tv(srv, tok["refresh_token"]))
    assert aud_of(again["access_token"], keys) == [R1, R2]


@pytest.mark.parametrize("bad", BAD)
def test_a_malformed_resource_is_refused_when_polling_with_a_device_code(srv, bad):
    r = requests.post(srv.endpoint("acme", "device_authorization"), timeout=HTTP_TIMEOUT_S,
                      data={"client_id": "tv", "scope": "tasks:read"})
    dc = ok(r)["device_code"]
    body = urllib.parse.urlencode([("grant_type", DEVICE_GRANT), ("client_id", "tv"),
                                   ("device_code", dc)]) + "&resource=" + bad
    assert_oauth_error(token_post(srv, body), 400, "invalid_target")


def test_a_device_code_without_resources_gets_the_tenant_audience(srv, keys):
    tok = ok(device_token(srv, device_approved(srv)))
    assert aud_of(tok["access_token"], keys) == AUD


def refresh_tv(srv, rt):
    return requests.post(srv.endpoint("acme", "token"), timeout=HTTP_TIMEOUT_S,
                         data={"grant_type": "refresh_token", "refresh_token": rt,
                               "client_id": "tv"})
