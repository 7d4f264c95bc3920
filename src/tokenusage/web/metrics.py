"""Prometheus metrics: `GET /metrics` in the text format, with prometheus_client.

Two kinds of figures. What this process did (HTTP requests it served, License API calls it
made, alerts it sent) are counters and histograms in the app's own registry; summed over the
replicas they give the whole (an alert is sent by one replica only). What the ledger says
(balance, runway, spend per service, sync times) is read from the shared store at each
scrape: every replica reports the same value, so take `max without(instance)`, never `sum`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenusage.service.figures import Figures
from tokenusage.web.state import web_state

disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series

# License API calls take from milliseconds to the 30 s timeout.
UPSTREAM_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """This process's counters, in a registry of the app's own (tests run many apps)."""

    def __init__(self, route_paths: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        self.routes = frozenset(route_paths)
        self.http_requests = Counter(
            "tokenusage_http_requests",
            "HTTP requests served, by route template and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "tokenusage_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["route"],
            registry=self.registry,
        )
        self.upstream_requests = Counter(
            "tokenusage_upstream_requests",
            "License API calls (retries included in one call), by endpoint and outcome.",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.upstream_duration = Histogram(
            "tokenusage_upstream_request_duration_seconds",
            "Time of a License API call, retries included, by endpoint.",
            ["endpoint"],
            buckets=UPSTREAM_BUCKETS,
            registry=self.registry,
        )

        self.alerts_sent = Counter(
            "tokenusage_alerts_sent",
            "Alert deliveries this process made, by rule, channel type and outcome.",
            ["rule", "channel", "outcome"],
            registry=self.registry,
        )

    def observe_alert(self, rule: str, channel: str, outcome: str) -> None:
        self.alerts_sent.labels(rule, channel, outcome).inc()

    def route_of(self, path: str) -> str:
        """A bounded label: the route's template, "/static", or "other"."""
        if path in self.routes:
            return path
        if path.startswith("/static/"):
            return "/static"
        return "other"

    def observe_upstream(self, endpoint: str, outcome: str, seconds: float) -> None:
        self.upstream_requests.labels(endpoint, outcome).inc()
        self.upstream_duration.labels(endpoint).observe(seconds)


class HttpMetricsMiddleware:
    """Counts every answer by route and status, and times it to the end of its body."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            route = self.metrics.route_of(scope["path"])
            self.metrics.http_requests.labels(route, str(status)).inc()
            self.metrics.http_duration.labels(route).observe(time.perf_counter() - started)


class LedgerCollector(Collector):
    """One scrape's figures of the ledger, read from the store just before."""

    def __init__(self, figures: Figures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        f = self.figures
        if f.balance is not None:
            yield _gauge("tokenusage_balance_dollars", "The credit balance.", float(f.balance))
        if f.runway_known:
            days = math.inf if f.runway_days is None else float(f.runway_days)
            yield _gauge(
                "tokenusage_runway_days",
                "Whole days the balance lasts at the current burn rate (+Inf: no spend lately).",
                days,
            )
        spend = CounterMetricFamily(
            "tokenusage_spend_dollars",
            "Credits consumed (minus the usage amounts) over the mirrored ledger, by service.",
            labels=["service"],
        )
        for service, amount in sorted(f.spend_by_service.items()):
            spend.add_metric([service], float(amount))
        yield spend
        if f.last_sync is not None:
            yield _gauge(
                "tokenusage_last_sync_timestamp_seconds",
                "When the transaction mirror was last synced (Unix time).",
                f.last_sync.timestamp(),
            )
        if (age := f.data_age_seconds) is not None:
            yield _gauge(
                "tokenusage_data_age_seconds", "Age of the oldest figure shown, in seconds.", age
            )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


async def metrics_endpoint(request: Request) -> Response:
    web = web_state(request)
    figures = await web.service.figures()
    ledger = CollectorRegistry(auto_describe=False)
    ledger.register(LedgerCollector(figures))
    metrics: Metrics = request.app.state.metrics
    body = generate_latest(metrics.registry) + generate_latest(ledger)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)


ROUTES = [Route("/metrics", metrics_endpoint, methods=["GET"], name="metrics")]
