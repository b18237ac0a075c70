"""Blacklist formats: their text, CSF's parser, overlays, the API and the CLI.

The real tools (ipset, nft, nginx, Suricata, fail2ban) load these formats in
test_firewall_tools.py, test_nginx.py, test_suricata.py and test_fail2ban.py.
"""

import csv
import io
import ipaddress
import re
from pathlib import Path

import numpy as np
import pytest

from sikker.builder.publish import Publisher
from sikker.builder.writer import Delta, Overlay
from sikker.core import ipcore
from sikker.core.filters import BlacklistQuery
from sikker.core.format_base import Export, FormatOptions
from sikker.core.format_firewall import ipset_sizes
from sikker.core.format_names import FORMAT_NAMES
from sikker.core.format_tables import SURICATA_CATEGORIES, csv_cell, suricata_score
from sikker.core.formats import FORMATS, format_named
from sikker.core.layout import current_path
from sikker.core.snapshot import Snapshot
from sikker.errors import InvalidFilterError
from tests.factories import RECORDS, build, run_cli, table
from tests.test_overlay import CHANGED, EXPECTED, NEW, REMOVED, full_rebuild
from tests.test_server import client_for

PRIVATE = ["10.0.0.5", "127.0.0.2", "::1", "fe80::9", "100.64.1.1", "192.168.7.7"]
EVIL_ORG = '=HYPERLINK("http://x","y"),"quoted"'
WITH_PRIVATE = [
    *RECORDS,
    *({**RECORDS[3], "ip": ip, "score": 80} for ip in PRIVATE),
    {**RECORDS[1], "ip": "198.51.100.66", "asn": 64500, "asnOrg": EVIL_ORG},
]
WHEN = 1_795_400_000


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    data = tmp_path_factory.mktemp("formats")
    build(data, WITH_PRIVATE)
    return Snapshot.open(current_path(data))


def render(snapshot: Snapshot, name: str, **params: str) -> str:
    """Return one format of the snapshot's blacklist (score >= 0 unless given)."""
    query = BlacklistQuery.from_params({"scoreMinimum": "0", **params})
    export = Export(
        snapshot,
        snapshot.blacklist(query),
        query,
        FormatOptions.from_params(params),
        WHEN,
    )
    render = FORMATS[name].render
    assert render is not None
    return b"".join(render(export)).decode()


def body(text: str) -> list[str]:
    """Return the lines that are not ``#`` comments."""
    return [line for line in text.splitlines() if not line.startswith("#")]


def public(snapshot: Snapshot) -> list[str]:
    ips = snapshot.ip_texts(snapshot.everything())
    return [ip for ip in ips if ip not in PRIVATE]


# -- the formats' text -----------------------------------------------------------------


def test_every_format_is_registered_and_named() -> None:
    assert tuple(FORMATS) == FORMAT_NAMES
    assert FORMATS["json"].render is None
    assert all(FORMATS[n].render for n in FORMAT_NAMES if n != "json")


def test_plaintext_is_every_address_and_nothing_else(snapshot: Snapshot) -> None:
    text = render(snapshot, "plaintext")
    assert text.splitlines() == snapshot.ip_texts(snapshot.everything())
    assert "#" not in text


def test_list_headers_say_when_how_many_and_which_filters(snapshot: Snapshot) -> None:
    text = render(snapshot, "nginx-geo", scoreMinimum="90", onlyCountries="CN,RU")
    lines = text.splitlines()
    assert lines[0] == "# sikker blacklist for nginx (geo) - 2026-11-23 02:13:20 UTC"
    assert lines[1] == "# IPs: 3 | Score >= 90"
    assert "onlyCountries=CN,RU" in lines[2]
    assert body(text) == ["203.0.113.10 1;", "198.51.100.20 1;", "198.51.100.66 1;"]


def test_nginx_deny_lines(snapshot: Snapshot) -> None:
    lines = body(render(snapshot, "nginx-deny", scoreMinimum="91"))
    assert lines[:2] == ["deny 203.0.113.10;", "deny 2001:db8::7;"]


