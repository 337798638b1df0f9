"""Progress for long commands: a tqdm bar on a terminal, plain periodic log lines otherwise.

Why both: a bar is what a person at a terminal wants, but in CI logs or files a bar is noise, so
when stderr is not a TTY we print one line every ``every_s`` seconds with records, rate and ETA.
Only counts and ids are ever printed, never note text.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO


def _fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Count records done out of ``total``; use as a context manager and call ``update(n)``."""

    def __init__(
        self,
        total: int | None,
        desc: str = "records",
        stream: TextIO | None = None,
        every_s: float = 10.0,
        force_plain: bool = False,
    ) -> None:
        self.total = total
        self.desc = desc
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self.done = 0
        self._t0 = time.monotonic()
        self._last = self._t0
        self._bar: Any = None
        isatty = getattr(self.stream, "isatty", lambda: False)()
        if isatty and not force_plain:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="rec", file=self.stream)

    def line(self) -> str:
        """The plain progress line: ``desc: done/total records, rate/s, ETA h:mm:ss``."""
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if self.total is not None and rate > 0 else None
        of = f"/{self.total}" if self.total is not None else ""
        return f"{self.desc}: {self.done}{of} records, {rate:.1f}/s, ETA {_fmt_eta(eta)}"

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        else:
            print(self.line() + " (done)", file=self.stream, flush=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
