"""End-to-end tests of the Frappe CRM mobile methods of examples/tasks-api:
the real tessera and tasks-api binaries, driven with requests the way the
CRM mobile app drives them.

- The app's credentials: a token from the tenant's token endpoint with the
  password grant and with the authorization code grant with PKCE, an API
  key from the mobile login (`Authorization: token key:secret`), a session
  cookie with its CSRF header.
- Each of the seven methods under /api/method/crm.api.mobile_api.*, with
  Frappe's verbs, parameters from the query string, a form (urlencoded or
  multipart) or a JSON body, the task fields name, title, status,
  priority, start_date, modified, and the {"message": ...} envelope.
- The same rules as the JSON routes: roles (a Sales User sees its own
  tasks, a Sales Manager all), scopes, and the same store.
- Frappe's errors: 401 AuthenticationError, 403 PermissionError (a missing
  scope or role, a wrong verb), 404 DoesNotExistError (an unknown task or
  method), 417 ValidationError and MandatoryError (bad input), each with
  exc_type and _server_messages.
"""
import datetime
import json
import re

import pytest
import requests

from e2e_util import HTTP_TIMEOUT_S
from people_helpers import code_flow, password_grant
from test_tasks_api import (ALICE, BOB, CAROL, Caller, make_tasks_api, mobile_login,  # noqa: F401
                            pair, service_token, session_login, srv, api, tasks_api_bin)

M = "/api/method/crm.api.mobile_api."
MOBILE_REDIRECT = "app.acme://oauth2redirect"
APP_SCOPE = "openid offline_access tasks:read tasks:write"
MODIFIED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
TASK_FIELDS = {"name", "title", "description", "status", "priority", "start_date", "owner",
               "creation", "modified"}

pytestmark = pytest.mark.skipif(
    not tasks_api_bin(),
    reason="TASKS_API_BIN does not name the tasks-api binary (build it; run through ctest)")


def today():
    return datetime.date.today()


def day(offset):
    return str(today() + datetime.timedelta(days=offset))


_counter = [0]


def marker():
    _counter[0] += 1
    return "fr%d-%s" % (_counter[0], datetime.datetime.now().strftime("%H%M%S%f"))


class MobileApp:
    """The CRM mobile app: one credential, Frappe's method calls."""

    def __init__(self, api, headers=None, cookies=None):
        self.api = api
        self.headers = dict(headers or {})
        self.cookies = dict(cookies or {})

    def call(self, verb, method, params=None, data=None, json_body=None, files=None,
             headers=None):
        h = dict(self.headers)
        h.update(headers or {})
        return requests.request(verb, self.api.url(M + method), params=params, data=data,
                                json=json_body, files=files, headers=h, cookies=self.cookies,
                                timeout=HTTP_TIMEOUT_S)

    def get(self, method, **params):
        return self.call("GET", method, params=params)

    def post(self, method, **form):
        return self.call("POST", method, data=form)

    def message(self, r):
        assert r.status_code == 200, (r.status_code, r.text)
        assert r.headers["Content-Type"].startswith("application/json"), r.headers
        body = r.json()
        assert set(body) == {"message"}, body
        return body["message"]

    def create(self, title, start_date=None, **fields):
        form = {"title": title}
        if start_date is not None:
            form["start_date"] = str(start_date)
        form.update(fields)
        t = self.message(self.post("create_task", **form))
        assert_task(t)
        return t

    def names(self, method="filter_tasks", **params):
        msg = self.message(self.get(method, **params))
        tasks = msg["today"] if method == "home_tasks" else msg
        return [t["name"] for t in tasks]


def assert_task(t):
    assert set(t) == TASK_FIELDS, t
    assert isinstance(t["name"], int) and t["name"] > 0, t
    assert t["status"] in ("Open", "In Progress", "Done"), t
    assert t["priority"] in ("Low", "Medium", "High"), t
    assert re.match(r"^\d{4}-\d\d-\d\d$", t["start_date"]), t
    assert MODIFIED.match(t["modified"]) and MODIFIED.match(t["creation"]), t