def test_counts_are_honeypot_sessions(snapshot: Snapshot) -> None:
    lines = body(render(snapshot, "counts", scoreMinimum="91"))
    assert lines[0] == "203.0.113.10\t120"
    assert lines[1] == "2001:db8::7\t12"


def test_csv_has_a_header_and_the_json_fields(snapshot: Snapshot) -> None:
    rows = list(csv.DictReader(io.StringIO(render(snapshot, "csv"))))
    assert len(rows) == snapshot.count
    first = rows[0]
    assert first == {
        "ip": "203.0.113.10",
        "confidenceLevel": "97",
        "lastSeen": "2026-11-20T10:00:00Z",
        "sessions": "120",
        "protocols": "ssh telnet",
        "countryCode": "CN",
        "asn": "4134",
        "asnOrg": "CHINANET",
    }


def test_csv_cells_never_start_a_spreadsheet_formula(snapshot: Snapshot) -> None:
    rows = list(csv.DictReader(io.StringIO(render(snapshot, "csv"))))
    evil = next(r for r in rows if r["ip"] == "198.51.100.66")
    assert evil["asnOrg"] == "'" + EVIL_ORG  # the quotes survive, as text
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("plain", "plain"),
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("a,b", '"a,b"'),
        ('say "hi"', '"say ""hi"""'),
        ("=a,b", '"\'=a,b"'),
    ],
)
def test_csv_cell_neutralises_formulas_and_quotes(text: str, cell: str) -> None:
    assert csv_cell(text) == cell


def test_ipset_input_has_one_sized_set_per_family(snapshot: Snapshot) -> None:
    text = render(snapshot, "ipset", setName="blk")
    lines = body(text)
    v4 = [line for line in lines if line.startswith("add blk4-tmp ")]
    v6 = [line for line in lines if line.startswith("add blk6-tmp ")]
    assert lines[0] == "create blk4-tmp hash:ip family inet hashsize 1024 maxelem 65536"
    assert lines[len(v4) + 1] == (
        "create blk6-tmp hash:ip family inet6 hashsize 1024 maxelem 65536"
    )
    assert len(v4) + len(v6) + 2 == len(lines) == snapshot.count + 2
    assert "ipset swap blk4-tmp blk4" in text


def test_ipset_input_for_one_family_has_one_set(snapshot: Snapshot) -> None:
    lines = body(render(snapshot, "ipset", ipVersion="6"))
    assert lines[0].startswith("create sikker6-tmp hash:ip family inet6 ")
    assert all(line.startswith("add sikker6-tmp ") for line in lines[1:])


@pytest.mark.parametrize(
    ("count", "sizes"),
    [
        (0, (1024, 65536)),
        (65_536, (16_384, 65_536)),
        (65_537, (32_768, 131_072)),
        (10_000_000, (4_194_304, 16_777_216)),
    ],
)
def test_ipset_sets_are_sized_to_the_list(count: int, sizes: tuple[int, int]) -> None:
    assert ipset_sizes(count) == sizes


def test_nftables_file_declares_sets_and_replaces_their_elements(
    snapshot: Snapshot,
) -> None:
    text = render(snapshot, "nftables", tableName="blocklist", setName="bad")
    assert "table inet blocklist {" in text
    assert "\tset bad4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n" in text
    assert "flush set inet blocklist bad6\n" in text
    assert "add rule inet blocklist input ip saddr @bad4 drop\n" in text
    elements = re.findall(r"^\t([0-9a-f.:]+),$", text, re.M)
    assert sorted(elements) == sorted(snapshot.ip_texts(snapshot.everything()))


def test_suricata_lists_every_address_then_one_category_per_protocol(
    snapshot: Snapshot,
) -> None:
    lines = body(render(snapshot, "suricata", scoreMinimum="91"))
    assert lines[:2] == ["203.0.113.10,1,123", "2001:db8::7,1,116"]
    assert "203.0.113.10,2,123" in lines  # ssh
    assert "203.0.113.10,3,123" in lines  # telnet
    assert "198.51.100.20,10,116" in lines  # redis
    for line in lines:
        ip, category, score = line.split(",")
        ipaddress.ip_address(ip)
        assert 1 <= int(category) <= 17 and 1 <= int(score) <= 127


