"""Provides the SQLite store (sqlite-utils): schema, migrations, and saving/reading sessions.

One database file per user. Every write that changes more than one row runs inside
`db.atomic()`, so it either completes or leaves the database as it was. Raw samples are
kept compactly: per block, each channel is quantised to an integer step (the scale is kept),
delta-encoded along time, byte-shuffled and zlib-compressed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import unicodedata
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
import sqlite_utils
from numpy.typing import NDArray

from loadmon.bounds import check_quantisable, fit_scale
from loadmon.errors import InputError, NotFoundError, StorageError
from loadmon.recording import Recording


class Database(sqlite_utils.Database):
    """sqlite-utils' Database whose write transactions take the write lock before they read.

    `atomic()` starts with BEGIN IMMEDIATE: a deferred transaction that reads first and
    writes later fails at once with "database is locked" when another writer committed in
    between (WAL cannot upgrade a stale snapshot), whatever the busy timeout. Taking the lock
    first makes every writer wait its turn (up to BUSY_TIMEOUT_MS) instead.
    """

    @contextmanager
    def atomic(self) -> Iterator[Database]:  # type: ignore[override]
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()


#: How long a writer waits for another's transaction before "database is locked" (ms).
BUSY_TIMEOUT_MS = 30_000

#: Default quantisation steps when the source does not say (finer than loadmon-csv prints).
DEFAULT_ACC_SCALE_G = 1e-4
DEFAULT_GYRO_SCALE_DPS = 1e-3
#: Time is kept to 0.1 ms (what loadmon-csv prints; far below any sample period).
T_SCALE_S = 1e-4
#: Samples per stored block (about 10 minutes at 52 Hz).
BLOCK_SAMPLES = 32768


def default_db_path() -> Path:
    """`LOADMON_DB` if set, else loadmon.db in the user's data directory."""
    env = os.environ.get("LOADMON_DB")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("loadmon", appauthor=False)) / "loadmon.db"


def open_db(
    path: str | os.PathLike[str] | None = None, *, create: bool = True, recover: bool = True
) -> Database:
    """Open (and if needed create, mode 0600, and migrate) the database at `path`.

    With `recover`, recordings left `recording` by a process that is gone (killed, crashed,
    power cut) are closed as `interrupted` and analysed (loadmon.recovery).
    """
    p = Path(path) if path is not None else default_db_path()
    if str(p) == ":memory:":
        db = Database(memory=True)
    else:
        if not p.exists():
            if not create:
                raise NotFoundError(
                    f"no database at {p} (check --db or LOADMON_DB; 'loadmon patient add' "
                    "creates one)"
                )
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                os.close(fd)
            except FileExistsError:
                pass
            except OSError as e:
                raise StorageError(f"cannot create database {p}: {e.strerror}") from None
        elif p.is_dir():
            raise StorageError(f"{p} is a directory, not a database file")
        elif not create and p.stat().st_size == 0:
            raise StorageError(f"{p} is empty (0 bytes), not a loadmon database")
        try:
            db = Database(p)
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.conn.execute("PRAGMA journal_mode=WAL").fetchone()
        except sqlite3.DatabaseError as e:
            raise StorageError(f"cannot open database {p}: {e}") from None
    db.execute("PRAGMA foreign_keys = ON")
    try:
        migrate(db)
    except sqlite3.DatabaseError as e:
        raise StorageError(f"cannot open database {p}: {e}") from None
    if recover and db.execute(
        "SELECT 1 FROM recordings WHERE status = 'recording' LIMIT 1"
    ).fetchone():
        from loadmon import recovery  # recordings whose writer died: close and analyse them

        recovery.recover_interrupted(db)
    return db


def explain_db_error(e: sqlite3.Error, kept: str = "") -> StorageError:
    """One line for a database that ran out of room, is read-only, damaged or busy.

    `kept` says what is safe (e.g. "recording 2 kept up to 160 s"); by default, that the
    failed change was rolled back and everything committed before it is kept.
    """
    msg = str(e)
    low = msg.lower()
    kept = kept or "the change was rolled back; everything saved before it is kept"
    if "full" in low:
        what = "disk full"
    elif "readonly" in low or "read-only" in low:
        what = "the database (or its folder) is read-only"
    elif "malformed" in low or "not a database" in low or "corrupt" in low:
        what = f"the database is damaged ({msg})"
        kept = kept + "; check it with 'sqlite3 FILE \"PRAGMA integrity_check\"'"
    elif "locked" in low or "busy" in low:
        what = "the database is busy (another loadmon is writing)"
    else:
        what = f"database error ({msg})"
    return StorageError(f"{what}: {kept}")


