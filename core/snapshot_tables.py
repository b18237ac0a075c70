"""Names of the LMDB tables inside a snapshot."""

#: ip16 (16-byte storage form) -> packed record (its header holds the row id).
IP = b"ip"
#: bitmap name (``country:CN``) -> Roaring portable serialisation.
BITMAPS = b"bitmaps"
#: name -> JSON: countries, asn_orgs, catalog, benign_sources, bitmaps index.
META = b"meta"
TABLES = (IP, BITMAPS, META)