def assert_frappe_error(r, status, exc_type, fragment=None):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    body = r.json()
    assert "message" not in body, body
    assert body["exc_type"] == exc_type, body
    assert body["exception"].startswith("frappe.exceptions.%s: " % exc_type), body
    # As Frappe sends it: a JSON string holding a list of JSON strings.
    messages = [json.loads(m) for m in json.loads(body["_server_messages"])]
    assert len(messages) == 1 and messages[0]["indicator"] == "red", messages
    text = messages[0]["message"]
    assert body["exception"].endswith(text), body
    if fragment:
        assert fragment in text, text
    return text


def token(srv, user, scope=APP_SCOPE):
    """The seed's password grant, as the app posts it (a form)."""
    r = password_grant(srv, "acme", user[0], user[1], scope=scope)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer"
    return r.json()["access_token"]


def bearer_app(api, srv, user, scope=APP_SCOPE):
    return MobileApp(api, {"Authorization": "Bearer " + token(srv, user, scope)})


@pytest.fixture(scope="module")
def alice(api, srv):
    return bearer_app(api, srv, ALICE)


@pytest.fixture(scope="module")
def bob(api, srv):
    return bearer_app(api, srv, BOB)


# -- the seed's examples -----------------------------------------------------------

def test_home_tasks_answers_as_the_seed_shows(api, alice):
    title = "Call client " + marker()
    created = alice.create(title, today(), priority="High")
    assert created["status"] == "Open" and created["priority"] == "High"
    assert created["start_date"] == str(today()) and created["owner"] == ALICE[0]
    r = alice.get("home_tasks", limit="5")
    msg = alice.message(r)
    assert set(msg) == {"today", "limit"} and msg["limit"] == 5, msg
    assert 1 <= len(msg["today"]) <= 5
    mine = [t for t in msg["today"] if t["name"] == created["name"]]
    assert mine == [created], msg
    for t in msg["today"]:
        assert_task(t)
        assert t["start_date"] == str(today())
    # The limit is honoured.
    for _ in range(2):
        alice.create("Extra " + marker(), today())
    assert len(alice.message(alice.get("home_tasks", limit="2"))["today"]) == 2


def test_every_method_with_a_token_from_the_pkce_code_flow(api, srv):
    _, tok, _ = code_flow(srv, "acme", client_id="mobile", redirect_uri=MOBILE_REDIRECT,
                          user={"username": ALICE[0], "password": ALICE[1]}, scope=APP_SCOPE)
    assert set(tok["scope"].split()) == set(APP_SCOPE.split()) and tok.get("refresh_token")
    app = MobileApp(api, {"Authorization": "Bearer " + tok["access_token"]})
    title = "PKCE " + marker()
    # create_task
    t = app.create(title, day(1), priority="Low", description="from the app")
    assert (t["title"], t["priority"], t["description"], t["status"]) == \
        (title, "Low", "from the app", "Open")
    # filter_tasks
    found = app.message(app.get("filter_tasks", search_text=title))
    assert found == [t], found
    # main_page_buckets
    buckets = app.message(app.get("main_page_buckets"))
    assert t["name"] in [x["name"] for x in buckets["tomorrow"]], buckets
    # edit_task
    e = app.message(app.post("edit_task", name=str(t["name"]), title=title + " (edited)",
                             start_date=day(0), priority="High"))
    assert (e["name"], e["title"], e["start_date"], e["priority"], e["description"]) == \
        (t["name"], title + " (edited)", day(0), "High", "from the app")
    assert e["modified"] >= t["modified"] and e["creation"] == t["creation"]
    # home_tasks
    assert t["name"] in app.names("home_tasks")
    # update_status
    s = app.message(app.post("update_status", name=str(t["name"]), status="In Progress"))
    assert s["status"] == "In Progress" and s["title"] == e["title"]
    # delete_task
    assert app.message(app.post("delete_task", name=str(t["name"]))) == "ok"
    assert t["name"] not in app.names(search_text=title)
    assert_frappe_error(app.post("delete_task", name=str(t["name"])), 404, "DoesNotExistError",
                        "CRM Task %d not found" % t["name"])


