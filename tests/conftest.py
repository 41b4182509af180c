"""Shared fixtures: a fresh database file, a seeded rng, and the shared real recordings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from loadmon import storage

#: Real labelled recordings live beside the repo (never copied into it); tests that use them
#: are skipped in a user's clone that has no ../shared.
SHARED_DATA = Path(
    os.environ.get("LOADMON_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data")
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "loadmon.db"


@pytest.fixture
def fresh_db(db_path: Path) -> Iterator[storage.Database]:
    db = storage.open_db(db_path)
    yield db
    db.close()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real user data dir from tests."""
    monkeypatch.setenv("LOADMON_DB", str(tmp_path / "default.db"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present (real recordings are not part of the repo)")
    return SHARED_DATA
