"""DPoP (RFC 9449) at resource servers built on libtessera: the verifier's
tessera_verify_request (through libtessera_probe) and the tasks API example,
with bound tokens from Tessera and proofs built by jwcrypto; replays (the
verifier's own memory), stolen tokens, proofs for another URI, method, token
or key."""
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET
from test_dpop import new_key, proof
from test_libtessera import Probe
from test_tasks_api import (ALICE, AUDIENCE, make_tasks_api,  # noqa: F401
                            pytestmark, start_pair)

import pytest

RESOURCE = "https://tasks.acme.test/tasks"


@pytest.fixture(scope="module")
def pair(make_module_server, make_tasks_api):  # noqa: F811 (the imported fixture)
    return start_pair(make_module_server, make_tasks_api)


def bound_token(srv, key, client="importer"):
    r = requests.post(srv.endpoint("acme", "token"), data={"grant_type": "client_credentials"},
                      auth=(client, SECRET),
                      headers={"DPoP": proof(key, "POST", srv.endpoint("acme", "token"))},
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    return r.json()["access_token"]


def bound_user_token(srv, key):
    r = requests.post(srv.endpoint("acme", "token"), data={
        "grant_type": "password", "client_id": "mobile", "username": ALICE[0],
        "password": ALICE[1], "scope": "tasks:read tasks:write"},
        headers={"DPoP": proof(key, "POST", srv.endpoint("acme", "token"))},
        timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    return r.json()["access_token"]


# -- the verifier -----------------------------------------------------------------------

@pytest.fixture
def probe(pair, tmp_path):
    p = Probe(tmp_path, pair[0].issuer("acme"), audience=AUDIENCE)
    yield p
    p.close()


def ask(p, method, authorization, uri=None, dpop=None):
    fields = [method, authorization, "", "", "", uri or "", dpop or ""]
    p._send("|".join(fields))
    return p._answer()


def refused(a, error):
    assert a["ok"] is False, a
    assert a["status"] == 401 and a["error"] == error, a
    assert a["www_authenticate"].startswith("DPoP ") and "algs=" in a["www_authenticate"], a


def test_the_verifier_takes_a_bound_token_with_its_proof(pair, probe):
    key = new_key()
    at = bound_token(pair[0], key)
    a = ask(probe, "GET", "DPoP " + at, RESOURCE + "?q=1", proof(key, "GET", RESOURCE, token=at))
    assert a["ok"] and a["auth"] == "dpop" and a["client_id"] == "importer", a


def test_the_verifier_refuses_a_replayed_proof(pair, probe):
    key = new_key()
    at = bound_token(pair[0], key)
    p = proof(key, "GET", RESOURCE, token=at)
    assert ask(probe, "GET", "DPoP " + at, RESOURCE, p)["ok"]
    refused(ask(probe, "GET", "DPoP " + at, RESOURCE, p), "invalid_dpop_proof")


def test_the_verifier_refuses_a_bound_token_as_bearer(pair, probe):
    key = new_key()
    at = bound_token(pair[0], key)
    refused(ask(probe, "GET", "Bearer " + at), "invalid_token")
    refused(ask(probe, "GET", "Bearer " + at, RESOURCE, proof(key, "GET", RESOURCE, token=at)),
            "invalid_token")
    # The old entry point cannot check a proof, so it refuses the scheme.
    a = probe.ask(authorization="DPoP " + at)
    assert a["ok"] is False and a["status"] == 401, a


def test_the_verifier_refuses_bad_proofs(pair, probe):
    key = new_key()
    at = bound_token(pair[0], key)
    other = bound_token(pair[0], key)
    for p in (proof(new_key(), "GET", RESOURCE, token=at),            # another key
              proof(key, "POST", RESOURCE, token=at),                  # another method
              proof(key, "GET", RESOURCE + "/x", token=at),            # another URI
              proof(key, "GET", RESOURCE, token=other),                # another token
              proof(key, "GET", RESOURCE, token=at, iat=1),            # stale
              proof(key, "GET", RESOURCE, token=at, typ="JWT")):       # not a DPoP proof
        refused(ask(probe, "GET", "DPoP " + at, RESOURCE, p), "invalid_dpop_proof")
    refused(ask(probe, "GET", "DPoP " + at, RESOURCE), "invalid_dpop_proof")


def test_an_unbound_token_with_the_dpop_scheme_is_refused(pair, probe):
    r = requests.post(pair[0].endpoint("acme", "token"),
                      data={"grant_type": "client_credentials"}, auth=("importer", SECRET),
                      timeout=HTTP_TIMEOUT_S)
    at = r.json()["access_token"]
    refused(ask(probe, "GET", "DPoP " + at, RESOURCE, proof(new_key(), "GET", RESOURCE, token=at)),
            "invalid_token")


# -- the tasks API ----------------------------------------------------------------------

def test_the_tasks_api_accepts_dpop(pair):
    srv, api = pair
    key = new_key()
    at = bound_user_token(srv, key)
    url = api.url("/tasks")

    def call(method, token_scheme="DPoP", k=key, u=url, body=None):
        h = {"Authorization": "%s %s" % (token_scheme, at)}
        if k is not None:
            h["DPoP"] = proof(k, method, u, token=at)
        return requests.request(method, url, json=body, headers=h, timeout=HTTP_TIMEOUT_S)

    r = call("POST", body={"title": "bound", "due_date": "2030-01-01"})
    assert r.status_code == 201, r.text
    r = call("GET")
    assert r.status_code == 200, r.text
    assert any(t["title"] == "bound" for t in r.json()["tasks"]), r.json()
    for bad in (call("GET", "Bearer", None), call("GET", k=new_key()), call("GET", k=None),
                call("GET", u=api.url("/team"))):
        assert bad.status_code == 401, bad.text
        assert bad.headers["WWW-Authenticate"].startswith("DPoP "), bad.headers
    h = {"Authorization": "DPoP " + at, "DPoP": proof(key, "GET", url, token=at)}
    assert requests.get(url, headers=h, timeout=HTTP_TIMEOUT_S).status_code == 200
    assert requests.get(url, headers=h, timeout=HTTP_TIMEOUT_S).status_code == 401