# -- parameters ------------------------------------------------------------------

def test_parameters_from_a_form_multipart_json_or_the_query(api, alice):
    base = "Encoding " + marker()
    form = alice.message(alice.call("POST", "create_task",
                                    data={"title": base + " form", "priority": "High"}))
    multi = alice.message(alice.call("POST", "create_task",
                                     files={"title": (None, base + " multipart"),
                                            "priority": (None, "Low"),
                                            "start_date": (None, day(2))}))
    js = alice.message(alice.call("POST", "create_task",
                                  json_body={"title": base + " json", "status": "In Progress",
                                             "description": None}))
    query = alice.message(alice.call("POST", "create_task",
                                     params={"title": base + " query & more"}))
    assert (form["priority"], form["start_date"]) == ("High", str(today()))
    assert (multi["priority"], multi["start_date"]) == ("Low", day(2))
    assert (js["status"], js["description"]) == ("In Progress", None)
    assert query["title"] == base + " query & more"
    # A JSON body may name the task with a number or a string.
    r = alice.call("POST", "update_status", json_body={"name": js["name"], "status": "Done"})
    assert alice.message(r)["status"] == "Done"
    r = alice.call("POST", "update_status", json_body={"name": str(js["name"]), "status": "Todo"})
    assert alice.message(r)["status"] == "Open"
    # Parameters a method does not take are ignored, as Frappe ignores them.
    t = alice.create(base + " extra", cmd="crm.api.mobile_api.create_task", _="123",
                     reference_doctype="CRM Lead")
    assert t["title"] == base + " extra"
    names = alice.names(search_text=base, _="1700000000000")
    assert set(names) == {form["name"], multi["name"], js["name"], query["name"], t["name"]}


def test_statuses_and_priorities_map_both_ways_with_the_json_routes(api, alice):
    json_api = Caller(api, alice.headers)
    title = "Mapping " + marker()
    for frappe_status, json_status, shown in [("Open", "open", "Open"),
                                              ("Todo", "open", "Open"),
                                              ("Backlog", "open", "Open"),
                                              ("In Progress", "in_progress", "In Progress"),
                                              ("Done", "done", "Done")]:
        t = alice.create(title, today(), status=frappe_status)
        assert t["status"] == shown
        same = [x for x in json_api.get("/tasks", params={"q": title}).json()["tasks"]
                if x["title"] == title and x["status"] == json_status]
        assert same, (frappe_status, json_status)
    for frappe_priority, json_priority in [("Low", "low"), ("Medium", "medium"),
                                           ("High", "high")]:
        created = json_api.create(title + " " + json_priority, today(), priority=json_priority,
                                  status="in_progress")
        seen = [x for x in alice.message(alice.get("filter_tasks", search_text=title))
                if x["title"] == created["title"]]
        assert len(seen) == 1 and seen[0]["priority"] == frappe_priority, seen
        assert seen[0]["status"] == "In Progress" and seen[0]["start_date"] == str(today())
        # What is read can be written back unchanged.
        again = alice.message(alice.post("edit_task", name=str(seen[0]["name"]),
                                         status=seen[0]["status"],
                                         priority=seen[0]["priority"]))
        assert (again["status"], again["priority"]) == ("In Progress", frappe_priority)
        assert json_api.get("/tasks/" + created["id"]).json()["priority"] == json_priority
    # A JSON status change shows in the app, and the app's in the JSON API.
    done = json_api.patch("/tasks/%s/status" % created["id"], {"status": "done"}).json()
    assert done["status"] == "done"
    seen = [x for x in alice.message(alice.get("filter_tasks", search_text=created["title"]))]
    assert [x["status"] for x in seen] == ["Done"]
    assert_frappe_error(alice.post("update_status", name=str(seen[0]["name"]), status="Canceled"),
                        417, "ValidationError", 'Status cannot be "Canceled"')
    assert_frappe_error(alice.post("create_task", title=title, priority="Urgent"), 417,
                        "ValidationError", 'Priority cannot be "Urgent"')
    assert_frappe_error(alice.post("create_task", title=title, status="open"), 417,
                        "ValidationError", "It should be one of")


