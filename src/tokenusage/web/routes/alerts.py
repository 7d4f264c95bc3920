"""The Alerts page: the rules with their state, adding, switching, removing and testing them,
and the log of every delivery with its outcome. Signed-in admins only, every POST
CSRF-checked (the guard); each action ends in a redirect back here with a flash."""

from __future__ import annotations

import re
from typing import Any

from anyio import to_thread
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tokenusage.service.alerts.manage import Alerts
from tokenusage.service.alerts.rules import KINDS, AlertError, Channel
from tokenusage.store import StoreError
from tokenusage.web.i18n import N_
from tokenusage.web.sessions import flash
from tokenusage.web.state import web_state

KIND_LABELS = {
    "balance_below": N_("Balance below ($)"),
    "runway_below_days": N_("Runway below (days)"),
    "daily_spend_above": N_("Spend in one day above ($)"),
    "stale_minutes": N_("No successful sync for (minutes)"),
}
STATE_LABELS = {"armed": N_("armed"), "fired": N_("fired")}
DELIVERY_LABELS = {
    "pending": N_("pending"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "failed": N_("failed"),
}
_SPLIT = re.compile(r"[\s,;]+")


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _back(request: Request, level: str, message: str, **values: Any) -> Response:
    text = web_state(request).renderer.gettext(request, message, **values)
    flash(request.scope["session"], level, text)
    return RedirectResponse("/alerts", status_code=303)


async def alerts_page(request: Request) -> Response:
    web = web_state(request)
    context: dict[str, Any] = {
        "nav": "alerts",
        "rules": [],
        "deliveries": [],
        "kinds": KIND_LABELS,
        "states": STATE_LABELS,
        "delivery_states": DELIVERY_LABELS,
        "channel_text": lambda c: str(Channel.from_json(c)),
        "store_error": None,
    }
    status = 200
    try:
        alerts = Alerts(web.store())
        context["rules"], context["deliveries"] = await to_thread.run_sync(
            lambda: (alerts.listing(), alerts.deliveries(50))
        )
    except StoreError as exc:
        context["store_error"] = " ".join(str(exc).split())
        status = 503
    return web.renderer.render(request, "alerts.html", context, status)


async def add_alert(request: Request) -> Response:
    web = web_state(request)
    form = await request.form()
    kind = _field(form, "kind")
    if kind not in KINDS:
        return _back(request, "error", N_("Choose what the alert watches."))
    emails = [e for e in _SPLIT.split(_field(form, "emails")) if e]
    webhooks = [u for u in _SPLIT.split(_field(form, "webhooks")) if u]
    try:
        alerts = Alerts(web.store())
        rule = await to_thread.run_sync(
            alerts.add, _field(form, "name"), kind, _field(form, "threshold"), emails, webhooks
        )
    except AlertError as exc:
        return _back(request, "error", N_("The alert was not added: %(reason)s"), reason=str(exc))
    except StoreError as exc:
        return _store_failed(request, exc)
    return _back(request, "success", N_("Alert %(name)s added."), name=rule.name)


async def _named(request: Request) -> str:
    form = await request.form()
    return _field(form, "name")


def _store_failed(request: Request, exc: StoreError) -> Response:
    reason = " ".join(str(exc).split())
    return _back(request, "error", N_("The local store cannot be used: %(reason)s"), reason=reason)


async def remove_alert(request: Request) -> Response:
    name = await _named(request)
    try:
        alerts = Alerts(web_state(request).store())
        await to_thread.run_sync(alerts.remove, name)
    except AlertError:
        return _back(request, "error", N_("There is no alert named %(name)s."), name=name)
    except StoreError as exc:
        return _store_failed(request, exc)
    return _back(request, "success", N_("Alert %(name)s removed."), name=name)


async def switch_alert(request: Request) -> Response:
    form = await request.form()
    name, on = _field(form, "name"), _field(form, "enabled") == "1"
    try:
        alerts = Alerts(web_state(request).store())
        await to_thread.run_sync(alerts.set_enabled, name, on)
    except AlertError:
        return _back(request, "error", N_("There is no alert named %(name)s."), name=name)
    except StoreError as exc:
        return _store_failed(request, exc)
    if on:
        return _back(request, "success", N_("Alert %(name)s is on."), name=name)
    return _back(request, "success", N_("Alert %(name)s is off."), name=name)


async def test_alert(request: Request) -> Response:
    """Send a test message through the rule's channels now; the log shows how it went."""
    web = web_state(request)
    name = await _named(request)
    checker = web.alerts
    assert checker is not None
    try:
        sent = await checker.send_test(name)
    except AlertError:
        return _back(request, "error", N_("There is no alert named %(name)s."), name=name)
    except StoreError as exc:
        return _store_failed(request, exc)
    if all(d.state == "sent" for d in sent):
        return _back(request, "success", N_("Test message of %(name)s sent."), name=name)
    return _back(
        request,
        "error",
        N_("The test message of %(name)s could not be sent through every channel: see the log."),
        name=name,
    )


ROUTES = [
    Route("/alerts", alerts_page, methods=["GET"], name="alerts"),
    Route("/alerts", add_alert, methods=["POST"], name="add_alert"),
    Route("/alerts/remove", remove_alert, methods=["POST"], name="remove_alert"),
    Route("/alerts/switch", switch_alert, methods=["POST"], name="switch_alert"),
    Route("/alerts/test", test_alert, methods=["POST"], name="test_alert"),
]
