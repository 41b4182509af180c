"""The README's Usage section, run top to bottom on a fresh database, as a new user would.

Every `sh` block line is run as written (optional `[...]` parts left out); lines whose comment
says "needs a sensor" or "interactive" are skipped (no radio or terminal here). The files the
commands name are written into the working folder first, from the bundled demo recordings.
"""

from __future__ import annotations

import re
import shlex
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from loadmon.cli import cli
from loadmon.demo import DEMO_DATA
from loadmon.protocols import PROTOCOLS_DIR
from loadmon.recording import STANDARD_GRAVITY, read_recording

README = Path(__file__).resolve().parents[1] / "README.md"
SKIP = ("needs a sensor", "interactive")


def usage_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Usage\n", 1)[1].split("\n## ", 1)[0]
    out = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            if not line.strip() or any(s in line for s in SKIP):
                continue
            out.append(re.sub(r"\s*\[[^\]]*\]", "", line))
    return out


def _fixtures(folder: Path) -> None:
    (folder / "walk.csv").write_bytes((DEMO_DATA / "bridge_hold_set.csv").read_bytes())
    (folder / "set2.csv").write_bytes((DEMO_DATA / "rdl_set.csv").read_bytes())
    (folder / "day.csv").write_bytes((DEMO_DATA / "bridge_set.csv").read_bytes())
    (folder / "mat.csv").write_bytes((DEMO_DATA / "bridge_set.csv").read_bytes())
    (folder / "my_clinic_pht.toml").write_bytes(
        (PROTOCOLS_DIR / "proximal_hamstring_tendinopathy.toml").read_bytes()
    )
    fast = read_recording(DEMO_DATA / "rdl_fast_set.csv")
    ns0 = 817_000_000_000_000_000
    lines = ["Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]"]
    for k in range(fast.n_samples):
        a = fast.acc[k] * 1000
        lines.append(f"2026-11-20T10:00:00.000;{ns0 + round(fast.t[k] * 1e9)};"
                     f"{a[0]:.0f};{a[1]:.0f};{a[2]:.0f}")  # fmt: skip
    (folder / "Polar_Sense_..._ACC.txt").write_text("\n".join(lines) + "\n")
    hold = read_recording(DEMO_DATA / "bridge_hold_set.csv")
    ns = 1_795_492_800_000_000_000 + np.rint(hold.t * 1e9).astype(np.int64)
    tot = np.asarray(hold.acc, dtype=np.float64) * STANDARD_GRAVITY * 0.999
    rows = ["time,seconds_elapsed,z,y,x"] + [
        f"{ns[k]},{hold.t[k]:.6f},{tot[k, 2]:.6f},{tot[k, 1]:.6f},{tot[k, 0]:.6f}"
        for k in range(hold.n_samples)
    ]
    with zipfile.ZipFile(folder / "phone-export.zip", "w") as z:
        z.writestr("TotalAcceleration.csv", "\n".join(rows) + "\n")


def test_the_usage_section_runs_in_order_on_a_fresh_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands = usage_commands()
    assert len(commands) >= 25, commands
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOADMON_DB", str(tmp_path / "fresh.db"))
    _fixtures(tmp_path)
    runner = CliRunner()
    for line in commands:
        argv = shlex.split(line, comments=True)
        assert argv[0] == "loadmon", line
        r = runner.invoke(cli, argv[1:])
        assert r.exit_code == 0, f"{line}\n{r.output}\n{r.stderr}"
    assert (tmp_path / "rec3.csv").is_file()
    assert (tmp_path / "ann.html").is_file()
    assert (tmp_path / "ann-tables" / "daily_loads.csv").is_file()