def test_filter_tasks(api, alice):
    tag = marker()
    a = alice.create("Filter A %s" % tag, day(-3), priority="High", status="Todo")
    b = alice.create("filter b %s" % tag, day(0), priority="Low", status="In Progress",
                     description="NEEDLE in the notes")
    c = alice.create("Filter C %s" % tag, day(5), priority="High", status="Done")

    def names(**params):
        return set(alice.names(search_text=tag, **params))

    assert names() == {a["name"], b["name"], c["name"]}
    assert names(status="Open") == {a["name"]}
    assert names(status="Backlog") == {a["name"]}
    assert names(status="In Progress") == {b["name"]}
    assert names(priority="High") == {a["name"], c["name"]}
    assert names(priority="High", status="Done") == {c["name"]}
    assert names(from_date=day(0)) == {b["name"], c["name"]}
    assert names(to_date=day(0)) == {a["name"], b["name"]}
    assert names(from_date=day(-3), to_date=day(-3)) == {a["name"]}
    assert names(limit="1") == {a["name"]}
    assert names(status="", priority="", from_date="") == {a["name"], b["name"], c["name"]}
    # The search is case-insensitive and also looks at the description.
    assert set(alice.names(search_text="needle")) >= {b["name"]}
    assert set(alice.names(search_text="FILTER B " + tag.upper())) == {b["name"]}
    # Order: start date, then priority.
    assert alice.names(search_text=tag) == [a["name"], b["name"], c["name"]]
    for params, fragment in [({"from_date": "2026-02-30"}, '"from_date" must be a date'),
                             ({"to_date": "tomorrow"}, '"to_date" must be a date'),
                             ({"from_date": day(1), "to_date": day(0)}, "is after"),
                             ({"status": "Closed"}, '"status" must be one of'),
                             ({"priority": "high"}, '"priority" must be one of'),
                             ({"limit": "0"}, '"limit"'), ({"limit": "201"}, '"limit"'),
                             ({"limit": "ten"}, '"limit"'),
                             ({"search_text": "x" * 201}, "longer than 200")]:
        assert_frappe_error(alice.call("GET", "filter_tasks", params=params), 417,
                            "ValidationError", fragment)
    r = alice.call("GET", "filter_tasks", params=[("status", "Open"), ("status", "Done")])
    assert_frappe_error(r, 417, "ValidationError", '"status" is given more than once')


def test_main_page_buckets(api, alice):
    tag = marker()
    made = {off: alice.create("Bucket %s %+d" % (tag, off), day(off)) for off in (-2, 0, 1, 30)}
    old_done = alice.create("Bucket %s done" % tag, day(-2), status="Done")
    msg = alice.message(alice.get("main_page_buckets"))
    assert {"overdue", "today", "tomorrow", "this_week", "later"} <= set(msg), msg

    def bucket_of(name):
        return [k for k in ("overdue", "today", "tomorrow", "this_week", "later")
                if name in [t["name"] for t in msg[k]]]

    assert bucket_of(made[-2]["name"]) == ["overdue"]
    assert bucket_of(made[0]["name"]) == ["today"]
    assert bucket_of(made[1]["name"]) == ["tomorrow"]
    assert bucket_of(made[30]["name"]) == ["later"]
    assert bucket_of(old_done["name"]) == []
    for k in ("overdue", "today", "tomorrow", "this_week", "later"):
        for t in msg[k]:
            assert_task(t)
    assert all(len(v) <= 1 for k, v in alice.message(alice.get("main_page_buckets",
                                                               limit="1")).items()
               if isinstance(v, list))


# -- who may do what -------------------------------------------------------------

