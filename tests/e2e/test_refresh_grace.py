"""Refresh retries inside a client's reuse grace window (docs/BEHAVIOUR.md):
a rotated refresh token presented again while its successor was never used
rotates again (the unused successor and its access token die) instead of
revoking the grant; once the successor was used, after the window, or with
a window of 0, reuse still revokes the whole grant. Twenty parallel
presentations of one refresh token leave exactly one working chain, on
SQLite and on PostgreSQL (two servers sharing one database). The client is
requests; tokens are checked by introspection and UserInfo."""
import concurrent.futures
import threading
import time

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, assert_oauth_error, introspect
from people_helpers import (ALICE, MOBILE_URI, RP, mobile_client, password_grant,
                            people_tenant, userinfo, web_client)
from test_postgres import cluster, on_postgres  # noqa: F401 (the cluster fixture)

TENANT = "acme"
SHORT_GRACE_S = 2
RACERS = 20
ROUNDS = 3

CLIENTS = [mobile_client(refresh_reuse_grace=30),
           mobile_client(client_id="strict"),                        # the default: no window
           mobile_client(client_id="brief", refresh_reuse_grace=SHORT_GRACE_S),
           web_client()]
DOC = {"tenants": [people_tenant(TENANT, users=(ALICE,), clients=CLIENTS)]}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def sign_in(srv, client_id="mobile"):
    """alice's first token response at client_id (the password grant)."""
    r = password_grant(srv, TENANT, ALICE["username"], ALICE["password"], client_id=client_id,
                       scope="openid offline_access")
    assert r.status_code == 200, r.text
    return r.json()


def refresh(srv, rt, client_id="mobile"):
    return RP(srv, TENANT, client_id, MOBILE_URI).refresh_raw(rt)


def refreshed(srv, rt, client_id="mobile"):
    r = refresh(srv, rt, client_id)
    assert r.status_code == 200, r.text
    return r.json()


def active(srv, token):
    r = introspect(srv, TENANT, token, "web")
    assert r.status_code == 200, r.text
    return r.json()["active"]


def signed_in(srv, tok):
    """The access token of tok works at UserInfo."""
    return userinfo(srv, TENANT, tok["access_token"]).status_code == 200


def assert_dead(srv, tok, client_id="mobile"):
    assert not active(srv, tok["access_token"])
    assert userinfo(srv, TENANT, tok["access_token"]).status_code == 401
    assert_oauth_error(refresh(srv, tok["refresh_token"], client_id), 400, "invalid_grant")


def test_a_retry_inside_the_window_rotates_again_and_keeps_the_user_signed_in(srv):
    tok1 = sign_in(srv)
    lost = refreshed(srv, tok1["refresh_token"])  # the answer the app never saw
    tok2 = refreshed(srv, tok1["refresh_token"])  # its retry
    assert tok2["refresh_token"] not in (lost["refresh_token"], tok1["refresh_token"])
    assert signed_in(srv, tok2) and active(srv, tok2["refresh_token"])
    # The unused successor and the access token issued with it are dead.
    assert not active(srv, lost["access_token"])
    assert userinfo(srv, TENANT, lost["access_token"]).status_code == 401
    assert_oauth_error(refresh(srv, lost["refresh_token"]), 400, "invalid_grant")
    # Presenting the dead successor revoked nothing: the chain goes on.
    tok3 = refreshed(srv, tok2["refresh_token"])
    assert signed_in(srv, tok3) and active(srv, tok2["access_token"])
    # tok2's successor is used now: tok1 and tok2 are plain reuse, which
    # revokes the whole grant.
    assert_oauth_error(refresh(srv, tok1["refresh_token"]), 400, "invalid_grant")
    assert_dead(srv, tok3)


def test_a_retry_after_the_successor_was_used_revokes_the_grant(srv):
    tok1 = sign_in(srv)
    tok2 = refreshed(srv, tok1["refresh_token"])
    tok3 = refreshed(srv, tok2["refresh_token"])
    assert_oauth_error(refresh(srv, tok1["refresh_token"]), 400, "invalid_grant")
    assert_dead(srv, tok3)
    assert not active(srv, tok2["access_token"])