@contextmanager
def db_errors(kept: str = "") -> Iterator[None]:
    """Turn SQLite failures inside the block into one `StorageError` line (see above)."""
    try:
        yield
    except sqlite3.Error as e:
        raise explain_db_error(e, kept) from None


# --------------------------------------------------------------------------------------------
# Migrations


def _m001_initial(db: Database) -> None:
    db.table("patients").create(
        {
            "id": int,
            "name": str,
            "protocol": str,
            "created": str,
            "start_date": str,
            "prescription": str,
            "notes": str,
        },
        pk="id",
        not_null={"name", "created"},
    )
    db.table("patients").create_index(["name"], unique=True)
    db.table("phase_history").create(
        {"id": int, "patient_id": int, "phase": str, "start_date": str, "note": str},
        pk="id",
        foreign_keys=[("patient_id", "patients", "id")],
        not_null={"patient_id", "phase", "start_date"},
    )
    db.table("phase_history").create_index(["patient_id", "start_date"])
    db.table("recordings").create(
        {
            "id": int,
            "patient_id": int,
            "device": str,
            "placement": str,
            "start": str,
            "duration_s": float,
            "sample_rate_hz": float,
            "n_samples": int,
            "has_gyro": int,
            "source": str,
            "meta": str,
            "imported_at": str,
            "status": str,
        },
        pk="id",
        foreign_keys=[("patient_id", "patients", "id")],
        not_null={"patient_id", "start", "sample_rate_hz"},
    )
    db.table("recordings").create_index(["patient_id", "start"])
    db.table("sample_blocks").create(
        {
            "id": int,
            "recording_id": int,
            "seq": int,
            "n": int,
            "t_first": float,
            "t_last": float,
            "t_data": bytes,
            "acc_data": bytes,
            "gyro_data": bytes,
            "acc_scale": float,
            "gyro_scale": float,
        },
        pk="id",
        foreign_keys=[("recording_id", "recordings", "id")],
        not_null={"recording_id", "seq", "n", "t_data", "acc_data"},
    )
    db.table("sample_blocks").create_index(["recording_id", "seq"], unique=True)
    db.table("gaps").create(
        {"id": int, "recording_id": int, "start_s": float, "end_s": float, "reason": str},
        pk="id",
        foreign_keys=[("recording_id", "recordings", "id")],
    )
    db.table("gaps").create_index(["recording_id"])
    db.table("analyses").create(
        {
            "id": int,
            "recording_id": int,
            "created": str,
            "version": str,
            "parameters": str,
            "summary": str,
        },
        pk="id",
        foreign_keys=[("recording_id", "recordings", "id")],
    )
    db.table("analyses").create_index(["recording_id"])
    db.table("events").create(
        {
            "id": int,
            "recording_id": int,
            "patient_id": int,
            "analysis_id": int,
            "type": str,
            "start_s": float,
            "end_s": float,
            "start_utc": str,
            "set_index": int,
            "data": str,
        },
        pk="id",
        foreign_keys=[
            ("recording_id", "recordings", "id"),
            ("patient_id", "patients", "id"),
            ("analysis_id", "analyses", "id"),
        ],
    )
    db.table("events").create_index(["patient_id", "start_utc"])
    db.table("events").create_index(["recording_id"])
    db.table("sets").create(
        {
            "id": int,
            "recording_id": int,
            "patient_id": int,
            "analysis_id": int,
            "exercise": str,
            "start_s": float,
            "end_s": float,
            "start_utc": str,
            "reps": int,
            "data": str,
        },
        pk="id",
        foreign_keys=[
            ("recording_id", "recordings", "id"),
            ("patient_id", "patients", "id"),
            ("analysis_id", "analyses", "id"),
        ],
    )
    db.table("sets").create_index(["patient_id", "start_utc"])
    db.table("log_entries").create(
        {"id": int, "patient_id": int, "date": str, "kind": str, "data": str, "created": str},
        pk="id",
        foreign_keys=[("patient_id", "patients", "id")],
        not_null={"patient_id", "date", "kind"},
    )
    db.table("log_entries").create_index(["patient_id", "date"])
    db.table("warnings").create(
        {
            "id": int,
            "patient_id": int,
            "date": str,
            "rule": str,
            "severity": str,
            "message": str,
            "numbers": str,
            "source": str,
            "created": str,
        },
        pk="id",
        foreign_keys=[("patient_id", "patients", "id")],
    )
    db.table("warnings").create_index(["patient_id", "date"])
    db.table("mountings").create(
        {
            "id": int,
            "patient_id": int,
            "device": str,
            "recording_id": int,
            "created": str,
            "data": str,
        },
        pk="id",
        foreign_keys=[("patient_id", "patients", "id")],
    )
    db.table("mountings").create_index(["patient_id", "device"])