def test_a_sales_user_sees_own_tasks_and_a_sales_manager_all(api, alice, bob):
    tag = marker()
    mine = alice.create("Alice's %s" % tag, today())
    his = bob.create("Bob's %s" % tag, today())
    assert set(alice.names(search_text=tag)) == {mine["name"]}
    assert set(bob.names(search_text=tag)) == {mine["name"], his["name"]}
    assert his["name"] not in alice.names("home_tasks")
    assert mine["name"] in bob.names("home_tasks", limit="200")
    buckets = alice.message(alice.get("main_page_buckets"))
    assert his["name"] not in [t["name"] for t in buckets["today"]]
    # Bob's task does not exist for Alice, whatever she tries.
    for method, form in [("edit_task", {"title": "mine now"}),
                         ("update_status", {"status": "Done"}), ("delete_task", {})]:
        assert_frappe_error(alice.post(method, name=str(his["name"]), **form), 404,
                            "DoesNotExistError", "CRM Task %d not found" % his["name"])
    # The manager edits and deletes Alice's task.
    e = bob.message(bob.post("update_status", name=str(mine["name"]), status="Done"))
    assert e["status"] == "Done" and e["owner"] == ALICE[0]
    assert bob.message(bob.post("delete_task", name=str(mine["name"]))) == "ok"
    assert mine["name"] not in bob.names(search_text=tag)


def test_a_user_without_a_sales_role_is_refused(api, srv):
    carol = bearer_app(api, srv, CAROL)
    assert_frappe_error(carol.get("home_tasks"), 403, "PermissionError", "Sales User")
    assert_frappe_error(carol.post("create_task", title="x"), 403, "PermissionError")


def test_scopes_are_checked(api, srv, alice):
    reader = bearer_app(api, srv, ALICE, scope="openid tasks:read")
    assert reader.message(reader.get("home_tasks"))["limit"] == 50
    t = alice.create("Scoped " + marker(), today())
    for method, form in [("create_task", {"title": "no"}),
                         ("edit_task", {"name": str(t["name"]), "title": "no"}),
                         ("update_status", {"name": str(t["name"]), "status": "Done"}),
                         ("delete_task", {"name": str(t["name"])})]:
        r = reader.post(method, **form)
        assert_frappe_error(r, 403, "PermissionError", "insufficient_scope")
        assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
        assert 'scope="tasks:write"' in r.headers["WWW-Authenticate"]
    assert alice.message(alice.get("filter_tasks", search_text=t["title"]))[0]["title"] == \
        t["title"]
    writer = bearer_app(api, srv, ALICE, scope="tasks:write")
    for method in ("home_tasks", "filter_tasks", "main_page_buckets"):
        r = writer.get(method)
        assert_frappe_error(r, 403, "PermissionError", "insufficient_scope")
        assert 'scope="tasks:read"' in r.headers["WWW-Authenticate"]


def test_a_service_reads_every_task_but_never_writes(api, srv, alice):
    t = alice.create("Service " + marker(), today())
    svc = MobileApp(api, {"Authorization": "Bearer " + service_token(srv, "importer")})
    assert t["name"] in svc.names("home_tasks", limit="200")
    assert_frappe_error(svc.post("create_task", title="x"), 403, "PermissionError",
                        "a service may read tasks but not change them")


def test_without_a_valid_credential_the_answer_is_401(api):
    for verb, method in [("GET", "home_tasks"), ("GET", "filter_tasks"),
                         ("GET", "main_page_buckets"), ("POST", "create_task"),
                         ("POST", "edit_task"), ("POST", "update_status"),
                         ("POST", "delete_task")]:
        r = MobileApp(api).call(verb, method, data={"name": "1"} if verb == "POST" else None)
        assert_frappe_error(r, 401, "AuthenticationError")
        assert r.headers["WWW-Authenticate"].startswith("Bearer realm="), r.headers
    r = MobileApp(api, {"Authorization": "Bearer not-a-token"}).get("home_tasks")
    assert_frappe_error(r, 401, "AuthenticationError", "invalid_token")
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]


def test_an_api_key_from_the_mobile_login(api, srv):
    login = mobile_login(srv)
    app = MobileApp(api, {"Authorization": "token %s:%s" % (login["api_key"],
                                                            login["api_secret"])})
    t = app.create("API key " + marker(), today(), priority="Medium")
    assert t["owner"] == ALICE[0]
    assert t["name"] in app.names("home_tasks", limit="200")
    assert app.message(app.post("update_status", name=str(t["name"]), status="Done"))["status"] \
        == "Done"
    assert app.message(app.post("delete_task", name=str(t["name"]))) == "ok"
    bad = MobileApp(api, {"Authorization": "token %s:wrong" % login["api_key"]})
    assert_frappe_error(bad.get("home_tasks"), 401, "AuthenticationError")


