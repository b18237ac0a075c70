"""Re-express a RecordTable's catalog and benign-source indexes in others'."""

from typing import Any

import numpy as np

from sikker.core.records import Ragged, RecordTable


def conform(
    table: RecordTable,
    catalog: dict[str, list[dict[str, Any]]],
    benign_sources: list[dict[str, Any]],
) -> RecordTable:
    """Re-express a table's catalog and benign indexes in another catalog's.

    Behaviors and primitives are matched by id (entries the new catalog lacks
    are dropped), benign sources by name (unknown ones become "none").
    """
    if table.catalog == catalog and table.benign_sources == benign_sources:
        return table
    for kind in ("behaviors", "primitives"):
        new = {entry["id"]: i for i, entry in enumerate(catalog[kind])}
        mapping = np.array(
            [new.get(entry["id"], -1) for entry in table.catalog[kind]] or [-1],
            np.int64,
        )
        column = getattr(table, kind)
        ids = mapping[column.ids] if len(column.ids) else column.ids.astype(np.int64)
        keep = ids >= 0
        owner = np.repeat(np.arange(len(table)), column.lengths())[keep]
        offsets = np.zeros(len(table) + 1, np.int64)
        np.cumsum(np.bincount(owner, minlength=len(table)), out=offsets[1:])
        setattr(
            table,
            kind,
            Ragged(
                offsets,
                ids[keep].astype(column.ids.dtype),
                {name: values[keep] for name, values in column.values.items()},
            ),
        )
    names = {source["name"]: i + 1 for i, source in enumerate(benign_sources)}
    sources = np.array(
        [0] + [names.get(s["name"], 0) for s in table.benign_sources], np.uint8
    )
    table.benign_source = sources[table.benign_source]
    table.catalog = catalog
    table.benign_sources = benign_sources
    return table
