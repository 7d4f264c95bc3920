"""API Tokens: the page's view of `tokenusage token create|list|revoke` (signed-in, CSRF).

A new token is shown in the answer to the POST that made it, never put in a flash: the
session cookie is signed, not encrypted, and the token must not travel in it.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tokenusage.service.tokens import TokenError
from tokenusage.store import StoreError
from tokenusage.web.i18n import N_
from tokenusage.web.sessions import flash
from tokenusage.web.state import web_state


async def _page(request: Request, status: int = 200, **extra: Any) -> Response:
    web = web_state(request)
    context: dict[str, Any] = {"nav": "tokens", "tokens": [], "new_token": None, "new_name": "",
                               "token_error": None, **extra}  # fmt: skip
    try:
        tokens = web.tokens()
        context["tokens"] = await to_thread.run_sync(tokens.listing)
    except StoreError as exc:
        text = web.renderer.gettext(request, N_("The local store cannot be read: %(reason)s"),
                                    reason=" ".join(str(exc).split()))  # fmt: skip
        context["token_error"] = text
        status = 503
    return web.renderer.render(request, "tokens.html", context, status)


async def tokens_page(request: Request) -> Response:
    return await _page(request)


async def _name(request: Request) -> str:
    form = await request.form()
    value = form.get("name")
    return value if isinstance(value, str) else ""


async def create_token(request: Request) -> Response:
    web = web_state(request)
    name = await _name(request)
    try:
        tokens = web.tokens()
        secret = await to_thread.run_sync(tokens.create, name)
    except TokenError:
        text = N_("A token needs a new name of letters, digits and . _ @ - (at most 150).")
        return await _page(request, 400, token_error=web.renderer.gettext(request, text))
    except StoreError:
        return await _page(request, 503)
    return await _page(request, new_token=secret, new_name=name.strip())


async def revoke_token(request: Request) -> Response:
    web = web_state(request)
    name = await _name(request)
    try:
        tokens = web.tokens()
        await to_thread.run_sync(tokens.revoke, name)
    except TokenError:
        text = web.renderer.gettext(request, N_("There is no token named %(name)s."), name=name)
        flash(request.scope["session"], "error", text)
    except StoreError:
        return await _page(request, 503)
    else:
        text = web.renderer.gettext(request, N_("Token %(name)s revoked."), name=name)
        flash(request.scope["session"], "success", text)
    return RedirectResponse("/tokens", status_code=303)


ROUTES = [
    Route("/tokens", tokens_page, methods=["GET"], name="tokens"),
    Route("/tokens", create_token, methods=["POST"], name="create_token"),
    Route("/tokens/revoke", revoke_token, methods=["POST"], name="revoke_token"),
]
