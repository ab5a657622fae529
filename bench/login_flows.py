#!/usr/bin/python3
"""Complete browser sign-ins against a Tessera tenant, two at a time (one
per core): authorization request with PKCE, login page, form post, code
exchange. Prints flows per second and, for comparison, the median time of a
password grant alone (one Argon2id verification plus a token).

usage: login_flows.py ISSUER COUNT"""
import base64
import hashlib
import re
import secrets
import statistics
import sys
import threading
import time
import urllib.parse

import requests

ISSUER, COUNT = sys.argv[1], int(sys.argv[2])
USER, PASSWORD, CLIENT, REDIRECT = "user@bench.test", "bench password 1", "app", "http://127.0.0.1/cb"


def field(html, name):
    m = re.search(r'name="%s" value="([^"]*)"' % name, html)
    return m.group(1) if m else None


def flow(s):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    r = s.get(ISSUER + "/oauth2/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT,
        "scope": "openid", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    assert r.status_code == 302, r.text
    page = s.get(r.headers["Location"])
    r = s.post(ISSUER + "/login", allow_redirects=False, data={
        "username": USER, "password": PASSWORD,
        "csrf_token": field(page.text, "csrf_token"), "req": field(page.text, "req")})
    assert r.status_code == 303, r.text
    code = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers["Location"]).query)["code"][0]
    r = s.post(ISSUER + "/oauth2/token", data={
        "grant_type": "authorization_code", "client_id": CLIENT, "code": code,
        "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert r.status_code == 200, r.text


def worker(n, errors):
    for _ in range(n):
        try:
            flow(requests.Session())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))


errors = []
threads = [threading.Thread(target=worker, args=(COUNT // 2, errors)) for _ in range(2)]
start = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - start
if errors:
    print("errors:", errors[:3], file=sys.stderr)
    sys.exit(1)
samples = []
for _ in range(10):
    t0 = time.monotonic()
    r = requests.post(ISSUER + "/oauth2/token", data={
        "grant_type": "password", "client_id": CLIENT, "username": USER, "password": PASSWORD})
    assert r.status_code == 200, r.text
    samples.append((time.monotonic() - t0) * 1000)
print("flows=%d seconds=%.2f flows_per_s=%.1f password_grant_p50_ms=%.1f (one Argon2id m=19MiB t=2 p=1)"
      % (COUNT // 2 * 2, elapsed, (COUNT // 2 * 2) / elapsed, statistics.median(samples)))
