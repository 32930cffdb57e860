"""The HTML chart page: well-formed, self-contained, one spectrum series per arm, text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from loadtest.report import render_chart, write_chart
from loadtest.results import Chattiness, RunResult
from tests.unit.loadtest_report_fakes import arm, run

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE_LABEL = '<script>alert("x")</script> & co'
VOID_ELEMENTS = {"meta", "br", "hr", "img", "link", "input"}


class _TagBalance(HTMLParser):
    """Fails on HTML a browser would repair: unclosed or crossed tags, ``<div/>``-style HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Self-closing is only meaningful inside SVG (and harmless on void elements).
        if "svg" not in self.open and tag not in VOID_ELEMENTS:
            self.problems.append(f"self-closed <{tag}/> in HTML")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"unexpected </{tag}>")


def _sample() -> RunResult:
    return run(
        arm(
            "grpc-stream", model="open", uncorrected_ms=[1.0, 2.0], chattiness=Chattiness(calls=4.0)
        ),
        arm("rest-item", label=HOSTILE_LABEL, chattiness=Chattiness(calls=31.0)),
        arm("rest-batch", chattiness=Chattiness(calls=None)),
        arm("gateway", latencies_ms=None),
        arm("lookup-grpc", scenario="lookup", items=1),
        method={"latency": "From the intended send <always>."},
        notes=["no private network namespace: <kernel counters> include other traffic"],
    )


def _parse(html: str) -> ET.Element:
    return ET.fromstring(html)  # noqa: S314 - parses the page our own code just generated


def _spectra(page: ET.Element) -> list[ET.Element]:
    return [
        svg for svg in page.iter(f"{SVG}svg") if svg.get("aria-label") == "Latency by percentile"
    ]


def test_page_is_well_formed_html_and_xml() -> None:
    """The page parses as XML (SVG included) and as HTML with every tag balanced."""
    html = render_chart(_sample())
    _parse(html)
    checker = _TagBalance()
    checker.feed(html)
    checker.close()
    assert checker.problems == []
    assert checker.open == []


def test_page_fetches_nothing() -> None:
    """No script, stylesheet link, image or font: the only URL is the SVG namespace."""
    html = render_chart(_sample())
    assert "<script" not in html
    assert not re.search(r"\b(src|href)=|url\(|@import", html)
    assert set(re.findall(r"https?://[^\"'\s]+", html)) == {"http://www.w3.org/2000/svg"}


def test_one_spectrum_series_per_arm_and_dashed_uncorrected_for_open_loop() -> None:
    """One corrected line per arm with latency, in its scenario's chart; dashed too if open loop."""
    page = _parse(render_chart(_sample()))
    checkout, lookup = _spectra(page)
    corrected = [
        line.get("data-arm")
        for line in checkout.iter(f"{SVG}polyline")
        if line.get("class") == "series corrected"
    ]
    dashed = [
        (line.get("data-arm"), line.get("stroke-dasharray"))
        for line in checkout.iter(f"{SVG}polyline")
        if line.get("class") == "series uncorrected"
    ]
    assert corrected == ["grpc-stream", "rest-item", "rest-batch"]
    assert dashed == [("grpc-stream", "6 4")]
    assert "gateway (no latency)" in {text.text for text in checkout.iter(f"{SVG}text")}
    assert [line.get("data-arm") for line in lookup.iter(f"{SVG}polyline")] == ["lookup-grpc"]


def test_spectrum_runs_from_zero_to_the_resolvable_nines() -> None:
    """1000 values span 0% to 99.9% on the x axis; the line starts at 0% and ends at the edge."""
    page = _parse(render_chart(run(arm(latencies_ms=[float(i % 50 + 1) for i in range(1000)]))))
    (spectrum,) = _spectra(page)
    ticks = {
        text.text: float(text.get("x") or 0)
        for text in spectrum.iter(f"{SVG}text")
        if (text.text or "").endswith("%")
    }
    assert list(ticks) == ["0%", "90%", "99%", "99.9%"]
    (line,) = spectrum.iter(f"{SVG}polyline")
    xs = [float(point.split(",")[0]) for point in (line.get("points") or "").split()]
    assert xs == sorted(xs)
    assert (xs[0], xs[-1]) == (ticks["0%"], ticks["99.9%"])


def test_label_is_escaped_everywhere() -> None:
    """A label holding markup is text: never raw in the page, intact once parsed."""
    html = render_chart(_sample())
    assert "<script>" not in html
    page = _parse(html)
    texts = {element.text for element in page.iter() if element.text}
    assert HOSTILE_LABEL in texts
    assert "From the intended send <always>." in texts
    assert "no private network namespace: <kernel counters> include other traffic" in texts


def test_bars_for_measured_arms_and_not_measured_for_the_rest() -> None:
    """The calls chart has a bar per arm that measured calls; the other says "not measured"."""
    page = _parse(render_chart(_sample()))
    calls = next(
        svg
        for svg in page.iter(f"{SVG}svg")
        if svg.get("aria-label") == "Internal calls per operation"
    )
    bars = {bar.get("data-arm"): float(bar.get("width") or 0) for bar in calls.iter(f"{SVG}rect")}
    assert set(bars) == {"grpc-stream", "rest-item"}
    assert bars["rest-item"] > 7 * bars["grpc-stream"]
    assert "not measured" in {text.text for text in calls.iter(f"{SVG}text")}


def test_write_chart_writes_the_page(tmp_path: Path) -> None:
    """write_chart saves exactly render_chart's page, creating the folder."""
    path = tmp_path / "out" / "chart.html"
    write_chart(_sample(), path)
    assert path.read_text(encoding="utf-8") == render_chart(_sample())
