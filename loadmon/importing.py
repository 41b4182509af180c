"""Provides import of a recording into the database, with its analysis when detectors exist."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from loadmon import storage
from loadmon.errors import InputError
from loadmon.recording import Recording


@dataclass(frozen=True)
class ImportResult:
    recording_id: int
    patient_id: int
    gaps: int
    summary_line: str


def import_recording(
    db: storage.Database,
    rec: Recording,
    *,
    patient: str,
    create_patient: bool = False,
    analyze: bool = True,
    exercise: str | None = None,
    kg: float | None = None,
) -> ImportResult:
    """Store `rec` for `patient` (and its analysis) in one transaction.

    `kg`: the external load of the recorded sets (stored on each set; loadmon.load counts
    it instead of the prescribed kg).

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
    analysis = None
    if analyze:
        analysis = _analyze(db, rec, None if row is None else int(row["id"]), exercise)
    with storage.transaction(db):
        pid = int(row["id"]) if row is not None else storage.add_patient(db, patient)
        rid = storage.save_recording(db, pid, rec)
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
    return ImportResult(rid, pid, len(rec.gaps()), summary)


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
