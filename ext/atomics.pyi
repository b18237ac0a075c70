"""Type stub of the compiled atomics; docstrings match the pure twin."""

from typing import Final

__all__ = ["COUNT_BITS", "COUNT_MASK", "LOCKED", "WORD_MASK", "SharedWords"]

WORD_MASK: Final[int]
COUNT_BITS: Final[int]
COUNT_MASK: Final[int]
LOCKED: Final[int]

class SharedWords:
    """A file of 64-bit words that processes and threads update atomically.

    Args:
        fd: A file open for reading and writing, at least ``size`` bytes.
        size: Bytes to map from the start of the file; a multiple of 8.

    Raises:
        ValueError: ``size`` is not a positive multiple of 8 or the file
            is shorter.
    """

    MODE: str
    def __init__(self, fd: int, size: int) -> None: ...
    @property
    def size(self) -> int:
        """Return the mapped size in bytes."""
    def load(self, index: int) -> int:
        """Return the value of word ``index``."""
    def store(self, index: int, value: int) -> None:
        """Set word ``index`` to ``value`` (taken modulo 2**64)."""
    def add(self, index: int, delta: int) -> int:
        """Add ``delta`` (modulo 2**64) to word ``index``; return the new value."""
    def cas(self, index: int, expected: int, desired: int) -> bool:
        """Set word ``index`` to ``desired`` if it holds ``expected``."""
    def charge(
        self,
        index: int,
        tag_index: int,
        tag: int,
        period: int,
        amount: int,
        limit: int,
        partial: bool,
    ) -> tuple[int, int]:
        """Add up to ``amount`` to a counter word without passing ``limit``.

        The counter word is ``period << COUNT_BITS | count``; a word of an
        earlier period counts as zero, a later one is charged as it is. The
        read, the check and the write are one atomic step, so concurrent
        charges never admit more than ``limit`` in a period.

        Args:
            index: The counter word.
            tag_index: The word that must hold ``tag`` for the counter to be
                the caller's (checked on every attempt).
            tag: The expected owner tag.
            period: The current period (for example the UTC day number).
            amount: Units to add.
            limit: The most the period's count may reach.
            partial: Grant what is left when ``amount`` does not fit
                (otherwise grant nothing).

        Returns:
            ``(granted, used)``: the units added and the count after the
            charge; ``(-1, 0)`` when ``tag_index`` no longer holds ``tag`` or
            the counter stays :data:`LOCKED` (look the counter up again).
        """
    def read(self, offset: int, length: int) -> bytes:
        """Return ``length`` bytes at byte ``offset`` (not atomic)."""
    def write(self, offset: int, data: bytes) -> None:
        """Copy ``data`` to byte ``offset`` (not atomic)."""
    def buffer(self) -> memoryview:
        """Return a read-only view of the mapping (for bulk scans)."""
    def close(self) -> None:
        """Unmap the file and close its descriptor (idempotent)."""
