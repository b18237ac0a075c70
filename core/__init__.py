"""sikker.core: records, the snapshot reader, filters and the IP core."""
