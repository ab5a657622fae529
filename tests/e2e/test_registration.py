"""Dynamic client registration (RFC 7591) and its management (RFC 7592),
off unless a tenant turns it on: an initial access token from
`tessera client registration-token` registers one client at
{issuer}/oauth2/register; the registration access token returned reads,
replaces and deletes it at its registration_client_uri. Registered clients
then run the code flow through authlib; the attacks (no token, a spent,
expired or foreign token, dangerous redirect URIs, scopes and grants beyond
the policy, another client's registration access token) are played with
requests."""
import concurrent.futures
import time

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, discovery, wait_until
from people_helpers import (ALICE, LOOPBACK_URI, MOBILE_URI, WEB_URI, Browser, RP, authorize,
                            people_tenant, query_of)

DOC = {"tenants": [
    people_tenant("acme", users=(ALICE,), dynamic_registration=True),
    people_tenant("other", users=(ALICE,), dynamic_registration=True),
    people_tenant("closed", users=(ALICE,)),
]}
PARALLEL = 12
DEFAULT_TOKEN_TTL_S = 86400


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def new_token(srv, tenant="acme", *extra):
    r = srv.cli("client", "registration-token", "--tenant", tenant, *extra)
    assert r.rc == 0, r
    assert r.out["tenant"] == tenant, r.out
    if not extra:  # a day by default
        assert abs(r.out["expires_at"] - (time.time() + DEFAULT_TOKEN_TTL_S)) < 30, r.out
    return r.out["initial_access_token"]


def register(srv, md, token, tenant="acme"):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return requests.post(srv.endpoint(tenant, "register"), json=md, headers=headers,
                         timeout=HTTP_TIMEOUT_S)


def manage(srv, method, uri, rat, md=None):
    headers = {"Authorization": "Bearer " + rat} if rat else {}
    return requests.request(method, uri, json=md, headers=headers, timeout=HTTP_TIMEOUT_S)


def web_md(**over):
    md = {"client_name": "Registered Web", "redirect_uris": [WEB_URI],
          "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
          "token_endpoint_auth_method": "client_secret_basic",
          "scope": "openid profile email offline_access tasks:read"}
    md.update(over)
    return {k: v for k, v in md.items() if v is not None}


def native_md(**over):
    return web_md(client_name="Registered Native", redirect_uris=[MOBILE_URI, LOOPBACK_URI],
                  token_endpoint_auth_method="none", **over)


def registered(srv, md, tenant="acme"):
    r = register(srv, md, new_token(srv, tenant), tenant)
    assert r.status_code == 201, (r.status_code, r.text)
    assert r.headers["Cache-Control"] == "no-store"
    return r.json()


def assert_bearer_error(r):
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.json()["error"] == "invalid_token", r.text
    assert r.headers["WWW-Authenticate"].startswith("Bearer"), r.headers


def assert_metadata_error(r, error="invalid_client_metadata"):
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.json()["error"] == error, r.text


def wait_usable(srv, client_id, redirect_uri, tenant="acme"):
    """The server that answered a registration knows the client (with that
    redirect URI) at once: no waiting for its next configuration poll."""
    q = {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri}
    r = requests.get(srv.endpoint(tenant, "authorize"), params=q,
                     allow_redirects=False, timeout=HTTP_TIMEOUT_S)
    assert "Unknown application" not in r.text and "Invalid redirect URI" not in r.text, r.text


def test_registration_is_off_unless_the_tenant_turns_it_on(srv):
    for doc in ("openid-configuration", "oauth-authorization-server"):
        assert "registration_endpoint" not in discovery(srv, "closed", doc)
        assert discovery(srv, "acme", doc)["registration_endpoint"] == srv.endpoint(
            "acme", "register")
    tok = new_token(srv, "closed")
    r = register(srv, web_md(), tok, "closed")
    assert r.status_code == 404, r.text
    r = manage(srv, "GET", srv.endpoint("closed", "register") + "/web", tok)
    assert r.status_code == 404, r.text


def test_a_confidential_client_registers_and_signs_a_user_in(srv):
    md = web_md()
    out = registered(srv, md)
    assert out["client_id"] and out["client_secret"] and out["registration_access_token"]
    assert out["registration_client_uri"] == srv.endpoint("acme", "register") + "/" + out[
        "client_id"]
    assert out["client_secret_expires_at"] == 0 and out["client_id_issued_at"] <= time.time()
    for k in ("redirect_uris", "grant_types", "response_types", "token_endpoint_auth_method",
              "client_name"):
        assert out[k] == md[k], (k, out)
    assert sorted(out["scope"].split()) == sorted(md["scope"].split())
    wait_usable(srv, out["client_id"], WEB_URI)
    rp = RP(srv, "acme", out["client_id"], WEB_URI, secret=out["client_secret"])
    loc, seen = authorize(Browser(srv), rp, ALICE)
    assert seen == ["login", "consent"], seen  # a registered client always asks
    tok = rp.fetch_token(loc)
    assert tok["access_token"] and tok["refresh_token"] and tok["id_token"]


