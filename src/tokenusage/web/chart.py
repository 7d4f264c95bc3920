"""The spend chart, drawn on the server as inline SVG: no chart library, no script, and the
strict CSP holds (geometry is in SVG attributes, colours in app.css classes, never in a
`style` attribute).

`layout()` is the geometry of a `Chart` (pure numbers, tested on their own); `render()` turns
it into the figure: legend, scale, bars with a `<title>` per bar and per segment, the
purchase/refund marks, and a table with the same numbers as the text alternative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

from tokenusage.usage.buckets import OTHER, Bucket, Chart, Granularity
from tokenusage.web.formatting import Formatter
from tokenusage.web.i18n import N_

VIEW_W = 1000  # the SVG's user units; it is stretched to the figure's width by CSS
VIEW_H = 200
MARK_H = 10
GAP = 0.25  # of each slot, left empty between bars
TICKS = 4  # intervals on the scale
ZERO = Decimal(0)

Translate = Callable[[str], str]

PERIOD = {
    "day": N_("Day"),
    "week": N_("Week"),
    "month": N_("Month"),
}
CAPTION = {
    "day": N_("Credits spent per day, by service"),
    "week": N_("Credits spent per week, by service"),
    "month": N_("Credits spent per month, by service"),
}
# Babel does not look inside f-strings: every message is named outside them.
TOTAL = N_("Total")
NO_SPEND = N_("No credits were spent in this range.")
AS_TABLE = N_("The numbers as a table")


@dataclass(frozen=True)
class Segment:
    key: str  # the series: a service, or OTHER
    css: str
    y: float
    height: float
    value: Decimal


@dataclass(frozen=True)
class Bar:
    bucket: Bucket
    x: float
    width: float
    segments: tuple[Segment, ...]

    @property
    def total(self) -> Decimal:
        return self.bucket.totals.spend


@dataclass(frozen=True)
class Layout:
    top: Decimal  # the scale's top: a round number at or above the peak
    ticks: tuple[Decimal, ...]  # top first, down to zero
    bars: tuple[Bar, ...]
    classes: dict[str, str]  # series key -> CSS class

    @property
    def slot(self) -> float:
        return VIEW_W / len(self.bars) if self.bars else float(VIEW_W)


def nice_step(raw: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is at least `raw` (> 0)."""
    base = Decimal(1).scaleb(raw.adjusted())
    for m in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5)):
        if base * m >= raw:
            return base * m
    return base * 10


def series_class(index: int, key: str) -> str:
    return "other" if key == OTHER else f"s{index}"


def _units(value: Decimal, top: Decimal) -> float:
    return round(float(value / top) * VIEW_H, 2)


def layout(chart: Chart) -> Layout:
    """Bars left to right, oldest first; segments stacked from the axis up in series order.
    Heights are proportional to spend on a scale whose top is a round number."""
    peak = chart.peak
    step = nice_step(peak / TICKS) if peak > 0 else Decimal(1)
    top = step * TICKS
    classes = {key: series_class(i, key) for i, key in enumerate(chart.series)}
    n = len(chart.buckets) or 1
    slot = VIEW_W / n
    width = round(slot * (1 - GAP), 2)
    bars = []
    for i, bucket in enumerate(chart.buckets):
        segments = []
        stacked = ZERO
        for key in chart.series:
            value = bucket.spend.get(key, ZERO)
            if value <= 0:
                continue
            bottom = VIEW_H - _units(stacked, top)
            stacked += value
            y = VIEW_H - _units(stacked, top)
            segments.append(Segment(key, classes[key], y, round(bottom - y, 2), value))
        x = round(i * slot + slot * GAP / 2, 2)
        bars.append(Bar(bucket, x, width, tuple(segments)))
    ticks = tuple(step * k for k in range(TICKS, -1, -1))
    return Layout(top, ticks, tuple(bars), classes)


