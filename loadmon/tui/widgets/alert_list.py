"""Provides AlertList: warnings with severity, reason, numbers and source, linked to their day.

Two voices: `voice="patient"` (Today) shows the patient's message with its next step;
`voice="both"` (the clinician's views) adds the rule, the clinician's detail, the numbers and
the source."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from loadmon.tui.messages import WarningChosen

SEVERITY_STYLE = {"alarm": "bold red", "caution": "bold yellow", "info": "bold cyan"}
SEVERITY_MARK = {"alarm": "‼", "caution": "!", "info": "i"}


def numbers_text(numbers: Any) -> str:
    if not isinstance(numbers, dict):
        return str(numbers) if numbers else ""
    parts = []
    for k, v in numbers.items():
        if isinstance(v, float):
            parts.append(f"{k} {v:.2f}".rstrip("0").rstrip("."))
        elif isinstance(v, (int, str)):
            parts.append(f"{k} {v}")
    return ", ".join(parts)


def warning_text(w: dict[str, Any], *, with_date: bool = False, voice: str = "both") -> Text:
    sev = str(w.get("severity", "info"))
    text = Text()
    text.append(f"{SEVERITY_MARK.get(sev, '!')} {sev} ", style=SEVERITY_STYLE.get(sev, "bold"))
    if with_date and w.get("date"):
        text.append(f"{w['date']} ", style="bold")
    text.append(str(w.get("patient") or w.get("message", "")))
    if w.get("since"):
        text.append(f" (since {w['since']}, until your physio has seen it)", style="italic")
    if voice == "patient":
        return text
    extra = numbers_text(w.get("numbers"))
    detail = f"\n  rule {w.get('rule', '?')}: {w.get('message', '')}"
    if extra:
        detail += f" · {extra}"
    if w.get("source"):
        detail += f"\n  source: {w['source']}"
    text.append(detail, style="dim")
    return text


class AlertList(OptionList):
    """Warnings, most severe first; Enter on one posts WarningChosen."""

    DEFAULT_CSS: ClassVar[str] = """
    AlertList { height: auto; max-height: 100%; }
    """

    def __init__(
        self, *, with_date: bool = False, voice: str = "both", id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.with_date = with_date
        self.voice = voice
        self.warnings: list[dict[str, Any]] = []

    def set_warnings(self, warnings: Sequence[dict[str, Any]]) -> None:
        order = {"alarm": 0, "caution": 1, "info": 2}
        if not self.with_date:
            warnings = sorted(warnings, key=lambda w: order.get(str(w.get("severity")), 3))
        self.warnings = list(warnings)
        self.clear_options()
        if not self.warnings:
            self.add_option(Option(Text("no warnings", style="green"), disabled=True))
            return
        self.add_options(
            [
                Option(warning_text(w, with_date=self.with_date, voice=self.voice), id=f"w{i}")
                for i, w in enumerate(self.warnings)
            ]
        )

    def highlighted_warning(self) -> dict[str, Any] | None:
        """The warning under the cursor, if any."""
        i = self.highlighted
        if i is None or not self.warnings or i >= len(self.warnings):
            return None
        return self.warnings[i]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        oid = event.option.id
        if oid and oid.startswith("w"):
            self.post_message(WarningChosen(self.warnings[int(oid[1:])]))
