"""The token vault with Shopee Open Platform v2, against the
strict double tests/e2e/shopee_sim.py: the signed auth_partner link, the
callback with shop_id or main_account_id, signed common parameters that
the simulator accepts on its shop and merchant APIs, refresh with
rotation (every refresh token used once), a refusal that makes the
connection needs_reauth, and an outage ridden out with backoff.
Signatures are checked here with hmac/hashlib from the documented base
strings."""
import hashlib
import hmac
import time
import urllib.parse

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S, wait_until
from people_helpers import Browser, assert_error_page, query_of
from vault_helpers import (ACME, PARTNER_ID, PARTNER_KEY, ShopeeSim, VaultAPI, audit,
                           callback_uri, make_vault_server, metric, wait_status)

AUTH = "/api/v2/shop/auth_partner"
SHOP_INFO = "/api/v2/shop/get_shop_info"
MERCHANT_INFO = "/api/v2/merchant/get_merchant_info"


def sign(path, ts, access_token="", ident=""):
    base = "%d%s%d%s%s" % (PARTNER_ID, path, ts, access_token, ident)
    return hmac.new(PARTNER_KEY.encode(), base.encode(), hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def sim():
    s = ShopeeSim()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.control(reset=True)


@pytest.fixture(scope="module")
def srv(make_module_server, sim):
    return make_vault_server(
        make_module_server,
        providers=[{"name": "shopee", "profile": "shopee", "partner_id": PARTNER_ID,
                    "partner_key": PARTNER_KEY, "base_url": sim.base}],
        # Warn when a Shopee authorization has less than 31 days left: so
        # every fresh 30-day refresh token is announced (see the rotation test).
        env={"TESSERA_VAULT_BACKOFF_MS": "1000", "TESSERA_VAULT_BACKOFF_MAX_MS": "2000",
             "TESSERA_VAULT_WARN_S": str(31 * 86400)})


@pytest.fixture(scope="module")
def api(srv):
    return VaultAPI(srv)


def connect_shop(srv, api, name):
    r = api.create("shopee", name)
    assert r.status_code in (200, 201), r.text
    body = r.json()
    resp = Browser(srv).open(body["authorization_url"])
    assert resp.status_code == 200 and "Connected" in resp.text, (resp.status_code,
                                                                   resp.text[:500])
    return body["id"], body["authorization_url"]


def call(sim, path, params):
    r = sim.call(path, params)
    assert r.status_code == 200 and r.json()["error"] == "", r.text
    return r.json()


def test_the_authorization_link_is_signed_and_keeps_the_state(srv, api, sim):
    r = api.create("shopee", "link")
    assert r.status_code == 201, r.text
    url = r.json()["authorization_url"]
    assert url.startswith(sim.base + AUTH + "?"), url
    q = query_of(url)
    ts = int(q["timestamp"])
    assert abs(ts - time.time()) < 60
    assert int(q["partner_id"]) == PARTNER_ID
    assert q["sign"] == sign(AUTH, ts)
    redirect = q["redirect"]
    assert redirect.startswith(callback_uri(srv) + "?state="), redirect
    assert len(query_of(redirect)["state"]) == 43


def test_connect_a_shop_and_call_its_api_with_signed_parameters(srv, api, sim):
    cid, _ = connect_shop(srv, api, "shop")
    st = api.status(cid)
    assert st["status"] in ("active", "refreshing") and st["metadata"]["shop_id"] == "100001", st
    assert sim.stats()["token_get_body"]["shop_id"] == 100001
    assert 14000 < st["expires_at"] - time.time() <= 14400
    assert st["refresh_expires_at"] - time.time() > 29 * 86400
    r = api.sign(cid, path=SHOP_INFO)
    assert r.status_code == 200, r.text
    p = r.json()
    assert set(p) == {"partner_id", "timestamp", "sign", "access_token", "shop_id"}, p
    assert p["partner_id"] == PARTNER_ID and p["shop_id"] == 100001
    assert p["sign"] == sign(SHOP_INFO, p["timestamp"], p["access_token"], "100001")
    assert call(sim, SHOP_INFO, p)["shop_name"] == "Sim Shop 100001"
    # The token endpoint gives the same access token.
    assert api.access_token(cid)["access_token"] == p["access_token"]
    # A public API path is not signed: it would act for the partner, not the shop.
    r = api.sign(cid, path="/api/v2/public/get_shops_by_partner")
    assert r.status_code == 400, r.text
    # A shop the connection does not have is refused.
    r = api.sign(cid, path=SHOP_INFO, shop_id=999)
    assert r.status_code == 400, r.text
    r = api.sign(cid, path="no-slash")
    assert r.status_code == 400


def test_refresh_rotates_the_refresh_token_every_time(srv, api, sim):
    sim.control(expire_in=4)
    cid, _ = connect_shop(srv, api, "rotate")
    first = api.access_token(cid)["access_token"]
    wait_until(lambda: sim.stats()["refresh_ok"] >= 4, timeout=14)
    s = sim.stats()
    # Every refresh presented the newest refresh token: none was refused,
    # and the simulator holds exactly one live refresh token.
    assert s["refresh_ok"] >= 4 and s["refresh"] == s["refresh_ok"], s
    assert s["refresh_refused"] == 0 and s["live_refresh_tokens"] == 1, s
    assert s["refresh_body"]["shop_id"] == 100001 and s["refresh_body"]["partner_id"] == PARTNER_ID
    st = api.status(cid)
    assert st["status"] in ("active", "refreshing") and st["failures"] == 0, st
    p = api.sign(cid, path=SHOP_INFO).json()
    assert p["access_token"] != first
    assert call(sim, SHOP_INFO, p)["shop_name"] == "Sim Shop 100001"
    ev = [e for e in audit(srv, ACME, types={"vault.refreshed"}) if e["subject"] == cid]
    assert len(ev) >= 4 and all(e["detail"]["rotated"] for e in ev), ev
    # The authorization's end is announced (once per refresh token).
    warn = [e for e in audit(srv, ACME, types={"vault.authorization_expiring"})
            if e["subject"] == cid]
    assert warn and warn[0]["detail"]["expires_at"] > time.time() + 29 * 86400, warn
    assert len(warn) <= len(ev) + 1, (len(warn), len(ev))


def test_a_main_account_brings_its_shops_and_merchants(srv, api, sim):
    sim.control(main_account=True)
    cid, _ = connect_shop(srv, api, "main")
    st = api.status(cid)
    m = st["metadata"]
    assert m["main_account_id"] == "200001", m
    assert m["shop_id_list"] == ["100001", "100002"] and m["merchant_id_list"] == ["300001"], m
    assert sim.stats()["token_get_body"]["main_account_id"] == 200001
    # Merchant APIs are signed for the merchant, shop APIs for a shop.
    p = api.sign(cid, path=MERCHANT_INFO).json()
    assert p["merchant_id"] == 300001 and "shop_id" not in p, p
    assert p["sign"] == sign(MERCHANT_INFO, p["timestamp"], p["access_token"], "300001")
    assert call(sim, MERCHANT_INFO, p)["merchant_name"] == "Sim Merchant 300001"
    p = api.sign(cid, path=SHOP_INFO, shop_id="100002").json()
    assert p["shop_id"] == 100002
    assert call(sim, SHOP_INFO, p)["shop_name"] == "Sim Shop 100002"
    p = api.sign(cid, path=SHOP_INFO, merchant_id=300001).json()
    assert p["merchant_id"] == 300001
    r = api.sign(cid, path=SHOP_INFO, shop_id=100001, merchant_id=300001)
    assert r.status_code == 400


def test_a_refused_refresh_needs_reauthorization(srv, api, sim):
    sim.control(expire_in=4)
    cid, _ = connect_shop(srv, api, "refused")
    sim.control(refuse_refresh="error_shop_refresh_token")
    st = wait_status(api, cid, "needs_reauth", timeout=10)
    assert "error_shop_refresh_token" not in st["last_error"], st
    assert "error_shop_refresh_token" in api.admin_status(cid)["last_error"]
    r = api.sign(cid, path=SHOP_INFO)
    assert r.status_code == 409 and r.json()["error"] == "needs_reauth", r.text
    assert metric(srv, "tessera_vault_refreshes_total", tenant=ACME, result="needs_reauth") >= 1
    # Authorizing again restores it.
    sim.control(refuse_refresh=False, expire_in=14400)
    again, _ = connect_shop(srv, api, "refused")
    assert again == cid and api.status(cid)["status"] in ("active", "refreshing")


def test_an_outage_is_retried_with_backoff_and_ridden_out(srv, api, sim):
    sim.control(expire_in=4)
    cid, _ = connect_shop(srv, api, "outage")
    sim.control(down=True)
    wait_until(lambda: api.status(cid)["failures"] >= 3, timeout=12)
    st = api.status(cid)
    assert st["status"] in ("active", "refreshing") and "503" not in st["last_error"], st
    assert "503" in api.admin_status(cid)["last_error"]
    sim.control(down=False)
    wait_until(lambda: api.status(cid)["failures"] == 0, timeout=8)
    st = api.status(cid)
    assert st["failures"] == 0 and st["expires_at"] > time.time(), st
    p = api.sign(cid, path=SHOP_INFO).json()
    call(sim, SHOP_INFO, p)


def test_a_callback_without_shop_or_account_is_refused(srv, api, sim):
    r = api.create("shopee", "incomplete")
    cid = r.json()["id"]
    state = query_of(query_of(r.json()["authorization_url"])["redirect"])["state"]
    resp = requests.get(callback_uri(srv), params={"state": state, "code": "abc"},
                        timeout=HTTP_TIMEOUT_S)
    assert_error_page(resp, 400)
    assert api.status(cid)["status"] == "pending"
    # A code Shopee does not know is refused by Shopee: nothing stored.
    r = api.create("shopee", "incomplete")
    state = query_of(query_of(r.json()["authorization_url"])["redirect"])["state"]
    resp = requests.get(callback_uri(srv), params={"state": state, "code": "abc",
                                                   "shop_id": "100001"},
                        timeout=HTTP_TIMEOUT_S)
    assert resp.status_code == 400 and "refused" in resp.text
    assert api.status(cid)["status"] == "pending"
    assert urllib.parse.urlsplit(resp.url).path.endswith("/connect/callback")
