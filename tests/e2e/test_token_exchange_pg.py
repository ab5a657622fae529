"""Token exchange (RFC 8693) on PostgreSQL: the person's own connection is
found by the PostgreSQL store (a person's token from the vault, never
another person's), and a narrower Tessera token is issued, on a private
cluster (tests/pg/cluster.sh, as tests/e2e/test_postgres.py runs it)."""
import pytest

from e2e_util import assert_oauth_error
from test_postgres import cluster  # noqa: F401  (the module's PostgreSQL cluster fixture)
from test_token_exchange import (AT, ORDERS, SCOPES, exchange, people_clients, person_token,
                                 user_api, vault_exchange, verified_claims)
from vault_helpers import (ALICE, BOB, UP, VAULT_ENV, acme_tenant, connect, me,
                           oauth2_provider, upstream_tenant)


@pytest.fixture(scope="module")
def pg_srv(cluster, make_module_server):  # noqa: F811
    s = make_module_server(start=False, name="exchange-pg",
                           env=dict(VAULT_ENV, TESSERA_DB=cluster.url))
    s.db = cluster.url
    acme = acme_tenant([oauth2_provider(s)], scopes=SCOPES)
    acme["clients"] = acme["clients"] + people_clients()
    s.bootstrap_ok({"tenants": [upstream_tenant(s, 3600), acme]})
    s.start()
    return s


def test_exchanges_on_postgres(pg_srv):
    alice_api = user_api(pg_srv, ALICE)
    cid, _ = connect(pg_srv, alice_api, provider="crm", name="alice-crm", person=ALICE)
    alice = person_token(pg_srv, ALICE)
    r = vault_exchange(pg_srv, alice, "crm")
    assert r.status_code == 200, r.text
    assert r.json()["issued_token_type"] == AT
    assert r.json()["access_token"] == alice_api.access_token(cid)["access_token"]
    assert me(pg_srv, UP, r.json()["access_token"]).status_code == 200
    assert_oauth_error(vault_exchange(pg_srv, person_token(pg_srv, BOB), "crm"), 400,
                       "invalid_target")
    r = exchange(pg_srv, alice, audience=ORDERS, scope="orders:read")
    assert r.status_code == 200, r.text
    c = verified_claims(pg_srv, r.json()["access_token"])
    assert c["act"] == {"sub": "gateway"} and c["aud"] == ORDERS and c["client_id"] == "gateway"
    assert c["sub"] == verified_claims(pg_srv, alice)["sub"]