def test_a_retry_after_the_window_revokes_the_grant(srv):
    tok1 = sign_in(srv, "brief")
    tok2 = refreshed(srv, tok1["refresh_token"], "brief")
    time.sleep(SHORT_GRACE_S + 1.5)
    assert_oauth_error(refresh(srv, tok1["refresh_token"], "brief"), 400, "invalid_grant")
    assert_dead(srv, tok2, "brief")


def test_a_retry_inside_a_short_window_still_works(srv):
    tok1 = sign_in(srv, "brief")
    refreshed(srv, tok1["refresh_token"], "brief")
    tok2 = refreshed(srv, tok1["refresh_token"], "brief")
    assert signed_in(srv, tok2)


def test_a_window_of_zero_keeps_reuse_fatal(srv):
    tok1 = sign_in(srv, "strict")
    tok2 = refreshed(srv, tok1["refresh_token"], "strict")
    assert_oauth_error(refresh(srv, tok1["refresh_token"], "strict"), 400, "invalid_grant")
    assert_dead(srv, tok2, "strict")


def test_the_window_belongs_to_the_client_that_holds_the_token(srv):
    """A token of one client presented by another is unknown, grace or not,
    and harms nothing."""
    tok1 = sign_in(srv)
    refreshed(srv, tok1["refresh_token"])
    assert_oauth_error(refresh(srv, tok1["refresh_token"], "brief"), 400, "invalid_grant")
    assert signed_in(srv, refreshed(srv, tok1["refresh_token"]))


def race(servers, rt):
    """RACERS presentations of rt spread over servers, released at once.
    Returns the token responses that succeeded; every other answer must be
    invalid_grant."""
    barrier = threading.Barrier(RACERS)

    def post(s):
        with requests.Session() as sess:
            barrier.wait(timeout=10)
            return sess.post(s.endpoint(TENANT, "token"), timeout=HTTP_TIMEOUT_S,
                             data={"grant_type": "refresh_token", "refresh_token": rt,
                                   "client_id": "mobile"})

    targets = [servers[i % len(servers)] for i in range(RACERS)]
    with concurrent.futures.ThreadPoolExecutor(RACERS) as ex:
        results = list(ex.map(post, targets))
    for r in results:
        if r.status_code != 200:
            assert_oauth_error(r, 400, "invalid_grant")
    won = [r.json() for r in results if r.status_code == 200]
    assert won, [r.text for r in results]
    return won


def one_working_chain(servers, won):
    """Exactly one of the refresh tokens in won still works; returns what
    it gives. The dead ones are presented first, and refuse without harming
    the live one."""
    answers = [(tok, refresh(servers[i % len(servers)], tok["refresh_token"]))
               for i, tok in enumerate(won)]
    live = [(tok, r) for tok, r in answers if r.status_code == 200]
    assert len(live) == 1, [r.text for _, r in answers]
    for tok, r in answers:
        if r.status_code != 200:
            assert_oauth_error(r, 400, "invalid_grant")
            assert not active(servers[0], tok["access_token"])
    nxt = live[0][1].json()
    assert signed_in(servers[-1], nxt)
    return nxt


def parallel_rounds(servers):
    tok = sign_in(servers[0])
    for rnd in range(ROUNDS):
        # A fresh token, and (from the second round on) one already
        # rotated once: both kinds of storm end in one chain.
        if rnd % 2 == 1:
            refreshed(servers[0], tok["refresh_token"])
        tok = one_working_chain(servers, race(servers, tok["refresh_token"]))
    assert signed_in(servers[0], refreshed(servers[-1], tok["refresh_token"]))


def test_parallel_presentations_leave_one_working_chain(srv):
    parallel_rounds([srv])


