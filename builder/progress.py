"""Progress reporting for long work: a bar on a terminal, lines otherwise."""

import sys
import time
from typing import Protocol, TextIO


class Progress(Protocol):
    """What long-running builder steps report to."""

    def stage(self, name: str, total: int | None = None) -> None:
        """Start a named stage of ``total`` units (None if unknown)."""

    def advance(self, units: int) -> None:
        """Record ``units`` more units of the current stage as done."""

    def update(self, done: int) -> None:
        """Record that ``done`` units of the current stage are done."""

    def finish(self) -> None:
        """End the current stage."""


class NullProgress:
    """Progress that reports nothing."""

    def stage(self, name: str, total: int | None = None) -> None:
        """Ignore the stage."""

    def advance(self, units: int) -> None:
        """Ignore the progress."""

    def update(self, done: int) -> None:
        """Ignore the progress."""

    def finish(self) -> None:
        """Ignore the end."""


class TextProgress:
    """Report to a stream: a redrawn bar on a TTY, a line every few seconds if not."""

    def __init__(self, stream: TextIO | None = None, interval: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = interval if not self.tty else 0.1
        self.name = ""
        self.total: int | None = None
        self.done = 0
        self.started = self.last = 0.0

    def stage(self, name: str, total: int | None = None) -> None:
        """Start a stage and print its first line."""
        self.name, self.total, self.done = name, total, 0
        self.started = self.last = time.monotonic()
        if self.tty:
            self._draw(force=True)

    def advance(self, units: int) -> None:
        """Add progress and redraw when the interval has passed."""
        self.update(self.done + units)

    def update(self, done: int) -> None:
        """Set the progress and redraw when the interval has passed."""
        self.done = done
        self._draw()

    def finish(self) -> None:
        """Print the stage's final line with its duration."""
        if self.total is not None:
            self.done = self.total
        self._draw(force=True, final=True)

    def _draw(self, force: bool = False, final: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.interval:
            return
        self.last = now
        elapsed = now - self.started
        if self.total:
            fraction = min(self.done / self.total, 1.0)
            bar = "#" * int(fraction * 30)
            text = (
                f"{self.name:<12} [{bar:<30}] {fraction:6.1%} "
                f"{self.done:,}/{self.total:,} {elapsed:6.1f}s"
            )
        else:
            count = f"{self.done:,} " if self.done else ""
            text = (
                f"{self.name:<12} {count}{'done' if final else '...'} {elapsed:6.1f}s"
            )
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
