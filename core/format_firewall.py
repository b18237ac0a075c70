"""Kernel firewall formats: ``ipset restore`` input and an ``nft -f`` file.

Both keep IPv4 and IPv6 in separate sets named ``<setName>4`` and
``<setName>6`` (``setName`` defaults to ``sikker``). See
docs/integrations.md for the update scripts and the rules that use them.
"""

from collections.abc import Iterator

from sikker.core.format_base import Export, chunks, header, subset
from sikker.core.render import render_lines
from sikker.core.snapshot import Selection

#: ipset's defaults; a set is sized up from these to hold its whole list.
IPSET_MIN_MAXELEM = 65_536
IPSET_MIN_HASHSIZE = 1_024


def _families(export: Export) -> list[tuple[int, Selection]]:
    """Return (version, rows) for each family the query asks for."""
    versions = [export.query.ip_version] if export.query.ip_version else [4, 6]
    return [(v, subset(export.snapshot, export.selection, version=v)) for v in versions]


def _power_of_two(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def ipset_sizes(count: int) -> tuple[int, int]:
    """Return (hashsize, maxelem) for a set that will hold ``count`` entries."""
    maxelem = max(IPSET_MIN_MAXELEM, _power_of_two(count))
    hashsize = max(IPSET_MIN_HASHSIZE, _power_of_two(-(-count // 4)))
    return hashsize, maxelem


def ipset(export: Export) -> Iterator[bytes]:
    """``ipset restore`` input: ``create`` and ``add`` lines per family.

    The sets are ``<name>4-tmp`` and ``<name>6-tmp``, of type ``hash:ip``
    sized to the list. Load with ``ipset restore``, then ``ipset swap
    <name>4-tmp <name>4`` and destroy the temporary set.
    """
    name = export.options.set_name
    families = _families(export)
    by_family = ", ".join(f"IPv{v} {len(s)}" for v, s in families)
    swaps = "; ".join(f"ipset swap {name}{v}-tmp {name}{v}" for v, _ in families)
    yield header(
        export,
        "sikker blacklist for ipset",
        sum(len(s) for _, s in families),
        f"{by_family}; load with: ipset restore -file THIS_FILE; then {swaps}",
    )
    for version, selection in families:
        tmp = f"{name}{version}-tmp"
        hashsize, maxelem = ipset_sizes(len(selection))
        family = "inet" if version == 4 else "inet6"
        yield (
            f"create {tmp} hash:ip family {family} hashsize {hashsize} "
            f"maxelem {maxelem}\n"
        ).encode("ascii")
        prefix = f"add {tmp} ".encode("ascii")
        for runs in chunks(export.snapshot, selection):
            yield b"".join(
                render_lines(layer.ips, rows.data, (prefix, b"\n"))
                for layer, rows in runs
            )


def _set(name: str, kind: str) -> str:
    return (
        f"\tset {name} {{\n\t\ttype {kind}\n\t\tflags interval\n\t\tauto-merge\n\t}}\n"
    )


def nft_preamble(table: str, name: str) -> bytes:
    """Return the nft commands that (re)declare table ``inet <table>``, empty
    its sets ``<name>4``/``<name>6`` and add the rules dropping their sources."""
    return (
        f"table inet {table} {{\n"
        f"{_set(name + '4', 'ipv4_addr')}{_set(name + '6', 'ipv6_addr')}"
        "\tchain input {\n"
        "\t\ttype filter hook input priority filter - 10; policy accept;\n"
        "\t}\n"
        "}\n"
        f"flush chain inet {table} input\n"
        f"flush set inet {table} {name}4\n"
        f"flush set inet {table} {name}6\n"
        f"add rule inet {table} input ip saddr @{name}4 drop\n"
        f"add rule inet {table} input ip6 saddr @{name}6 drop\n"
    ).encode("ascii")


def nftables(export: Export) -> Iterator[bytes]:
    """An ``nft -f`` file: table ``inet <table>`` with interval sets and a drop chain.

    Loading it is one atomic transaction that (re)declares the table, its
    sets ``<name>4``/``<name>6`` (``flags interval; auto-merge``) and an
    ``input`` chain dropping their sources, then replaces the sets' elements
    and the chain's rules, so it can be loaded again and again.
    """
    table, name = export.options.table_name, export.options.set_name
    families = _families(export)
    yield header(
        export,
        "sikker blacklist for nftables",
        sum(len(s) for _, s in families),
        "load with: nft -f THIS_FILE (check first with nft -c -f THIS_FILE)",
    )
    yield nft_preamble(table, name)
    for version, selection in families:
        opening = f"add element inet {table} {name}{version} {{\n".encode("ascii")
        for runs in chunks(export.snapshot, selection):
            body = b"".join(
                render_lines(layer.ips, rows.data, (b"\t", b",\n"))
                for layer, rows in runs
            )
            yield opening + body + b"}\n"
