#!/usr/bin/env python3
"""A strict Shopee Open Platform v2 double for end-to-end tests.

Written from Shopee's public documentation (developer guide 16 "API calls",
guide 20 "Authorization and Authentication", the API reference pages
v2.public.get_access_token and v2.public.refresh_access_token and the common
error table), not from Tessera's code:

* sign = lowercase hex HMAC-SHA256 keyed with the partner key over
  partner_id + api_path + timestamp (public APIs, including the three auth
  endpoints), + access_token + shop_id (shop APIs) or + access_token +
  merchant_id (merchant APIs). Common parameters travel in the query string,
  a POST's request parameters in a JSON body. A timestamp more than 5 minutes
  away from now is refused.
* GET  /api/v2/shop/auth_partner?partner_id&timestamp&sign&redirect: instead
  of a seller login it redirects (302) straight to `redirect` with code and
  shop_id (or main_account_id) appended to its query, keeping what is there.
* POST /api/v2/auth/token/get {code, partner_id, shop_id | main_account_id}:
  a code is single use and lives 10 minutes. Main accounts also get
  shop_id_list and merchant_id_list, and one token pair shared by all of them.
* POST /api/v2/auth/access_token/get {refresh_token, partner_id, shop_id |
  merchant_id}: rotates: a new refresh token, the old one dead at once. The
  initial pair of a main account may be refreshed once per shop and merchant
  (guide 20's "fan-out"); the previous access token keeps working 5 minutes.
* GET /api/v2/shop/get_shop_info (shop-level sign) and
  GET /api/v2/merchant/get_merchant_info (merchant-level sign) as samples.

Errors are answered as Shopee does, as data: {"error", "message",
"request_id"} (error_sign "Wrong sign.", error_param "Invalid timestamp",
invalid_code, error_shop_refresh_token, invalid_acceess_token (sic), ...).
Callers must read the body whatever the HTTP status.

Test knobs: POST /__control with a JSON object (see KNOBS; "reset": true
restores everything), GET /__stats for counters and the last request bodies.

Usage: shopee_sim.py PARTNER_ID PARTNER_KEY [--port N] [--shop-id N]
       [--main-account-id N] [--shop-id-list 1,2] [--merchant-id-list 3]
Binds 127.0.0.1 and prints the port as the first line of stdout.
Python standard library only.
"""
import argparse
import hashlib
import hmac
import http.server
import json
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse

PATH_AUTH = "/api/v2/shop/auth_partner"
PATH_TOKEN = "/api/v2/auth/token/get"
PATH_REFRESH = "/api/v2/auth/access_token/get"
PATH_SHOP_INFO = "/api/v2/shop/get_shop_info"
PATH_MERCHANT_INFO = "/api/v2/merchant/get_merchant_info"

TIMESTAMP_WINDOW_S = 5 * 60          # guide 16: "within 5 minutes of a timestamp"
CODE_TTL_S = 10 * 60                 # guide 20: code "expires after 10 minutes"
ACCESS_TTL_S = 4 * 60 * 60           # 4 hours; expire_in 14400 in the samples
REFRESH_TTL_S = 30 * 24 * 60 * 60    # refresh_token: 30 days
OLD_ACCESS_GRACE_S = 5 * 60          # guide 20: the previous access_token lives 5 more minutes
MAX_BODY = 65536

# Knobs settable through POST /__control, with their defaults.
KNOBS = {
    "expire_in": ACCESS_TTL_S,      # seconds given (and enforced) for new access tokens
    "refuse_refresh": False,        # true, or an error code: refuse every refresh
    "down": False,                  # answer 503 to every Shopee endpoint
    "main_account": False,          # authorize as a main account
    "code_ttl": CODE_TTL_S,
    "refresh_ttl": REFRESH_TTL_S,
    "clock_offset": 0,              # seconds added to the simulator's clock
    "error_status": None,           # force this HTTP status on every error answer
    "refresh_delay": 0,             # seconds to wait before answering a refresh
}
COUNTERS = ("auth_partner", "token_get", "token_get_ok", "refresh", "refresh_ok",
            "refresh_refused", "signature_failures", "timestamp_failures", "param_failures",
            "shop_api", "merchant_api", "down_answers")