def test_a_session_cookie_needs_its_csrf_header_to_write(api, srv):
    cookie, csrf = session_login(srv, BOB)
    app = MobileApp(api, cookies={"tessera_session": cookie})
    assert app.message(app.get("home_tasks"))["limit"] == 50
    r = app.post("create_task", title="Session " + marker())
    assert_frappe_error(r, 403, "CSRFTokenError", "csrf")
    r = app.call("POST", "create_task", data={"title": "Session " + marker()},
                 headers={"X-CSRF-Token": csrf})
    assert app.message(r)["owner"] == BOB[0]


def test_frappes_sid_cookie_and_csrf_header_name_are_accepted(api, srv):
    """The CRM app signed in the Frappe way sends the session as `sid` and
    its CSRF token as X-Frappe-CSRF-Token; the session is Tessera's, so
    the same rules hold: no write without the right token, nothing from a
    forged session, and tessera_session wins when both cookies come."""
    cookie, csrf = session_login(srv, BOB)
    app = MobileApp(api, cookies={"sid": cookie})
    assert app.message(app.get("home_tasks"))["limit"] == 50
    r = app.post("create_task", title="Sid " + marker())
    assert_frappe_error(r, 403, "CSRFTokenError", "csrf")
    wrong = ("y" if csrf[0] == "x" else "x") + csrf[1:]
    r = app.call("POST", "create_task", data={"title": "Sid " + marker()},
                 headers={"X-Frappe-CSRF-Token": wrong})
    assert_frappe_error(r, 403, "CSRFTokenError", "csrf")
    r = app.call("POST", "create_task", data={"title": "Sid " + marker()},
                 headers={"X-Frappe-CSRF-Token": csrf})
    assert app.message(r)["owner"] == BOB[0]
    forged = MobileApp(api, cookies={"sid": "A" * len(cookie)})
    assert_frappe_error(forged.get("home_tasks"), 401, "AuthenticationError")
    both = MobileApp(api, cookies={"tessera_session": "A" * len(cookie), "sid": cookie})
    assert_frappe_error(both.get("home_tasks"), 401, "AuthenticationError")


# -- bad input -------------------------------------------------------------------

