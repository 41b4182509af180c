"""Provides TodayScreen: the day's load against the phase band, sets, sitting and warnings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from loadmon.alerts import STANDING
from loadmon.errors import LoadmonError
from loadmon.tui.data import DashboardData, warning_link
from loadmon.tui.messages import DataChanged, OpenDay, WarningChosen
from loadmon.tui.screens.base import DashScreen
from loadmon.tui.widgets.alert_list import AlertList
from loadmon.tui.widgets.load_gauge import LoadGauges


def fetch_today(data: DashboardData, day: date) -> dict[str, Any]:
    """Everything the Today screen shows for `day` (runs in a worker thread)."""
    info = data.patient_info()
    return {
        "day": day,
        "info": info,
        "phase_names": data.phase_names(),
        "status": data.day_status(day),
        "sets": data.day_sets(day),
        "sitting": data.day_sitting(day),
        "missing": data.missing_reports(day),
    }


def prompt_text(missing: list[str], status: dict[str, Any]) -> Text | None:
    """The Today prompt: what is not reported yet, and the weekly safety check-in."""
    parts = []
    if missing:
        words = " and ".join("pain" if m == "pain" else "RPE" for m in missing)
        parts.append(f"How did it go? {words} not reported yet — press l to log.")
    check = status.get("check_in") or {}
    if check.get("due"):
        parts.append(
            "Weekly check-in: any night pain, numbness, weakness, fever or other red flags? "
            "Press l, then the Check-in tab."
        )
    return Text("\n".join(parts), style="bold yellow") if parts else None


SHORT = {"bridge_hold": "hold", "rdl": "RDL", "single_leg_rdl": "SL RDL", "prone_curl": "curl"}


def sets_text(
    sets: list[dict[str, Any]], sitting: list[dict[str, Any]], summary: dict[str, Any]
) -> Text:
    text = Text()
    if not sets:
        text.append("no exercise sets\n", style="dim")
    for st in sets:
        hhmm = st["time"] if st["source"] == "sensor" else "log  "
        text.append(f"{hhmm} ", style="dim")
        text.append(f"{SHORT.get(st['exercise'], st['exercise']):<7}", style="bold")
        text.append(f" {st['detail']}\n")
    if sitting:
        text.append("sitting ", style="bold")
        text.append(
            f"{len(sitting)} bouts, {summary.get('total_min') or 0:.0f} min, "
            f"longest {summary.get('longest_bout_min') or 0:.0f}"
        )
        limit = summary.get("limit_bout_min")
        if limit:
            text.append(f" (limit {limit:.0f})", style="dim")
    else:
        text.append("no sitting recorded", style="dim")
    return text


class TodayScreen(DashScreen):
    """The patient's day against the phase: loads, sets and sitting, warnings, report prompt."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "day(-1)", "◀day"),
        Binding("n", "day(1)", "day▶"),
        Binding("t", "today", "Back to today", show=False),
        Binding("l", "app.switch_mode('log')", "Log pain/RPE", show=False),
        Binding("a", "acknowledge", "Ack warning", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="today"):
            yield Static(id="today-title")
            yield Static(id="today-prompt")
            yield Static("Load against the phase's target band", classes="section")
            yield LoadGauges(id="gauges")
            with Horizontal(id="today-lower"):
                with VerticalScroll(id="today-sets-box"):
                    yield Static("Sets and sitting", classes="section")
                    yield Static(id="today-sets")
                with Vertical(id="today-warn-box"):
                    yield Static("Warnings (Enter: open the day)", classes="section")
                    yield AlertList(voice="patient", id="today-warnings")

    def fetch(self) -> dict[str, Any]:
        return fetch_today(self.data, self.lapp.day)

    def show(self, result: dict[str, Any]) -> None:
        info, status = result["info"], result["status"]
        day: date = result["day"]
        phase = status.get("phase") or info.get("phase")
        phase_name = status.get("phase_name") or result["phase_names"].get(str(phase), "")
        title = Text()
        title.append(f"{info['name']}", style="bold")
        title.append(f"  {day.strftime('%a %d %b %Y')}")
        title.append(f"  phase {phase} {phase_name}".rstrip(), style="bold magenta")
        if info.get("protocol"):
            title.append(f"  {info['protocol']}", style="dim")
        self.query_one("#today-title", Static).update(title)
        prompt = self.query_one("#today-prompt", Static)
        text = prompt_text(result["missing"], status)
        if text is not None:
            prompt.update(text)
        prompt.display = text is not None
        gauges = self.query_one(LoadGauges)
        gauges.loads = {
            k: v
            for k, v in (status.get("loads") or {}).items()
            if v.get("target") is not None or v.get("value")
        }
        self.query_one("#today-sets", Static).update(
            sets_text(result["sets"], result["sitting"], status.get("sitting") or {})
        )
        warnings = [{"date": day.isoformat(), **w} for w in status.get("warnings", [])]
        self.query_one(AlertList).set_warnings(warnings)

    def action_day(self, delta: int) -> None:
        self.lapp.day = self.lapp.day + timedelta(days=delta)
        self.reload()

    def action_today(self) -> None:
        self.lapp.day = self.data.today
        self.reload()

    def action_acknowledge(self) -> None:
        """A clinician acknowledges the highlighted standing warning (milestone, red flag,
        surgery): it leaves Today until it is raised anew."""
        w = self.query_one(AlertList).highlighted_warning()
        if w is None or not str(w.get("rule", "")).startswith(STANDING):
            self.notify("Only standing warnings (milestones, red flags, surgery) need an "
                        "acknowledgement", severity="warning")  # fmt: skip
            return
        try:
            self.data.acknowledge(str(w["rule"]), self.lapp.day, note="acknowledged in the TUI")
        except LoadmonError as e:
            self.lapp.report_error(e)
            return
        self.notify(f"{w['rule']} acknowledged", title="Warnings")
        self.app.post_message(DataChanged("ack"))
        self.reload()

    def on_warning_chosen(self, message: WarningChosen) -> None:
        day, set_id, exercise = warning_link(message.warning)
        self.post_message(OpenDay(day or self.lapp.day.isoformat(), set_id, exercise))