def period_label(start: date, end: date, granularity: Granularity, fmt: Formatter) -> str:
    """A bucket in words: a day, a week's first and last day, or a month."""
    if granularity == "day":
        return fmt.calendar_day(start)
    if granularity == "month":
        return fmt.month(start)
    return f"{fmt.short_day(start)} \u2013 {fmt.calendar_day(end)}"


def axis_label(start: date, granularity: Granularity, fmt: Formatter) -> str:
    return fmt.month(start) if granularity == "month" else fmt.short_day(start)


def series_name(key: str, _: Translate, name: Callable[[str], str]) -> str:
    return _(N_("Other")) if key == OTHER else name(key)


def _svg_bars(
    lay: Layout, chart: Chart, fmt: Formatter, _: Translate, name: Callable[[str], str]
) -> str:
    out = []
    for bar in lay.bars:
        period = period_label(bar.bucket.start, bar.bucket.end, chart.granularity, fmt)
        total = _(N_("%(period)s: %(amount)s spent")) % {
            "period": period,
            "amount": fmt.money(bar.total),
        }
        parts = [f'<g class="bar"><title>{escape(total)}</title>']
        if not bar.segments:  # an empty bucket still says its value when hovered
            parts.append(
                f'<rect class="hit" x="{bar.x}" y="0" width="{bar.width}" height="{VIEW_H}"/>'
            )
        for seg in bar.segments:
            text = _(N_("%(period)s, %(service)s: %(amount)s")) % {
                "period": period,
                "service": series_name(seg.key, _, name),
                "amount": fmt.money(seg.value),
            }
            parts.append(
                f'<rect class="{seg.css}" x="{bar.x}" y="{seg.y}" width="{bar.width}" '
                f'height="{seg.height}"><title>{escape(text)}</title></rect>'
            )
        parts.append("</g>")
        out.append("".join(parts))
    return "".join(out)


def _svg_marks(lay: Layout, chart: Chart, fmt: Formatter, _: Translate) -> str:
    out = []
    for bar in lay.bars:
        totals = bar.bucket.totals
        kinds = [
            (css, amount, label)
            for css, amount, label in (
                ("purchase", totals.purchased, N_("%(period)s: purchases %(amount)s")),
                ("refund", totals.refunded, N_("%(period)s: refunds %(amount)s")),
            )
            if amount != 0
        ]
        height = MARK_H / len(kinds) if kinds else 0
        for i, (css, amount, label) in enumerate(kinds):
            text = _(label) % {
                "period": period_label(bar.bucket.start, bar.bucket.end, chart.granularity, fmt),
                "amount": fmt.signed_money(amount),
            }
            out.append(
                f'<rect class="mark {css}" x="{bar.x}" y="{round(i * height, 2)}" '
                f'width="{bar.width}" height="{height}"><title>{escape(text)}</title></rect>'
            )
    return "".join(out)


def _legend(lay: Layout, chart: Chart, _: Translate, name: Callable[[str], str]) -> str:
    items = [
        f'<li><span class="swatch {lay.classes[key]}" aria-hidden="true"></span>'
        f"{escape(series_name(key, _, name))}</li>"
        for key in chart.series
    ]
    items += [
        f'<li><span class="swatch mark-{css}" aria-hidden="true"></span>{escape(_(label))}</li>'
        for css, label in (("purchase", N_("Purchase")), ("refund", N_("Refund")))
    ]
    return f'<ul class="legend">{"".join(items)}</ul>'


