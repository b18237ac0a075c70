"""The names of the blacklist formats (importable without numpy or LMDB)."""

#: Every ``format=`` value, JSON first (the default); see sikker.core.formats.
FORMAT_NAMES: tuple[str, ...] = (
    "json",
    "plaintext",
    "csv",
    "ipset",
    "nftables",
    "nginx-deny",
    "nginx-geo",
    "csf",
    "suricata",
    "suricata-categories",
    "counts",
)
