"""Tests of the Shopee double (shopee_sim.py) itself, before Tessera's vault
tests rely on it. Signatures are computed here with Python's hmac/hashlib
from Shopee's documented base strings; nothing of Tessera is involved.
Standard library only; the whole module runs in well under 5 s."""
import hashlib
import hmac
import http.client
import json
import pathlib
import signal
import subprocess
import sys
import time
import urllib.parse

import pytest

SIM = pathlib.Path(__file__).with_name("shopee_sim.py")
PID = 2001887
KEY = "sim-partner-key-0123456789abcdef"
SHOP = 100001
MAIN = 200001
SHOPS = [100001, 100002]
MERCHANTS = [300001]
REDIRECT = "http://127.0.0.1:9/t/acme/connect/callback?state=xyz"

AUTH = "/api/v2/shop/auth_partner"
TOKEN = "/api/v2/auth/token/get"
REFRESH = "/api/v2/auth/access_token/get"
SHOP_INFO = "/api/v2/shop/get_shop_info"
MERCHANT_INFO = "/api/v2/merchant/get_merchant_info"


@pytest.fixture(scope="module")
def sim():
    proc = subprocess.Popen([sys.executable, str(SIM), str(PID), KEY, "--shop-id", str(SHOP),
                             "--main-account-id", str(MAIN),
                             "--shop-id-list", ",".join(map(str, SHOPS)),
                             "--merchant-id-list", ",".join(map(str, MERCHANTS))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield Sim(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert rc == 0, "the simulator must exit 0 on SIGTERM"


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.control(reset=True)


def sign(path, ts, access_token="", ident="", key=KEY, pid=PID):
    base = "%d%s%d%s%s" % (pid, path, ts, access_token, ident)
    return hmac.new(key.encode(), base.encode(), hashlib.sha256).hexdigest()


class Sim:
    def __init__(self, port):
        self.port = port

    def request(self, method, target, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        hdrs = dict(headers or {})
        raw = None
        if body is not None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        c.request(method, target, body=raw, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        c.close()
        doc = json.loads(data) if data else None
        return r.status, r.getheader("Location"), doc

    def control(self, **knobs):
        st, _, doc = self.request("POST", "/__control", knobs)
        assert st == 200, doc
        return doc

    def stats(self):
        return self.request("GET", "/__stats")[2]

    # ---- Shopee calls, signed as a client would ----

    def authorize(self, redirect=REDIRECT, ts=None, sig=None):
        ts = ts or int(time.time())
        q = {"partner_id": PID, "timestamp": ts, "sign": sig or sign(AUTH, ts),
             "redirect": redirect}
        return self.request("GET", AUTH + "?" + urllib.parse.urlencode(q))

    def code(self, **kw):
        st, loc, doc = self.authorize(**kw)
        assert st == 302, doc
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))

    def public_post(self, path, body, ts=None, sig=None):
        ts = ts or int(time.time())
        q = "partner_id=%d&timestamp=%d&sign=%s" % (PID, ts, sig or sign(path, ts))
        return self.request("POST", path + "?" + q, body)

    def token(self, code, **ids):
        return self.public_post(TOKEN, dict(code=code, partner_id=PID, **ids))

    def refresh(self, rt, **ids):
        return self.public_post(REFRESH, dict(refresh_token=rt, partner_id=PID, **ids))

    def shop_api(self, at, shop_id, path=SHOP_INFO, ts=None, sig=None):
        ts = ts or int(time.time())
        q = {"partner_id": PID, "timestamp": ts, "access_token": at, "shop_id": shop_id,
             "sign": sig or sign(path, ts, at, shop_id)}
        return self.request("GET", path + "?" + urllib.parse.urlencode(q))

    def merchant_api(self, at, merchant_id, ts=None, sig=None):
        ts = ts or int(time.time())
        q = {"partner_id": PID, "timestamp": ts, "access_token": at,
             "merchant_id": merchant_id,
             "sign": sig or sign(MERCHANT_INFO, ts, at, merchant_id)}
        return self.request("GET", MERCHANT_INFO + "?" + urllib.parse.urlencode(q))

    def shop_tokens(self):
        st, _, doc = self.token(self.code()["code"], shop_id=SHOP)
        assert st == 200, doc
        return doc


def assert_error(resp, status, error, message=None):
    st, _, doc = resp
    assert st == status, doc
    assert doc["error"] == error, doc
    if message is not None:
        assert doc["message"] == message
    assert doc["request_id"]


# ---- authorization link ----

def test_redirect_keeps_existing_query(sim):
    st, loc, _ = sim.authorize()
    assert st == 302
    base, _, query = loc.partition("?")
    assert base == "http://127.0.0.1:9/t/acme/connect/callback"
    params = urllib.parse.parse_qsl(query)
    assert [k for k, _ in params] == ["state", "code", "shop_id"]
    assert params[0] == ("state", "xyz")
    assert len(params[1][1]) >= 16
    assert params[2] == ("shop_id", str(SHOP))


def test_redirect_without_query_and_with_fragment(sim):
    loc = sim.authorize(redirect="https://app.example/cb")[1]
    assert loc.startswith("https://app.example/cb?code=")
    loc = sim.authorize(redirect="https://app.example/cb?a=1#frag")[1]
    assert loc.startswith("https://app.example/cb?a=1&code=")
    assert loc.endswith("&shop_id=%d#frag" % SHOP)


def test_bad_signatures_and_timestamps(sim):
    now = int(time.time())
    assert_error(sim.authorize(sig="0" * 64), 403, "error_sign", "Wrong sign.")
    # Signed over another path, or with another key: still wrong.
    assert_error(sim.authorize(sig=sign(TOKEN, now)), 403, "error_sign")
    assert_error(sim.authorize(sig=sign(AUTH, now, key="other")), 403, "error_sign")
    # Uppercase hex is not Shopee's format.
    assert_error(sim.authorize(sig=sign(AUTH, now).upper()), 403, "error_sign")
    # More than 5 minutes away, either way; the signature itself is right
    # (half a minute beyond, so that a slow run's clock cannot bring it in).
    for ts in (now - 330, now + 330):
        assert_error(sim.authorize(ts=ts, sig=sign(AUTH, ts)), 400, "error_param",
                     "Invalid timestamp")
    st, _, _ = sim.authorize(ts=now - 240, sig=sign(AUTH, now - 240))
    assert st == 302
    assert_error(sim.request("GET", AUTH + "?partner_id=%d&timestamp=%d" % (PID, now)), 400,
                 "error_param", "There is no sign in query.")
    assert_error(sim.request("GET", AUTH + "?timestamp=%d&sign=x" % now), 400, "error_param",
                 "There is no partner_id in query.")
    assert_error(sim.request("GET", AUTH + "?partner_id=%d&sign=x" % PID), 400, "error_param",
                 "no timestamp")
    assert_error(sim.request("GET", AUTH + "?partner_id=1&timestamp=%d&sign=x" % now), 400,
                 "error_param", "Invalid partner_id.")
    s = sign(AUTH, now)
    assert_error(sim.request("GET", AUTH + "?partner_id=%d&partner_id=%d&timestamp=%d&sign=%s"
                             % (PID, PID, now, s)), 400, "error_param")
    stats = sim.stats()
    assert stats["signature_failures"] == 5
    assert stats["timestamp_failures"] == 3


# ---- token/get ----

def test_token_get_shop_and_code_single_use(sim):
    code = sim.code()["code"]
    # A wrong shop does not burn the code.
    assert_error(sim.token(code, shop_id=SHOP + 1), 403, "invalid_shop_id")
    st, _, doc = sim.token(code, shop_id=SHOP)
    assert st == 200, doc
    assert doc["error"] == "" and doc["message"] == "" and doc["request_id"]
    assert doc["expire_in"] == 14400
    assert doc["access_token"] and doc["refresh_token"]
    assert "shop_id_list" not in doc and "merchant_id_list" not in doc
    assert_error(sim.token(code, shop_id=SHOP), 403, "invalid_code",
                 "The code is expired or used or invalid")
    assert sim.stats()["token_get_body"] == {"code": code, "partner_id": PID, "shop_id": SHOP}


def test_token_get_is_strict_about_its_body(sim):
    code = sim.code()["code"]
    # ids are int64 JSON numbers, not strings; exactly one identity.
    assert_error(sim.public_post(TOKEN, {"code": code, "partner_id": str(PID), "shop_id": SHOP}),
                 400, "error_param")
    assert_error(sim.public_post(TOKEN, {"code": code, "partner_id": PID, "shop_id": str(SHOP)}),
                 400, "error_param")
    assert_error(sim.public_post(TOKEN, {"code": code, "partner_id": PID}), 400, "error_param")
    assert_error(sim.token(code, shop_id=SHOP, main_account_id=MAIN), 400, "error_param")
    assert_error(sim.request("POST", TOKEN + "?partner_id=%d" % PID, b"not json",
                             {"Content-Type": "application/json"}), 400, "error_param")
    # The token endpoint is a public API: signed over its own path only.
    ts = int(time.time())
    assert_error(sim.public_post(TOKEN, {"code": code, "partner_id": PID, "shop_id": SHOP},
                                 sig=sign(REFRESH, ts), ts=ts), 403, "error_sign")
    st, _, _ = sim.token(code, shop_id=SHOP)
    assert st == 200


def test_code_expires_after_ten_minutes(sim):
    code = sim.code()["code"]
    sim.control(clock_offset=601)
    ts = int(time.time()) + 601
    assert_error(sim.public_post(TOKEN, {"code": code, "partner_id": PID, "shop_id": SHOP},
                                 ts=ts), 403, "invalid_code")


# ---- refresh ----

def test_refresh_rotates(sim):
    first = sim.shop_tokens()
    st, _, second = sim.refresh(first["refresh_token"], shop_id=SHOP)
    assert st == 200, second
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["partner_id"] == PID and second["shop_id"] == SHOP
    assert second["expire_in"] == 14400
    # The old refresh token is dead at once.
    assert_error(sim.refresh(first["refresh_token"], shop_id=SHOP), 403,
                 "error_shop_refresh_token")
    st, _, third = sim.refresh(second["refresh_token"], shop_id=SHOP)
    assert st == 200, third
    # Another shop cannot use this shop's refresh token.
    assert_error(sim.refresh(third["refresh_token"], shop_id=SHOP + 1), 403,
                 "error_shop_refresh_token")
    assert sim.stats()["refresh_body"] == {"refresh_token": third["refresh_token"],
                                           "partner_id": PID, "shop_id": SHOP + 1}
    # The old access token keeps working for 5 minutes, not longer.
    assert sim.shop_api(first["access_token"], SHOP)[0] == 200
    sim.control(clock_offset=301)
    ts = int(time.time()) + 301
    assert_error(sim.shop_api(first["access_token"], SHOP, ts=ts), 403, "invalid_acceess_token")
    assert sim.shop_api(third["access_token"], SHOP, ts=ts)[0] == 200
    stats = sim.stats()
    assert stats["refresh"] == 4 and stats["refresh_ok"] == 2


def test_refresh_refused_and_down(sim):
    tokens = sim.shop_tokens()
    sim.control(refuse_refresh=True)
    assert_error(sim.refresh(tokens["refresh_token"], shop_id=SHOP), 403, "error_auth",
                 "Invalid refresh_token.")
    sim.control(refuse_refresh="refresh_token_expired")
    assert_error(sim.refresh(tokens["refresh_token"], shop_id=SHOP), 403,
                 "refresh_token_expired")
    sim.control(refuse_refresh=False, down=True)
    assert_error(sim.refresh(tokens["refresh_token"], shop_id=SHOP), 503, "error_server")
    sim.control(down=False)
    # Refusals did not spend the token.
    assert sim.refresh(tokens["refresh_token"], shop_id=SHOP)[0] == 200
    stats = sim.stats()
    assert stats["refresh_refused"] == 2 and stats["down_answers"] == 1
    # error_status forces the HTTP status of error answers (Shopee has used 200).
    sim.control(error_status=200)
    assert_error(sim.refresh("nope", shop_id=SHOP), 200, "error_shop_refresh_token")


def test_expire_in_knob_is_enforced(sim):
    sim.control(expire_in=5)
    tokens = sim.shop_tokens()
    assert tokens["expire_in"] == 5
    assert sim.shop_api(tokens["access_token"], SHOP)[0] == 200
    sim.control(clock_offset=6)
    assert_error(sim.shop_api(tokens["access_token"], SHOP, ts=int(time.time()) + 6), 403,
                 "invalid_acceess_token", "Invalid access_token.")


# ---- shop and merchant APIs ----

def test_shop_api_signature(sim):
    at = sim.shop_tokens()["access_token"]
    st, _, doc = sim.shop_api(at, SHOP)
    assert st == 200 and doc["error"] == "" and doc["shop_name"]
    ts = int(time.time())
    # A public-level signature is not enough for a shop API.
    assert_error(sim.shop_api(at, SHOP, ts=ts, sig=sign(SHOP_INFO, ts)), 403, "error_sign")
    # Merchant ids are not shop ids.
    assert_error(sim.shop_api(at, SHOP + 1), 403, "invalid_acceess_token")
    assert_error(sim.shop_api("0" * 32, SHOP), 403, "invalid_acceess_token")
    q = "partner_id=%d&timestamp=%d&shop_id=%d&sign=x" % (PID, ts, SHOP)
    assert_error(sim.request("GET", SHOP_INFO + "?" + q), 400, "error_param",
                 "There is no access_token in query.")
    assert sim.stats()["shop_api"] == 5


# ---- main accounts ----

def test_main_account_flow(sim):
    sim.control(main_account=True)
    params = sim.code()
    assert params["main_account_id"] == str(MAIN) and "shop_id" not in params
    assert_error(sim.token(params["code"], shop_id=SHOP), 403, "invalid_shop_id")
    st, _, doc = sim.token(params["code"], main_account_id=MAIN)
    assert st == 200, doc
    assert doc["shop_id_list"] == SHOPS and doc["merchant_id_list"] == MERCHANTS
    at, rt = doc["access_token"], doc["refresh_token"]
    # The initial pair is shared by every shop and merchant.
    assert sim.shop_api(at, SHOPS[1])[0] == 200
    st, _, m = sim.merchant_api(at, MERCHANTS[0])
    assert st == 200 and m["merchant_region"] == "CN"
    ts = int(time.time())
    assert_error(sim.merchant_api(at, MERCHANTS[0], ts=ts,
                                  sig=sign(MERCHANT_INFO, ts, at, SHOPS[0])), 403, "error_sign")
    # Guide 20's fan-out: the initial refresh token once per shop and merchant.
    st, _, s0 = sim.refresh(rt, shop_id=SHOPS[0])
    assert st == 200 and s0["shop_id"] == SHOPS[0]
    st, _, m0 = sim.refresh(rt, merchant_id=MERCHANTS[0])
    assert st == 200 and m0["merchant_id"] == MERCHANTS[0]
    assert_error(sim.refresh(rt, shop_id=SHOPS[0]), 403, "error_shop_refresh_token")
    assert_error(sim.refresh(rt, merchant_id=MERCHANTS[0]), 403,
                 "error_merchant_refresh_token")
    # Each subject now has its own pair.
    assert sim.merchant_api(m0["access_token"], MERCHANTS[0])[0] == 200
    assert_error(sim.merchant_api(s0["access_token"], MERCHANTS[0]), 403,
                 "invalid_acceess_token")
    assert sim.refresh(rt, shop_id=SHOPS[1])[0] == 200
    assert sim.stats()["live_refresh_tokens"] == 3


def test_control_rejects_unknown_knobs(sim):
    st, _, doc = sim.request("POST", "/__control", {"expires_in": 5})
    assert st == 400 and "unknown knob" in doc["error"]
    st, _, doc = sim.request("POST", "/__control", {"expire_in": "5"})
    assert st == 400
    assert sim.request("GET", "/api/v2/nothing")[0] == 404
    assert sim.request("GET", TOKEN)[0] == 404
