"""Provides LoadGauges: each load category as a bar of what was done against its target band."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from loadmon.tui.data import category_label, sort_categories

STATUS_STYLE = {"below": "bold yellow", "within": "bold green", "above": "bold red"}
STATUS_WORD = {"below": "▼ below", "within": "● within", "above": "▲ above"}


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    v = float(value)
    if abs(v) >= 100 or v == int(v):
        return f"{v:.0f}"
    return f"{v:.1f}"


def gauge_line(label: str, load: Mapping[str, Any], width: int) -> Text:
    """`label  [bar with band]  value / low–high  status` fitted to `width` cells."""
    value = load.get("value")
    target = load.get("target") or [None, None]
    low, high = target[0], target[1]
    status = str(load.get("status") or "")
    week = "/wk" if load.get("period") == "week" else ""
    if load.get("target") is None:
        numbers = f"{fmt(value)}{week} no target"
    else:
        numbers = f"{fmt(value)} / {fmt(low)}–{fmt(high)}{week}"
    word = STATUS_WORD.get(status, "")
    label_w = 14
    tail_w = 20 + 9
    bar_w = max(6, width - label_w - tail_w - 3)
    v = float(value or 0.0)
    hi = float(high) if high is not None else 0.0
    lo = float(low) if low is not None else 0.0
    top = max(v, hi * 1.4, 1e-9)
    cells_v = round(bar_w * v / top)
    cell_lo = round(bar_w * lo / top)
    cell_hi = round(bar_w * hi / top) if high is not None else bar_w
    style = STATUS_STYLE.get(status, "bold")
    text = Text()
    text.append(f"{label[:label_w]:<{label_w}} ")
    for i in range(bar_w):
        in_band = cell_lo <= i < max(cell_hi, cell_lo + 1)
        bg = " on #1e3a28" if in_band else " on #262626"
        if i < cells_v:
            text.append("█", style=style.replace("bold ", "") + bg)
        elif in_band:
            text.append("░", style="#3f7a52" + bg)
        else:
            text.append(" ", style=bg)
    text.append(f" {numbers:>20} ")
    text.append(f"{word:<9}", style=style)
    return text


class LoadGauges(Widget):
    """One line per load category: done vs the phase's band, with below/within/above."""

    DEFAULT_CSS: ClassVar[str] = """
    LoadGauges { height: auto; }
    """

    loads: reactive[dict[str, Any]] = reactive(dict, layout=True)
    note: reactive[str] = reactive("")

    def render(self) -> Text:
        width = max(40, self.size.width or 80)
        if not self.loads:
            return Text(self.note or "no load figures for this day", style="dim")
        lines = [
            gauge_line(category_label(cat), self.loads[cat], width)
            for cat in sort_categories(list(self.loads))
        ]
        return Text("\n").join(lines)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return max(1, len(self.loads))