#: Ordered migrations; append only. The list index + 1 is the schema version.
MIGRATIONS: list[Callable[[Database], None]] = [_m001_initial]


def schema_version(db: Database) -> int:
    if "schema_version" not in db.table_names():
        return 0
    row = db.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: Database) -> int:
    """Apply the migrations this database has not had yet; each in its own transaction."""
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise StorageError(
            f"database schema version {current} is newer than this loadmon "
            f"({len(MIGRATIONS)}); upgrade loadmon"
        )
    for version in range(current + 1, len(MIGRATIONS) + 1):
        with db.atomic():
            if "schema_version" not in db.table_names():
                db.table("schema_version").create({"version": int, "applied": str}, pk="version")
            MIGRATIONS[version - 1](db)
            db.table("schema_version").insert({"version": version, "applied": now_iso()})
    return len(MIGRATIONS)


def _pk(value: Any) -> int:
    if value is None:
        raise StorageError("insert returned no row id")
    return int(value)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """All-or-nothing block; the database is unchanged if the block raises."""
    with db.atomic():
        yield db


# --------------------------------------------------------------------------------------------
# Sample compression


def encode_channels(values: NDArray[Any], scale: float) -> bytes:
    """Quantise to `scale` steps, byte-shuffle and zlib-compress one block of channels.

    Smooth signals (time, slow movement) pack best as deltas along time, noise-dominated
    ones as offsets from the block's first sample; both are tried and the smaller kept.
    Header byte: low nibble = integer width (4 or 8), bit 4 = delta-encoded.
    """
    check_quantisable(np.asarray(values, dtype=np.float64), scale)
    q = np.rint(np.asarray(values, dtype=np.float64) / scale).astype(np.int64)
    if q.ndim == 1:
        q = q[:, None]
    d = np.diff(q, axis=0, prepend=np.zeros((1, q.shape[1]), dtype=np.int64))
    off = q.copy()
    if q.shape[0] > 1:
        off[1:] -= q[:1]
    best = b""
    for delta, v in ((True, d), (False, off)):
        blob = _pack(v, delta)
        if not best or len(blob) < len(best):
            best = blob
    return best


def _pack(v: NDArray[np.int64], delta: bool) -> bytes:
    i32 = np.iinfo(np.int32)
    width = 4 if (v.size == 0 or (v.max() <= i32.max and v.min() >= i32.min)) else 8
    arr = np.ascontiguousarray(v.T.astype("<i4" if width == 4 else "<i8"))
    shuffled = arr.view(np.uint8).reshape(v.shape[1], -1, width).transpose(0, 2, 1)
    flag = width | (0x10 if delta else 0)
    return bytes([flag]) + zlib.compress(np.ascontiguousarray(shuffled).tobytes(), 1)


#: Full ranges of the supported sensors, for choosing float32 when reading stored samples.
ACC_FULL_RANGE_G = 16.0
GYRO_FULL_RANGE_DPS = 2000.0


def _f32_ok(scale: float, full_range: float) -> bool:
    """float32 reproduces values stored at `scale` steps to well within half a step (its
    rounding at the full range is at most a quarter step), so nothing stored is lost."""
    return full_range * 2.0**-24 <= scale / 4


def _pool() -> ThreadPoolExecutor:
    """Threads for (de)compressing sample blocks (zlib and numpy release the GIL)."""
    return ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1))


def decode_channels(blob: bytes, n: int, k: int, scale: float) -> NDArray[np.float64]:
    """Inverse of `encode_channels`: (n, k) float64 values."""
    width, delta = blob[0] & 0x0F, bool(blob[0] & 0x10)
    raw = np.frombuffer(zlib.decompress(blob[1:]), dtype=np.uint8)
    shuffled = raw.reshape(k, width, n).transpose(0, 2, 1)
    dtype = "<i4" if width == 4 else "<i8"
    v = np.ascontiguousarray(shuffled).view(dtype).reshape(k, n).astype(np.int64)
    if delta:
        q = np.cumsum(v, axis=1)
    else:
        q = v.copy()
        if n > 1:
            q[:, 1:] += v[:, :1]
    return (q.T * scale).astype(np.float64)


