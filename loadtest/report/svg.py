"""SVG building blocks for the charts: escaped elements, a plot area, gridlines and ticks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

NAMESPACE = "http://www.w3.org/2000/svg"
GRID = "#e4e4e4"
AXIS = "#888888"
MUTED = "#777777"

Attributes = Mapping[str, str | float]


def element(name: str, attributes: Attributes, *children: str) -> str:
    """One element; attribute values are escaped here, children are markup already."""
    rendered = "".join(f' {key}="{escape(_value(value))}"' for key, value in attributes.items())
    if not children:
        return f"<{name}{rendered}/>"
    return f"<{name}{rendered}>{''.join(children)}</{name}>"


def text(x: float, y: float, content: str, attributes: Attributes | None = None) -> str:
    """A text element; the content is escaped."""
    return element("text", {"x": x, "y": y, **(attributes or {})}, escape(content))


def title(content: str) -> str:
    """A tooltip for the enclosing element; the content is escaped."""
    return element("title", {}, escape(content))


def _value(value: str | float) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Area:
    """A plot area in pixels, showing data from (0, 0) to (x_max, y_max)."""

    left: float
    top: float
    width: float
    height: float
    x_max: float
    y_max: float

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def x(self, value: float) -> float:
        return self.left + value / self.x_max * self.width

    def y(self, value: float) -> float:
        return self.bottom - value / self.y_max * self.height


def ticks(high: float, target: int = 5) -> list[float]:
    """0 and about ``target`` round steps (1, 2, 2.5 or 5 times a power of ten) past ``high``."""
    high = high if high > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(high / target))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude * target >= high)
    return [index * step for index in range(math.ceil(high / step - 1e-9) + 1)]


def tick_label(value: float) -> str:
    return f"{value:.6g}"


def x_grid(area: Area, marks: Sequence[tuple[float, str]]) -> str:
    """Vertical gridlines with their labels under the area."""
    parts = []
    for value, label in marks:
        x = area.x(value)
        line: dict[str, str | float] = {
            "x1": x,
            "x2": x,
            "y1": area.top,
            "y2": area.bottom,
            "stroke": GRID,
        }
        parts.append(element("line", line))
        parts.append(text(x, area.bottom + 16, label, {"text-anchor": "middle"}))
    return "".join(parts) + _axis(area.left, area.bottom, area.left + area.width, area.bottom)


def y_grid(area: Area, marks: Sequence[tuple[float, str]]) -> str:
    """Horizontal gridlines with their labels left of the area."""
    parts = []
    for value, label in marks:
        y = area.y(value)
        line: dict[str, str | float] = {
            "x1": area.left,
            "x2": area.left + area.width,
            "y1": y,
            "y2": y,
            "stroke": GRID,
        }
        parts.append(element("line", line))
        parts.append(text(area.left - 6, y + 4, label, {"text-anchor": "end"}))
    return "".join(parts) + _axis(area.left, area.top, area.left, area.bottom)


def _axis(x1: float, y1: float, x2: float, y2: float) -> str:
    return element("line", {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "stroke": AXIS})


def x_title(area: Area, content: str) -> str:
    x = area.left + area.width / 2
    return text(x, area.bottom + 36, content, {"text-anchor": "middle", "fill": MUTED})


def y_title(area: Area, content: str) -> str:
    x, y = area.left - 48, area.top + area.height / 2
    rotate: Attributes = {
        "text-anchor": "middle",
        "fill": MUTED,
        "transform": f"rotate(-90 {x:.1f} {y:.1f})",
    }
    return text(x, y, content, rotate)


def document(width: float, height: float, label: str, *children: str) -> str:
    """A root ``svg`` element sized in pixels that scales down with its container."""
    attributes = {
        "xmlns": NAMESPACE,
        "viewBox": f"0 0 {width:.0f} {height:.0f}",
        "width": f"{width:.0f}",
        "height": f"{height:.0f}",
        "role": "img",
        "aria-label": label,
    }
    return element("svg", attributes, title(label), *children)
