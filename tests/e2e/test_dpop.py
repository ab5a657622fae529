"""DPoP (RFC 9449): sender-constrained access tokens at the token endpoint,
UserInfo and /api, with proofs built independently by jwcrypto; and the
attacks DPoP exists to stop: a replayed proof (also many at once), a proof
for another method, URI, time, token or key, a stolen token presented as
Bearer, a public client's bound refresh token used without its key, and a
missing server nonce."""
import base64
import concurrent.futures
import hashlib
import http.client
import json
import time
import uuid

import pytest
import requests
from jwcrypto import jwk, jws

from e2e_util import HTTP_TIMEOUT_S, SECRET, assert_oauth_error, discovery, fetch_jwks, \
    verify_access_token
from people_helpers import ALICE, AUD, people_tenant

ALGS = {"ES256": {"kty": "EC", "crv": "P-256"}, "EdDSA": {"kty": "OKP", "crv": "Ed25519"},
        "RS256": {"kty": "RSA", "size": 2048}, "PS256": {"kty": "RSA", "size": 2048}}


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def new_key(alg="ES256"):
    return jwk.JWK.generate(**ALGS[alg])


def proof(key, htm, htu, alg="ES256", token=None, iat=None, jti=None, nonce=None,
          typ="dpop+jwt", header_jwk=None, claims=None):
    """A DPoP proof JWT (RFC 9449 §4.2) signed by key."""
    c = {"jti": jti or str(uuid.uuid4()), "htm": htm, "htu": htu,
         "iat": int(time.time()) if iat is None else iat}
    if token is not None:
        c["ath"] = b64url(hashlib.sha256(token.encode()).digest())
    if nonce is not None:
        c["nonce"] = nonce
    c.update(claims or {})
    hdr = {"typ": typ, "alg": alg,
           "jwk": header_jwk if header_jwk is not None else key.export_public(as_dict=True)}
    s = jws.JWS(json.dumps(c).encode())
    s.add_signature(key, alg=alg, protected=json.dumps(hdr))
    return s.serialize(compact=True)


def svc(cid, **over):
    c = {"client_id": cid, "secret": SECRET, "grant_types": ["client_credentials"],
         "scopes": ["tasks:read"]}
    c.update(over)
    return c


def app_client(cid, **over):
    c = {"client_id": cid, "type": "public", "redirect_uris": ["app.acme://cb"],
         "grant_types": ["password", "refresh_token"],
         "scopes": ["openid", "profile", "email", "offline_access", "tasks:read"],
         "skip_consent": True}
    c.update(over)
    return c


