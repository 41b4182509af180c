"""Provides loadmon: a wearable-informed exercise load monitor for hamstring tendon rehab."""

from __future__ import annotations

from loadmon.errors import (
    DecodeError,
    DeviceError,
    DeviceNotFoundError,
    InputError,
    LoadmonError,
    NotFoundError,
    ProfileError,
    ProtocolError,
    RecordingFormatError,
    StorageError,
)
from loadmon.recording import Recording, read_recording, write_loadmon_csv

__version__ = "0.1.0"

__all__ = [
    "DecodeError",
    "DeviceError",
    "DeviceNotFoundError",
    "InputError",
    "LoadmonError",
    "NotFoundError",
    "ProfileError",
    "ProtocolError",
    "Recording",
    "RecordingFormatError",
    "StorageError",
    "__version__",
    "read_recording",
    "write_loadmon_csv",
]
