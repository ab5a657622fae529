"""Dynamic client registration management (RFC 7592): a replacement (PUT)
racing the deletion (DELETE) of the same client. Once a DELETE has been
answered 204 the client is gone for good: no PUT, however many were under
way, brings it back. A PUT that finds the client gone answers as for an
unknown client (401 invalid_token).

Each round registers a client, then sends many PUTs at once and, just
after them, the DELETE, so that PUTs have read the client before the
DELETE and write after it. After the round the client must not exist:
its registration access token reads nothing (401), the token endpoint
refuses its credentials once the server has reloaded, and `tessera client
show` finds no such client. On PostgreSQL the PUTs go to one server and
the DELETE to another sharing its database (the PostgreSQL cluster is the
one tests/e2e/test_postgres.py starts)."""
import concurrent.futures
import threading
import time

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, RELOAD_BUDGET_S, assert_invalid_client, token_request, \
    wait_until
from people_helpers import ALICE, WEB_URI, people_tenant
from test_postgres import cluster, on_postgres  # noqa: F401 (the cluster fixture)
from test_registration import assert_bearer_error, manage, registered, web_md

DOC = {"tenants": [people_tenant("acme", users=(ALICE,), dynamic_registration=True)]}
ROUNDS = 30
PG_ROUNDS = 10
PUTS = 50
# The DELETE leaves this long after the PUTs, varied by round, so that it
# lands among them at every stage of their work.
DELETE_DELAYS_S = (0.0, 0.005, 0.01, 0.02, 0.04)


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def put_body(client, i):
    return dict(web_md(client_name="Renamed %d" % i), client_id=client["client_id"])


@pytest.fixture(scope="module")
def pg_pair(cluster, make_module_server):  # noqa: F811
    a = on_postgres(make_module_server, "pg-race-a", cluster.url)
    b = on_postgres(make_module_server, "pg-race-b", cluster.url, master_key=a.master_key)
    r = a.cli("migrate")
    assert r.rc == 0, r.err
    a.bootstrap_ok(DOC)
    a.start()
    b.public_url = a.base
    b.start()
    return a, b


def race(srv, deleter, client, delay_s):
    """PUTS replacements of client at srv and one DELETE at deleter, at
    once: the DELETE's answer and the PUTs' answers."""
    uri, rat = client["registration_client_uri"], client["registration_access_token"]
    start = threading.Barrier(PUTS + 1)

    def put(i):
        start.wait()
        return manage(srv, "PUT", uri, rat, put_body(client, i))

    def delete():
        start.wait()
        time.sleep(delay_s)
        return manage(deleter, "DELETE", uri.replace(srv.base, deleter.base), rat)

    with concurrent.futures.ThreadPoolExecutor(PUTS + 1) as ex:
        puts = [ex.submit(put, i) for i in range(PUTS)]
        deleted = ex.submit(delete)
        return deleted.result(), [p.result() for p in puts]


def token_endpoint_knows(srv, client):
    """False once the token endpoint refuses the client's credentials (an
    unknown client), True while it authenticates them (a wrong code)."""
    r = token_request(srv, "acme", {"grant_type": "authorization_code", "code": "nothing",
                                    "redirect_uri": WEB_URI},
                      auth=(client["client_id"], client["client_secret"]))
    if r.status_code == 401:
        assert_invalid_client(r)
        return False
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    return True


def assert_gone(srv, client):
    assert_bearer_error(manage(srv, "GET", client["registration_client_uri"],
                               client["registration_access_token"]))
    r = srv.cli("client", "show", "--tenant", "acme", client["client_id"])
    assert r.rc != 0, "the deleted client %s exists again: %s" % (client["client_id"], r.out)
    gone, _ = wait_until(lambda: not token_endpoint_knows(srv, client),
                         timeout=RELOAD_BUDGET_S + 1)
    assert gone, "the token endpoint still knows the deleted client %s" % client["client_id"]


def rounds(srv, deleter, n_rounds):
    deletes = 0
    for n in range(n_rounds):
        client = registered(srv, web_md())
        deleted, puts = race(srv, deleter, client, DELETE_DELAYS_S[n % len(DELETE_DELAYS_S)])
        for p in puts:
            # A PUT lands before the deletion (200) or finds the client gone.
            if p.status_code != 200:
                assert_bearer_error(p)
        if deleted.status_code == 204:
            deletes += 1
            assert_gone(srv, client)
        else:
            assert_bearer_error(deleted)
    assert deletes == n_rounds, "every round's DELETE found its client: %d of %d" % (
        deletes, n_rounds)


def test_a_deleted_client_is_not_brought_back_by_a_racing_put(srv):
    rounds(srv, srv, ROUNDS)


def test_on_postgres_a_put_at_one_server_does_not_bring_back_a_delete_at_another(pg_pair):
    a, b = pg_pair
    rounds(a, b, PG_ROUNDS)


def test_a_put_after_the_delete_answers_as_for_an_unknown_client(srv):
    client = registered(srv, web_md())
    uri, rat = client["registration_client_uri"], client["registration_access_token"]
    assert manage(srv, "DELETE", uri, rat).status_code == 204
    assert_bearer_error(manage(srv, "PUT", uri, rat, put_body(client, 0)))
    assert_gone(srv, client)