def test_suricata_categories_file_names_every_category(snapshot: Snapshot) -> None:
    lines = body(render(snapshot, "suricata-categories"))
    assert lines[0] == "1,sikker,Listed by sikker (any protocol)"
    assert len(lines) == len(SURICATA_CATEGORIES) == 17
    for line in lines:
        number, name, description = line.split(",")
        assert 0 <= int(number) < 60 and len(name) <= 31 and "," not in description


@pytest.mark.parametrize(
    ("confidence", "score"), [(0, 1), (1, 1), (50, 64), (75, 95), (100, 127)]
)
def test_suricata_scores_scale_confidence_to_127(confidence: int, score: int) -> None:
    assert suricata_score(np.array([confidence], np.uint8)).tolist() == [score]


# -- CSF: lfd's blocklist parser, emulated ---------------------------------------------

_V4 = re.compile(r"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:/\d+)?)")
_V6 = re.compile(r"([0-9a-fA-F:]*:[0-9a-fA-F:.]+(?:/\d+)?)")


def lfd_blocklist(text: str) -> tuple[list[str], list[str]]:
    """Parse a list as lfd does (ecosystem.md section 2); return (entries, rejected).

    Lines beginning with ``#`` are skipped; the first IPv4 (optionally /nn)
    anywhere in the line is taken, else the first IPv6; checkip refuses
    prefixes outside 1-32 / 1-128, 127.0.0.1 and ::1; duplicates go.
    """
    entries: list[str] = []
    rejected: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        found = _V4.search(line) or _V6.search(line)
        if not found:
            rejected.append(line)
            continue
        token = found.group(1)
        address, _, prefix = token.partition("/")
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            rejected.append(line)
            continue
        top = 32 if ip.version == 4 else 128
        if (prefix and not 1 <= int(prefix) <= top) or str(ip) in ("127.0.0.1", "::1"):
            rejected.append(line)
        elif token not in entries:
            entries.append(token)
    return entries, rejected


def test_the_lfd_emulation_rejects_what_lfd_rejects() -> None:
    entries, rejected = lfd_blocklist(
        "# c\n203.0.113.7\n127.0.0.1\n::1\n10.0.0.0/33\n198.51.100.0/24 ; x\n"
        "203.0.113.7\nnonsense\n2001:db8::/0\n"
    )
    assert entries == ["203.0.113.7", "198.51.100.0/24"]
    assert rejected == ["127.0.0.1", "::1", "10.0.0.0/33", "nonsense", "2001:db8::/0"]


def test_csf_list_passes_lfds_parser_whole(snapshot: Snapshot) -> None:
    text = render(snapshot, "csf")
    entries, rejected = lfd_blocklist(text)
    assert rejected == []
    assert entries == body(text) == public(snapshot)
    assert f"# IPs: {len(entries)} | Score >= 0" in text


def test_csf_list_never_holds_loopback_private_or_link_local(
    snapshot: Snapshot,
) -> None:
    text = render(snapshot, "csf")
    for line in body(text):
        version, value = ipcore.parse_ip(line)
        assert ipcore.classify(version, value) in (None, "documentation")
    assert not set(PRIVATE) & set(body(text))
    # plain lists keep them: only the firewall-facing CSF list filters
    assert set(PRIVATE) <= set(body(render(snapshot, "plaintext")))


# -- overlays --------------------------------------------------------------------------


def layered(path: Path) -> Snapshot:
    """Publish RECORDS, then CHANGED, NEW and REMOVED as an overlay on them."""
    with Publisher(path) as publisher:
        publisher.publish(table(RECORDS))
        with Snapshot.open(current_path(path)) as base:
            removed = np.frombuffer(ipcore.to_ip16(REMOVED), np.uint8).reshape(1, 16)
            publisher.publish(
                table([CHANGED, NEW]),
                overlay=Overlay(base.top, removed),
                delta=Delta(1, np.zeros((0, 16), np.uint8)),
            )
    return Snapshot.open(current_path(path))


def test_every_format_of_an_overlay_reads_like_the_full_rebuild(tmp_path: Path) -> None:
    overlay = layered(tmp_path / "layered")
    assert overlay.base is not None
    full = full_rebuild(tmp_path, EXPECTED)
    for name in FORMAT_NAMES[1:]:
        assert body(render(overlay, name)) == body(render(full, name)), name


