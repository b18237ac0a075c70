"""Names of the LMDB tables inside a snapshot."""

#: ip16 (16-byte storage form) -> packed record (its header holds the row id).
IP = b"ip"
#: bitmap name (``country:CN``) -> Roaring portable serialisation.
BITMAPS = b"bitmaps"
#: name -> JSON: countries, asn_orgs, catalog, benign_sources, bitmaps index.
META = b"meta"
#: lower-cased username -> JSON {total, protocols, first, last} (login attempts).
USERNAMES = b"usernames"
#: lower-cased SMTP recipient -> JSON {total, protocols, first, last}.
EMAILS = b"emails"
TABLES = (IP, BITMAPS, META, USERNAMES, EMAILS)