def test_a_native_public_client_registers_and_uses_pkce(srv):
    out = registered(srv, native_md())
    assert "client_secret" not in out and out["token_endpoint_auth_method"] == "none"
    wait_usable(srv, out["client_id"], MOBILE_URI)
    rp = RP(srv, "acme", out["client_id"], LOOPBACK_URI.replace("127.0.0.1", "127.0.0.1:43210"))
    loc, _ = authorize(Browser(srv), rp, ALICE)
    tok = rp.fetch_token(loc)
    assert tok["access_token"]


def test_a_registered_client_may_require_pushed_requests(srv):
    out = registered(srv, web_md(require_pushed_authorization_requests=True))
    assert out["require_pushed_authorization_requests"] is True, out
    assert out["client_id"].startswith("reg-"), out
    wait_usable(srv, out["client_id"], WEB_URI)
    rp = RP(srv, "acme", out["client_id"], WEB_URI, secret=out["client_secret"])
    r = Browser(srv).get(rp.authorization_url())
    assert query_of(r.headers["Location"])["error"] == "invalid_request", r.headers
    assert_metadata_error(register(srv, web_md(require_pushed_authorization_requests="yes"),
                                   new_token(srv)))


def test_an_initial_access_token_registers_once(srv):
    tok = new_token(srv)
    assert register(srv, web_md(), tok).status_code == 201
    assert_bearer_error(register(srv, web_md(), tok))


