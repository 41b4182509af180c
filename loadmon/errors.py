"""Provides the one exception hierarchy; the CLI and TUI turn it into a clean message."""

from __future__ import annotations


class LoadmonError(Exception):
    """Base of every error loadmon raises on purpose. `exit_code` is what the CLI returns."""

    exit_code = 1


class InputError(LoadmonError):
    """The user gave us something we cannot use (a bad file, value or name)."""

    exit_code = 2


class RecordingFormatError(InputError):
    """A recording file is malformed; the message names the file and line."""


class NotFoundError(InputError):
    """A patient, recording, profile or protocol that was asked for does not exist."""


class ProfileError(InputError):
    """A device profile file (devices/*.toml) is invalid; names the file and key."""


class ProtocolError(InputError):
    """A rehab protocol file (protocols/*.toml) is invalid; names the file and key."""


class DecodeError(LoadmonError):
    """A BLE notification could not be decoded."""


class DeviceError(LoadmonError):
    """A sensor misbehaved: refused a command, or the link failed for good."""


class DeviceNotFoundError(DeviceError):
    """No sensor matching the request was found while scanning."""


class StorageError(LoadmonError):
    """The database cannot be opened, migrated or written."""
