"""Signing-key rotation as a relying party sees it (rotation
publishes the next key before it signs, and keeps the old one in JWKS until
every token it signed has expired)."""
import threading

import pytest
import requests

from e2e_util import (HTTP_TIMEOUT_S, RELOAD_BUDGET_S, SECRET, discovery, fetch_jwks, fetch_token,
                      introspect, jose_header, verify_access_token, wait_until)

DOC = {"tenants": [
    {"name": "rot", "clients": [{"client_id": "svc", "secret": SECRET}]},
    {"name": "rsa", "access_token_alg": "RS256", "clients": [{"client_id": "svc", "secret": SECRET}]},
    {"name": "again", "clients": [{"client_id": "svc", "secret": SECRET}]},
    {"name": "order", "clients": [{"client_id": "svc", "secret": SECRET}]},
]}
ROTATIONS = 16
# The server normally picks up changes every 200 ms in these tests; the
# rotation test looks at configurations a rotation passes through, so its
# server reloads as often as it can.
FAST_RELOAD = {"TESSERA_RELOAD_INTERVAL_MS": "2"}


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(DOC)


def keys_by_state(srv, tenant, alg):
    r = srv.cli("keys", "list", "--tenant", tenant, "--alg", alg)
    assert r.rc == 0, r.err
    states = {}
    for k in r.out["keys"]:
        assert k["alg"] == alg
        states.setdefault(k["state"], []).append(k["kid"])
    return states


def verify(srv, tenant, token, keyset, alg):
    return verify_access_token(token, keyset, issuer=srv.issuer(tenant), client_id="svc",
                               audience=srv.issuer(tenant), alg=alg)


def kid_becomes(srv, tenant, kid):
    def probe():
        tok = fetch_token(srv, tenant, "svc")["access_token"]
        return tok if jose_header(tok)["kid"] == kid else None
    tok, elapsed = wait_until(probe, timeout=RELOAD_BUDGET_S + 1)
    assert tok, "tokens are not signed with %s after %.1f s" % (kid, elapsed)
    assert elapsed <= RELOAD_BUDGET_S, "took %.2f s" % elapsed
    return tok


def test_each_algorithm_has_one_current_and_one_next_key(srv):
    for tenant, alg in (("rot", "ES256"), ("rot", "EdDSA"), ("rsa", "RS256")):
        states = keys_by_state(srv, tenant, alg)
        assert len(states.get("current", [])) == 1, states
        assert len(states.get("next", [])) == 1, states
    # RSA keys exist only where something signs with RS256: "rot" signs
    # access tokens with ES256 and has no client that people sign in to.
    assert keys_by_state(srv, "rot", "RS256") == {}


def test_the_next_key_is_published_before_it_signs(srv):
    states = keys_by_state(srv, "rot", "ES256")
    keyset = fetch_jwks(srv, "rot")
    assert keyset.get_key(states["current"][0]) is not None
    assert keyset.get_key(states["next"][0]) is not None
    tok = fetch_token(srv, "rot", "svc")["access_token"]
    assert jose_header(tok)["kid"] == states["current"][0]


def test_rotation_is_seen_by_a_verifier(srv):
    before = keys_by_state(srv, "rot", "ES256")
    old_kid, next_kid = before["current"][0], before["next"][0]
    cached = fetch_jwks(srv, "rot")  # what a resource server holds before the rotation
    old_token = fetch_token(srv, "rot", "svc")["access_token"]
    assert jose_header(old_token)["kid"] == old_kid

    # --force: the tenant's next key was published moments ago
    r = srv.cli("keys", "rotate", "--tenant", "rot", "--alg", "ES256", "--force")
    assert r.rc == 0, r.err
    after = keys_by_state(srv, "rot", "ES256")
    assert after["current"] == [next_kid]
    assert old_kid in after.get("retired", [])
    assert len(after["next"]) == 1 and after["next"][0] not in (old_kid, next_kid)

    new_token = kid_becomes(srv, "rot", next_kid)
    # the key set cached before the rotation already verifies the new tokens
    verify(srv, "rot", new_token, cached, "ES256")
    # the new key set still verifies tokens signed before the rotation, and
    # already publishes the following key
    fresh = fetch_jwks(srv, "rot")
    verify(srv, "rot", old_token, fresh, "ES256")
    verify(srv, "rot", new_token, fresh, "ES256")
    assert fresh.get_key(after["next"][0]) is not None
    for tok in (old_token, new_token):
        assert introspect(srv, "rot", tok, "svc").json()["active"] is True


def test_rotating_every_algorithm_moves_the_access_token_key(srv):
    before = {alg: keys_by_state(srv, "rsa", alg) for alg in ("ES256", "RS256", "EdDSA")}
    old_token = fetch_token(srv, "rsa", "svc")["access_token"]
    assert jose_header(old_token)["kid"] == before["RS256"]["current"][0]
    r = srv.cli("keys", "rotate", "--tenant", "rsa", "--force")
    assert r.rc == 0, r.err
    for alg, states in before.items():
        after = keys_by_state(srv, "rsa", alg)
        assert after["current"] == states["next"], (alg, states, after)
        assert states["current"][0] in after["retired"], (alg, after)
    new_token = kid_becomes(srv, "rsa", before["RS256"]["next"][0])
    fresh = fetch_jwks(srv, "rsa")
    verify(srv, "rsa", old_token, fresh, "RS256")
    verify(srv, "rsa", new_token, fresh, "RS256")


