"""The surface as an attacker meets it: whose address the throttle counts (X-Forwarded-For),
HSTS, no Host echo and allowed hosts, the Origin check beside the CSRF token, and request
smuggling over a raw socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.dashboard import RunningDashboard, csrf_from, running_dashboard, sign_in
from tests.web.support import signed_in
from tokenusage.config import load_settings
from tokenusage.web.app import create_app, server_options

HSTS = "strict-transport-security"


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDashboard]:
    """A dashboard with the default settings: no proxy trusted, any host, no public_url."""
    with running_dashboard(None, tmp_path_factory.mktemp("plain")) as dash:
        yield dash


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDashboard]:
    """Behind a TLS-terminating proxy on loopback, reached at https://dash.example.com."""
    with running_dashboard(
        None,
        tmp_path_factory.mktemp("proxied"),
        forwarded_allow_ips="127.0.0.1",
        public_url="https://dash.example.com",
        allowed_hosts="dash.example.com,127.0.0.1",
    ) as dash:
        yield dash


def attempt(http: httpx.Client, password: str, **headers: str) -> httpx.Response:
    token = csrf_from(http.get("/login").text)
    form = {"username": "admin", "password": password, "csrf_token": token, "next": "/"}
    return http.post("/login", data=form, headers=headers)


# -- 4. the client address -----------------------------------------------------------------


def test_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_throttle(
    tmp_path: Path,
) -> None:
    """50 guesses, each naming another address: 5 password checks, then 429."""
    with running_dashboard(None, tmp_path) as dash, dash.client() as http:
        codes = [
            attempt(http, f"guess {n}", **{"x-forwarded-for": f"198.51.100.{n}"}).status_code
            for n in range(50)
        ]
    assert codes.count(401) == 5 and codes.count(429) == 45, codes


def test_naming_an_address_does_not_lock_it_out(tmp_path: Path) -> None:
    with running_dashboard(None, tmp_path) as dash:
        with dash.client() as attacker:
            for _ in range(8):
                attempt(attacker, "wrong", **{"x-forwarded-for": "127.0.0.2"})
        local = httpx.HTTPTransport(local_address="127.0.0.2")
        with dash.client(transport=local) as admin:
            assert sign_in(admin).status_code == 303, "the real 127.0.0.2 is not locked out"


def test_a_trusted_proxy_names_the_client(proxied: RunningDashboard) -> None:
    with proxied.client() as http:
        for _ in range(5):
            assert attempt(http, "wrong", **{"x-forwarded-for": "203.0.113.7"}).status_code == 401
        assert attempt(http, "wrong", **{"x-forwarded-for": "203.0.113.7"}).status_code == 429
        other = attempt(http, proxied.password, **{"x-forwarded-for": "203.0.113.8"})
        assert other.status_code == 303


def test_uvicorn_options_follow_the_setting(tmp_path: Path) -> None:
    assert server_options(load_settings(data_dir=tmp_path))["proxy_headers"] is False
    trusted = server_options(load_settings(data_dir=tmp_path, forwarded_allow_ips="10.0.0.5"))
    assert trusted["proxy_headers"] is True and trusted["forwarded_allow_ips"] == ["10.0.0.5"]


# -- 5. HSTS -----------------------------------------------------------------------------


def test_hsts_only_over_https(plain: RunningDashboard, proxied: RunningDashboard) -> None:
    with plain.client() as http:
        assert HSTS not in http.get("/login").headers
        spoofed = http.get("/login", headers={"x-forwarded-proto": "https"})
        assert HSTS not in spoofed.headers, "an untrusted peer cannot claim HTTPS"
    with proxied.client() as http:
        assert HSTS not in http.get("/login").headers, "plain HTTP through the proxy"
        secure = http.get("/login", headers={"x-forwarded-proto": "https"})
        assert secure.headers[HSTS] == "max-age=31536000"
        missing = http.get("/nowhere", headers={"x-forwarded-proto": "https"})
        assert missing.status_code == 303 and missing.headers[HSTS] == "max-age=31536000"


@pytest.mark.anyio
@pytest.mark.parametrize(("max_age", "expected"), [(86400, "max-age=86400"), (0, None)])
async def test_hsts_over_direct_tls(tmp_path: Path, max_age: int, expected: str | None) -> None:
    settings = load_settings(data_dir=tmp_path, hsts_max_age=max_age)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url="https://dash.test") as http:
            assert (await http.get("/login")).headers.get(HSTS) == expected
        async with httpx.AsyncClient(transport=transport, base_url="http://dash.test") as http:
            assert HSTS not in (await http.get("/login")).headers


# -- 6. no Host echo, allowed hosts --------------------------------------------------------


