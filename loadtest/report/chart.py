"""One self-contained HTML page of a run's charts, by scenario: each arm's latency percentile
spectrum and bars of its cost per operation. Inline SVG only: nothing is fetched."""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

from loadtest.histogram import Latency
from loadtest.report import figures, svg
from loadtest.results import ArmResult, RunResult

PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#999933")
"""Okabe-Ito colours: told apart with the common colour-vision deficiencies."""
DASHED = "6 4"
NO_LATENCY = " (no latency)"

MIN_NINES = 2
MAX_NINES = 6
"""The x axis reaches the nines the recorded count can resolve (1000 values: 99.9%), at least
99% and at most 99.9999%; the maximum (100%) is drawn at the right edge."""

LEGEND_CHARACTERS = 34
"""Longer labels are cut in the legend and bar labels (the full label is the tooltip); at
12 px that is about 230 px, which the legend and ``BAR_LABELS`` leave room for."""

BARS = (
    ("Internal calls per operation", figures.CALLS, "calls"),
    ("New TCP connections per operation", figures.NEW_CONNECTIONS, "connections"),
    ("Wire bytes per operation (loopback, both directions)", figures.WIRE_BYTES, "bytes"),
    ("Server CPU per operation", figures.SERVER_CPU_MS, "ms"),
)
BAR_ROW = 26
BAR_LABELS = 270
BAR_LENGTH = 560

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 1000px; margin: 2rem auto; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.5rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #ddd; padding-bottom: .3rem; margin-top: 2.5rem; }
figure { margin: 1.5rem 0; }
figcaption { font-weight: 600; margin-bottom: .4rem; }
.explain, .meta { color: #555; font-size: .9rem; font-weight: normal; }
svg { display: block; max-width: 100%; height: auto; font-size: 12px; }
svg text { fill: #333; }
dt { font-weight: 600; }
dd { margin: 0 0 .6rem 1.5rem; }
.notes { color: #8a4b00; }
"""


def write_chart(run: RunResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_chart(run), encoding="utf-8")


def render_chart(run: RunResult) -> str:
    names = dict.fromkeys(arm.name for arm in run.arms)
    colours = {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(names)}
    groups: dict[str, list[ArmResult]] = {}
    for arm in run.arms:
        groups.setdefault(figures.scenario_text(arm), []).append(arm)
    settings = "; ".join(f"{key}: {value}" for key, value in run.settings.items())
    body = [
        "<h1>shopmesh load test</h1>",
        f'<p class="meta">Started {escape(run.started_at)}. {escape(settings)}</p>',
        _notes(run),
        *(_scenario(title, arms, colours) for title, arms in groups.items()),
        _method(run),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
        f"<title>shopmesh load test, {escape(run.started_at)}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def _scenario(title: str, arms: list[ArmResult], colours: dict[str, str]) -> str:
    bars = "".join(_bars(caption, figure, unit, arms, colours) for caption, figure, unit in BARS)
    return f"<section>\n<h2>{escape(title)}</h2>\n{_spectrum(arms, colours)}\n{bars}\n</section>"


def _spectrum(arms: list[ArmResult], colours: dict[str, str]) -> str:
    """Latency against percentile, one polyline per arm and histogram drawn."""
    caption = (
        "<figcaption>Latency by percentile "
        '<span class="explain">— x: percentile on a log scale, one step per added nine; '
        "y: latency in ms. Solid: corrected for coordinated omission (from the intended send); "
        "dashed: uncorrected (from the actual send), open-loop arms only.</span></figcaption>"
    )
    drawn = [
        (arm, name, latency)
        for arm in arms
        for name in (("corrected", "uncorrected") if arm.model == "open" else ("corrected",))
        if (latency := arm.latency(name)) is not None and latency.count
    ]
    if not drawn:
        return f"<figure>{caption}<p>No latency recorded.</p></figure>"
    most = max(latency.count for _, _, latency in drawn)
    nines = min(MAX_NINES, max(MIN_NINES, math.ceil(math.log10(most))))
    curves = [(arm, name, _points(latency, nines)) for arm, name, latency in drawn]
    y_ticks = svg.ticks(max(ms for _, _, points in curves for _, ms in points))
    area = svg.Area(left=70, top=16, width=600, height=340, x_max=nines, y_max=y_ticks[-1])
    grid = svg.x_grid(area, [(k, _percentile_label(k)) for k in range(nines + 1)])
    grid += svg.y_grid(area, [(tick, svg.tick_label(tick)) for tick in y_ticks])
    lines = "".join(_polyline(area, arm, name, points, colours) for arm, name, points in curves)
    with_latency = {arm.name for arm, _, _ in drawn}
    dashed = any(name == "uncorrected" for _, name, _ in drawn)
    legend = _legend(area, arms, colours, with_latency, dashed)
    chart = svg.document(
        960,
        area.bottom + 48,
        "Latency by percentile",
        grid,
        svg.x_title(area, "percentile"),
        svg.y_title(area, "latency (ms)"),
        lines,
        legend,
    )
    return f"<figure>{caption}{chart}</figure>"


def _points(latency: Latency, nines: int) -> list[tuple[float, float]]:
    """(nines, ms) points: x = log10(1 / (1 - p)), the maximum at the right edge."""
    points = []
    for percentile, ms in latency.spectrum():
        x = math.inf if percentile >= 100 else -math.log10(1 - percentile / 100)
        points.append((min(x, nines), ms))
    return points


def _percentile_label(nines: int) -> str:
    """0%, 90%, 99%, 99.9%, 99.99%, … for 0, 1, 2, 3, 4, … nines."""
    if nines < 2:
        return ("0", "90")[nines] + "%"
    return "99" + ("." + "9" * (nines - 2) if nines > 2 else "") + "%"


def _polyline(
    area: svg.Area,
    arm: ArmResult,
    name: str,
    points: list[tuple[float, float]],
    colours: dict[str, str],
) -> str:
    pixels = list(dict.fromkeys(f"{area.x(x):.1f},{area.y(ms):.1f}" for x, ms in points))
    attributes = {
        "class": f"series {name}",
        "data-arm": arm.name,
        "points": " ".join(pixels),
        "fill": "none",
        "stroke": colours[arm.name],
        "stroke-width": "2",
        "stroke-linejoin": "round",
    }
    if name != "corrected":
        attributes["stroke-dasharray"] = DASHED
    return svg.element("polyline", attributes, svg.title(f"{figures.arm_title(arm)}: {name}"))


def _legend(
    area: svg.Area, arms: list[ArmResult], colours: dict[str, str], drawn: set[str], dashed: bool
) -> str:
    """A row per arm (no swatch when it drew no line), then the line-style key."""
    left = area.left + area.width + 24
    rows: list[tuple[str, str, str | None, str]] = [
        (figures.arm_title(arm), "", colours[arm.name], "")
        if arm.name in drawn
        else (figures.arm_title(arm), NO_LATENCY, None, "")
        for arm in arms
    ]
    rows.append(("corrected", "", svg.MUTED, ""))
    if dashed:
        rows.append(("uncorrected", "", svg.MUTED, DASHED))
    parts = []
    for index, (label, suffix, colour, dashes) in enumerate(rows):
        y = area.top + 10 + index * 22 + (10 if index >= len(arms) else 0)
        if colour is not None:
            line: dict[str, str | float] = {
                "x1": left,
                "x2": left + 28,
                "y1": y,
                "y2": y,
                "stroke": colour,
                "stroke-width": "2",
            }
            if dashes:
                line["stroke-dasharray"] = dashes
            parts.append(svg.element("line", line))
        shown = _fit(label, LEGEND_CHARACTERS - len(suffix)) + suffix
        parts.append(
            svg.element(
                "g",
                {"class": "legend"},
                svg.title(label + suffix),
                svg.text(left + 36, y + 4, shown),
            )
        )
    return "".join(parts)


def _bars(
    caption: str,
    figure: figures.Figure,
    unit: str,
    arms: list[ArmResult],
    colours: dict[str, str],
) -> str:
    """One horizontal bar per arm; an arm without the figure says "not measured"."""
    values = [figure.read(arm) for arm in arms]
    divisor, unit_text = _scale(unit, max((v for v in values if v is not None), default=0.0))
    x_ticks = svg.ticks(max((v / divisor for v in values if v is not None), default=0.0))
    area = svg.Area(
        left=BAR_LABELS,
        top=8,
        width=BAR_LENGTH,
        height=len(arms) * BAR_ROW,
        x_max=x_ticks[-1],
        y_max=1,
    )
    parts = [svg.x_grid(area, [(tick, svg.tick_label(tick)) for tick in x_ticks])]
    for index, (arm, value) in enumerate(zip(arms, values, strict=True)):
        top = area.top + index * BAR_ROW
        label = figures.arm_title(arm)
        parts.append(
            svg.element(
                "g",
                {"class": "bar-label"},
                svg.title(label),
                svg.text(area.left - 8, top + 17, _fit(label), {"text-anchor": "end"}),
            )
        )
        if value is None:
            muted = {"fill": svg.MUTED, "font-style": "italic"}
            parts.append(svg.text(area.left + 6, top + 17, "not measured", muted))
            continue
        end = area.x(value / divisor)
        bar: svg.Attributes = {
            "class": "bar",
            "data-arm": arm.name,
            "x": area.left,
            "y": top + 5,
            "width": end - area.left,
            "height": BAR_ROW - 10,
            "fill": colours[arm.name],
        }
        shown = figure.show(value)
        parts.append(svg.element("rect", bar, svg.title(f"{label}: {shown}")))
        parts.append(svg.text(end + 6, top + 17, shown))
    parts.append(svg.x_title(area, unit_text))
    chart = svg.document(area.left + area.width + 100, area.bottom + 46, caption, *parts)
    return f"<figure><figcaption>{escape(caption)}</figcaption>{chart}</figure>"


def _scale(unit: str, high: float) -> tuple[float, str]:
    """Bytes in B, kB or MB as the largest value needs; other units as they are."""
    if unit != "bytes":
        return 1.0, f"{unit} per operation"
    for divisor, name in ((1e6, "MB"), (1e3, "kB")):
        if high >= divisor:
            return divisor, f"{name} per operation"
    return 1.0, "bytes per operation"


def _fit(label: str, characters: int = LEGEND_CHARACTERS) -> str:
    if len(label) <= characters:
        return label
    return label[: characters - 1] + "…"


def _notes(run: RunResult) -> str:
    """Whole-run caveats, up front: they qualify every chart below."""
    if not run.notes:
        return ""
    items = "".join(f"<li>{escape(note)}</li>" for note in run.notes)
    return f'<ul class="notes">{items}</ul>'


def _method(run: RunResult) -> str:
    if not run.method:
        return "<section><h2>How each figure was obtained</h2><p>Not recorded.</p></section>"
    entries = "".join(
        f"<dt>{escape(key)}</dt><dd>{escape(sentence)}</dd>" for key, sentence in run.method.items()
    )
    return f"<section>\n<h2>How each figure was obtained</h2>\n<dl>{entries}</dl>\n</section>"
