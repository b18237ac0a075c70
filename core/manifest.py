"""The manifest: what a snapshot contains and the SHA-256 of every file."""

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sikker.core.layout import MANIFEST
from sikker.errors import SnapshotCorruptError

FORMAT_VERSION = 2
_CHUNK = 1 << 20


@dataclass
class Manifest:
    """Metadata of one snapshot, written last into its directory."""

    sequence: int
    created_at: int  # epoch seconds
    #: Listed IPs as readers see them (with the base, for an overlay).
    counts: dict[str, int]  # ips, ipv4, ipv6
    #: Rows in this generation's own columns.
    rows: int
    #: score_rows[s] = number of rows with score >= s (rows are score-ordered).
    score_rows: list[int]
    #: For an overlay: the sequence of the base it is layered on.
    base: int | None = None
    #: What changed since the previous sequence, ``{"from": seq, "count": n}``
    #: (the addresses are in delta.bin); None when not known (a full build).
    delta: dict[str, int] | None = None
    #: Every file: name -> {"size", "sha256"}.
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Versions that wrote it: lmdb engine, py-lmdb, pyroaring.
    engine: dict[str, str] = field(default_factory=dict)
    format: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        """Return the manifest as indented JSON bytes."""
        return orjson.dumps(
            asdict(self), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
        )

    @classmethod
    def load(cls, directory: Path) -> "Manifest":
        """Read and check the manifest of the snapshot in ``directory``."""
        path = Path(directory) / MANIFEST
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as ex:
            raise SnapshotCorruptError(f"unreadable manifest {path}: {ex}") from ex
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: Any, path: Path | str) -> "Manifest":
        """Check a decoded manifest (from ``path``, named in errors).

        Raises:
            SnapshotCorruptError: not a manifest of this format.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            found = data.get("format") if isinstance(data, dict) else None
            raise SnapshotCorruptError(
                f"{path}: snapshot format {found} is not supported "
                f"(this sikker reads format {FORMAT_VERSION}); rebuild the snapshot"
            )
        try:
            manifest = cls(**data)
        except TypeError as ex:
            raise SnapshotCorruptError(f"unreadable manifest {path}: {ex}") from ex
        if not isinstance(manifest.score_rows, list) or len(manifest.score_rows) != 101:
            raise SnapshotCorruptError(f"{path}: score_rows must have 101 entries")
        return manifest

    def verify(self, directory: Path) -> None:
        """Check every file's size and SHA-256 against the manifest.

        Raises:
            SnapshotCorruptError: naming the first file that does not match.
        """
        for name, expected in sorted(self.files.items()):
            path = Path(directory) / name
            try:
                actual = file_digest(path)
            except OSError as ex:
                raise SnapshotCorruptError(f"{path}: {ex}") from ex
            if actual != expected:
                raise SnapshotCorruptError(
                    f"{path} does not match the manifest "
                    f"(expected {expected}, got {actual})"
                )


def file_digest(path: Path) -> dict[str, Any]:
    """Return ``{"size": ..., "sha256": ...}`` of a file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}
