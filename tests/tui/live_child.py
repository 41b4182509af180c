"""A dashboard process recording a live session, for the kill -9 test (run as a module).

`python -m tests.tui.live_child DB REPLAY SPEED`: opens the dashboard headless on DB, starts
a Live session replaying REPLAY through the virtual Verity at SPEED × real time, and prints
`received <sensor s> <samples> <recording id>` after every new batch the recorder is handed,
until it is killed; `ignored <n>` when a quit or SIGINT is ignored while the session saves,
and `exited saved=<id>` when it has quit.
"""

from __future__ import annotations

import asyncio
import sys

from loadmon.tui.app import make_app
from loadmon.tui.screens.live import LiveScreen
from tests.tui.snapshot_app import TODAY


async def main(db: str, replay: str, speed: float) -> None:
    app = make_app(db, source=replay, today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        await app.workers.wait_for_complete()
        live = app.screen
        assert isinstance(live, LiveScreen)
        live.speed = speed
        await pilot.press("s")
        seen, ignored = -1, 0
        while not app._exit:  # until it is killed, or quits (tests/test_second_ctrl_c.py)
            await asyncio.sleep(0.02)
            rec = live.recorder
            if rec is not None and rec.recording_id is not None and live.n_received != seen:
                seen = live.n_received
                print(f"received {live.last_received_t:.4f} {seen} {rec.recording_id}",
                      flush=True)
            if app.quits_ignored != ignored:
                ignored = app.quits_ignored
                print(f"ignored {ignored}", flush=True)
    print(f"exited saved={live.saved_id}", flush=True)

if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
