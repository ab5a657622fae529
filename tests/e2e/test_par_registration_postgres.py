"""Pushed authorization requests and dynamic client registration on
PostgreSQL, with two servers sharing one database as behind a load
balancer: a request pushed at one server is used at the other, once, also
when both are raced; an initial access token from the CLI registers one
client, whichever server is asked and however many ask at once; the client
registered at one server is read, replaced and deleted at the other.

The PostgreSQL cluster is the one tests/e2e/test_postgres.py starts (skipped
without a PostgreSQL server on a developer's machine, failing in CI)."""
import concurrent.futures
import urllib.parse

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, SECRET, wait_until
from people_helpers import ALICE, WEB_URI, Browser, RP, authorize, people_tenant, query_of
from test_postgres import cluster, on_postgres  # noqa: F401 (the cluster fixture)

DOC = {"tenants": [people_tenant("acme", users=(ALICE,), dynamic_registration=True)]}
RACERS_PER_SERVER = 8
ROUNDS = 3


@pytest.fixture(scope="module")
def pair(cluster, make_module_server):  # noqa: F811
    a = on_postgres(make_module_server, "pg-par-a", cluster.url)
    b = on_postgres(make_module_server, "pg-par-b", cluster.url, master_key=a.master_key)
    r = a.cli("migrate")
    assert r.rc == 0, r.err
    a.bootstrap_ok(DOC)
    a.start()
    b.public_url = a.base
    b.start()
    return a, b


def push(srv, rp):
    q = query_of(rp.authorization_url())
    r = requests.post(srv.endpoint("acme", "par"), data=q, auth=(rp.client_id, rp.secret),
                      timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 201, r.text
    return r.json()["request_uri"]


def authorize_url(srv, client_id, request_uri):
    return srv.endpoint("acme", "authorize") + "?" + urllib.parse.urlencode(
        {"client_id": client_id, "request_uri": request_uri})


def test_a_request_pushed_at_one_server_is_used_once_at_either(pair):
    a, b = pair
    rp = RP(a, "acme", "web", WEB_URI, secret=SECRET)
    for _ in range(ROUNDS):
        request_uri = push(a, rp)
        urls = [authorize_url(s, "web", request_uri) for s in (a, b)] * RACERS_PER_SERVER
        with concurrent.futures.ThreadPoolExecutor(len(urls)) as ex:
            answers = list(ex.map(lambda u: requests.get(u, allow_redirects=False,
                                                         timeout=HTTP_TIMEOUT_S), urls))
        codes = sorted(r.status_code for r in answers)
        assert codes == [302] + [400] * (len(urls) - 1), codes
    # And a whole flow: pushed at A, used at B (whose pages name the
    # public URL, A's address).
    request_uri = push(a, rp)
    br = Browser(a)
    resp = br.open(authorize_url(b, "web", request_uri))
    resp = br.login(resp, ALICE)
    resp = br.submit(resp, button=("decision", "approve"))
    loc = resp.headers["Location"]
    assert query_of(loc)["state"] == rp.state, loc
    rp.fetch_token(loc)


def register(srv, token):
    return requests.post(srv.endpoint("acme", "register"), json={
        "redirect_uris": [WEB_URI], "client_name": "On PostgreSQL",
        "scope": "openid profile"}, headers={"Authorization": "Bearer " + token},
        timeout=HTTP_TIMEOUT_S)


def test_one_initial_access_token_registers_one_client_across_servers(pair):
    a, b = pair
    for _ in range(ROUNDS):
        tok = a.cli("client", "registration-token", "--tenant", "acme").out[
            "initial_access_token"]
        servers = [a, b] * RACERS_PER_SERVER
        with concurrent.futures.ThreadPoolExecutor(len(servers)) as ex:
            answers = list(ex.map(lambda s: register(s, tok), servers))
        codes = sorted(r.status_code for r in answers)
        assert codes == [201] + [401] * (len(servers) - 1), codes


def test_a_client_registered_at_one_server_is_managed_at_the_other(pair):
    a, b = pair
    tok = b.cli("client", "registration-token", "--tenant", "acme").out["initial_access_token"]
    out = register(a, tok).json()
    uri_b = out["registration_client_uri"].replace(a.base, b.base)
    auth = {"Authorization": "Bearer " + out["registration_access_token"]}
    r = requests.get(uri_b, headers=auth, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200 and r.json()["client_name"] == "On PostgreSQL", r.text
    r = requests.put(uri_b, headers=auth, timeout=HTTP_TIMEOUT_S, json={
        "client_id": out["client_id"], "redirect_uris": [WEB_URI], "client_name": "Renamed",
        "scope": "openid profile"})
    assert r.status_code == 200 and r.json()["client_name"] == "Renamed", r.text

    def usable():
        rp = RP(a, "acme", out["client_id"], WEB_URI, secret=out["client_secret"],
                scope="openid profile")
        r = requests.get(rp.authorization_url(), allow_redirects=False, timeout=HTTP_TIMEOUT_S)
        return r.status_code == 302 and "/login?" in r.headers["Location"]
    ok, _ = wait_until(usable, timeout=5)
    assert ok
    rp = RP(a, "acme", out["client_id"], WEB_URI, secret=out["client_secret"],
            scope="openid profile")
    loc, _ = authorize(Browser(a), rp, ALICE)
    rp.fetch_token(loc)
    r = requests.delete(out["registration_client_uri"], headers=auth, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 204, r.text
    r = requests.get(uri_b, headers=auth, timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 401, r.text