def test_bad_input_is_refused_with_frappes_exceptions(api, alice):
    t = alice.create("Target " + marker(), today())
    name = str(t["name"])
    cases = [
        ("create_task", {}, 417, "MandatoryError", "Value missing for CRM Task: title"),
        ("create_task", {"start_date": day(0)}, 417, "MandatoryError", "title"),
        ("create_task", {"title": "   "}, 417, "ValidationError", '"title" must not be empty'),
        ("create_task", {"title": "x" * 201}, 417, "ValidationError", "longer than 200"),
        ("create_task", {"title": "a\x01b"}, 417, "ValidationError", "control characters"),
        ("create_task", {"title": "x", "start_date": "2026-02-30"}, 417, "ValidationError",
         '"start_date" must be a date'),
        ("create_task", {"title": "x", "start_date": "03/12/2025"}, 417, "ValidationError",
         '"start_date" must be a date'),
        ("create_task", {"title": "x", "start_date": ""}, 417, "ValidationError",
         '"start_date" must be a date'),
        ("edit_task", {"title": "x"}, 417, "MandatoryError", "Value missing for CRM Task: name"),
        ("edit_task", {"name": name}, 417, "ValidationError", "nothing to change"),
        ("edit_task", {"name": name, "start_date": "2025-13-01"}, 417, "ValidationError",
         "start_date"),
        ("edit_task", {"name": name, "title": ""}, 417, "ValidationError", "must not be empty"),
        ("update_status", {"name": name}, 417, "MandatoryError", "status"),
        ("update_status", {"status": "Done"}, 417, "MandatoryError", "name"),
        ("delete_task", {}, 417, "MandatoryError", "name"),
        ("edit_task", {"name": "999999999", "title": "x"}, 404, "DoesNotExistError",
         "CRM Task 999999999 not found"),
        ("update_status", {"name": "abc", "status": "Done"}, 404, "DoesNotExistError",
         "not found"),
        ("delete_task", {"name": "-1"}, 404, "DoesNotExistError", "not found"),
        ("delete_task", {"name": "99999999999999999999"}, 404, "DoesNotExistError",
         "not found"),
    ]
    for method, form, status, exc, fragment in cases:
        assert_frappe_error(alice.post(method, **form), status, exc, fragment)
    # Nothing above changed the task.
    assert alice.message(alice.get("filter_tasks", search_text=t["title"])) == [t]
    # Bodies the method cannot read.
    r = alice.call("POST", "create_task", data=b"title=x", headers={"Content-Type": "text/plain"})
    assert_frappe_error(r, 415, "UnsupportedMediaType")
    r = alice.call("POST", "create_task", data=b"{", headers={"Content-Type": "application/json"})
    assert_frappe_error(r, 417, "ValidationError", "not valid JSON")
    r = alice.call("POST", "create_task", json_body={"title": ["x"]})
    assert_frappe_error(r, 417, "ValidationError", '"title" must be a string')
    r = alice.call("POST", "create_task", data=b"title=%zz",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_frappe_error(r, 417, "ValidationError", "%-escape")
    r = alice.call("POST", "create_task", data=b"title=a%00b",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_frappe_error(r, 417, "ValidationError", "NUL")
    r = alice.call("POST", "create_task", params={"title": "q"}, data={"title": "f"})
    assert_frappe_error(r, 417, "ValidationError", "given more than once")
    r = alice.call("POST", "create_task", data=b"--x\r\nbroken",
                   headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 417, r.text


def test_the_wrong_verb_is_not_permitted(api, alice):
    tag = marker()
    for method in ("create_task", "edit_task", "update_status", "delete_task"):
        r = alice.call("GET", method, params={"title": tag, "name": "1", "status": "Done"})
        assert_frappe_error(r, 403, "PermissionError", "Not permitted: use POST")
        assert r.headers["Allow"] == "POST"
    for method in ("home_tasks", "filter_tasks", "main_page_buckets"):
        for verb in ("POST", "PUT", "DELETE"):
            r = alice.call(verb, method)
            assert_frappe_error(r, 403, "PermissionError", "Not permitted: use GET")
            assert r.headers["Allow"] == "GET"
    # A GET never created anything.
    assert alice.names(search_text=tag) == []
    # Without a credential the verb is refused the same way.
    assert_frappe_error(MobileApp(api).get("create_task"), 403, "PermissionError")


def test_an_unknown_method_is_404(api, alice):
    for path in ("crm.api.mobile_api.nope", "crm.api.mobile_api.", "crm.api.mobile_api",
                 "frappe.auth.get_logged_user", "crm.api.mobile_api.home_tasks/x",
                 "crm.api.mobile_api.HOME_TASKS"):
        r = requests.get(api.url("/api/method/" + path), headers=alice.headers,
                         timeout=HTTP_TIMEOUT_S)
        assert_frappe_error(r, 404, "DoesNotExistError", "no such method")
    r = requests.get(api.url("/api/method/crm.api.mobile_api.nope"), timeout=HTTP_TIMEOUT_S)
    assert_frappe_error(r, 404, "DoesNotExistError")


def test_names_are_numbers_never_reused(api, alice):
    first = alice.create("Numbered " + marker(), today())
    second = alice.create("Numbered " + marker(), today())
    assert second["name"] > first["name"]
    assert alice.message(alice.post("delete_task", name=str(second["name"]))) == "ok"
    third = alice.create("Numbered " + marker(), today())
    assert third["name"] > second["name"]
    assert_frappe_error(alice.post("edit_task", name=str(second["name"]), title="back?"), 404,
                        "DoesNotExistError")