def test_parallel_registrations_with_one_token_make_one_client(srv):
    for _ in range(3):
        tok = new_token(srv)
        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as ex:
            answers = list(ex.map(lambda _: register(srv, web_md(), tok), range(PARALLEL)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [201] + [401] * (PARALLEL - 1), codes


def test_registration_without_a_good_token_is_refused(srv):
    assert_bearer_error(register(srv, web_md(), None))
    assert_bearer_error(register(srv, web_md(), "not-a-token"))
    # Another tenant's token.
    assert_bearer_error(register(srv, web_md(), new_token(srv, "other")))
    # Basic credentials are not a token.
    r = requests.post(srv.endpoint("acme", "register"), json=web_md(), auth=("a", "b"),
                      timeout=HTTP_TIMEOUT_S)
    assert_bearer_error(r)
    expiring = new_token(srv, "acme", "--expires", "1")
    time.sleep(2.1)
    assert_bearer_error(register(srv, web_md(), expiring))


def test_the_cli_refuses_a_bad_lifetime(srv):
    for bad in ("0", "-5", "abc", str(31 * 86400)):
        r = srv.cli("client", "registration-token", "--tenant", "acme", "--expires", bad)
        assert r.rc != 0, r
    r = srv.cli("client", "registration-token", "--tenant", "nowhere")
    assert r.rc != 0, r


@pytest.mark.parametrize("uris", [
    ["javascript:alert(document.cookie)"],
    ["https://acme.test/cb#fragment"],
    ["/relative/cb"],
    ["data:text/html,hi"],
    [WEB_URI, "vbscript:msgbox(1)"],
    ["http://127.0.0.1:65536/cb"],
])
def test_dangerous_redirect_uris_are_refused(srv, uris):
    tok = new_token(srv)
    assert_metadata_error(register(srv, web_md(redirect_uris=uris), tok), "invalid_redirect_uri")
    # A refused registration leaves the token unspent.
    assert register(srv, web_md(), tok).status_code == 201


@pytest.mark.parametrize("over", [
    {"scope": "openid tasks:admin"},
    {"scope": "openid groups:write"},
    {"grant_types": ["client_credentials"], "response_types": []},
    {"grant_types": ["password"]},
    {"grant_types": ["urn:ietf:params:oauth:grant-type:device_code"]},
    {"response_types": ["token"]},
    {"grant_types": ["refresh_token"]},
    {"grant_types": ["refresh_token"], "response_types": None},
    {"response_types": []},
    {"token_endpoint_auth_method": "tls_client_auth"},
    {"jwks_uri": "https://acme.test/jwks.json"},
    {"token_endpoint_auth_method": "private_key_jwt"},
    {"redirect_uris": None},
    {"redirect_uris": "https://acme.test/cb"},
    {"client_name": 5},
    {"scope": ["openid"]},
])
def test_metadata_beyond_the_policy_are_refused(srv, over):
    assert_metadata_error(register(srv, web_md(**over), new_token(srv)))


def test_a_body_that_is_not_a_json_object_is_refused(srv):
    tok = new_token(srv)
    r = requests.post(srv.endpoint("acme", "register"), data="redirect_uris=x",
                      headers={"Authorization": "Bearer " + tok,
                               "Content-Type": "application/x-www-form-urlencoded"},
                      timeout=HTTP_TIMEOUT_S)
    assert_metadata_error(r)
    r = requests.post(srv.endpoint("acme", "register"), json=[1],
                      headers={"Authorization": "Bearer " + tok}, timeout=HTTP_TIMEOUT_S)
    assert_metadata_error(r)


def test_read_update_and_delete_need_the_registration_access_token(srv):
    a = registered(srv, web_md())
    b = registered(srv, native_md())
    uri, rat = a["registration_client_uri"], a["registration_access_token"]
    assert_bearer_error(manage(srv, "GET", uri, None))
    assert_bearer_error(manage(srv, "GET", uri, "wrong"))
    assert_bearer_error(manage(srv, "GET", uri, b["registration_access_token"]))
    assert_bearer_error(manage(srv, "PUT", uri, b["registration_access_token"],
                               dict(web_md(), client_id=a["client_id"])))
    assert_bearer_error(manage(srv, "DELETE", uri, b["registration_access_token"]))
    # An unknown client is 401 too, so ids cannot be probed.
    assert_bearer_error(manage(srv, "GET", srv.endpoint("acme", "register") + "/nobody", rat))
    # A client made by the administrator has no registration access token.
    assert_bearer_error(manage(srv, "GET", srv.endpoint("acme", "register") + "/web", rat))

    r = manage(srv, "GET", uri, rat)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["client_id"] == a["client_id"] and got["redirect_uris"] == [WEB_URI]
    assert "client_secret" not in got and "registration_access_token" not in got

    new_uri = "https://acme.test/other/callback"
    md = dict(web_md(redirect_uris=[new_uri], client_name="Renamed"), client_id=a["client_id"])
    r = manage(srv, "PUT", uri, rat, md)
    assert r.status_code == 200, r.text
    assert r.json()["redirect_uris"] == [new_uri] and r.json()["client_name"] == "Renamed"
    # The same rules as registration, and the body names this client.
    assert_metadata_error(manage(srv, "PUT", uri, rat, dict(md, redirect_uris=["javascript:x"])),
                          "invalid_redirect_uri")
    assert_metadata_error(manage(srv, "PUT", uri, rat, dict(md, client_id=b["client_id"])))
    assert_metadata_error(manage(srv, "PUT", uri, rat, dict(md, client_secret="not-it")))
    assert_metadata_error(manage(srv, "PUT", uri, rat, dict(md, scope="openid tasks:admin")))
    r = manage(srv, "PUT", uri, rat, dict(md, client_secret=a["client_secret"]))
    assert r.status_code == 200, r.text
    # The secret and the registration access token are unchanged: the
    # client still authenticates with its secret.
    wait_usable(srv, a["client_id"], new_uri)
    rp = RP(srv, "acme", a["client_id"], new_uri, secret=a["client_secret"])
    loc, _ = authorize(Browser(srv), rp, ALICE)
    assert "code" in query_of(loc), loc
    tok = rp.fetch_token(loc)
    # The replaced redirect URI is gone at once.
    r = requests.get(srv.endpoint("acme", "authorize"), allow_redirects=False,
                     timeout=HTTP_TIMEOUT_S, params={"client_id": a["client_id"],
                                                     "response_type": "code",
                                                     "redirect_uri": WEB_URI})
    assert r.status_code == 400 and "Location" not in r.headers, (r.status_code, r.text[:200])

    r = manage(srv, "DELETE", uri, rat)
    assert r.status_code == 204, r.text
    # Deleted: its tokens are inactive at once.
    r = requests.get(srv.endpoint("acme", "userinfo"), timeout=HTTP_TIMEOUT_S,
                     headers={"Authorization": "Bearer " + tok["access_token"]})
    assert r.status_code == 401, r.text
    assert_bearer_error(manage(srv, "GET", uri, rat))
    assert_bearer_error(manage(srv, "DELETE", uri, rat))
    # b is untouched.
    assert manage(srv, "GET", b["registration_client_uri"],
                  b["registration_access_token"]).status_code == 200


def test_the_tenant_flag_turns_registration_on_and_off(make_server):
    s = make_server(DOC)
    r = s.cli("tenant", "update", "closed", "--dynamic-registration", "on")
    assert r.rc == 0, r
    ok, _ = wait_until(lambda: "registration_endpoint" in discovery(s, "closed"), timeout=5)
    assert ok
    assert register(s, web_md(), new_token(s, "closed"), "closed").status_code == 201
    r = s.cli("tenant", "update", "closed", "--dynamic-registration", "off")
    assert r.rc == 0, r
    ok, _ = wait_until(lambda: "registration_endpoint" not in discovery(s, "closed"), timeout=5)
    assert ok
    assert register(s, web_md(), new_token(s, "closed"), "closed").status_code == 404
    r = s.cli("tenant", "update", "closed", "--dynamic-registration", "maybe")
    assert r.rc != 0, r
