"""Charts as inline SVG, drawn on the server: WeasyPrint runs no JavaScript, so the PDF brief
cannot use the dashboard's ECharts. WeasyPrint lays SVG text out with the same fonts as the
page, so the labels are real text in the embedded CJK font (searchable, selectable).

Each function takes a ``Series`` of ``Row``s (label, value) from reports.dashboard — or any
object with ``title`` and ``rows`` — and returns the SVG markup, every label escaped. Sizes are
in CSS pixels; the SVG scales to the width of its box (``width: 100%`` in the page's CSS)."""

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT_FAMILY = "Noto Sans CJK SC"
FONT_SIZE = 11
SMALL = 9
BAR = "#1f4e8c"
LINE = "#b00000"
AXIS = "#555555"
GRID = "#dddddd"
TEXT = "#222222"
MUTED = "#777777"


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """An estimate, good enough to lay out: a CJK character is one em, the rest ~0.6 em."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.6 for ch in str(text))


def _fit(text: str, width: float, size: float) -> str:
    """``text`` cut to ``width`` with an ellipsis."""
    text = str(text)
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def nice_ticks(maximum: float, count: int = 5) -> list[int]:
    """Integer ticks from 0 to at least ``maximum`` with a step of 1, 2 or 5 × 10ⁿ."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    top = step * math.ceil(maximum / step)
    return list(range(0, top + 1, step))


def _text(x, y, content, *, size=FONT_SIZE, anchor="start", fill=TEXT, weight=None, extra=""):
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT_FAMILY}" font-size="{size}" '
        f'text-anchor="{anchor}" fill="{fill}"{bold}{extra}>{escape(str(content))}</text>'
    )


def _svg(width, height, body: list[str], title: str) -> SafeString:
    label = escape(str(title or ""))
    # Every piece of text in ``body`` went through escape().
    # Every piece of text in the SVG went through escape() (bandit B308, B703).
    return mark_safe(  # nosec B308 B703
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-label="{label}" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}">' + "".join(body) + "</svg>"
    )


def _rows(series) -> list:
    return [row for row in series.rows if str(row.label).strip()]


def _empty(series, width, height, empty_text) -> SafeString:
    body = [
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="none" '
        f'stroke="{GRID}"/>',
        _text(width / 2, height / 2 + 4, empty_text or "—", anchor="middle", fill=MUTED),
    ]
    return _svg(width, height, body, series.title)


def horizontal_bar_chart(
    series, *, width=480, bar_height=16, gap=6, label_width=None, empty_text=""
) -> SafeString:
    """One bar per row, its label on the left and its value at the end of the bar."""
    rows = _rows(series)
    if not rows or not any(row.value for row in rows):
        return _empty(series, width, 60, empty_text)
    if label_width is None:
        longest = max(text_width(row.label) for row in rows)
        label_width = min(max(longest + 8, 48), width * 0.4)
    value_width = max(text_width(str(row.value)) for row in rows) + 10
    plot = width - label_width - value_width
    top = max(row.value for row in rows) or 1
    height = len(rows) * (bar_height + gap) + gap
    body = [
        f'<line x1="{label_width:.1f}" y1="0" x2="{label_width:.1f}" y2="{height}" '
        f'stroke="{AXIS}" stroke-width="1"/>'
    ]
    for n, row in enumerate(rows):
        y = gap + n * (bar_height + gap)
        length = plot * row.value / top
        middle = y + bar_height / 2 + FONT_SIZE * 0.35
        label = _fit(row.label, label_width - 8, FONT_SIZE)
        body.append(_text(label_width - 6, middle, label, anchor="end"))
        if length > 0:
            body.append(
                f'<rect x="{label_width:.1f}" y="{y:.1f}" width="{length:.1f}" '
                f'height="{bar_height}" fill="{BAR}"/>'
            )
        body.append(_text(label_width + length + 4, middle, row.value, weight="bold"))
    return _svg(width, height, body, series.title)