# Error messages as in Shopee's common and per-API error tables.
MSG = {
    "no_partner": "There is no partner_id in query.",
    "bad_partner": "Invalid partner_id.",
    "no_timestamp": "no timestamp",
    "bad_timestamp": "Invalid timestamp",
    "no_sign": "There is no sign in query.",
    "bad_sign": "Wrong sign.",
    "no_access_token": "There is no access_token in query.",
    "bad_access_token": "Invalid access_token.",
    "bad_code": "The code is expired or used or invalid",
    "bad_shop_refresh": "Your refresh token is error ,please check refresh token or shopid.",
    "bad_merchant_refresh":
        "Your refresh token is error,please check refresh token or merchant_id.",
    "refresh_expired": "Your refresh_token expired.",
    "refused_refresh": "Invalid refresh_token.",
    "server": "System error. Please try again later.",
}

# HTTP status per error code (everything else: 400). Shopee has also been
# seen answering some errors with 200, hence the error_status knob.
STATUS = {"error_sign": 403, "error_auth": 403, "invalid_acceess_token": 403,
          "invalid_code": 403, "invalid_shop_id": 403, "invalid_main_acount_id": 403,
          "error_shop_refresh_token": 403, "error_merchant_refresh_token": 403,
          "refresh_token_expired": 403, "error_server": 503, "error_not_found": 404}

DECIMAL = re.compile(r"[1-9][0-9]{0,18}\Z")


class ShopeeError(Exception):
    def __init__(self, error, message, counter=None):
        super().__init__(error)
        self.error, self.message, self.counter = error, message, counter


def parse_int(s):
    """A canonical positive decimal (no sign, no leading zero), else None."""
    if s is None or not DECIMAL.match(s) or int(s) > 2**63 - 1:
        return None
    return int(s)


def body_int(v):
    """A JSON integer (not a boolean, not a string), positive, int64."""
    return isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 2**63 - 1


def sign(key, partner_id, path, timestamp, access_token="", ident=""):
    base = "%s%s%s%s%s" % (partner_id, path, timestamp, access_token, ident)
    return hmac.new(key.encode(), base.encode(), hashlib.sha256).hexdigest()


def append_query(url, params):
    """url with params added to its query (& or ?), before any fragment."""
    head, sep, frag = url.partition("#")
    joiner = "&" if "?" in head else "?"
    if head.endswith("?") or head.endswith("&"):
        joiner = ""
    return head + joiner + urllib.parse.urlencode(params) + sep + frag


class State:
    """Everything the simulator knows, behind one lock: every check-and-update
    (a code's single use, a refresh token's rotation) is atomic."""

    def __init__(self, partner_id, partner_key, shop_id, main_account_id, shop_ids, merchant_ids):
        self.lock = threading.Lock()
        self.partner_id, self.partner_key = partner_id, partner_key
        self.defaults = {"shop_id": shop_id, "main_account_id": main_account_id,
                         "shop_id_list": list(shop_ids), "merchant_id_list": list(merchant_ids)}
        self.reset()

    def reset(self):
        self.knobs = dict(KNOBS)
        self.knobs.update(json.loads(json.dumps(self.defaults)))
        self.stats = {c: 0 for c in COUNTERS}
        self.last = {"token_get_body": None, "refresh_body": None}
        self.codes = {}     # code -> {"expires", "kind": "shop"|"main", "id"}
        self.access = {}    # access token -> {(kind, id): expires}
        self.refresh = {}   # refresh token -> {"expires", "subjects": set, "access"}

    def now(self):
        return time.time() + self.knobs["clock_offset"]

    def count(self, name):
        self.stats[name] += 1

    def control(self, doc):
        if not isinstance(doc, dict):
            raise ValueError("the control body must be a JSON object")
        if doc.get("reset"):
            self.reset()
        for k, v in doc.items():
            if k == "reset":
                continue
            if k not in self.knobs:
                raise ValueError("unknown knob %r" % k)
            if k in ("shop_id_list", "merchant_id_list"):
                if not isinstance(v, list) or not all(body_int(x) for x in v):
                    raise ValueError("%s must be a list of positive integers" % k)
            elif k in ("shop_id", "main_account_id", "expire_in", "code_ttl", "refresh_ttl"):
                if not body_int(v):
                    raise ValueError("%s must be a positive integer" % k)
            elif k in ("down", "main_account"):
                if not isinstance(v, bool):
                    raise ValueError("%s must be a boolean" % k)
            elif k == "refuse_refresh":
                if not isinstance(v, (bool, str)):
                    raise ValueError("refuse_refresh must be a boolean or an error code")
            elif k in ("clock_offset", "refresh_delay"):
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    raise ValueError("%s must be a number" % k)
            elif k == "error_status":
                if v is not None and (not body_int(v) or not 100 <= v <= 599):
                    raise ValueError("error_status must be an HTTP status or null")
            self.knobs[k] = v
        return dict(self.knobs)

    # ---- common parameters ----

    def check_common(self, q, path, level=None):
        """Checks partner_id, timestamp and sign in the query q (a dict of
        single values). level: None (public), "shop" or "merchant"; then the
        access_token and id are checked too and returned."""
        if "partner_id" not in q:
            raise ShopeeError("error_param", MSG["no_partner"], "param_failures")
        pid = parse_int(q["partner_id"])
        if pid is None or pid != self.partner_id:
            raise ShopeeError("error_param", MSG["bad_partner"], "param_failures")
        if "timestamp" not in q:
            raise ShopeeError("error_param", MSG["no_timestamp"], "timestamp_failures")
        ts = parse_int(q["timestamp"])
        if ts is None or abs(self.now() - ts) > TIMESTAMP_WINDOW_S:
            raise ShopeeError("error_param", MSG["bad_timestamp"], "timestamp_failures")
        at = ident = ""
        if level is not None:
            idname = "shop_id" if level == "shop" else "merchant_id"
            if not q.get("access_token"):
                raise ShopeeError("error_param", MSG["no_access_token"], "param_failures")
            if idname not in q:
                raise ShopeeError("error_param", "There is no %s in query." % idname,
                                  "param_failures")
            if parse_int(q[idname]) is None:
                raise ShopeeError("error_param", "Invalid %s." % idname, "param_failures")
            at, ident = q["access_token"], q[idname]
        if "sign" not in q:
            raise ShopeeError("error_param", MSG["no_sign"], "signature_failures")
        want = sign(self.partner_key, pid, path, ts, at, ident)
        if not hmac.compare_digest(want.encode(), q["sign"].encode("utf-8", "replace")):
            raise ShopeeError("error_sign", MSG["bad_sign"], "signature_failures")
        return at, (int(ident) if ident else None)

    # ---- tokens ----

    def new_pair(self, subjects, now):
        at, rt = secrets.token_hex(16), secrets.token_hex(16)
        expire_in = self.knobs["expire_in"]
        self.access[at] = {s: now + expire_in for s in subjects}
        self.refresh[rt] = {"expires": now + self.knobs["refresh_ttl"],
                            "subjects": set(subjects), "access": at}
        return at, rt, expire_in

    def access_ok(self, at, subject):
        exp = self.access.get(at, {}).get(subject)
        return exp is not None and self.now() < exp