def test_redirects_never_repeat_the_host_header(plain: RunningDashboard) -> None:
    with plain.client() as http:
        answer = http.get("/static", headers={"host": "evil.example"})
        assert answer.status_code in (301, 307, 308)
        assert answer.headers["location"] == "/static/"
        assert "evil.example" not in answer.text
        guarded = http.get("/help", headers={"host": "evil.example"})
        assert guarded.headers["location"].startswith("/login?next=")


def test_redirects_use_the_public_url(proxied: RunningDashboard) -> None:
    with proxied.client() as http:
        answer = http.get("/static", headers={"host": "dash.example.com"})
        assert answer.headers["location"] == "https://dash.example.com/static/"


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("evil.example", 400),
        ("dash.example.com.evil.example", 400),
        ("127.0.0.2", 400),
        ("dash.example.com", 200),
        ("DASH.example.com:443", 200),
        ("127.0.0.1:8000", 200),
    ],
)
def test_allowed_hosts(proxied: RunningDashboard, host: str, status: int) -> None:
    with proxied.client() as http:
        answer = http.get("/login", headers={"host": host})
        assert answer.status_code == status
        if status == 400:
            assert "does not answer for that host name" in answer.text
            assert host.lower() not in answer.text.lower()


# -- 7. the Origin check -------------------------------------------------------------------


@pytest.fixture(scope="module")
def admin(plain: RunningDashboard) -> Iterator[httpx.Client]:
    with signed_in(plain) as http:
        yield http


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"referer": "https://evil.example/attack.html"},
        {"origin": "http://127.0.0.1:1"},  # another port is another origin
        {"origin": "https://evil.example", "referer": "{own}/help"},
    ],
)
def test_a_post_from_another_origin_is_refused_even_with_the_token(
    plain: RunningDashboard, admin: httpx.Client, headers: dict[str, str]
) -> None:
    token = csrf_from(admin.get("/help").text)
    sent = {k: v.format(own=plain.url) for k, v in headers.items()}
    answer = admin.post("/actions/update-pricing", data={"csrf_token": token}, headers=sent)
    assert answer.status_code == 403
    assert "came from another site" in answer.text
    with plain.client() as anonymous:
        login = csrf_from(anonymous.get("/login").text)
        form = {"username": "admin", "password": plain.password, "csrf_token": login}
        assert anonymous.post("/login", data=form, headers=sent).status_code == 403


@pytest.mark.parametrize("headers", [{}, {"origin": "{own}"}, {"referer": "{own}/help?x=1"}])
def test_a_post_from_the_dashboard_itself_passes(
    plain: RunningDashboard, admin: httpx.Client, headers: dict[str, str]
) -> None:
    token = csrf_from(admin.get("/help").text)
    sent = {k: v.format(own=plain.url) for k, v in headers.items()}
    answer = admin.post("/actions/sync", data={"csrf_token": token}, headers=sent)
    assert answer.status_code == 200, answer.text


def test_the_public_url_is_an_own_origin(proxied: RunningDashboard) -> None:
    with proxied.client() as http:
        forwarded = {"x-forwarded-proto": "https", "origin": "https://dash.example.com"}
        token = csrf_from(http.get("/login").text)
        form = {"username": "admin", "password": proxied.password, "csrf_token": token}
        assert http.post("/login", data=form, headers=forwarded).status_code == 303


# -- 8. request smuggling ------------------------------------------------------------------


def raw_exchange(url: str, request: bytes, timeout: float = 5) -> tuple[bytes, bool]:
    """Everything the server sends back for `request`, and whether it closed the connection."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            return received, False
        return received, True


SMUGGLED = (
    b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
)


def test_content_length_with_transfer_encoding_is_refused_and_closed(
    plain: RunningDashboard,
) -> None:
    received, closed = raw_exchange(plain.url, SMUGGLED)
    assert received.startswith(b"HTTP/1.1 400 "), received[:200]
    assert received.count(b"HTTP/1.1 ") == 1, "the pipelined request must not be answered"
    assert b"connection: close" in received.lower()
    assert closed, "the connection stays open for what was pipelined behind"


def test_ordinary_pipelining_still_works(plain: RunningDashboard) -> None:
    twice = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 2
    received, _ = raw_exchange(plain.url, twice, timeout=2)
    assert received.count(b"HTTP/1.1 200 ") == 2


def test_refusals_at_the_edge_carry_the_security_headers(proxied: RunningDashboard) -> None:
    with proxied.client() as http:
        answer = http.get("/login", headers={"host": "evil.example", "x-forwarded-proto": "https"})
    assert answer.status_code == 400
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers[HSTS] == "max-age=31536000"