def retry_racing_use(servers):
    """The old token retried while the app (or a thief) uses the successor
    at the same moment: either the retry replaced the successor first (the
    successor is refused, revoking nothing, and the retry's chain works) or
    the successor was used first (the retry is reuse: the grant is gone).
    Never two working chains."""
    srv = servers[0]
    for _ in range(ROUNDS * 2):
        tok1 = sign_in(srv)
        tok2 = refreshed(srv, tok1["refresh_token"])
        barrier = threading.Barrier(2)

        def present(at_rt):
            barrier.wait(timeout=10)
            return refresh(*at_rt)
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            retry, use = ex.map(present, ((servers[0], tok1["refresh_token"]),
                                          (servers[-1], tok2["refresh_token"])))
        assert [retry.status_code, use.status_code].count(200) <= 1, (retry.text, use.text)
        if retry.status_code == 200:
            assert_oauth_error(use, 400, "invalid_grant")
            assert signed_in(srv, refreshed(srv, retry.json()["refresh_token"]))
        else:
            assert_oauth_error(retry, 400, "invalid_grant")
            assert use.status_code == 200, use.text
            assert_dead(srv, use.json())


def test_a_retry_racing_the_use_of_its_successor_leaves_one_chain_or_none(srv):
    retry_racing_use([srv])


def test_the_cli_shows_and_changes_the_window(srv):
    r = srv.cli("client", "show", "--tenant", TENANT, "mobile")
    assert r.rc == 0, r.err
    assert r.out["refresh_reuse_grace"] == 30
    r = srv.cli("client", "list", "--tenant", TENANT)
    assert r.rc == 0, r.err
    grace = {c["client_id"]: c["refresh_reuse_grace"] for c in r.out["clients"]}
    assert grace["strict"] == 0 and grace["brief"] == SHORT_GRACE_S, grace
    for bad in ("-1", "3601", "ten", "1.5"):
        r = srv.cli("client", "update", "--tenant", TENANT, "brief", "--refresh-reuse-grace", bad)
        assert r.rc != 0, bad
        assert "refresh_reuse_grace" in r.err, r.err
    r = srv.cli("client", "create", "--tenant", TENANT, "kiosk", "--type", "public",
                "--grant", "password", "--grant", "refresh_token", "--scope", "openid",
                "--scope", "offline_access")
    assert r.rc == 0, r.err
    assert r.out["refresh_reuse_grace"] == 0  # the default: reuse is fatal
    r = srv.cli("client", "update", "--tenant", TENANT, "kiosk", "--refresh-reuse-grace", "45")
    assert r.rc == 0, r.err
    assert r.out["refresh_reuse_grace"] == 45


def test_the_bootstrap_file_refuses_a_bad_window(make_server):
    s = make_server(start=False)
    for bad in (-1, 3601, "30", 2.5, True):
        doc = {"tenants": [people_tenant("t", users=(), clients=[
            mobile_client(refresh_reuse_grace=bad)])]}
        r = s.bootstrap(doc)
        assert r.rc != 0, bad
        assert "refresh_reuse_grace" in r.err, r.err


@pytest.fixture(scope="module")
def pg_pair(cluster, make_module_server):  # noqa: F811 (pytest's fixture)
    a = on_postgres(make_module_server, "grace-a", cluster.url)
    b = on_postgres(make_module_server, "grace-b", cluster.url, master_key=a.master_key)
    a.bootstrap_ok(DOC)
    a.start()
    b.public_url = a.base
    b.start()
    return a, b


def test_parallel_presentations_leave_one_working_chain_on_postgres(pg_pair):
    parallel_rounds(list(pg_pair))


def test_a_retry_inside_the_window_at_the_other_server_on_postgres(pg_pair):
    a, b = pg_pair
    tok1 = sign_in(a)
    lost = refreshed(a, tok1["refresh_token"])
    tok2 = refreshed(b, tok1["refresh_token"])
    assert signed_in(a, tok2)
    assert_oauth_error(refresh(a, lost["refresh_token"]), 400, "invalid_grant")
    assert not active(b, lost["access_token"])
    tok3 = refreshed(a, tok2["refresh_token"])
    assert_oauth_error(refresh(b, tok1["refresh_token"]), 400, "invalid_grant")
    assert_dead(a, tok3)


def test_a_retry_racing_the_use_of_its_successor_on_postgres(pg_pair):
    retry_racing_use(list(pg_pair))
