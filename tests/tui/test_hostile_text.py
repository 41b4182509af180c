"""User text that looks like Textual markup is shown as typed, never parsed (issue 18)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from textual.widgets import DataTable, Static

from loadmon import patients, storage
from loadmon.protocols import PROTOCOLS_DIR
from loadmon.tui.app import make_app

NASTY = "[/] [bold]x[/bold"


async def test_markup_in_patient_note_and_phase_names_is_shown_as_text(tmp_path: Path) -> None:
    proto = tmp_path / "pht.toml"
    text = (PROTOCOLS_DIR / "proximal_hamstring_tendinopathy.toml").read_text()
    head, sep, rest = text.partition("[phases.0]")
    rest = rest.replace('name = "', f'name = "{NASTY} ', 1)
    proto.write_text(head + sep + rest)
    path = tmp_path / "db.sqlite"
    db = storage.open_db(path)
    patients.add_patient(db, f"Ann {NASTY}", str(proto), start="2026-11-01")
    patients.set_phase(db, f"Ann {NASTY}", "1", on="2026-11-10", note=NASTY)
    db.close()
    app = make_app(path, today=date(2026, 11, 20))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        info = str(app.screen.query_one("#patient-info", Static).render())
        assert f"Ann {NASTY}" in info
        table = app.screen.query_one("#phase-table", DataTable)
        cells = [str(c) for row in range(table.row_count) for c in table.get_row_at(row)]
        assert NASTY in cells
        assert any(c.startswith(f"0 {NASTY}") for c in cells)
    assert app.return_code in (0, None)