# -- options and names -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["4x", "a b", "x" * 27, "a-b", "", "é"])
def test_bad_set_names_are_refused(name: str) -> None:
    if not name:
        assert FormatOptions.from_params({"setName": name}).set_name == "sikker"
        return
    with pytest.raises(InvalidFilterError, match="setName"):
        FormatOptions.from_params({"setName": name})


def test_format_names_are_checked() -> None:
    assert format_named(None).name == "json"
    assert format_named(None, plaintext=True).name == "plaintext"
    assert format_named("CSV").name == "csv"
    assert format_named("plaintext", plaintext=True).name == "plaintext"
    with pytest.raises(InvalidFilterError, match="format: unknown format 'xml'"):
        format_named("xml")
    with pytest.raises(InvalidFilterError, match="contradicts plaintext=true"):
        format_named("csv", plaintext=True)


# -- the API ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("api")
    build(data, WITH_PRIVATE)
    return client_for(data)


@pytest.mark.parametrize("name", FORMAT_NAMES[1:])
def test_every_format_is_served(client, name: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.simulate_get(
        "/v1/key/blacklist", params={"format": name, "scoreMinimum": "0"}
    )
    assert resp.status_code == 200, resp.text
    expected = "text/csv" if name == "csv" else "text/plain"
    assert resp.headers["content-type"] == f"{expected}; charset=utf-8"
    assert resp.text  # streamed chunks, joined by the test client
    assert resp.headers["X-Result-Count"] == str(len(WITH_PRIVATE))


def test_plaintext_true_still_works(client) -> None:  # type: ignore[no-untyped-def]
    old = client.simulate_get(
        "/v1/key/blacklist", params={"plaintext": "true", "scoreMinimum": "90"}
    )
    new = client.simulate_get(
        "/v1/key/blacklist", params={"format": "plaintext", "scoreMinimum": "90"}
    )
    assert (
        old.text
        == new.text
        == "203.0.113.10\n2001:db8::7\n198.51.100.20\n198.51.100.66\n"
    )


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"format": "xml"}, "format"),
        ({"format": "csv", "plaintext": "true"}, "format"),
        ({"format": "ipset", "setName": "no spaces"}, "setName"),
        ({"format": "nftables", "tableName": "9lives"}, "tableName"),
    ],
)
def test_bad_formats_are_400s_naming_the_parameter(client, params, parameter) -> None:  # type: ignore[no-untyped-def]
    resp = client.simulate_get("/v1/key/blacklist", params=params)
    assert resp.status_code == 400, resp.text
    assert resp.json["parameter"] == parameter


def test_the_documented_csf_urls_serve_what_lfd_accepts(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # csf.blocklists: SIKKER|86400|0|http://.../v1/key/blacklist?key=...&plaintext=true&...
    build(tmp_path)
    plain = client_for(tmp_path).simulate_get(
        "/v1/key/blacklist", query_string="plaintext=true&scoreMinimum=75"
    )
    entries, rejected = lfd_blocklist(plain.text)
    assert entries == body(plain.text) and not rejected
    # format=csf is safe even when the snapshot holds lab (private) sources
    safe = client.simulate_get(
        "/v1/key/blacklist", query_string="format=csf&scoreMinimum=0"
    )
    entries, rejected = lfd_blocklist(safe.text)
    assert entries == body(safe.text) and not rejected


# -- the CLI ---------------------------------------------------------------------------


def test_cli_prints_any_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path)
    code, out, err = run_cli(
        capsys, tmp_path, "blacklist", "--format", "nftables", "--set-name", "x",
        "--table-name", "t", "--score-min", "90",
    )  # fmt: skip
    assert code == 0, err
    assert "table inet t {" in out and "add element inet t x4 {" in out
    code, out, _ = run_cli(capsys, tmp_path, "blacklist", "--format", "json")
    assert code == 0 and out.lstrip().startswith("{")
    code, _, err = run_cli(
        capsys, tmp_path, "blacklist", "--format", "ipset", "--set-name", "-"
    )
    assert code == 2 and "setName" in err