# --------------------------------------------------------------------------------------------
# Patients


#: Longest patient name, in characters.
MAX_NAME_CHARS = 100


def normalise_name(name: str) -> str:
    """The one form a patient name is stored and looked up in: NFC, trimmed, single spaces.

    Applied by every lookup and by creation, so "Ann " finds (and never creates) "Ann";
    a name with control or undecodable characters is refused.
    """
    n = " ".join(unicodedata.normalize("NFC", name).split())
    if not n:
        raise InputError("patient name must not be empty")
    if len(n) > MAX_NAME_CHARS:
        raise InputError(f"patient name: at most {MAX_NAME_CHARS} characters, got {len(n)}")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in n):
        raise InputError(
            f"patient name {n.encode('utf-8', 'backslashreplace').decode()!r}: contains a "
            "control character or a byte that is not UTF-8"
        )
    return n


def get_patient(db: Database, name: str) -> dict[str, Any]:
    name = normalise_name(name)
    rows = list(db.table("patients").rows_where("name = ?", [name], limit=1))
    if not rows:
        raise NotFoundError(f"no patient called {name!r} (see 'loadmon patient list')")
    return rows[0]


def find_patient(db: Database, name: str) -> dict[str, Any] | None:
    name = normalise_name(name)
    rows = list(db.table("patients").rows_where("name = ?", [name], limit=1))
    return rows[0] if rows else None


def add_patient(
    db: Database,
    name: str,
    *,
    protocol: str | None = None,
    start_date: str | None = None,
    prescription: Mapping[str, Any] | None = None,
) -> int:
    name = normalise_name(name)
    if find_patient(db, name) is not None:
        raise InputError(f"a patient called {name!r} already exists")
    with db.atomic():
        table = db.table("patients").insert(
            {
                "name": name,
                "protocol": protocol,
                "created": now_iso(),
                "start_date": start_date,
                "prescription": json.dumps(dict(prescription or {})),
                "notes": "",
            }
        )
    return _pk(table.last_pk)


def list_patients(db: Database) -> list[dict[str, Any]]:
    return list(db.table("patients").rows_where(order_by="name"))


# --------------------------------------------------------------------------------------------
# Recordings


def save_recording(
    db: Database,
    patient_id: int,
    rec: Recording,
    *,
    status: str = "complete",
) -> int:
    """Store a whole recording (metadata, sample blocks, gaps) atomically; returns its id.

    Samples are quantised at the source's own resolution (no finer than needed)."""
    acc_scale = fit_scale(rec.acc, min(rec.acc_resolution, DEFAULT_ACC_SCALE_G * 10))
    gyro_scale = min(rec.gyro_resolution, DEFAULT_GYRO_SCALE_DPS * 10)
    if rec.gyro is not None:
        gyro_scale = fit_scale(rec.gyro, gyro_scale)
    with db.atomic():
        rid = create_recording(db, patient_id, rec, status=status)
        append_samples(
            db, rid, rec.t, rec.acc, rec.gyro, acc_scale=acc_scale, gyro_scale=gyro_scale
        )
        for a, b in rec.gaps():
            db.table("gaps").insert(
                {"recording_id": rid, "start_s": a, "end_s": b, "reason": "packet loss"}
            )
    return rid


def create_recording(db: Database, patient_id: int, rec: Recording, *, status: str) -> int:
    """Insert the metadata row of a recording (samples follow with `append_samples`)."""
    meta = {
        "extra": dict(rec.extra),
        "acc_resolution": rec.acc_resolution,
        "gyro_resolution": rec.gyro_resolution,
    }
    table = db.table("recordings").insert(
        {
            "patient_id": patient_id,
            "device": rec.device,
            "placement": rec.placement,
            # UTC, so it compares as text with the calendar's day bounds (loadmon.days).
            "start": rec.start.astimezone(UTC).isoformat(),
            "duration_s": rec.duration_s,
            "sample_rate_hz": rec.sample_rate_hz,
            "n_samples": rec.n_samples,
            "has_gyro": int(rec.has_gyro),
            "source": rec.source,
            "meta": json.dumps(meta),
            "imported_at": now_iso(),
            "status": status,
        }
    )
    return _pk(table.last_pk)