DOC = {"tenants": [people_tenant("acme", users=(ALICE,), clients=[
    svc("svc"), svc("strict", dpop_bound_access_tokens=True), app_client("app"),
    app_client("strict-app", dpop_bound_access_tokens=True)])]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def token_url(srv):
    return srv.endpoint("acme", "token")


def cc(srv, key=None, cid="svc", alg="ES256", headers=None, **kw):
    """A client_credentials request, with a fresh proof by key if given."""
    h = dict(headers or {})
    if key is not None:
        h["DPoP"] = proof(key, "POST", token_url(srv), alg=alg, **kw)
    return requests.post(token_url(srv), data={"grant_type": "client_credentials"},
                         auth=(cid, SECRET), headers=h, timeout=HTTP_TIMEOUT_S)


def password(srv, key=None, cid="app", **kw):
    h = {"DPoP": proof(key, "POST", token_url(srv), **kw)} if key is not None else {}
    return requests.post(token_url(srv), data={
        "grant_type": "password", "client_id": cid, "username": ALICE["username"],
        "password": ALICE["password"], "scope": "openid offline_access tasks:read"},
        headers=h, timeout=HTTP_TIMEOUT_S)


def refresh(srv, rt, key=None, cid="app", **kw):
    h = {"DPoP": proof(key, "POST", token_url(srv), **kw)} if key is not None else {}
    return requests.post(token_url(srv), data={"grant_type": "refresh_token", "client_id": cid,
                                               "refresh_token": rt},
                         headers=h, timeout=HTTP_TIMEOUT_S)


def userinfo_url(srv):
    return srv.endpoint("acme", "userinfo")


def me_url(srv):
    return srv.issuer("acme") + "/api/me"


def resource(srv, url, token, key=None, scheme="DPoP", method="GET", **kw):
    h = {"Authorization": "%s %s" % (scheme, token)}
    if key is not None:
        h["DPoP"] = proof(key, method, kw.pop("htu", url), token=kw.pop("ath_token", token), **kw)
    return requests.request(method, url, headers=h, timeout=HTTP_TIMEOUT_S)


def thumbprint(key):
    return key.thumbprint()


def dpop_challenge(r, error):
    assert r.status_code == 401, (r.status_code, r.text)
    www = r.headers.get("WWW-Authenticate", "")
    assert www.startswith("DPoP "), www
    assert 'error="%s"' % error in www and "algs=" in www, www


# -- issuing bound tokens -------------------------------------------------------------

def test_discovery_lists_the_proof_algorithms(srv):
    assert sorted(discovery(srv, "acme")["dpop_signing_alg_values_supported"]) == \
        ["ES256", "EdDSA", "PS256", "RS256"]


@pytest.mark.parametrize("alg", sorted(ALGS))
def test_client_credentials_with_a_proof_gives_a_bound_token(srv, alg):
    key = new_key(alg)
    r = cc(srv, key, alg=alg)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "DPoP"
    _, claims = verify_access_token(body["access_token"], fetch_jwks(srv, "acme"),
                                    issuer=srv.issuer("acme"), client_id="svc", audience=AUD)
    assert claims["cnf"] == {"jkt": thumbprint(key)}


def test_without_a_proof_the_token_stays_a_bearer_token(srv):
    r = cc(srv)
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer"
    assert "cnf" not in json.loads(base64.urlsafe_b64decode(
        r.json()["access_token"].split(".")[1] + "=="))


def test_a_person_calls_userinfo_and_the_api_with_a_bound_token(srv):
    key = new_key()
    r = password(srv, key)
    assert r.status_code == 200, r.text
    at = r.json()["access_token"]
    assert r.json()["token_type"] == "DPoP"
    u = resource(srv, userinfo_url(srv), at, key)
    assert u.status_code == 200, u.text
    assert u.json()["sub"]
    m = resource(srv, me_url(srv), at, key)
    assert m.status_code == 200, m.text
    assert m.json()["username"] == ALICE["username"]
    # POST to UserInfo: the proof names that method.
    assert resource(srv, userinfo_url(srv), at, key, method="POST").status_code == 200


# -- stolen tokens -----------------------------------------------------------------------

def test_a_bound_token_presented_as_bearer_is_refused(srv):
    key = new_key()
    at = password(srv, key).json()["access_token"]
    for url in (userinfo_url(srv), me_url(srv)):
        r = resource(srv, url, at, scheme="Bearer")
        dpop_challenge(r, "invalid_token")
        # Even with a valid proof alongside.
        r = resource(srv, url, at, key, scheme="Bearer")
        dpop_challenge(r, "invalid_token")


def test_a_stolen_token_with_a_proof_by_another_key_is_refused(srv):
    at = password(srv, new_key()).json()["access_token"]
    for url in (userinfo_url(srv), me_url(srv)):
        dpop_challenge(resource(srv, url, at, new_key()), "invalid_dpop_proof")


def test_a_bound_token_without_a_proof_is_refused(srv):
    at = password(srv, new_key()).json()["access_token"]
    for url in (userinfo_url(srv), me_url(srv)):
        dpop_challenge(resource(srv, url, at), "invalid_dpop_proof")


def test_a_proof_for_another_token_is_refused(srv):
    key = new_key()
    at = password(srv, key).json()["access_token"]
    other = password(srv, key).json()["access_token"]
    for url in (userinfo_url(srv), me_url(srv)):
        dpop_challenge(resource(srv, url, at, key, ath_token=other), "invalid_dpop_proof")


def test_a_proof_for_another_method_or_uri_is_refused_at_the_resource(srv):
    key = new_key()
    at = password(srv, key).json()["access_token"]
    dpop_challenge(resource(srv, userinfo_url(srv), at, key, htu=me_url(srv)),
                   "invalid_dpop_proof")
    r = requests.get(me_url(srv), headers={
        "Authorization": "DPoP " + at,
        "DPoP": proof(key, "POST", me_url(srv), token=at)}, timeout=HTTP_TIMEOUT_S)
    dpop_challenge(r, "invalid_dpop_proof")


def test_an_unbound_token_with_the_dpop_scheme_is_refused(srv):
    at = cc(srv).json()["access_token"]
    dpop_challenge(resource(srv, me_url(srv), at, new_key()), "invalid_token")


def test_a_proof_replayed_at_the_resource_is_refused(srv):
    key = new_key()
    at = password(srv, key).json()["access_token"]
    p = proof(key, "GET", me_url(srv), token=at)
    h = {"Authorization": "DPoP " + at, "DPoP": p}
    assert requests.get(me_url(srv), headers=h, timeout=HTTP_TIMEOUT_S).status_code == 200
    dpop_challenge(requests.get(me_url(srv), headers=h, timeout=HTTP_TIMEOUT_S),
                   "invalid_dpop_proof")


# -- proofs the token endpoint refuses ---------------------------------------------------

def test_a_replayed_proof_is_refused(srv):
    key = new_key()
    p = proof(key, "POST", token_url(srv))
    assert cc(srv, headers={"DPoP": p}).status_code == 200
    assert_oauth_error(cc(srv, headers={"DPoP": p}), 400, "invalid_dpop_proof")


def test_two_dpop_headers_are_refused(srv):
    key = new_key()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=HTTP_TIMEOUT_S)
    body = "grant_type=client_credentials"
    conn.putrequest("POST", "/t/acme/oauth2/token")
    conn.putheader("Authorization", "Basic " + base64.b64encode(("svc:" + SECRET).encode()).decode())
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", str(len(body)))
    conn.putheader("DPoP", proof(key, "POST", token_url(srv)))
    conn.putheader("DPoP", proof(key, "POST", token_url(srv)))
    conn.endheaders(body.encode())
    r = conn.getresponse()
    assert r.status == 400 and json.loads(r.read())["error"] == "invalid_dpop_proof"
    conn.close()


