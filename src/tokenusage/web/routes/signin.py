"""Sign-in and sign-out. Passwords are checked against Argon2 hashes in a worker thread; failed
attempts are throttled per (username, client address) in the store; a successful sign-in
starts a fresh session (new CSRF token, a new server-side record sealed with a fingerprint of
the password hash); signing out deletes the record, so a copy of the cookie dies with it on
every replica, and "sign out everywhere" deletes every record of the admin."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tokenusage.store import StoreError
from tokenusage.web.i18n import N_
from tokenusage.web.sessions import csrf_token, flash
from tokenusage.web.state import WebState, web_state

MAX_FIELD = 1024
log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//host`, a scheme, or a backslash trick."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    # Browsers drop tabs and newlines from URLs: "/\t/evil.example" would become "//evil…".
    if any(ch <= " " or ch == "\x7f" for ch in target):
        return "/"
    return target


def _store_down(web: WebState, request: Request, problem: str) -> str:
    return web.renderer.gettext(
        request,
        N_("The local store is unavailable (%(error)s), so no admin can sign in."),
        error=problem,
    )


async def _notice(web: WebState, request: Request) -> str | None:
    """Why nobody can sign in yet, if that is the case. A store that cannot be reached is
    said as such: it is not "no admin account exists"."""
    try:
        if await web.any_admin():
            return None
    except StoreError as exc:
        return _store_down(web, request, " ".join(str(exc).split()) or "?")
    return web.renderer.gettext(
        request,
        N_(
            "No admin account exists yet. Create one on the server with: "
            "tokenusage admin create NAME"
        ),
    )


async def login_form(request: Request) -> Response:
    web = web_state(request)
    if request.scope.get("state", {}).get("admin"):
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _form(request, web, status=200, notice=await _notice(web, request))


def _form(
    request: Request,
    web: WebState,
    *,
    status: int,
    error: str | None = None,
    username: str = "",
    target: str | None = None,
    notice: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    context = {
        "error": error,
        "notice": notice,
        "username": username,
        "next": safe_next(target if target is not None else request.query_params.get("next")),
    }
    return web.renderer.render(request, "login.html", context, status, headers)


async def login(request: Request) -> Response:
    web = web_state(request)
    form = await request.form(max_files=0, max_fields=10)
    username = str(form.get("username", ""))[:MAX_FIELD].strip()
    password = str(form.get("password", ""))[:MAX_FIELD]
    target = safe_next(str(form.get("next", "/")))
    client = request.client.host if request.client else "?"
    key = web.throttle.key(username, client)
    try:
        # Counted as a failure before the check, so parallel attempts cannot slip past the
        # limit while theirs run; a success takes it back.
        wait = await web.throttle.attempt(key)
    except StoreError as exc:
        down = _store_down(web, request, " ".join(str(exc).split()) or "?")
        return _form(request, web, status=503, username=username, target=target, notice=down)
    if wait:
        message = web.renderer.ngettext(
            "Too many failed sign-in attempts. Try again in %(num)s second.",
            "Too many failed sign-in attempts. Try again in %(num)s seconds.",
            wait,
            request=request,
            num=wait,
        )
        return _form(
            request,
            web,
            status=429,
            error=message,
            username=username,
            target=target,
            headers={"retry-after": str(wait)},
        )
    token = ""
    try:
        async with web.verifications:  # Argon2 costs 64 MiB and tens of ms a check
            stored = await web.sign_in(username, password)
        if stored is not None:
            await web.throttle.succeeded(key)
            token = await web.sessions.start(username, stored)
    except StoreError as exc:
        down = _store_down(web, request, " ".join(str(exc).split()) or "?")
        return _form(request, web, status=503, username=username, target=target, notice=down)
    if stored is None:
        error = web.renderer.gettext(request, N_("Incorrect username or password."))
        notice = await _notice(web, request)
        return _form(
            request, web, status=401, error=error, username=username, target=target, notice=notice
        )
    session = request.scope["session"]
    session.clear()
    session["admin"] = username
    session["sid"] = token
    csrf_token(session)
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    """Sign out here, or with `everywhere=1` on every device and replica."""
    web = web_state(request)
    session = request.scope["session"]
    sid, admin = session.get("sid"), request.scope["state"].get("admin")
    form = await request.form(max_files=0, max_fields=10)
    everywhere = form.get("everywhere") == "1" and isinstance(admin, str)
    level, done = "info", N_("You have been signed out.")
    try:
        if everywhere and isinstance(admin, str):
            await web.sessions.end_everywhere(admin)
            done = N_("You have been signed out on every device.")
        elif isinstance(sid, str):
            await web.sessions.end(sid)
    except StoreError as exc:
        log.warning("sign-out could not reach the store: %s", " ".join(str(exc).split()))
        level, done = (
            "warning",
            N_(
                "You have been signed out here. The local store is unavailable, so other "
                "dashboard servers may accept this session until it expires."
            ),
        )
    session.clear()
    flash(session, level, web.renderer.gettext(request, done))
    return RedirectResponse("/login", status_code=303)


ROUTES = [
    Route("/login", login_form, methods=["GET"], name="login_form"),
    Route("/login", login, methods=["POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
]
