"""Fixtures for the end-to-end tests (see e2e_util.py for the helpers).

make_module_server: a factory for servers shared by one test module (tests
    that do not interfere with each other use one server, which keeps the
    suite fast); they are stopped with SIGTERM when the module is done.
make_server: the same, for servers private to one test.

Every server must exit with status 0 within 15 s of SIGTERM; teardown fails
otherwise. When a test fails, the tail of the log of every server it talked
to is attached to the report.
"""
import os
import time

import pytest

from e2e_util import STOP_TIMEOUT_S, Tessera, tessera_bin

# The servers under test speak plain HTTP on 127.0.0.1; authlib refuses
# non-https URLs (and its metadata validation wants https) unless told.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"


def pytest_sessionstart(session):
    try:
        tessera_bin()
    except RuntimeError as e:
        pytest.exit(str(e), returncode=4)


def _factory(tmp_path_factory, servers):
    def make(doc=None, *, env=None, start=True, copy_of=None, name="tessera"):
        """A new installation: fresh directory, SQLite file and master key
        (or a copy of copy_of's); doc (a bootstrap dict) is applied before
        the server starts."""
        s = Tessera(tmp_path_factory.mktemp(name), env=env, copy_of=copy_of)
        servers.append(s)
        if doc is not None:
            s.bootstrap_ok(doc)
        if start:
            s.start()
        return s
    return make


def _stop_all(servers):
    problems = []
    for s in servers:
        if s.proc is None:
            continue
        rc = s.stop()
        if rc != 0:
            problems.append("tessera on port %d: exit status %r, expected 0 within %d s of "
                            "SIGTERM\n--- log tail ---\n%s" % (s.port, rc, STOP_TIMEOUT_S,
                                                              s.log_tail()))
    assert not problems, "\n\n".join(problems)


@pytest.fixture(scope="module")
def make_module_server(tmp_path_factory):
    servers = []
    yield _factory(tmp_path_factory, servers)
    _stop_all(servers)


@pytest.fixture
def make_server(tmp_path_factory):
    servers = []
    yield _factory(tmp_path_factory, servers)
    _stop_all(servers)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item._e2e_started = time.time()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    since = getattr(item, "_e2e_started", 0) - 1
    for s in Tessera.instances:
        try:
            touched = s.log_path.stat().st_mtime >= since
        except OSError:
            touched = False
        if touched:
            rep.sections.append(("tessera log, port %d (tail)" % s.port, s.log_tail()))