def test_twenty_parallel_uses_of_one_proof_give_one_token(srv):
    for _ in range(3):
        p = proof(new_key(), "POST", token_url(srv))
        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            codes = list(ex.map(lambda _: cc(srv, headers={"DPoP": p}).status_code, range(20)))
        assert codes.count(200) == 1 and codes.count(400) == 19, codes


@pytest.mark.parametrize("case", ["method", "uri", "query", "stale", "future", "typ", "no_jti",
                                  "private_jwk", "other_jwk", "hs256", "no_jwk", "garbage"])
def test_a_bad_proof_is_refused(srv, case):
    key = new_key()
    url = token_url(srv)
    now = int(time.time())
    if case == "method":
        p = proof(key, "GET", url)
    elif case == "uri":
        p = proof(key, "POST", srv.endpoint("acme", "introspect"))
    elif case == "query":
        p = proof(key, "POST", url + "?x=1")
        assert cc(srv, headers={"DPoP": p}).status_code == 200  # query and fragment ignored
        return
    elif case == "stale":
        p = proof(key, "POST", url, iat=now - 120)
    elif case == "future":
        p = proof(key, "POST", url, iat=now + 60)
    elif case == "typ":
        p = proof(key, "POST", url, typ="JWT")
    elif case == "no_jti":
        p = proof(key, "POST", url, claims={"jti": ""})
    elif case == "private_jwk":
        p = proof(key, "POST", url, header_jwk=json.loads(key.export_private()))
    elif case == "other_jwk":
        p = proof(key, "POST", url, header_jwk=new_key().export_public(as_dict=True))
    elif case == "hs256":
        sym = jwk.JWK.generate(kty="oct", size=256)
        p = proof(sym, "POST", url, alg="HS256", header_jwk=json.loads(sym.export()))
    elif case == "no_jwk":
        p = proof(key, "POST", url, header_jwk="")
    else:
        p = "not.a.jwt"
    assert_oauth_error(cc(srv, headers={"DPoP": p}), 400, "invalid_dpop_proof")