def _axes(width, height, left, bottom, ticks, top_pad) -> tuple[list[str], float]:
    """The y axis with its ticks and grid lines; returns the body and the pixels per unit."""
    plot_height = height - bottom - top_pad
    per_unit = plot_height / ticks[-1]
    body = []
    for tick in ticks:
        y = height - bottom - tick * per_unit
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 4}" y2="{y:.1f}" stroke="{GRID}" '
            f'stroke-width="0.8"/>'
        )
        body.append(_text(left - 4, y + SMALL * 0.35, tick, size=SMALL, anchor="end", fill=AXIS))
    body.append(
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{height - bottom}" stroke="{AXIS}"/>'
    )
    body.append(
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 4}" y2="{height - bottom}" '
        f'stroke="{AXIS}"/>'
    )
    return body, per_unit


def _x_labels(rows, xs, y, slot) -> list[str]:
    """Category labels under the axis; every k-th when they would overlap."""
    widest = max(text_width(row.label, SMALL) for row in rows)
    every = max(1, math.ceil((widest + 4) / max(slot, 1)))
    return [
        _text(x, y, _fit(row.label, slot * every - 2, SMALL), size=SMALL, anchor="middle")
        for n, (row, x) in enumerate(zip(rows, xs, strict=True))
        if n % every == 0
    ]


def vertical_bar_chart(
    series, *, width=480, height=200, empty_text="", axis_label=""
) -> SafeString:
    """Columns with their values on top and the labels under the axis."""
    rows = _rows(series)
    if not rows or not any(row.value for row in rows):
        return _empty(series, width, 60, empty_text)
    ticks = nice_ticks(max(row.value for row in rows))
    left = text_width(str(ticks[-1]), SMALL) + 10
    bottom, top_pad = 20, 24 if axis_label else 14
    body, per_unit = _axes(width, height, left, bottom, ticks, top_pad)
    if axis_label:  # what the y axis counts, above it
        body.append(_text(4, SMALL + 1, axis_label, size=SMALL, fill=AXIS))
    slot = (width - 4 - left) / len(rows)
    bar = max(2.0, slot * 0.62)
    xs = []
    for n, row in enumerate(rows):
        x = left + n * slot + (slot - bar) / 2
        xs.append(x + bar / 2)
        h = row.value * per_unit
        base = height - bottom
        if h > 0:
            body.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{BAR}"/>'
            )
        if row.value:
            body.append(_text(x + bar / 2, base - h - 3, row.value, size=SMALL, anchor="middle"))
    body += _x_labels(rows, xs, height - bottom + SMALL + 4, slot)
    return _svg(width, height, body, series.title)


def line_chart(series, *, width=480, height=200, empty_text="", axis_label="") -> SafeString:
    """A line through the points with a dot and the value at each."""
    rows = _rows(series)
    if not rows or not any(row.value for row in rows):
        return _empty(series, width, 60, empty_text)
    ticks = nice_ticks(max(row.value for row in rows))
    left = text_width(str(ticks[-1]), SMALL) + 10
    bottom, top_pad = 20, 24 if axis_label else 14
    body, per_unit = _axes(width, height, left, bottom, ticks, top_pad)
    if axis_label:  # what the y axis counts, above it
        body.append(_text(4, SMALL + 1, axis_label, size=SMALL, fill=AXIS))
    slot = (width - 4 - left) / len(rows)
    xs = [left + slot * (n + 0.5) for n in range(len(rows))]
    ys = [height - bottom - row.value * per_unit for row in rows]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    body.append(f'<polyline points="{points}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for row, x, y in zip(rows, xs, ys, strict=True):
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{LINE}"/>')
        if row.value:
            body.append(_text(x, y - 5, row.value, size=SMALL, anchor="middle"))
    body += _x_labels(rows, xs, height - bottom + SMALL + 4, slot)
    return _svg(width, height, body, series.title)