def _table(chart: Chart, fmt: Formatter, _: Translate, name: Callable[[str], str]) -> str:
    head = "".join(
        f'<th scope="col" class="num">{escape(series_name(k, _, name))}</th>' for k in chart.series
    )
    totals = (N_("Total spent"), N_("Purchases"), N_("Refunds"))
    head += "".join(f'<th scope="col" class="num">{escape(_(t))}</th>' for t in totals)
    rows = []
    for b in chart.buckets:
        label = period_label(b.start, b.end, chart.granularity, fmt)
        cells = "".join(
            f'<td class="num">{escape(fmt.money(b.spend.get(k, ZERO)))}</td>' for k in chart.series
        )
        cells += "".join(
            f'<td class="num">{escape(fmt.money(v))}</td>'
            for v in (b.totals.spend, b.totals.purchased, b.totals.refunded)
        )
        rows.append(f'<tr><th scope="row">{escape(label)}</th>{cells}</tr>')
    all_ = chart.totals
    by_series = [sum((b.spend.get(k, ZERO) for b in chart.buckets), ZERO) for k in chart.series]
    foot = "".join(
        f'<td class="num">{escape(fmt.money(v))}</td>'
        for v in (*by_series, all_.spend, all_.purchased, all_.refunded)
    )
    return (
        '<div class="table-scroll chart-data" role="region" tabindex="0" '
        'aria-labelledby="spend-chart-caption">'
        f'<table><caption id="spend-chart-caption">{escape(_(CAPTION[chart.granularity]))}'
        f'</caption><thead><tr><th scope="col">{escape(_(PERIOD[chart.granularity]))}</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
        f'<tfoot><tr><th scope="row">{escape(_(TOTAL))}</th>{foot}</tr></tfoot>'
        "</table></div>"
    )


def render(chart: Chart, fmt: Formatter, _: Translate, name: Callable[[str], str]) -> Markup:
    """The chart's figure: `name` turns a service key into what the screen shows (branded)."""
    lay = layout(chart)
    sentence = _(N_("%(spent)s spent from %(first)s to %(last)s"))
    days = {"first": fmt.calendar_day(chart.first), "last": fmt.calendar_day(chart.last)}
    spent = chart.totals.spend
    summary = sentence % {**days, "spent": fmt.exact(spent)}  # the figure's label
    # On screen at cents like the page's other headline figures, the exact value on hover.
    shown = escape(sentence) % {**days, "spent": fmt.headline(spent, focus=False)}
    ticks = "".join(f"<li>{escape(fmt.money(t))}</li>" for t in lay.ticks)
    n = len(lay.bars)
    picks = sorted({0, n // 2, n - 1}) if n else []
    xs = "".join(
        f"<li>{escape(axis_label(lay.bars[i].bucket.start, chart.granularity, fmt))}</li>"
        for i in picks
    )
    grid = "".join(
        f'<line class="grid" x1="0" x2="{VIEW_W}" y1="{y}" y2="{y}"/>'
        for y in (round(VIEW_H * k / TICKS, 2) for k in range(TICKS + 1))
    )
    empty = f'<p class="chart-empty">{escape(_(NO_SPEND))}</p>' if chart.totals.spend <= 0 else ""
    html = (
        f'<p class="chart-summary">{shown}</p>{empty}'
        f"{_legend(lay, chart, _, name)}"
        '<div class="plot">'
        f'<ol class="y-axis" aria-hidden="true">{ticks}</ol>'
        '<div class="bars">'
        f'<svg class="bars-svg" viewBox="0 0 {VIEW_W} {VIEW_H}" preserveAspectRatio="none" '
        f'role="img" aria-label="{escape(summary)}">{grid}'
        f"{_svg_bars(lay, chart, fmt, _, name)}</svg>"
        f'<svg class="marks-svg" viewBox="0 0 {VIEW_W} {MARK_H}" preserveAspectRatio="none" '
        f'aria-hidden="true">{_svg_marks(lay, chart, fmt, _)}</svg>'
        f'<ol class="x-axis" aria-hidden="true">{xs}</ol>'
        "</div></div>"
        f'<details class="chart-numbers"><summary>{escape(_(AS_TABLE))}'
        f"</summary>{_table(chart, fmt, _, name)}</details>"
    )
    return Markup(html)  # noqa: S704 (every variable part is escaped above)