# -- refresh tokens of public clients ---------------------------------------------------

def test_a_public_clients_refresh_token_is_bound_to_the_key(srv):
    key = new_key()
    r = password(srv, key)
    rt = r.json()["refresh_token"]
    assert_oauth_error(refresh(srv, rt), 400, "invalid_dpop_proof")
    assert_oauth_error(refresh(srv, rt, new_key()), 400, "invalid_grant")
    r2 = refresh(srv, rt, key)
    assert r2.status_code == 200, r2.text
    assert r2.json()["token_type"] == "DPoP"
    # The chain stays bound, and was not revoked by the refused attempts.
    rt2 = r2.json()["refresh_token"]
    assert_oauth_error(refresh(srv, rt2, new_key()), 400, "invalid_grant")
    r3 = refresh(srv, rt2, key)
    assert r3.status_code == 200, r3.text
    assert resource(srv, me_url(srv), r3.json()["access_token"], key).status_code == 200


def test_an_unbound_refresh_token_still_refreshes_without_a_proof(srv):
    r = password(srv)
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer"
    assert refresh(srv, r.json()["refresh_token"]).status_code == 200


# -- clients that require DPoP, and server nonces ---------------------------------------

def test_a_client_that_requires_dpop_needs_a_proof_and_the_nonce(srv):
    key = new_key()
    assert_oauth_error(cc(srv, cid="strict"), 400, "invalid_dpop_proof")
    r = cc(srv, key, cid="strict")
    assert_oauth_error(r, 400, "use_dpop_nonce")
    nonce = r.headers["DPoP-Nonce"]
    forged = ("B" if nonce[0] == "A" else "A") + nonce[1:]
    assert_oauth_error(cc(srv, key, cid="strict", nonce=forged), 400, "use_dpop_nonce")
    r = cc(srv, key, cid="strict", nonce=nonce)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
    assert r.headers["DPoP-Nonce"]


def test_a_public_client_that_requires_dpop(srv):
    key = new_key()
    assert_oauth_error(password(srv, cid="strict-app"), 400, "invalid_dpop_proof")
    r = password(srv, key, cid="strict-app")
    assert_oauth_error(r, 400, "use_dpop_nonce")
    r = password(srv, key, cid="strict-app", nonce=r.headers["DPoP-Nonce"])
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def twin(srv, make_module_server):
    """A second server on the same database and master key, with the first's
    public URL, as behind one load balancer."""
    b = make_module_server(start=False, name="twin")
    b.db, b.db_path, b.master_key, b.public_url = srv.db, srv.db_path, srv.master_key, srv.base
    b.start()
    return b


def post_cc(server, cid, dpop):
    return requests.post(server.endpoint("acme", "token"), data={"grant_type": "client_credentials"},
                         auth=(cid, SECRET), headers={"DPoP": dpop}, timeout=HTTP_TIMEOUT_S)


def test_nonces_and_replays_are_shared_by_every_server_on_the_database(srv, twin):
    nonce = cc(srv, new_key(), cid="strict").headers["DPoP-Nonce"]
    # The proof names the public URL (the first server's), not the address
    # the twin was reached at.
    p = proof(new_key(), "POST", token_url(srv), nonce=nonce)
    r = post_cc(twin, "strict", p)
    assert r.status_code == 200, r.text
    assert_oauth_error(post_cc(srv, "strict", p), 400, "invalid_dpop_proof")
    p = proof(new_key(), "POST", twin.endpoint("acme", "token"))
    assert_oauth_error(post_cc(twin, "svc", p), 400, "invalid_dpop_proof")


def test_the_cli_sets_the_client_requirement(srv):
    r = srv.cli("client", "create", "--tenant", "acme", "cli-dpop", "--grant",
                "client_credentials", "--dpop-bound-access-tokens")
    assert r.rc == 0, r
    assert r.out["dpop_bound_access_tokens"] is True
