"""Provides TrendScreen: 4–8 weeks of daily load per category with band, ACWR and phase changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from loadmon.tui.data import category_label, sort_categories
from loadmon.tui.screens.base import DashScreen
from loadmon.tui.widgets.trend_chart import TrendChart

WEEK_CHOICES = (4, 6, 8)


class TrendScreen(DashScreen):
    """One category at a time (c / C cycle); w changes the window between 4, 6 and 8 weeks."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "category(1)", "Next category"),
        Binding("C", "category(-1)", "Prev category", show=False),
        Binding("w", "weeks", "Weeks"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.weeks = 8
        self.category_index = 0
        self.history: dict[str, Any] = {}

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="trend"):
            yield Static(id="trend-title")
            yield TrendChart(id="trend-chart")
            yield Static(id="trend-legend")

    def on_resize(self) -> None:
        chart = self.query_one(TrendChart)
        spare = self.size.height - 2 - 1 - 2 - 4 - 1
        chart.load_height = max(4, min(14, spare * 3 // 5))
        chart.ratio_height = max(4, min(10, spare - chart.load_height))

    def fetch(self) -> dict[str, Any]:
        end = self.lapp.day
        start = end - timedelta(days=7 * self.weeks - 1)
        return self.data.history(start, end)

    def show(self, result: dict[str, Any]) -> None:
        first = not self.history
        self.history = result
        if first:
            # start on the first category the phase targets and the patient has done
            cats = sort_categories(list(result.get("categories", {})))
            for i, cat in enumerate(cats):
                series = result["categories"][cat]
                if any(series.get("high") or []) and any(series.get("values") or []):
                    self.category_index = i
                    break
        self._draw()

    def _draw(self) -> None:
        h = self.history
        cats = sort_categories(list(h.get("categories", {})))
        title = Text()
        chart = self.query_one(TrendChart)
        dates = h.get("dates", [])
        if not cats:
            title.append("No daily load history yet", style="bold")
            chart.series = {"dates": dates, "phase_changes": h.get("phase_changes", [])}
        else:
            self.category_index %= len(cats)
            cat = cats[self.category_index]
            s = h["categories"][cat]
            label = str(s.get("label") or category_label(cat))
            unit = f" ({s['unit']})" if s.get("unit") else ""
            title.append(f"{label}{unit}", style="bold")
            title.append(f"  {self.weeks} weeks {dates[0]} → {dates[-1]}", style="dim")
            title.append(f"  [{self.category_index + 1}/{len(cats)}] c: next", style="dim")
            weekly = s.get("period") == "week"
            chart.series = {
                "title": "7-day sums against the weekly band (shaded)"
                if weekly
                else "daily load (shaded: target band)",
                "dates": dates,
                "phase_changes": h.get("phase_changes", []),
                **s,
            }
        self.query_one("#trend-title", Static).update(title)
        legend = Text()
        legend.append("█", style="green")
        legend.append(" within  ")
        legend.append("█", style="yellow")
        legend.append(" below  ")
        legend.append("█", style="red")
        legend.append(" above band   ")
        legend.append("┄", style="yellow")
        legend.append(" 1.3 caution ")
        legend.append("┄", style="red")
        legend.append(" 1.5 alarm ")
        legend.append("┄", style="cyan")
        legend.append(" 0.8 too little")
        self.query_one("#trend-legend", Static).update(legend)

    def action_category(self, step: int) -> None:
        self.category_index += step
        self._draw()

    def action_weeks(self) -> None:
        i = WEEK_CHOICES.index(self.weeks) if self.weeks in WEEK_CHOICES else 0
        self.weeks = WEEK_CHOICES[(i + 1) % len(WEEK_CHOICES)]
        self.reload()
