"""Provides fast reading of the numeric body of a recording file, with pyarrow's CSV reader.

A day at 52 Hz is 4.5 million rows; pyarrow parses them on all cores straight from the file's
bytes (no Python string per line). Everything that is not the happy path stays explicit:

* a last line cut short (the phone app was killed mid-write) is dropped with a note;
* decimal commas (`1,5`) are read when the separator is not a comma;
* any other bad line is named by a line-by-line scan (only run on failure), so the error says
  `file:line: ...` exactly like before.

Validation of the values (finite, time increasing, units) is `loadmon.recording._validate`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from loadmon.errors import RecordingFormatError

log = logging.getLogger(__name__)

#: The column kinds a reader can ask for ("skip": present in the file, not read).
KINDS = {"f64": pa.float64(), "f32": pa.float32(), "i64": pa.int64(), "skip": pa.string()}


@dataclass(frozen=True)
class Columns:
    """Parsed columns (numpy arrays; "skip" columns left out) and what was noted."""

    values: Mapping[str, NDArray[np.generic]]
    notes: tuple[str, ...]
    n_rows: int


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _line_ok(line: str, sep: str, kinds: Sequence[str]) -> bool:
    parts = line.split(sep)
    if len(parts) != len(kinds):
        return False
    return all(k == "skip" or _is_number(p) for p, k in zip(parts, kinds, strict=True))


def read_columns(
    data: bytes | pa.Buffer,
    start: int,
    names: Sequence[str],
    kinds: Sequence[str],
    *,
    sep: str,
    source: str,
    first_line_no: int,
    decimal_comma: bool = False,
) -> Columns:
    """Parse `data[start:]` (rows of `len(names)` fields separated by `sep`) into columns.

    `first_line_no` is the 1-based line number of the first row, for messages. `kinds` are
    keys of KINDS. With `decimal_comma`, a "," inside a field is the decimal separator."""
    buf = data if isinstance(data, pa.Buffer) else pa.py_buffer(data)
    size = buf.size
    view = np.frombuffer(buf, dtype=np.uint8)
    if start >= size or not bytes(view[start:]).strip():
        raise RecordingFormatError(f"{source}: no data rows after the column line")
    notes: list[str] = []
    end = size
    # A last line without its newline may be cut short: drop it (with a note) if it is bad.
    w0 = max(start, size - 65536)
    rel = bytes(view[w0:]).rfind(b"\n")
    tail_nl = w0 + rel if rel >= 0 else start - 1
    if view[size - 1] != 10:
        last = bytes(view[tail_nl + 1 :]).decode("utf-8", "replace").rstrip("\r")
        if decimal_comma:
            last = last.replace(",", ".")
        if last.strip() and not _line_ok(last, sep, kinds) and tail_nl >= start:
            # (the first data row itself being cut is left to the error below)
            line_no = first_line_no + int(np.count_nonzero(view[start : tail_nl + 1] == 10))
            note = f"{source}:{line_no}: the last line is cut short ({last[:40]!r}); dropped it"
            log.warning(note)
            notes.append(note)
            end = tail_nl + 1
    body = buf.slice(start, end - start)
    if decimal_comma:
        body = pa.py_buffer(body.to_pybytes().replace(b",", b"."))
    types = {n: KINDS[k] for n, k in zip(names, kinds, strict=True)}
    wanted = [n for n, k in zip(names, kinds, strict=True) if k != "skip"]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=list(names)),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(column_types=types, include_columns=wanted),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        _raise_first_bad_line(body.to_pybytes(), first_line_no, sep, kinds, source)
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise RecordingFormatError(f"{source}: malformed data rows ({first})") from None
    out: dict[str, NDArray[np.generic]] = {}
    for n, k in zip(names, kinds, strict=True):
        if k == "skip":
            continue
        col = table.column(n)
        if k == "i64":
            if col.null_count:
                _raise_first_bad_line(body.to_pybytes(), first_line_no, sep, kinds, source)
            out[n] = col.to_numpy()
        else:
            # Nulls (empty fields) become NaN; `_validate` names the line.
            out[n] = col.to_numpy(zero_copy_only=False)
    return Columns(out, tuple(notes), table.num_rows)


def _raise_first_bad_line(
    body: bytes, first_line_no: int, sep: str, kinds: Sequence[str], source: str
) -> None:
    """Name the first line that is not `len(kinds)` numbers (the slow path, on failure only)."""
    for k, raw in enumerate(body.split(b"\n")):
        line = raw.decode("utf-8", "replace").rstrip("\r")
        if not line.strip():
            continue
        parts = line.split(sep)
        if len(parts) != len(kinds):
            raise RecordingFormatError(
                f"{source}:{first_line_no + k}: expected {len(kinds)} values, found {len(parts)}"
            )
        for c, (p, kind) in enumerate(zip(parts, kinds, strict=True)):
            if kind == "skip":
                continue
            ok = _is_number(p) and (kind != "i64" or p.strip().lstrip("+-").isdigit())
            if not ok:
                raise RecordingFormatError(
                    f"{source}:{first_line_no + k}: value {p.strip()!r} in column {c + 1} "
                    "is not a number"
                )