def test_tokens_keep_coming_while_keys_rotate(make_server):
    """A rotation is several writes and the server may reload between any two
    of them: every configuration it loads must still have a key to sign with,
    and every token must stay verifiable with the published keys."""
    srv = make_server({"tenants": [{"name": "flow", "clients": [
        {"client_id": "svc", "secret": SECRET}]}]}, env=FAST_RELOAD)
    failures, tokens = [], []
    stop = threading.Event()

    def hammer():
        with requests.Session() as s:
            while not stop.is_set():
                r = s.post(srv.endpoint("flow", "token"), data={"grant_type": "client_credentials"},
                           auth=("svc", SECRET), timeout=HTTP_TIMEOUT_S)
                if r.status_code == 200:
                    tokens.append(r.json()["access_token"])
                else:
                    failures.append((r.status_code, r.text))
    worker = threading.Thread(target=hammer)
    worker.start()
    try:
        for _ in range(ROTATIONS):
            r = srv.cli("keys", "rotate", "--tenant", "flow", "--alg", "ES256", "--force")
            assert r.rc == 0, r.err
    finally:
        stop.set()
        worker.join()
    assert not failures, "%d token requests failed during rotations, e.g. %s" % (
        len(failures), failures[0])
    assert tokens
    keyset = fetch_jwks(srv, "flow")
    kids = {jose_header(t)["kid"] for t in tokens}
    assert all(keyset.get_key(k) is not None for k in kids), "a signing key left JWKS"
    for t in tokens[:: max(1, len(tokens) // 20)]:
        verify(srv, "flow", t, keyset, "ES256")


def test_rotating_an_algorithm_the_tenant_does_not_serve_fails(srv):
    before = srv.cli("keys", "list", "--tenant", "rot").out
    r = srv.cli("keys", "rotate", "--tenant", "rot", "--alg", "PS256")
    assert r.rc == 1, r
    assert "PS256" in r.err
    assert srv.cli("keys", "list", "--tenant", "rot").out == before


def test_rotating_keys_of_an_unknown_tenant_fails(srv):
    r = srv.cli("keys", "rotate", "--tenant", "nosuch")
    assert r.rc == 1 and "nosuch" in r.err


def test_a_rotation_right_after_another_warns_unless_forced(srv):
    """A next key published moments ago may be missing from a verifier's
    cached JWKS: a rotation by hand promotes it all the same (the operator
    asked) and says so on stderr; --force says nothing."""
    r = srv.cli("keys", "rotate", "--tenant", "again", "--alg", "ES256", "--force")
    assert r.rc == 0 and "warning" not in r.err, r.err
    before = keys_by_state(srv, "again", "ES256")
    r = srv.cli("keys", "rotate", "--tenant", "again", "--alg", "ES256")
    assert r.rc == 0, r.err
    assert "warning" in r.err and "published" in r.err and "--force" in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1, r.err
    after = keys_by_state(srv, "again", "ES256")
    assert len(after["current"]) == 1 and len(after["next"]) == 1
    assert after["current"] == before["next"] and after["current"] != before["current"]


def test_force_belongs_to_rotate_alone(srv):
    r = srv.cli("keys", "list", "--tenant", "again", "--force")
    assert r.rc == 2, r


def test_jwks_lists_signing_keys_first_then_next_then_retired_newest_first(srv):
    """A verifier that keeps only the first keys of a long key set (libtessera
    keeps 64) keeps the keys that sign and will sign."""
    for _ in range(3):
        r = srv.cli("keys", "rotate", "--tenant", "order", "--force")
        assert r.rc == 0, r.err
    keys = srv.cli("keys", "list", "--tenant", "order").out["keys"]
    rank = {"current": 0, "next": 1, "retired": 2}
    uri = discovery(srv, "order")["jwks_uri"]

    def served():
        r = requests.get(uri, timeout=HTTP_TIMEOUT_S)
        got = [k["kid"] for k in r.json()["keys"]]
        return got if set(got) == {k["kid"] for k in keys} else None
    got, _ = wait_until(served, timeout=5, interval=0.1)
    assert got, "JWKS did not show the rotations"
    states = [next(k["state"] for k in keys if k["kid"] == kid) for kid in got]
    assert states == sorted(states, key=rank.get), states
    retired = [kid for kid, st in zip(got, states) if st == "retired"]
    by_kid = {k["kid"]: k for k in keys}
    newest_first = [(by_kid[k]["retired_at"], by_kid[k]["created_at"]) for k in retired]
    assert newest_first == sorted(newest_first, reverse=True), newest_first
    assert len(retired) == 3 * 2
