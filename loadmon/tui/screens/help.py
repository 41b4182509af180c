"""Provides HelpScreen: the key bindings of every screen, for a patient and a physio."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# loadmon keys

| key | does |
|---|---|
| `1`…`6` | Today · Trend · Sessions · Live · Patient · Log |
| `?` | this help · `q` quits · `Esc` leaves a text field |
| `Tab` / `Shift+Tab` | move between fields and lists |

**Today** — `p`/`n` previous/next day, `t` back to today, `l` log pain or RPE,
`Enter` on a warning opens the day and set behind it in Sessions; `a` (physio) acknowledges
a standing warning (milestone, red flag, surgery) so it leaves Today.

**Trend** — `c` next load category, `w` 4/6/8 weeks. Shaded: target band;
ratio lines at 0.8 (too little), 1.3 (caution), 1.5 (well above); ▲ marks a phase change.

**Sessions** — `f` filter (dates YYYY-MM-DD, exercise), `e` expand all, `w` warnings.

**Live** — pick a sensor or a replay file, `s` start, `x` stop and save.

**Patient** — change phase (asks to confirm), edit the prescription, `Ctrl+S` save.

**Log** — pain, RPE, a set done without the sensor, VISA-H, the weekly red-flag
check-in; `Enter`/`Ctrl+S` saves.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)
