"""What can go wrong when appending, one class per answer a client gets."""

from __future__ import annotations


class LogError(Exception):
    """Base of refusals by the log; nothing was appended."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        self.index: int | None = None  # position of the offending event in its batch


class Conflict(LogError):
    """The append contradicts the log: a reused id, a stale expected_version."""

    def __init__(self, message: str, channel: str | None = None, current_version: int | None = None):
        super().__init__(message)
        self.channel = channel
        self.current_version = current_version


class Refused(LogError):
    """The event is well-formed but does not fit the log (unknown channel or target)."""


class Unavailable(LogError):
    """The database could not be written in time (locked by another process)."""


class SchemaTooNew(LogError):
    """The database was written by a newer version of diplo."""


class ChainBroken(LogError):
    """The hash chain does not verify; writes are refused."""

    def __init__(self, message: str, bad_seq: int):
        super().__init__(message)
        self.bad_seq = bad_seq