def request_id():
    return secrets.token_hex(16)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "shopee-sim/1"
    state = None  # set in main()

    def log_message(self, fmt, *args):  # one short line per request, no query
        sys.stderr.write("shopee-sim: %s %s -> %s\n" % (self.command, self.path.split("?")[0],
                                                       args[1] if len(args) > 1 else "-"))

    # ---- plumbing ----

    def send_json(self, status, doc, headers=()):
        raw = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def send_error_doc(self, e):
        st = self.state
        if e.counter:
            st.count(e.counter)
        status = st.knobs["error_status"] or STATUS.get(e.error, 400)
        self.send_json(status, {"error": e.error, "message": e.message,
                                "request_id": request_id()})

    def query(self):
        """The query string as single values; a repeated name is an error."""
        raw = urllib.parse.urlsplit(self.path).query
        pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True, strict_parsing=False)
        q = {}
        for k, v in pairs:
            if k in q:
                raise ShopeeError("error_param",
                                  "Wrong parameters, detail: %s appears twice." % k,
                                  "param_failures")
            q[k] = v
        return q

    def read_raw_body(self):
        """The request body (POST only), read in full so that keep-alive stays
        in step; None when its length is missing or too large (the connection
        is then closed)."""
        if self.command != "POST":
            return b""
        n = self.headers.get("Content-Length")
        if n is None or not n.isdigit() or int(n) > MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(int(n))

    def json_body(self, raw):
        """A POST body: a JSON object sent as application/json (guide 16)."""
        if raw is None:
            raise ShopeeError("error_param", "Wrong parameters, detail: no request body.",
                              "param_failures")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ShopeeError("error_param",
                              "Wrong parameters, detail: Content-Type must be application/json.",
                              "param_failures")
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise ShopeeError("error_param", "Wrong parameters, detail: invalid json body.",
                              "param_failures")
        return doc

    def dispatch(self, routes):
        st = self.state
        raw = self.read_raw_body()
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path.startswith("/__"):
                return self.control(path, raw)
            fn = routes.get(path)
            if fn is None:
                raise ShopeeError("error_not_found", "Wrong path or method.")
            with st.lock:
                if st.knobs["down"]:
                    st.count("down_answers")
                    return self.send_json(503, {"error": "error_server", "message": MSG["server"],
                                                "request_id": request_id()})
            body = self.json_body(raw) if self.command == "POST" else None
            if path == PATH_REFRESH:
                with st.lock:
                    delay = st.knobs["refresh_delay"]
                if delay > 0:
                    time.sleep(delay)
            with st.lock:
                fn(self, self.query(), body)
        except ShopeeError as e:
            with st.lock:
                self.send_error_doc(e)

    def do_GET(self):
        self.dispatch({PATH_AUTH: Handler.auth_partner, PATH_SHOP_INFO: Handler.shop_info,
                       PATH_MERCHANT_INFO: Handler.merchant_info})

    def do_POST(self):
        self.dispatch({PATH_TOKEN: Handler.token_get, PATH_REFRESH: Handler.refresh})

    # ---- test knobs ----

    def control(self, path, raw):
        st = self.state
        if path == "/__stats" and self.command == "GET":
            with st.lock:
                doc = dict(st.stats)
                doc.update(st.last)
                doc["live_codes"] = len(st.codes)
                doc["live_refresh_tokens"] = len(st.refresh)
            return self.send_json(200, doc)
        if path == "/__control" and self.command == "POST":
            try:
                if raw is None:
                    raise ValueError("the control body needs a Content-Length")
                doc = json.loads(raw or b"{}")
                with st.lock:
                    knobs = st.control(doc)
            except ValueError as e:
                return self.send_json(400, {"error": str(e)})
            return self.send_json(200, knobs)
        return self.send_json(404, {"error": "no such control endpoint"})

    # ---- Shopee endpoints (called with the state lock held) ----

    def auth_partner(self, q, _body):
        st = self.state
        st.count("auth_partner")
        st.check_common(q, PATH_AUTH)
        redirect = q.get("redirect", "")
        parts = urllib.parse.urlsplit(redirect)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ShopeeError("error_param", "Wrong parameters, detail: invalid redirect.",
                              "param_failures")
        now = st.now()
        for c in [c for c, e in st.codes.items() if now >= e["expires"]]:
            del st.codes[c]
        code = secrets.token_hex(16)
        k = st.knobs
        if k["main_account"]:
            st.codes[code] = {"kind": "main", "id": k["main_account_id"]}
            extra = [("code", code), ("main_account_id", k["main_account_id"])]
        else:
            st.codes[code] = {"kind": "shop", "id": k["shop_id"]}
            extra = [("code", code), ("shop_id", k["shop_id"])]
        st.codes[code]["expires"] = now + k["code_ttl"]
        location = append_query(redirect, extra)
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def token_get(self, q, body):
        st = self.state
        st.count("token_get")
        st.last["token_get_body"] = body
        st.check_common(q, PATH_TOKEN)
        code = body.get("code")
        if not isinstance(code, str) or not code:
            raise ShopeeError("error_param", "Wrong parameters, detail: code is required.",
                              "param_failures")
        if not body_int(body.get("partner_id")) or body["partner_id"] != st.partner_id:
            raise ShopeeError("error_param", MSG["bad_partner"], "param_failures")
        has_shop, has_main = "shop_id" in body, "main_account_id" in body
        if has_shop == has_main:
            raise ShopeeError("error_param", "Wrong parameters, detail: exactly one of shop_id "
                              "and main_account_id is required.", "param_failures")
        idname = "shop_id" if has_shop else "main_account_id"
        if not body_int(body[idname]):
            raise ShopeeError("error_param",
                              "Wrong parameters, detail: %s should be int64." % idname,
                              "param_failures")
        now = st.now()
        entry = st.codes.get(code)
        if entry is None or now >= entry["expires"]:
            st.codes.pop(code, None)
            raise ShopeeError("invalid_code", MSG["bad_code"])
        kind = "shop" if has_shop else "main"
        if entry["kind"] != kind or entry["id"] != body[idname]:
            raise ShopeeError("invalid_shop_id" if has_shop else "invalid_main_acount_id",
                              "Invalid %s." % idname)
        del st.codes[code]  # single use
        k = st.knobs
        if kind == "shop":
            subjects = [("shop", entry["id"])]
        else:
            subjects = ([("shop", s) for s in k["shop_id_list"]] +
                        [("merchant", m) for m in k["merchant_id_list"]])
        at, rt, expire_in = st.new_pair(subjects, now)
        doc = {"refresh_token": rt, "access_token": at, "expire_in": expire_in,
               "request_id": request_id(), "error": "", "message": ""}
        if kind == "main":
            doc["merchant_id_list"] = list(k["merchant_id_list"])
            doc["shop_id_list"] = list(k["shop_id_list"])
        st.count("token_get_ok")
        self.send_json(200, doc)

    def refresh(self, q, body):
        st = self.state
        st.count("refresh")
        st.last["refresh_body"] = body
        st.check_common(q, PATH_REFRESH)
        rt = body.get("refresh_token")
        if not isinstance(rt, str) or not rt:
            raise ShopeeError("error_param", "Wrong parameters, detail: refresh_token is "
                              "required.", "param_failures")
        if not body_int(body.get("partner_id")) or body["partner_id"] != st.partner_id:
            raise ShopeeError("error_param", MSG["bad_partner"], "param_failures")
        has_shop, has_merchant = "shop_id" in body, "merchant_id" in body
        if has_shop == has_merchant:
            raise ShopeeError("error_param", "Wrong parameters, detail: exactly one of shop_id "
                              "and merchant_id is required.", "param_failures")
        kind = "shop" if has_shop else "merchant"
        idname = kind + "_id"
        if not body_int(body[idname]):
            raise ShopeeError("error_param",
                              "Wrong parameters, detail: %s should be int64." % idname,
                              "param_failures")
        refused = st.knobs["refuse_refresh"]
        if refused:
            st.count("refresh_refused")
            code = refused if isinstance(refused, str) else "error_auth"
            raise ShopeeError(code, MSG["refused_refresh"])
        subject = (kind, body[idname])
        now = st.now()
        entry = st.refresh.get(rt)
        if entry is not None and now >= entry["expires"]:
            del st.refresh[rt]
            raise ShopeeError("refresh_token_expired", MSG["refresh_expired"])
        if entry is None or subject not in entry["subjects"]:
            # Spent, unknown, or not this shop's/merchant's: Shopee does not tell which.
            raise ShopeeError("error_%s_refresh_token" % kind, MSG["bad_%s_refresh" % kind])
        # Rotate atomically (we hold the lock): this subject may never use rt again.
        entry["subjects"].discard(subject)
        if not entry["subjects"]:
            del st.refresh[rt]
        old = st.access.get(entry["access"])
        if old is not None and subject in old:
            old[subject] = min(old[subject], now + OLD_ACCESS_GRACE_S)
        at, new_rt, expire_in = st.new_pair([subject], now)
        st.count("refresh_ok")
        self.send_json(200, {"partner_id": st.partner_id, "refresh_token": new_rt,
                             "access_token": at, "expire_in": expire_in,
                             "request_id": request_id(), "error": "", "message": "",
                             idname: body[idname]})

    def shop_info(self, q, _body):
        st = self.state
        st.count("shop_api")
        at, shop_id = st.check_common(q, PATH_SHOP_INFO, "shop")
        if not st.access_ok(at, ("shop", shop_id)):
            raise ShopeeError("invalid_acceess_token", MSG["bad_access_token"])
        now = int(st.now())
        self.send_json(200, {"error": "", "message": "", "request_id": request_id(),
                             "shop_name": "Sim Shop %d" % shop_id, "region": "SG",
                             "status": "NORMAL", "is_cb": False, "is_cnsc": False,
                             "auth_time": now, "expire_time": now + 365 * 86400})

    def merchant_info(self, q, _body):
        st = self.state
        st.count("merchant_api")
        at, merchant_id = st.check_common(q, PATH_MERCHANT_INFO, "merchant")
        if not st.access_ok(at, ("merchant", merchant_id)):
            raise ShopeeError("invalid_acceess_token", MSG["bad_access_token"])
        now = int(st.now())
        self.send_json(200, {"error": "", "message": "", "request_id": request_id(),
                             "merchant_name": "Sim Merchant %d" % merchant_id,
                             "is_cnsc": True, "merchant_region": "CN",
                             "merchant_currency": "CNY",
                             "auth_time": now, "expire_time": now + 365 * 86400})


def id_list(s):
    out = [parse_int(x) for x in s.split(",") if x]
    if not out or None in out:
        raise argparse.ArgumentTypeError("a comma-separated list of positive integers")
    return out


def positive(s):
    v = parse_int(s)
    if v is None:
        raise argparse.ArgumentTypeError("a positive integer")
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("partner_id", type=positive)
    ap.add_argument("partner_key")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--shop-id", type=positive, default=100001)
    ap.add_argument("--main-account-id", type=positive, default=200001)
    ap.add_argument("--shop-id-list", type=id_list, default=[100001, 100002])
    ap.add_argument("--merchant-id-list", type=id_list, default=[300001])
    args = ap.parse_args(argv)
    if not args.partner_key:
        ap.error("the partner key must not be empty")

    Handler.state = State(args.partner_id, args.partner_key, args.shop_id,
                          args.main_account_id, args.shop_id_list, args.merchant_id_list)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