def append_samples(
    db: Database,
    recording_id: int,
    t: NDArray[np.float64],
    acc: NDArray[np.float64],
    gyro: NDArray[np.float64] | None,
    *,
    acc_scale: float = DEFAULT_ACC_SCALE_G,
    gyro_scale: float = DEFAULT_GYRO_SCALE_DPS,
) -> None:
    """Append samples as one or more blocks (callers wrap this in a transaction)."""
    row = db.execute(
        "SELECT coalesce(max(seq), -1) FROM sample_blocks WHERE recording_id = ?", [recording_id]
    ).fetchone()
    seq = int(row[0]) + 1

    def block(i: int) -> dict[str, Any]:
        j = min(i + BLOCK_SAMPLES, t.shape[0])
        return {
            "recording_id": recording_id,
            "seq": seq + i // BLOCK_SAMPLES,
            "n": j - i,
            "t_first": float(t[i]),
            "t_last": float(t[j - 1]),
            "t_data": encode_channels(t[i:j], T_SCALE_S),
            "acc_data": encode_channels(acc[i:j], acc_scale),
            "gyro_data": None if gyro is None else encode_channels(gyro[i:j], gyro_scale),
            "acc_scale": acc_scale,
            "gyro_scale": gyro_scale if gyro is not None else None,
        }

    # zlib releases the GIL: a day's 400 blocks compress on every core.
    with _pool() as pool:
        rows = list(pool.map(block, range(0, t.shape[0], BLOCK_SAMPLES)))
    if rows:
        db.table("sample_blocks").insert_all(rows)


def get_recording_row(db: Database, recording_id: int) -> dict[str, Any]:
    try:
        return dict(db.table("recordings").get(recording_id))
    except sqlite_utils.db.NotFoundError:
        raise NotFoundError(
            f"no recording with id {recording_id} (see 'loadmon recordings')"
        ) from None


def load_recording(db: Database, recording_id: int) -> Recording:
    """Rebuild a Recording from its stored blocks."""
    row = get_recording_row(db, recording_id)
    # Small columns first (to size the arrays), then the blobs a few at a time: a day never
    # holds its compressed blocks and its samples at once.
    heads = db.execute(
        "SELECT seq, n, acc_scale, gyro_scale, gyro_data IS NOT NULL FROM sample_blocks "
        "WHERE recording_id = ? ORDER BY seq",
        [recording_id],
    ).fetchall()
    total = sum(int(h[1]) for h in heads)
    with_gyro = bool(heads) and all(h[4] for h in heads)
    # Filled in place, float32 where the stored step is coarse enough that float32 returns
    # every stored value exactly to its step (at the sensors' full range: see _f32_ok).
    t = np.empty(total, dtype=np.float64)
    acc_f32 = all(_f32_ok(float(h[2]), ACC_FULL_RANGE_G) for h in heads)
    acc = np.empty((total, 3), dtype=np.float32 if acc_f32 else np.float64)
    gyro = None
    if with_gyro:
        gyro_f32 = all(_f32_ok(float(h[3]), GYRO_FULL_RANGE_DPS) for h in heads)
        gyro = np.empty((total, 3), dtype=np.float32 if gyro_f32 else np.float64)
    starts = np.concatenate([[0], np.cumsum([int(h[1]) for h in heads])]).astype(int)
    index = {int(h[0]): k for k, h in enumerate(heads)}

    def fill(b: Mapping[str, Any]) -> None:
        k = index[int(b["seq"])]
        a, n = int(starts[k]), int(b["n"])
        t[a : a + n] = decode_channels(b["t_data"], n, 1, T_SCALE_S)[:, 0]
        acc[a : a + n] = decode_channels(b["acc_data"], n, 3, b["acc_scale"])
        if gyro is not None:
            gyro[a : a + n] = decode_channels(b["gyro_data"], n, 3, b["gyro_scale"])

    rows = db.query(
        "SELECT seq, n, t_data, acc_data, gyro_data, acc_scale, gyro_scale FROM sample_blocks "
        "WHERE recording_id = ? ORDER BY seq",
        [recording_id],
    )
    with _pool() as pool:
        batch: list[dict[str, Any]] = []
        for b in rows:
            batch.append(b)
            if len(batch) == 16:
                list(pool.map(fill, batch))
                batch = []
        list(pool.map(fill, batch))
    meta = json.loads(row["meta"] or "{}")
    return Recording(
        t=t,
        acc=acc,
        gyro=gyro,
        sample_rate_hz=float(row["sample_rate_hz"]),
        start=datetime.fromisoformat(row["start"]),
        device=row["device"] or "unknown",
        placement=row["placement"] or "thigh",
        extra=meta.get("extra", {}),
        source=row["source"],
        acc_resolution=float(meta.get("acc_resolution", DEFAULT_ACC_SCALE_G)),
        gyro_resolution=float(meta.get("gyro_resolution", DEFAULT_GYRO_SCALE_DPS)),
    )


