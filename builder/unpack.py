"""Read a published snapshot back into a RecordTable (for compaction)."""

from typing import Any

from sikker.core.records import RecordDetails, RecordTable
from sikker.core.snapshot import Snapshot


def table_from_snapshot(snapshot: Snapshot) -> RecordTable:
    """Return every record readers see in ``snapshot`` as a RecordTable."""
    ips: list[bytes] = []
    scalars: dict[str, list[Any]] = {name: [] for name in RecordTable.SCALARS}
    details: list[RecordDetails] = []
    for ip16, record in snapshot.records():
        ips.append(ip16)
        for name in RecordTable.SCALARS:
            scalars[name].append(getattr(record, name))
        scalars["country"][-1] = snapshot.countries[record.country]
        details.append(record.details())
    return RecordTable.from_rows(
        ips,
        scalars,
        details,
        asn_orgs={int(k): v for k, v in snapshot.asn_orgs.items()},
        catalog=snapshot.catalog,
        benign_sources=snapshot.benign_sources,
    )
