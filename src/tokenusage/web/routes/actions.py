"""The buttons that change something: Refresh Data, Update Pricing, Clear Cache, and the
auto-refresh's revalidation. All POST; the guard has checked the CSRF token before they run.

Each ends in a redirect to the overview with a flash message (post/redirect/get), or in JSON
for a script or the auto-refresh's fetch.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tokenusage.service import Problem, Where
from tokenusage.service.problems import problem as as_problem
from tokenusage.store import StoreError
from tokenusage.web.formatting import headline_for
from tokenusage.web.i18n import N_
from tokenusage.web.security import wants_json
from tokenusage.web.sessions import flash, mark_live_since
from tokenusage.web.state import web_state


def _done(
    request: Request, messages: list[tuple[str, str]], problems: list[Problem] | None = None
) -> Response:
    if wants_json(request):
        return JSONResponse(
            {
                "ok": all(level != "error" for level, _ in messages),
                "messages": [{"level": level, "text": text} for level, text in messages],
                "problems": [p.as_json() for p in problems or []],
            }
        )
    for level, text in messages:
        flash(request.scope["session"], level, text)
    return RedirectResponse("/", status_code=303)


def _problems(request: Request, problems: list[Problem]) -> list[tuple[str, str]]:
    """Each problem as one flash line: its translated headline, then its specific cause."""
    renderer = web_state(request).renderer
    return [
        ("error", f"{renderer.gettext(request, headline_for(p))}: {p.message}") for p in problems
    ]


async def refresh(request: Request) -> Response:
    web = web_state(request)
    mark_live_since(request.scope["session"], web.service.clock())
    problems = await web.service.refresh_all()
    if problems:
        return _done(request, _problems(request, problems), problems)
    if web.service.syncing:
        text = N_(
            "Account, statistics and pricing refreshed; the full transaction history is still "
            "being copied, and the page shows its progress."
        )
        return _done(request, [("info", web.renderer.gettext(request, text))])
    return _done(
        request, [("success", web.renderer.gettext(request, N_("Data refreshed successfully")))]
    )


async def update_pricing(request: Request) -> Response:
    web = web_state(request)
    mark_live_since(request.scope["session"], web.service.clock())
    problems = await web.service.refresh_pricing()
    if problems:
        return _done(request, _problems(request, problems), problems)
    text = web.renderer.gettext(
        request, N_("Pricing cache cleared. Latest prices will be fetched.")
    )
    return _done(request, [("success", text)])


CONFIRM_CLEAR = N_(
    "Nothing was cleared: Clear Cache deletes every stored transaction, so it needs a "
    "confirmation (confirm=1 in the form)."
)


async def clear_cache(request: Request) -> Response:
    """Deletes the mirror, but only when the form says `confirm=1` (the page's dialog, or the
    confirmation page a bare POST answers with, for a browser without scripts)."""
    web = web_state(request)
    form = await request.form()
    if form.get("confirm") != "1":
        text = web.renderer.gettext(request, CONFIRM_CLEAR)
        if wants_json(request):
            return JSONResponse({"ok": False, "error": text}, status_code=400)
        return web.renderer.render(request, "confirm_clear.html", {"message": text}, status=400)
    try:
        removed = await web.service.clear_transactions()
    except StoreError as exc:
        problem = as_problem(exc, Where.STORE, web.service.clock())
        return _done(request, _problems(request, [problem]), [problem])
    text = web.renderer.ngettext(
        "Cleared %(num)s cached transaction. Fresh data will be fetched.",
        "Cleared %(num)s cached transactions. Fresh data will be fetched.",
        removed,
        request=request,
        num=web.renderer.formatter_for(request).number(removed),
    )
    return _done(request, [("success", text)])


async def sync(request: Request) -> Response:
    """What the page's auto-refresh calls: an incremental sync, never a purge."""
    problems = await web_state(request).service.sync()
    return JSONResponse({"ok": not problems, "problems": [p.as_json() for p in problems]})


ROUTES = [
    Route("/actions/refresh", refresh, methods=["POST"], name="refresh"),
    Route("/actions/update-pricing", update_pricing, methods=["POST"], name="update_pricing"),
    Route("/actions/clear-cache", clear_cache, methods=["POST"], name="clear_cache"),
    Route("/actions/sync", sync, methods=["POST"], name="sync"),
]
