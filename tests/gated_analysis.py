"""Runs a loadmon entry point with its end-of-session analysis held until the test says go,
for the second-Ctrl-C tests (run as a module).

`python -m tests.gated_analysis cli ARGS…` runs `loadmon ARGS…`; `… tui DB REPLAY SPEED`
opens the dashboard headless and starts a Live session replaying REPLAY. When the analysis
is reached the child prints `analysing`, and waits for a line on stdin before running it:
the test sends its second SIGINT in between, so it lands inside the analysis by
construction, not by timing. The analysis itself is the real one.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from loadmon import importing

_real = importing.analyze_stored


def _gated(*args: Any, **kwargs: Any) -> Any:
    print("analysing", flush=True)
    sys.stdin.readline()
    return _real(*args, **kwargs)


importing.analyze_stored = _gated


if __name__ == "__main__":
    if sys.argv[1] == "tui":
        from tests.tui.live_child import main as live_session

        asyncio.run(live_session(sys.argv[2], sys.argv[3], float(sys.argv[4])))
    else:
        from loadmon.cli import main

        main(sys.argv[2:])
