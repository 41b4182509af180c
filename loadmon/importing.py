"""Provides import of a recording into the database, with its analysis when detectors exist.

The same samples are never stored twice by accident: each stored recording keeps a fingerprint
of its samples (`meta.fingerprint`), and an import whose fingerprint is already stored is
refused naming that recording (`allow_duplicate=True` forces it). Recordings of the same
patient and device that overlap in time are reported (they would count the same work twice).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from loadmon import storage
from loadmon.errors import InputError
from loadmon.recording import Recording

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    recording_id: int
    patient_id: int
    gaps: int
    summary_line: str
    #: Stored recordings of the same patient and device overlapping this one in time.
    overlaps: tuple[str, ...] = field(default=())


class DuplicateRecordingError(InputError):
    """These samples are already stored (the message names the recording)."""


def fingerprint(rec: Recording) -> str:
    """A hash of the samples at their stored resolution (independent of file format, clock
    zone and reader precision): equal for the same samples read twice."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{rec.n_samples}:{int(rec.has_gyro)}".encode())
    if rec.n_samples:
        h.update(np.rint((rec.t - rec.t[0]) * 1e4).astype(np.int64).tobytes())
    # 1e-3 g and 0.1 °/s: coarse enough that float32 and float64 copies of a sample agree.
    h.update(np.rint(rec.acc * 1e3).astype(np.int32).tobytes())
    if rec.gyro is not None:
        h.update(np.rint(rec.gyro * 10).astype(np.int32).tobytes())
    return h.hexdigest()


def find_duplicate(db: storage.Database, fp: str) -> dict[str, object] | None:
    """The stored recording whose samples have fingerprint `fp`, if any."""
    row = db.execute(
        "SELECT r.id, p.name, r.start, r.source, r.imported_at FROM recordings r "
        "JOIN patients p ON p.id = r.patient_id "
        "WHERE json_extract(r.meta, '$.fingerprint') = ? ORDER BY r.id LIMIT 1",
        [fp],
    ).fetchone()
    if row is None:
        return None
    return {"id": row[0], "patient": row[1], "start": row[2], "source": row[3], "imported": row[4]}


def find_overlaps(
    db: storage.Database, patient_id: int, rec: Recording, exclude: int | None = None
) -> list[str]:
    """One line per stored recording of this patient and device overlapping `rec` in time."""
    lo = rec.start
    hi = rec.start + timedelta(seconds=rec.duration_s)
    out = []
    for rid, start, dur in db.execute(
        "SELECT id, start, duration_s FROM recordings WHERE patient_id = ? AND device = ? "
        "ORDER BY start, id",
        [patient_id, rec.device],
    ).fetchall():
        if rid == exclude:
            continue
        s = datetime.fromisoformat(str(start))
        e = s + timedelta(seconds=float(dur or 0.0))
        if s < hi and lo < e:
            both = (min(hi, e) - max(lo, s)).total_seconds()
            out.append(
                f"overlaps recording {rid} ({rec.device}, from {start}) by {both / 60:.1f} min"
            )
    return out


def import_recording(
    db: storage.Database,
    rec: Recording,
    *,
    patient: str,
    create_patient: bool = False,
    analyze: bool = True,
    exercise: str | None = None,
    kg: float | None = None,
    allow_duplicate: bool = False,
) -> ImportResult:
    """Store `rec` for `patient` (and its analysis) in one transaction.

    `kg`: the external load of the recorded sets (stored on each set; loadmon.load counts
    it instead of the prescribed kg). Samples already stored are refused
    (`DuplicateRecordingError`, naming the recording) unless `allow_duplicate`; overlapping
    recordings of the same device are reported.

    `exercise` analyses it as a guided set of that exercise (the patient said what they were
    doing), like `loadmon analyze --exercise`. The analysis runs before anything is written,
    so a failure leaves the database as it was.
    """
    if kg is not None and not (0 <= kg <= 500):
        raise InputError(f"kg: expected 0 to 500, got {kg:g}")
    row = storage.find_patient(db, patient)
    if row is None and not create_patient:
        raise InputError(
            f"no patient called {patient!r}; add them with 'loadmon patient add' or pass --create"
        )
    fp = fingerprint(rec)
    dup = find_duplicate(db, fp)
    if dup is not None and not allow_duplicate:
        what = f"{rec.source}: t" if rec.source else "T"
        raise DuplicateRecordingError(
            f"{what}hese samples are already stored as recording {dup['id']} "
            f"({dup['patient']}, from {dup['start']}, imported {dup['imported']}); "
            "pass --allow-duplicate to store them again"
        )
    analysis = None
    if analyze:
        analysis = _analyze(db, rec, None if row is None else int(row["id"]), exercise)
    with storage.transaction(db):
        pid = int(row["id"]) if row is not None else storage.add_patient(db, patient)
        overlaps = tuple(find_overlaps(db, pid, rec))
        rid = storage.save_recording(db, pid, rec)
        db.execute(
            "UPDATE recordings SET meta = json_set(coalesce(meta, '{}'), '$.fingerprint', ?) "
            "WHERE id = ?",
            [fp, rid],
        )
        summary = ""
        if analysis is not None:
            pipeline = importlib.import_module("loadmon.analysis.pipeline")
            result = analysis.to_dict()
            if kg is not None:
                for st in result.get("sets", []):
                    st["kg"] = float(kg)
            storage.save_analysis(
                db,
                rid,
                result,
                version=analysis.version,
                parameters=analysis.parameters,
            )
            pipeline.remember_mounting(db, pid, rid, rec.device, analysis)
            summary = analysis.summary_line()
    log.info("stored recording %d for patient %d (%d samples, fingerprint %s)",
             rid, pid, rec.n_samples, fp)  # fmt: skip
    for line in overlaps:
        log.info("recording %d %s", rid, line)
    return ImportResult(rid, pid, len(rec.gaps()), summary, overlaps)


def analyze_stored(
    db: storage.Database, recording_id: int, *, exercise: str | None = None
) -> str:
    """Run the detectors on a stored recording (e.g. one just recorded live) and save them.

    Returns the one-line summary ("" when the detectors are not installed or there are too
    few samples). The stored samples are not touched; the analysis replaces any earlier one.
    """
    row = storage.get_recording_row(db, recording_id)
    rec = storage.load_recording(db, recording_id)
    if rec.n_samples < 2:
        return ""
    analysis = _analyze(db, rec, int(row["patient_id"]), exercise)
    if analysis is None:
        return ""
    pipeline = importlib.import_module("loadmon.analysis.pipeline")
    with storage.transaction(db):
        storage.save_analysis(
            db, recording_id, analysis.to_dict(), version=analysis.version,
            parameters=analysis.parameters,
        )
        pipeline.remember_mounting(db, int(row["patient_id"]), recording_id, rec.device, analysis)
    return str(analysis.summary_line())


def _analyze(  # type: ignore[no-untyped-def]
    db: storage.Database, rec: Recording, patient_id: int | None, exercise: str | None = None
):
    try:
        pipeline = importlib.import_module("loadmon.analysis.pipeline")
    except ModuleNotFoundError as e:
        if e.name and "loadmon.analysis" in e.name:
            return None  # detectors not installed in this build
        raise
    mounting = None
    if patient_id is not None:
        mounting = pipeline.recall_mounting(db, patient_id, rec.device)
    if exercise is not None and exercise not in pipeline.EXERCISES:
        raise InputError(
            f"--exercise: expected one of {', '.join(pipeline.EXERCISES)}, got {exercise!r}"
        )
    return pipeline.analyze(rec, exercise=exercise, mounting=mounting)
