"""Runs every benchmarks/bench_*.py in turn (each prints its own figures)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

here = Path(__file__).parent
failed = []
for script in sorted(here.glob("bench_*.py")):
    print(f"== {script.name}", flush=True)
    rc = subprocess.call([sys.executable, str(script)], cwd=here.parent)
    if rc:
        failed.append(script.name)
if failed:
    print(f"failed: {', '.join(failed)}")
    sys.exit(1)
