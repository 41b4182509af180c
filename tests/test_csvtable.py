"""The numeric CSV reader: any rows round-trip, any separator and decimal comma, any cut."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadmon import csvtable
from loadmon.errors import RecordingFormatError

ROWS = st.lists(
    st.tuples(*[st.floats(-2000, 2000, allow_nan=False).map(lambda x: round(x, 4))] * 3),
    min_size=1,
    max_size=60,
)


def _text(rows: list[tuple[float, float, float]], sep: str, comma: bool) -> bytes:
    lines = []
    for r in rows:
        cells = [f"{v:.4f}" for v in r]
        if comma:
            cells = [c.replace(".", ",") for c in cells]
        lines.append(sep.join(cells))
    return ("\n".join(lines) + "\n").encode()


@settings(max_examples=80, deadline=None)
@given(ROWS, st.sampled_from([(",", False), (";", True), ("\t", True), (";", False)]),
       st.sampled_from([1 << 6, 1 << 23]))  # fmt: skip
def test_rows_round_trip(
    rows: list[tuple[float, float, float]], fmt: tuple[str, bool], piece: int
) -> None:
    sep, comma = fmt
    old = csvtable.PIECE
    csvtable.PIECE = piece  # tiny pieces: every row boundary is a piece boundary somewhere
    try:
        got = csvtable.read_columns(
            _text(rows, sep, comma), 0, ["a", "b", "c"], ["f64", "f64", "f32"], sep=sep,
            source="x", first_line_no=1, decimal_comma=comma, stacks={"ab": ("a", "b")},
        )  # fmt: skip
    finally:
        csvtable.PIECE = old
    want = np.array(rows, dtype=np.float64)
    assert got.n_rows == len(rows) and got.notes == ()
    np.testing.assert_array_equal(got.values["ab"], want[:, :2])
    np.testing.assert_allclose(got.values["c"], want[:, 2], atol=2000 * 2.0**-23)


@settings(max_examples=80, deadline=None)
@given(ROWS.filter(lambda r: len(r) >= 2), st.data())
def test_a_cut_last_line_is_dropped_or_kept_whole(
    rows: list[tuple[float, float, float]], data: st.DataObject
) -> None:
    text = _text(rows, ",", False)
    last_start = text[:-1].rfind(b"\n") + 1
    cut = data.draw(st.integers(last_start + 1, len(text) - 2))
    got = csvtable.read_columns(
        text[:cut], 0, ["a", "b", "c"], ["f64"] * 3, sep=",", source="x", first_line_no=1
    )
    head = np.array(rows[:-1], dtype=np.float64)
    if got.notes:  # the cut line was not three numbers: dropped, and said so
        assert got.n_rows == len(rows) - 1 and f"x:{len(rows)}:" in got.notes[0]
    else:  # the cut left three numbers (e.g. "1.2345,2.0,3.1"): read as they are
        assert got.n_rows == len(rows)
    np.testing.assert_array_equal(np.column_stack([got.values[k] for k in "abc"])[: len(head)],
                                  head)  # fmt: skip


def test_a_bad_line_in_the_middle_is_named() -> None:
    text = b"1,2,3\n4,x,6\n7,8,9\n"
    with pytest.raises(RecordingFormatError, match=r"^f:11: value 'x' in column 2"):
        csvtable.read_columns(text, 0, list("abc"), ["f64"] * 3, sep=",", source="f",
                              first_line_no=10)  # fmt: skip


def test_rows_shorter_than_the_first_ones_still_fit() -> None:
    long = b"1000.123456,2000.123456,3000.123456\n" * 3000  # ~108 kB of long rows first
    short = b"1,2,3\n" * 50000  # then many short ones: more rows than the estimate
    got = csvtable.read_columns(long + short, 0, list("abc"), ["f64"] * 3, sep=",",
                                source="x", first_line_no=1)  # fmt: skip
    assert got.n_rows == 53000
    assert got.values["a"][2999] == 1000.123456 and got.values["c"][-1] == 3.0


def test_lines_longer_than_a_piece_and_a_blank_tail() -> None:
    old = csvtable.PIECE
    csvtable.PIECE = 8
    try:
        got = csvtable.read_columns(b"1.000001,2.000002,3.000003\n4,5,6\n  \n", 0, list("abc"),
                                    ["f64"] * 3, sep=",", source="x", first_line_no=1)  # fmt: skip
    finally:
        csvtable.PIECE = old
    assert got.n_rows == 2 and list(got.values["c"]) == [3.000003, 6.0]
