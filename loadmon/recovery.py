"""Provides recovery of interrupted recordings: close and analyse what a dead writer left.

A recorder commits its samples at least once a second, so `kill -9`, a crash or a power cut
leaves a consistent recording whose row still says `recording` and which has no analysis.
The recorder notes its process id and host in the row (`meta.extra.writer`, `pid@host`);
when that process is gone, the next `storage.open_db` (or `loadmon analyze --recording
ID`) marks the row `interrupted`, sets its totals from the stored blocks and analyses it,
so its reps reach the status and the report. A row whose writer is alive (a recording
under way) is left alone.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from typing import Any

from loadmon import storage
from loadmon.errors import LoadmonError


@dataclass(frozen=True)
class Recovered:
    recording_id: int
    n_samples: int
    summary: str
    error: str | None = None


def writer_info(pid: int | None = None) -> str:
    """What a recorder stores about itself (`pid@host`), so a later open can tell whether
    it is still alive."""
    return f"{os.getpid() if pid is None else pid}@{socket.gethostname()}"


def writer_alive(meta: dict[str, Any]) -> bool | None:
    """True / False for a writer on this host; None when it cannot be told (no info, or
    another host's process)."""
    w = (meta.get("extra") or {}).get("writer")
    if not isinstance(w, str) or "@" not in w:
        return None
    pid_text, _, host = w.partition("@")
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def orphaned(db: storage.Database) -> list[int]:
    """Recordings still marked `recording` whose writer process is gone."""
    out = []
    for rid, meta in db.execute(
        "SELECT id, meta FROM recordings WHERE status = 'recording' ORDER BY id"
    ).fetchall():
        if writer_alive(json.loads(meta or "{}")) is False:
            out.append(int(rid))
    return out


def close_recording(db: storage.Database, recording_id: int, *, only_if_recording: bool) -> bool:
    """Mark a recording `interrupted` with totals from its stored blocks; False if another
    process got there first (it is no longer `recording`)."""
    with db.atomic():
        row = db.execute(
            "SELECT status, sample_rate_hz FROM recordings WHERE id = ?", [recording_id]
        ).fetchone()
        if row is None or (only_if_recording and row[0] != "recording"):
            return False
        n, t_last = db.execute(
            "SELECT coalesce(sum(n), 0), max(t_last) FROM sample_blocks WHERE recording_id = ?",
            [recording_id],
        ).fetchone()
        duration = (float(t_last) + 1.0 / float(row[1])) if n else 0.0
        update: dict[str, Any] = {"n_samples": int(n), "duration_s": duration}
        if row[0] == "recording":
            update["status"] = "interrupted"
        db.table("recordings").update(recording_id, update)
    return True


def analyse(db: storage.Database, recording_id: int) -> Recovered:
    """Analyse a stored recording as it was recorded (a guided live set as its exercise)."""
    from loadmon.importing import analyze_stored

    row = storage.get_recording_row(db, recording_id)
    meta = json.loads(row.get("meta") or "{}")
    exercise = (meta.get("extra") or {}).get("exercise")
    try:
        summary = analyze_stored(db, recording_id, exercise=exercise)
    except LoadmonError as e:
        return Recovered(recording_id, int(row["n_samples"] or 0), "", str(e))
    return Recovered(recording_id, int(row["n_samples"] or 0), summary)


def recover_interrupted(db: storage.Database) -> list[Recovered]:
    """Close and analyse every recording whose writer died; returns what was done."""
    done = []
    for rid in orphaned(db):
        if close_recording(db, rid, only_if_recording=True):
            done.append(analyse(db, rid))
    return done
