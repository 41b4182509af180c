"""Provides TrendChart: daily load bars against the target band, the ACWR line, phase changes.

Drawn with Unicode block characters into a Rich Text (no plotting dependency): one column
per day, the band as a shaded background, bars coloured below/within/above, then the
acute:chronic ratio with its 0.8 / 1.3 / 1.5 reference lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"
RATIO_LINES = ((1.5, "red", "1.5"), (1.3, "yellow", "1.3"), (0.8, "cyan", "0.8"))
RATIO_TOP = 2.0
AXIS_W = 6


def _status(v: float | None, lo: float | None, hi: float | None) -> str:
    if v is None:
        return ""
    if lo is not None and v < lo:
        return "yellow"
    if hi is not None and v > hi:
        return "red"
    return "green"


def _num(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.1f}"


def load_rows(
    values: Sequence[float | None],
    low: Sequence[float | None],
    high: Sequence[float | None],
    height: int,
    col_w: int,
) -> list[Text]:
    """`height` rows of bars (top row first) with the band shaded behind them."""
    nums = [v for v in values if v is not None] + [h for h in high if h is not None]
    top = max(nums) if nums else 1.0
    top = top * 1.05 if top > 0 else 1.0
    rows: list[Text] = []
    for r in range(height - 1, -1, -1):
        row_lo, row_hi = top * r / height, top * (r + 1) / height
        text = Text()
        label = _num(top) if r == height - 1 else ("0" if r == 0 else "")
        text.append(f"{label:>{AXIS_W - 1}}┤", style="dim")
        for v, lo, hi in zip(values, low, high, strict=False):
            in_band = (
                lo is not None and hi is not None and row_hi > float(lo) and row_lo < float(hi)
            )
            bg = " on #1e3a28" if in_band else ""
            if v is None or float(v) <= row_lo:
                ch = " "
            elif float(v) >= row_hi:
                ch = "█"
            else:
                ch = BLOCKS[max(1, round(8 * (float(v) - row_lo) / (row_hi - row_lo)))]
            style = _status(v, lo, hi) + bg if ch != " " else ("on #1e3a28" if in_band else "")
            text.append(ch * col_w, style=style or None)
        rows.append(text)
    return rows


def ratio_rows(ratio: Sequence[float | None], height: int, col_w: int) -> list[Text]:
    """The acute:chronic ratio as points, with dotted reference lines at 0.8, 1.3 and 1.5."""
    rows: list[Text] = []
    step = RATIO_TOP / height
    for r in range(height - 1, -1, -1):
        row_lo, row_hi = r * step, (r + 1) * step
        ref = next(((v, s, lab) for v, s, lab in RATIO_LINES if row_lo <= v < row_hi), None)
        text = Text()
        label = ref[2] if ref else ("2.0" if r == height - 1 else "")
        text.append(f"{label:>{AXIS_W - 1}}┤", style="dim")
        for x in ratio:
            if x is not None and (
                row_lo <= float(x) < row_hi or (r == height - 1 and x >= RATIO_TOP)
            ):
                style = (
                    "red" if x > 1.5 else "yellow" if x > 1.3 else "cyan" if x < 0.8 else "green"
                )
                text.append("●" * col_w, style=f"bold {style}")
            elif ref:
                text.append("┄" * col_w, style=ref[1])
            else:
                text.append(" " * col_w)
        rows.append(text)
    return rows


def axis_rows(
    dates: Sequence[str], phase_changes: Sequence[dict[str, Any]], col_w: int, width: int
) -> list[Text]:
    """A phase-change marker row and a date row (a label every 7 days)."""
    n = len(dates)
    marks = [" "] * (n * col_w)
    styles: list[str | None] = [None] * (n * col_w)
    index = {d: i for i, d in enumerate(dates)}
    for pc in phase_changes:
        i = index.get(str(pc.get("date")))
        if i is None:
            continue
        label = f"▲phase {pc.get('phase')}"
        for k, ch in enumerate(label):
            j = i * col_w + k
            if j < len(marks):
                marks[j] = ch
                styles[j] = "bold magenta"
    phase = Text(" " * AXIS_W)
    for ch, st in zip(marks, styles, strict=True):
        phase.append(ch, style=st)
    date_cells = [" "] * (n * col_w)
    for i in range(0, n, 7):
        label = dates[i][5:]
        for k, ch in enumerate("╵" + label):
            j = i * col_w + k
            if j < len(date_cells):
                date_cells[j] = ch
    return [phase, Text(" " * AXIS_W + "".join(date_cells), style="dim")]


class TrendChart(Widget):
    """Daily load of one category with its band, and its acute:chronic ratio below."""

    DEFAULT_CSS: ClassVar[str] = """
    TrendChart { height: auto; }
    """

    series: reactive[dict[str, Any]] = reactive(dict, layout=True)
    load_height: reactive[int] = reactive(6, layout=True)
    ratio_height: reactive[int] = reactive(5, layout=True)

    def render(self) -> Text:
        s = self.series
        dates: list[str] = list(s.get("dates", []))
        if not dates:
            return Text("no history to draw", style="dim")
        width = max(AXIS_W + len(dates), self.size.width or 80)
        col_w = max(1, (width - AXIS_W - 1) // len(dates))
        n = len(dates)
        values = list(s.get("values") or [None] * n)
        low = list(s.get("low") or [None] * n)
        high = list(s.get("high") or [None] * n)
        ratio = list(s.get("ratio") or [None] * n)
        lines: list[Text] = [Text(f"{s.get('title', '')}", style="bold")]
        lines += load_rows(values, low, high, self.load_height, col_w)
        lines += axis_rows(dates, s.get("phase_changes", []), col_w, width)
        lines.append(Text("acute:chronic ratio (EWMA 7 d / 28 d)", style="bold"))
        if any(r is not None for r in ratio):
            lines += ratio_rows(ratio, self.ratio_height, col_w)
        else:
            lines.append(Text("  no ratio yet (needs a chronic base)", style="dim"))
        return Text("\n").join(lines)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        if not self.series.get("dates"):
            return 1
        ratio = self.series.get("ratio") or []
        has_ratio = any(r is not None for r in ratio)
        return 1 + self.load_height + 2 + 1 + (self.ratio_height if has_ratio else 1)
