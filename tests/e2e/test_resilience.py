"""Storage outages (answered 503, recovered from without a restart,
nothing acknowledged lost) and shutdown (SIGTERM lets in-flight requests
finish, then the process exits 0). Each test has a server of its own."""
import os
import signal
import socket
import sqlite3
import time
import uuid

import pytest
import requests

from e2e_util import (HTTP_TIMEOUT_S, RELOAD_BUDGET_S, SECRET, assert_oauth_error, fetch_token,
                      introspect, revoke, token_request, wait_until)

DOC = {"tenants": [{"name": "a", "clients": [{"client_id": "svc", "secret": SECRET}]}]}


@pytest.fixture(scope="module")
def template(make_module_server):
    return make_module_server(DOC, start=False, name="template")


@pytest.fixture
def srv(make_server, template):
    return make_server(copy_of=template)


# -- storage outage -------------------------------------------------------------------

class Outage:
    """Makes the server's SQLite database unreadable under its feet, and
    puts it back. The server keeps its pooled connections open, so neither
    permissions nor renames reach it: instead the (checkpointed) database
    file is overwritten in place with garbage and the WAL index in the -shm
    file is zeroed, which makes every connection drop its page cache and
    read the file again on its next transaction ("file is not a database").
    Restoring the bytes and zeroing the index again ends the outage."""

    def __init__(self, srv):
        self.db = srv.db_path
        self.shm = str(srv.db_path) + "-shm"
        self.saved = None

    def _zero_index(self):
        size = os.path.getsize(self.shm)
        with open(self.shm, "r+b") as f:
            f.write(b"\0" * size)

    def begin(self):
        con = sqlite3.connect(str(self.db))
        try:  # everything into the main file, WAL emptied
            busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            con.close()
        assert busy == 0, "could not checkpoint the database"
        self.saved = self.db.read_bytes()
        with open(self.db, "r+b") as f:
            f.write(os.urandom(len(self.saved)))
        self._zero_index()

    def end(self):
        with open(self.db, "r+b") as f:
            f.write(self.saved)
        self._zero_index()


def ready_status(srv):
    return requests.get(srv.url("/readyz"), timeout=HTTP_TIMEOUT_S).status_code


def quiet(srv):
    """Lets the audit writer (200 ms) flush, so no write races the outage."""
    time.sleep(0.5)


def assert_unavailable(r):
    body = assert_oauth_error(r, 503, "temporarily_unavailable")
    assert int(r.headers["Retry-After"]) > 0
    return body


def test_a_storage_outage_is_503_and_recovers_by_itself(srv):
    revoked = fetch_token(srv, "a", "svc")["access_token"]
    assert revoke(srv, "a", revoked, "svc").status_code == 200
    live = fetch_token(srv, "a", "svc")["access_token"]
    quiet(srv)
    outage = Outage(srv)
    outage.begin()
    try:
        down, _ = wait_until(lambda: ready_status(srv) == 503, timeout=2)
        if not down:
            pytest.skip("could not make SQLite fail under the running server on this system")
        assert_unavailable(requests.get(srv.url("/readyz"), timeout=HTTP_TIMEOUT_S))
        r = requests.post(srv.endpoint("a", "introspect"), data={"token": live},
                          auth=("svc", SECRET), timeout=HTTP_TIMEOUT_S)
        assert_unavailable(r)
        assert r.headers.get("Cache-Control") == "no-store"
        # a revocation that cannot be stored is not acknowledged
        assert_unavailable(requests.post(srv.endpoint("a", "revoke"), data={"token": live},
                                         auth=("svc", SECRET), timeout=HTTP_TIMEOUT_S))
        # the process stays up and healthy (alive) throughout
        assert requests.get(srv.url("/healthz"), timeout=HTTP_TIMEOUT_S).status_code == 200
    finally:
        outage.end()
    up, elapsed = wait_until(lambda: ready_status(srv) == 200, timeout=RELOAD_BUDGET_S + 3)
    assert up, "still not ready %.1f s after storage came back" % elapsed
    assert introspect(srv, "a", live, "svc").json()["active"] is True
    # what was acknowledged before the outage still holds
    assert introspect(srv, "a", revoked, "svc").json() == {"active": False}
    assert fetch_token(srv, "a", "svc")["access_token"]


def test_audit_events_of_an_outage_are_stored_once_storage_is_back(srv):
    quiet(srv)
    outage = Outage(srv)
    outage.begin()
    rid = "e2e-outage-" + uuid.uuid4().hex
    try:
        down, _ = wait_until(lambda: ready_status(srv) == 503, timeout=2)
        if not down:
            pytest.skip("could not make SQLite fail under the running server on this system")
        # issuing needs no storage (the token path reads the in-memory
        # configuration); its audit record waits for the store
        r = token_request(srv, "a", {"grant_type": "client_credentials"}, auth=("svc", SECRET),
                          headers={"X-Request-ID": rid})
        assert r.status_code in (200, 503), r.text
        issued = r.status_code == 200
        time.sleep(0.5)  # at least two failed flushes
    finally:
        outage.end()
    assert wait_until(lambda: ready_status(srv) == 200, timeout=RELOAD_BUDGET_S + 3)[0]
    if not issued:
        return

    def stored():
        r = srv.cli("audit", "--tenant", "a")
        return [e for e in r.out["events"] if e.get("request_id") == rid] if r.rc == 0 else None
    events, _ = wait_until(stored, timeout=3, interval=0.1)
    assert events and events[0]["type"] == "token.issued", events
    assert len(events) == 1


# -- shutdown -------------------------------------------------------------------------

def read_response(sock, timeout=10):
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = [int(l.split(b":", 1)[1]) for l in head.split(b"\r\n")
                      if l.lower().startswith(b"content-length:")]
            if length and len(body) >= length[0]:
                break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else None
    headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
               for l in lines[1:] if ":" in l}
    return status, headers, body


def test_sigterm_lets_an_in_flight_request_finish(srv):
    body = b"grant_type=client_credentials&client_id=svc&client_secret=" + SECRET.encode()
    head = ("POST /t/a/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n"
            "Expect: 100-continue\r\n\r\n" % (srv.port, len(body))).encode()
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    try:
        sock.sendall(head)
        # "100 Continue" proves the server has taken the request in; without
        # one, two seconds are plenty for it to have read the headers
        sock.settimeout(2)
        try:
            interim = sock.recv(4096)
            assert interim.startswith(b"HTTP/1.1 100"), interim
        except socket.timeout:
            pass
        sock.sendall(body[:20])
        time.sleep(0.2)
        srv.signal(signal.SIGTERM)
        time.sleep(0.5)
        assert srv.running, "exited with a request in flight:\n" + srv.log_tail()
        # no new connections are accepted while draining
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
        sock.sendall(body[20:])
        status, headers, payload = read_response(sock)
    finally:
        sock.close()
    assert status == 200, (status, payload)
    assert b"access_token" in payload
    assert headers.get("connection", "").lower() == "close"
    assert srv.wait() == 0, "exit status %r\n%s" % (srv.returncode, srv.log_tail())


def test_sigterm_on_an_idle_server_exits_0_promptly(srv):
    # an idle keep-alive connection must not hold the shutdown up
    s = requests.Session()
    assert s.get(srv.url("/healthz"), timeout=HTTP_TIMEOUT_S).status_code == 200
    start = time.monotonic()
    srv.signal(signal.SIGTERM)
    assert srv.wait() == 0, srv.log_tail()
    assert time.monotonic() - start < 5
    s.close()


def test_sigint_exits_0(srv):
    srv.signal(signal.SIGINT)
    assert srv.wait() == 0, srv.log_tail()
