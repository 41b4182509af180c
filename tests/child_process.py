"""A loadmon process run by a test (record, the dashboard): its output read as it comes,
waits for a line that fail loudly, signals, and a cleanup that never leaves it running."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]


class Child:
    """A running child process whose stdout and stderr lines are collected by two threads
    (a full pipe would block the child), so waiting for a line never stalls it."""

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None) -> None:
        full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.proc = subprocess.Popen(
            [sys.executable, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=full_env, cwd=ROOT,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(pipe, lines), daemon=True)
            for pipe, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(pipe: IO[str], lines: list[str]) -> None:
        for line in iter(pipe.readline, ""):
            lines.append(line)

    def wait_for(self, pattern: str, *, stream: str = "out", timeout: float = 120.0,
                 accept: Callable[[re.Match[str]], bool] | None = None) -> re.Match[str]:
        """The first line matching `pattern` (and `accept(match)`, if given). Fails loudly
        if the child exits or `timeout` seconds pass first; the bound is a backstop only."""
        rx = re.compile(pattern)
        lines = self.out if stream == "out" else self.err
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            snapshot = list(lines)
            for line in snapshot[seen:]:
                m = rx.search(line)
                if m and (accept is None or accept(m)):
                    return m
            seen = len(snapshot)
            if self.proc.poll() is not None and len(lines) == seen:
                for reader in self._readers:
                    reader.join(5)
                if len(lines) == seen:
                    raise AssertionError(
                        f"{pattern!r} never came; the child exited {self.proc.returncode}:\n"
                        + "".join(self.err[-20:]))
                continue
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} did not come within {timeout:.0f} s:\n"
                                     + "".join(self.err[-20:]))
            time.sleep(0.02)

    def matches(self, pattern: str, stream: str = "out") -> list[re.Match[str]]:
        rx = re.compile(pattern)
        return [m for m in (rx.search(x) for x in list(self.out if stream == "out"
                                                      else self.err)) if m]

    def send(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def write(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait(self, timeout: float = 120.0) -> int:
        """The exit code, once the child has exited and all its output is read."""
        code = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(10)
        return code

    def kill_9(self) -> int:
        self.send(signal.SIGKILL)
        return self.wait(10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for reader in self._readers:
            reader.join(5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


@contextmanager
def child(args: Sequence[str], env: dict[str, str] | None = None) -> Iterator[Child]:
    """Run `python ARGS` for the duration of the block; it is killed and its pipes closed
    at the end whatever happened."""
    c = Child(args, env)
    try:
        yield c
    finally:
        c.close()
