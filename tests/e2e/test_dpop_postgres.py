"""DPoP (RFC 9449) on PostgreSQL, with two servers on one database behind
one public URL: a proof used at one server is a replay at the other (also
twenty at once, spread over both: one token), a nonce one server issued is
accepted by the other, and a public client's refresh token bound at one
server needs the same key at the other."""
import concurrent.futures

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, assert_oauth_error
from test_dpop import DOC, new_key, proof
from test_postgres import cluster, on_postgres  # noqa: F401 (cluster is a fixture)
from people_helpers import ALICE


@pytest.fixture(scope="module")
def pg_pair(cluster, make_module_server):  # noqa: F811 (the imported fixture)
    a = on_postgres(make_module_server, "dpop-pg-a", cluster.url)
    b = on_postgres(make_module_server, "dpop-pg-b", cluster.url, master_key=a.master_key)
    a.bootstrap_ok(DOC)
    a.start()
    b.public_url = a.base
    b.start()
    return a, b


def token_url(a):
    return a.endpoint("acme", "token")  # the public URL both servers answer for


def cc(server, dpop, cid="svc"):
    return requests.post(server.endpoint("acme", "token"), data={"grant_type": "client_credentials"},
                         auth=(cid, SECRET), headers={"DPoP": dpop}, timeout=HTTP_TIMEOUT_S)


def test_a_proof_is_used_once_across_servers(pg_pair):
    a, b = pg_pair
    p = proof(new_key(), "POST", token_url(a))
    assert cc(a, p).status_code == 200
    assert_oauth_error(cc(b, p), 400, "invalid_dpop_proof")


@pytest.mark.parametrize("round_", range(3))
def test_twenty_parallel_uses_over_two_servers_give_one_token(pg_pair, round_):
    a, b = pg_pair
    p = proof(new_key(), "POST", token_url(a))
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        codes = list(ex.map(lambda i: cc((a, b)[i % 2], p).status_code, range(20)))
    assert codes.count(200) == 1 and codes.count(400) == 19, codes


def test_a_nonce_from_one_server_is_accepted_by_the_other(pg_pair):
    a, b = pg_pair
    key = new_key()
    r = cc(a, proof(key, "POST", token_url(a)), cid="strict")
    assert_oauth_error(r, 400, "use_dpop_nonce")
    r = cc(b, proof(key, "POST", token_url(a), nonce=r.headers["DPoP-Nonce"]), cid="strict")
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text


def test_a_bound_refresh_token_needs_its_key_at_the_other_server(pg_pair):
    a, b = pg_pair
    key = new_key()
    r = requests.post(a.endpoint("acme", "token"), data={
        "grant_type": "password", "client_id": "app", "username": ALICE["username"],
        "password": ALICE["password"], "scope": "openid offline_access"},
        headers={"DPoP": proof(key, "POST", token_url(a))}, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, r.text
    rt = r.json()["refresh_token"]

    def refresh(k):
        h = {"DPoP": proof(k, "POST", token_url(a))} if k else {}
        return requests.post(b.endpoint("acme", "token"), data={
            "grant_type": "refresh_token", "client_id": "app", "refresh_token": rt},
            headers=h, timeout=HTTP_TIMEOUT_S)
    assert_oauth_error(refresh(None), 400, "invalid_dpop_proof")
    assert_oauth_error(refresh(new_key()), 400, "invalid_grant")
    assert refresh(key).status_code == 200
