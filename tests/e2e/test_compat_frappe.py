"""End-to-end tests of the compatibility profiles and of the "frappe"
profile: the clients of a Frappe CRM (its mobile app, an OAuth 2.0 client of
frappe.integrations.oauth2) and of a Frappe HR mobile app (app password and
device binding) pointed at a tessera tenant, sending what they send.

- Turning profiles on and off: the bootstrap file's "compat" (an unknown
  profile is an error naming it), `tessera tenant update --compat NAME`
  (repeatable) and `--compat none`.
- The seeds' own examples, replayed as their clients send them, against a
  tenant with the profile on (under the issuer and at the host root of a
  tenant's domain); the same requests at a tenant without it answer 404.
- Security: each profile route refuses what its native twin refuses.
"""
import pytest

from people_helpers import ALICE, people_tenant


def test_unknown_profile_is_an_error_naming_it(make_server):
    srv = make_server(start=False)
    r = srv.bootstrap({"tenants": [people_tenant("acme", compat=["frappe", "erpnext"])]})
    assert r.rc == 1 and "erpnext" in r.err, r
    r = srv.bootstrap({"tenants": [people_tenant("acme", compat="frappe")]})
    assert r.rc == 1 and "compat" in r.err, r
    r = srv.bootstrap({"tenants": [people_tenant("acme", compat=["frappe"],
                                                 mobile_login_method="a/../b")]})
    assert r.rc == 1 and "mobile_login_method" in r.err, r
    # A refused file changes nothing.
    assert not srv.db_path.exists() or srv.cli("tenant", "list").out["tenants"] == []


def test_cli_turns_profiles_on_and_off(make_server):
    srv = make_server({"tenants": [people_tenant("acme")]}, start=False)
    assert "compat" not in srv.cli("tenant", "show", "acme").out
    r = srv.cli("tenant", "update", "acme", "--compat", "frappe", "--compat", "activity",
                "--compat", "frappe")
    assert r.rc == 0, r
    assert srv.cli("tenant", "show", "acme").out["compat"] == ["frappe", "activity"]
    r = srv.cli("tenant", "update", "acme", "--compat", "integrations",
                "--mobile-login-method", "hr.api.login")
    assert r.rc == 0, r
    shown = srv.cli("tenant", "show", "acme").out
    assert shown["compat"] == ["integrations"] and shown["mobile_login_method"] == "hr.api.login"
    r = srv.cli("tenant", "update", "acme", "--compat", "bogus")
    assert r.rc == 1 and "bogus" in r.err, r
    r = srv.cli("tenant", "update", "acme", "--compat", "none", "--compat", "frappe")
    assert r.rc == 2, r
    assert srv.cli("tenant", "show", "acme").out["compat"] == ["integrations"]
    r = srv.cli("tenant", "update", "acme", "--compat", "none")
    assert r.rc == 0, r
    assert "compat" not in srv.cli("tenant", "show", "acme").out
    # A bootstrap file that names the profiles again turns them back on.
    srv.bootstrap_ok({"tenants": [people_tenant("acme", users=[ALICE],
                                                compat=["frappe"])]})
    assert srv.cli("tenant", "show", "acme").out["compat"] == ["frappe"]