def list_recordings(db: Database, patient: str | None = None) -> list[dict[str, Any]]:
    """Recording summaries (the `loadmon recordings --json` objects), oldest first."""
    sql = (
        "SELECT r.id, p.name AS patient, r.start, r.duration_s, r.sample_rate_hz, r.device, "
        "r.placement, r.n_samples, r.has_gyro, r.source, r.status, "
        "(SELECT count(*) FROM gaps g WHERE g.recording_id = r.id) AS gaps "
        "FROM recordings r JOIN patients p ON p.id = r.patient_id"
    )
    params: list[Any] = []
    if patient is not None:
        pid = get_patient(db, patient)["id"]
        sql += " WHERE r.patient_id = ?"
        params.append(pid)
    sql += " ORDER BY r.start, r.id"
    out = []
    for r in db.query(sql, params):
        r = dict(r)
        r["has_gyro"] = bool(r["has_gyro"])
        out.append(r)
    return out


def list_gaps(db: Database, recording_id: int) -> list[tuple[float, float]]:
    return [
        (float(r["start_s"]), float(r["end_s"]))
        for r in db.table("gaps").rows_where("recording_id = ?", [recording_id], order_by="start_s")
    ]


# --------------------------------------------------------------------------------------------
# Analyses (events and sets; the dict is the analysis JSON of DESIGN.md)


def save_analysis(
    db: Database,
    recording_id: int,
    analysis: Mapping[str, Any],
    *,
    version: str,
    parameters: Mapping[str, Any],
) -> int:
    """Replace the stored analysis of a recording with `analysis` (atomically)."""
    row = get_recording_row(db, recording_id)
    start = datetime.fromisoformat(row["start"])
    pid = row["patient_id"]
    with db.atomic():
        db.execute("DELETE FROM events WHERE recording_id = ?", [recording_id])
        db.execute("DELETE FROM sets WHERE recording_id = ?", [recording_id])
        db.execute("DELETE FROM analyses WHERE recording_id = ?", [recording_id])
        aid = _pk(
            db.table("analyses")
            .insert(
                {
                    "recording_id": recording_id,
                    "created": now_iso(),
                    "version": version,
                    "parameters": json.dumps(parameters),
                    "summary": json.dumps(analysis.get("summary", {})),
                }
            )
            .last_pk
        )
        ev_rows = []
        for ev in analysis.get("events", []):
            data = {k: v for k, v in ev.items() if k not in ("type", "start_s", "end_s")}
            ev_rows.append(
                {
                    "recording_id": recording_id,
                    "patient_id": pid,
                    "analysis_id": aid,
                    "type": ev["type"],
                    "start_s": float(ev["start_s"]),
                    "end_s": float(ev["end_s"]),
                    "start_utc": _utc_at(start, float(ev["start_s"])),
                    "set_index": ev.get("set_index"),
                    "data": json.dumps(data),
                }
            )
        if ev_rows:
            db.table("events").insert_all(ev_rows)
        set_rows = []
        for st in analysis.get("sets", []):
            data = {
                k: v for k, v in st.items() if k not in ("exercise", "start_s", "end_s", "reps")
            }
            set_rows.append(
                {
                    "recording_id": recording_id,
                    "patient_id": pid,
                    "analysis_id": aid,
                    "exercise": st["exercise"],
                    "start_s": float(st["start_s"]),
                    "end_s": float(st["end_s"]),
                    "start_utc": _utc_at(start, float(st["start_s"])),
                    "reps": int(st.get("reps", 0)),
                    "data": json.dumps(data),
                }
            )
        if set_rows:
            db.table("sets").insert_all(set_rows)
    return aid


def _utc_at(start: datetime, offset_s: float) -> str:
    ts = start.timestamp() + offset_s
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def events_for(
    db: Database, recording_id: int, types: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    sql = "SELECT * FROM events WHERE recording_id = ?"
    params: list[Any] = [recording_id]
    if types:
        sql += f" AND type IN ({','.join('?' * len(types))})"
        params.extend(types)
    sql += " ORDER BY start_s"
    out = []
    for r in db.query(sql, params):
        r = dict(r)
        r.update(json.loads(r.pop("data") or "{}"))
        out.append(r)
    return out
