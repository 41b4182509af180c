"""The report renders in headless Chromium: the docs screenshot can be re-taken, and the page
prints on A4. Skipped where Chromium is not installed (Debian package `chromium`)."""

from __future__ import annotations

import importlib.util
import re
import struct
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "take_report_screenshot.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("take_report_screenshot", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_screenshot_and_a4_print_can_be_retaken(tmp_path: Path) -> None:
    shot = load_script()
    if shot.chromium() is None:
        pytest.skip("chromium is not installed")
    png, pdf = shot.take(tmp_path, pdf=True)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == shot.WINDOW
    raw = pdf.read_bytes()
    boxes = {
        tuple(round(float(v)) for v in m.split())
        for m in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", raw)
    }
    assert boxes == {(0, 0, 595, 842)}  # A4 in points
    assert len(re.findall(rb"/Type\s*/Page\b", raw)) >= 2
