"""Provides fast reading of the numeric body of a recording file, with pyarrow's CSV reader.

A day at 52 Hz is 4.5 million rows; pyarrow parses them in C++ straight from the file, block
by block, into arrays allocated once (the file is never held in memory as a whole, so a day
costs its samples and little more). Everything that is not the happy path stays explicit:

* a last line cut short (the phone app was killed mid-write) is dropped with a note;
* decimal commas (`1,5`) are read when the separator is not a comma;
* any other bad line is named by a line-by-line scan (only run on failure), so the error says
  `file:line: ...`.

Validation of the values (finite, time increasing, units) is `loadmon.recording._validate`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from loadmon.errors import RecordingFormatError

log = logging.getLogger(__name__)

#: The column kinds a reader can ask for ("skip": present in the file, not read).
KINDS = {"f64": pa.float64(), "f32": pa.float32(), "i64": pa.int64(), "skip": pa.string()}
_NUMPY = {"f64": np.float64, "f32": np.float32, "i64": np.int64}
#: Bytes handed to pyarrow at a time (cut at a line end): memory stays one piece's worth.
PIECE = 1 << 23
#: pyarrow's block inside a piece (blocks of a piece are parsed in parallel).
BLOCK = 1 << 20


@dataclass(frozen=True)
class Columns:
    """Parsed columns (numpy arrays; "skip" columns left out; stacked groups as (n, k)
    arrays under the group's name) and what was noted."""

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


class _Body:
    """The bytes [start, end) of a file or an in-memory buffer, read in blocks."""

    def __init__(self, data: bytes | pa.Buffer | Path, start: int) -> None:
        self.path = data if isinstance(data, Path) else None
        self.buf: pa.Buffer | None = None
        if isinstance(data, Path):
            self.size = data.stat().st_size
        else:
            self.buf = data if isinstance(data, pa.Buffer) else pa.py_buffer(data)
            self.size = self.buf.size
        self.start = start
        self.end = self.size

    def read(self, a: int, b: int) -> bytes:
        if self.buf is not None:
            return bytes(self.buf.slice(a, max(b - a, 0)).to_pybytes())
        assert self.path is not None
        with open(self.path, "rb") as f:
            f.seek(a)
            return f.read(max(b - a, 0))

    def blocks(self) -> Iterator[bytes]:
        for a in range(self.start, self.end, PIECE):
            yield self.read(a, min(a + PIECE, self.end))

    def pieces(self) -> Iterator[memoryview]:
        """The body in pieces of about PIECE bytes, each ending at a line end (no copies
        beyond the read itself)."""
        a = self.start
        while a < self.end:
            block = self.read(a, min(a + PIECE, self.end))
            cut = len(block) if a + len(block) >= self.end else block.rfind(b"\n") + 1
            if cut == 0:  # a line longer than a piece: read on to its end
                nxt = self.read(a, self.end)
                cut = nxt.find(b"\n") + 1 or len(nxt)
                block = nxt
            if cut >= 4096 or block[:cut].strip():  # (a blank tail is no row)
                yield memoryview(block)[:cut]
            a += cut

    def count_lines(self) -> int:
        """Newlines in the body (+1 for a last line without one): an upper bound on rows."""
        n = sum(b.count(b"\n") for b in self.blocks())
        if self.end > self.start and self.read(self.end - 1, self.end) != b"\n":
            n += 1
        return n


def read_columns(
    data: bytes | pa.Buffer | Path,
    start: int,
    names: Sequence[str],
    kinds: Sequence[str],
    *,
    sep: str,
    source: str,
    first_line_no: int,
    decimal_comma: bool = False,
    stacks: Mapping[str, Sequence[str]] | None = None,
) -> Columns:
    """Parse the rows from byte `start` of `data` (a file or bytes) into numpy columns.

    `first_line_no` is the 1-based line number of the first row, for messages. `kinds` are
    keys of KINDS. With `decimal_comma`, a "," inside a field is the decimal separator.
    `stacks` names groups of same-kind columns returned as one (n, k) array each."""
    body = _Body(data, start)
    head = body.read(start, min(start + 4096, body.size))
    if start >= body.size or (not head.strip() and not body.read(start, body.size).strip()):
        raise RecordingFormatError(f"{source}: no data rows after the column line")
    notes: list[str] = []
    # A last line without its newline may be cut short: drop it (with a note) if it is bad.
    w0 = max(start, body.size - 65536)
    tail = body.read(w0, body.size)
    if tail and not tail.endswith(b"\n"):
        rel = tail.rfind(b"\n")
        if rel >= 0 or w0 > start:
            tail_nl = w0 + rel
            last = tail[rel + 1 :].decode("utf-8", "replace").rstrip("\r")
            if decimal_comma:
                last = last.replace(",", ".")
            if last.strip() and not _line_ok(last, sep, kinds):
                body.end = tail_nl + 1
                line_no = first_line_no + body.count_lines()  # rows before the cut one
                note = (
                    f"{source}:{line_no}: the last line is cut short ({last[:40]!r}); dropped it"
                )
                log.info(note)
                notes.append(note)
    if decimal_comma:
        text = body.read(body.start, body.end).replace(b",", b".")
        body = _Body(text, 0)
    # Capacity from the first rows' mean length (grown if the rest has shorter lines): the
    # file is read once; untouched capacity costs address space, not memory.
    probe = body.read(body.start, min(body.start + 65536, body.end))
    n_probe = max(probe.count(b"\n"), 1)
    n_max = int((body.end - body.start) / (len(probe) / n_probe) * 1.1) + 1024
    stacks = dict(stacks or {})
    in_stack = {c: (g, j) for g, cols in stacks.items() for j, c in enumerate(cols)}
    kind_of = dict(zip(names, kinds, strict=True))
    out: dict[str, NDArray[np.generic]] = {}
    for g, cols in stacks.items():
        out[g] = np.empty((n_max, len(cols)), dtype=_NUMPY[kind_of[cols[0]]])
    wanted = [n for n, k in zip(names, kinds, strict=True) if k != "skip"]
    for n in wanted:
        if n not in in_stack:
            out[n] = np.empty(n_max, dtype=_NUMPY[kind_of[n]])
    types = {n: KINDS[k] for n, k in zip(names, kinds, strict=True)}
    off = 0
    read_options = pacsv.ReadOptions(column_names=list(names), block_size=BLOCK)
    parse_options = pacsv.ParseOptions(delimiter=sep)
    convert_options = pacsv.ConvertOptions(column_types=types, include_columns=wanted)
    try:
        for piece in body.pieces():
            table = pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(piece)),
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
            k = table.num_rows
            if off + k > n_max:  # shorter lines than the first ones: grow (rare)
                n_max = int((off + k) * 1.5)
                for key, arr in out.items():
                    grown = np.empty((n_max, *arr.shape[1:]), dtype=arr.dtype)
                    grown[:off] = arr[:off]
                    out[key] = grown
            for n in table.schema.names:
                col = table.column(n)
                if col.null_count and kind_of[n] == "i64":
                    raise pa.ArrowInvalid("empty integer field")
                # Nulls (empty fields) become NaN in float columns; `_validate` names the line.
                values = col.to_numpy()
                if n in in_stack:
                    g, j = in_stack[n]
                    out[g][off : off + k, j] = values
                else:
                    out[n][off : off + k] = values
            off += k
            del table
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        _raise_first_bad_line(body, first_line_no, sep, kinds, source)
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise RecordingFormatError(f"{source}: malformed data rows ({first})") from None
    log.debug("%s: %d rows parsed (%s)", source, off, _kinds_text(kind_of))
    return Columns({n: a[:off] for n, a in out.items()}, tuple(notes), off)


def _raise_first_bad_line(
    body: _Body, first_line_no: int, sep: str, kinds: Sequence[str], source: str
) -> None:
    """Name the first line that is not `len(kinds)` numbers (the slow path, on failure only)."""
    text = body.read(body.start, body.end)
    for k, raw in enumerate(text.split(b"\n")):
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
            if ok and kind == "i64" and abs(int(p)) >= 2**63:
                raise RecordingFormatError(
                    f"{source}:{first_line_no + k}: value {p.strip()[:30]!r} in column {c + 1} "
                    "is too large for a whole number (at most 9.2e18)"
                )
            if not ok:
                raise RecordingFormatError(
                    f"{source}:{first_line_no + k}: value {p.strip()!r} in column {c + 1} "
                    "is not a number"
                )


def _kinds_text(kind_of: Mapping[str, str]) -> str:
    return ", ".join(f"{n} {k}" for n, k in kind_of.items())
