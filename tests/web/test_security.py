"""The guard and the headers: every route but sign-in and static files needs a signed-in
admin, every POST a valid CSRF token, and every answer carries the security headers that let
a strict Content-Security-Policy hold.

Routes are enumerated from the app itself, so a route added later is covered without anyone
adding a test for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route

from tests.support.dashboard import RunningDashboard, sign_in
from tests.web.pagetools import Node, page_csrf, parse
from tests.web.support import signed_in
from tokenusage.web.apiauth import is_token_path

PUBLIC = {("/login", "GET"), ("/login", "POST"), ("/static", "MOUNT")}
# The JSON API's own description needs no token; the rest of /api needs one (not a session).
TOKEN_PUBLIC = {("/api/v1/openapi.json", "GET")}


def endpoints(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(path, method) of every route, through mounts; a mount is probed as `MOUNT`."""
    for route in routes:
        if isinstance(route, Mount):
            yield prefix + route.path, "MOUNT"
            yield from endpoints(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield re.sub(r"\{[^}]+\}", "1", prefix + route.path), method
        else:
            raise AssertionError(f"a route type the guard tests do not know: {route!r}")


@pytest.fixture(scope="module")
def routes(reader_dashboard: RunningDashboard) -> list[tuple[str, str]]:
    found = list(endpoints(reader_dashboard.app.routes))
    expected = {
        ("/", "GET"),
        ("/debug", "GET"),
        ("/help", "GET"),
        ("/download.csv", "GET"),
        ("/actions/refresh", "POST"),
        ("/actions/update-pricing", "POST"),
        ("/actions/clear-cache", "POST"),
        ("/actions/sync", "POST"),
        ("/logout", "POST"),
        ("/tokens", "GET"),
        ("/tokens", "POST"),
        ("/tokens/revoke", "POST"),
        ("/api/v1/summary", "GET"),
        ("/api/v1/transactions", "GET"),
        ("/api/v1/usage", "GET"),
        ("/metrics", "GET"),
        ("/alerts", "GET"),
        ("/alerts", "POST"),
        ("/alerts/test", "POST"),
        ("/alerts/switch", "POST"),
        ("/alerts/remove", "POST"),
    }
    assert expected | PUBLIC <= set(found), "the enumeration misses routes"
    return found


@pytest.fixture
def anonymous(reader_dashboard: RunningDashboard) -> Iterator[httpx.Client]:
    with reader_dashboard.client() as http:
        yield http


def test_everything_but_sign_in_and_static_files_needs_an_admin(
    routes: list[tuple[str, str]], anonymous: httpx.Client
) -> None:
    public = set()
    for path, method in routes:
        probe = path + "/app.css" if method == "MOUNT" else path
        verb = "GET" if method == "MOUNT" else method
        page = anonymous.request(verb, probe)
        api = anonymous.request(verb, probe, headers={"accept": "application/json"})
        if is_token_path(path):
            if (path, method) in TOKEN_PUBLIC:
                assert page.status_code == 200, path
                continue
            assert page.status_code == api.status_code == 401, (path, method)
            assert "Bearer" in api.json()["error"], (path, method)
            continue
        if page.status_code not in (303, 401):
            public.add((path, method))
            continue
        assert api.status_code == 401, (path, method)
        assert api.json() == {"error": "You are not signed in, or your session has expired."}
        if verb in ("GET", "HEAD"):
            assert page.status_code == 303, (path, method)
            assert page.headers["location"] == f"/login?next={quote(probe, safe='')}"
        else:
            assert page.status_code == 401, (path, method)
            assert "not signed in" in page.text
    assert public == PUBLIC


def test_sign_in_redirect_keeps_the_query(anonymous: httpx.Client) -> None:
    page = anonymous.get("/?page=2")
    assert page.headers["location"] == "/login?next=%2F%3Fpage%3D2"
    assert anonymous.head("/debug").status_code == 303


@pytest.fixture
def admin(reader_dashboard: RunningDashboard) -> Iterator[httpx.Client]:
    with signed_in(reader_dashboard) as http:
        yield http


def test_every_post_needs_the_sessions_csrf_token(
    routes: list[tuple[str, str]], reader_dashboard: RunningDashboard, admin: httpx.Client
) -> None:
    token = page_csrf(admin.get("/help").text)
    with signed_in(reader_dashboard) as other:
        foreign = page_csrf(other.get("/help").text)
    assert foreign != token
    posts = [path for path, method in routes if method == "POST"]
    refusals: list[tuple[dict[str, str], dict[str, str]]] = [
        ({}, {}),
        ({"csrf_token": ""}, {}),
        ({"csrf_token": token[:-2]}, {}),
        ({"csrf_token": foreign}, {}),
        ({}, {"x-csrf-token": foreign}),
        ({"csrf_token": token}, {"x-csrf-token": "wrong"}),
    ]
    for path in posts:
        for data, headers in refusals:
            answer = admin.post(path, data=data, headers=headers)
            assert answer.status_code == 403, (path, data, headers)
            assert "CSRF" in answer.text
        as_json = admin.post(path, json={"csrf_token": token})
        assert as_json.status_code == 403, "only a form body or the header carries the token"
    for path in sorted(posts, key=lambda p: p in ("/logout", "/login")):
        good = admin.post(path, data={"csrf_token": token, "username": "x", "password": "y"})
        assert good.status_code in (200, 303, 400, 401), (path, good.status_code)
        assert "CSRF" not in good.text


def test_sign_in_form_needs_its_csrf_token(anonymous: httpx.Client) -> None:
    form = {"username": "admin", "password": "correct horse battery staple", "next": "/"}
    assert anonymous.post("/login", data=form).status_code == 403
    assert anonymous.post("/login", data=form | {"csrf_token": "forged"}).status_code == 403
    assert sign_in(anonymous).status_code == 303


def test_a_huge_form_is_refused(admin: httpx.Client) -> None:
    token = page_csrf(admin.get("/help").text)
    answer = admin.post("/actions/sync", data={"csrf_token": token, "pad": "x" * 100_000})
    assert answer.status_code == 413


def assert_security_headers(answer: httpx.Response) -> None:
    csp = answer.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin")


def test_security_headers_on_every_kind_of_answer(
    admin: httpx.Client, anonymous: httpx.Client
) -> None:
    page = admin.get("/")
    static = parse(page.text).one("link", rel="stylesheet").attrs["href"]
    answers = [
        page,
        admin.get("/debug"),
        admin.get("/help"),
        admin.get("/download.csv"),
        admin.get("/missing"),
        admin.get("/missing", headers={"accept": "application/json"}),
        admin.post("/actions/refresh"),
        admin.get(static),
        admin.get("/static/missing.css"),
        anonymous.get("/login"),
        anonymous.get("/"),
        anonymous.post("/actions/sync"),
    ]
    assert {a.status_code for a in answers} == {200, 303, 401, 403, 404}
    for answer in answers:
        assert_security_headers(answer)
        if not answer.url.path.startswith("/static/") or answer.status_code >= 400:
            assert answer.headers["cache-control"] == "no-store", answer.url


def assert_no_inline_code(doc: Node, where: str) -> None:
    for script in doc.find_all("script"):
        assert script.attrs.get("src", "").startswith("/static/"), where
        assert not script.text(), f"inline script on {where}"
    assert not doc.find_all("style"), f"<style> on {where}"
    for node in doc.iter():
        assert "style" not in node.attrs, f"style= on <{node.tag}> of {where}"
        handlers = [name for name in node.attrs if name.startswith("on")]
        assert not handlers, f"{handlers} on <{node.tag}> of {where}"
        for name in ("href", "src", "action"):
            assert not node.attrs.get(name, "").lower().startswith("javascript:"), where


def test_no_inline_script_or_style_on_any_page(
    admin: httpx.Client, anonymous: httpx.Client
) -> None:
    pages = {
        path: admin.get(path) for path in ("/", "/?page=4", "/debug", "/?debug=1", "/help", "/x")
    }
    pages["/login"] = anonymous.get("/login")
    pages["/login (failed)"] = anonymous.post(
        "/login",
        data={
            "username": "nobody",
            "password": "wrong",
            "csrf_token": page_csrf(pages["/login"].text),
        },
    )
    for where, answer in pages.items():
        assert answer.status_code in (200, 401, 404), where
        assert_no_inline_code(parse(answer.text), where)
