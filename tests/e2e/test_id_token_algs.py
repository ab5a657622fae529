"""ID tokens in the algorithm a client registered (id_token_signed_response_alg):
RS256 by default, ES256, EdDSA and PS256 on request. A tenant gets keys for
an algorithm when a client that needs it is stored, so every algorithm that
discovery lists for ID tokens is one a client gets signatures in, published
in the tenant's JWKS. Clients are independent libraries: requests and
jwcrypto (signatures checked against the JWKS)."""
import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, fetch_jwks
from people_helpers import ALICE, mobile_client, password_grant, people_tenant, verify_id_token

ALGS = ["RS256", "ES256", "EdDSA", "PS256"]


def client_for(alg):
    over = {"client_id": "app-" + alg.lower(), "grant_types": ["password"]}
    if alg != "RS256":
        over["id_token_signed_response_alg"] = alg
    return mobile_client(**over)


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server({"tenants": [
        people_tenant("acme", users=(ALICE,), clients=[client_for(a) for a in ALGS])]})


@pytest.mark.parametrize("alg", ALGS)
def test_the_id_token_is_signed_in_the_clients_algorithm(srv, alg):
    r = password_grant(srv, "acme", ALICE["username"], ALICE["password"],
                       client_id=client_for(alg)["client_id"], scope="openid profile")
    assert r.status_code == 200, r.text
    body = r.json()
    verify_id_token(body["id_token"], fetch_jwks(srv, "acme"), issuer=srv.issuer("acme"),
                    client_id=client_for(alg)["client_id"], nonce=None,
                    access_token=body["access_token"], alg=alg)


def test_every_advertised_id_token_algorithm_has_a_published_key(srv):
    meta = requests.get(srv.issuer("acme") + "/.well-known/openid-configuration",
                        timeout=HTTP_TIMEOUT_S).json()
    published = {k["alg"] for k in fetch_jwks(srv, "acme").export(private_keys=False,
                                                                  as_dict=True)["keys"]}
    assert set(meta["id_token_signing_alg_values_supported"]) <= published, (meta, published)
