"""Seeded, realistic demo data at any scale, fully vectorised.

:func:`generate` returns a :class:`~sikker.core.records.RecordTable` that looks
like a real honeypot feed: a Zipf-like country mix, a few thousand networks
(well-known ASNs with their real names and some of their real prefixes, plus
generated ISPs and hosting companies), hosting addresses packed in dense /24s
and ISP addresses scattered, public unicast only. Sessions are heavy-tailed,
behaviors come from the catalog and fit each IP's protocols, a minority of IPs
carry community reports, and a few known-benign scanners are discounted.

Everything is numpy over whole columns (no per-IP Python), in chunks of
:data:`CHUNK` rows so that 10 million IPs fit in a few GB. The same arguments
always give the same table.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from sikker.builder.catalog import Catalog, load_catalog
from sikker.core.records import Ragged, RecordTable
from sikker.core.vocab import CATEGORIES, PROTOCOL_IDS, PROTOCOLS, countries

DAY = 86_400
#: Evidence window: first and last seen fall within this many seconds before now.
WINDOW = 90 * DAY
#: Rows generated per step; each step is independent (its own random stream).
CHUNK = 1 << 20

_SENTINEL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_ISP, _HOSTING, _CLOUD, _BENIGN = range(4)

# -- the world: countries, registries, networks ------------------------------------

#: Countries in decreasing order of attack traffic; the rest follow in a long tail.
_HEAD_COUNTRIES = (
    "CN US RU BR IN VN KR DE NL ID TW FR GB SG HK UA IR TH JP TR AR MX CA IT PK BD "
    "EG PH MY PL ES CO ZA RO BG SE SC PA LT VE CL EC PE KZ NG MA TN DZ KE AU CZ HU "
    "GR PT BE CH AT IL SA AE FI IE NO DK"
)
_UNINHABITED = {"AQ", "BV", "HM", "UM", "TF", "GS", "IO", "PN"}
_GENERATED_NETWORKS = 3000

_RIRS = ("ripe", "arin", "apnic", "lacnic", "afrinic")
_RIR_COUNTRIES = {
    "arin": "US CA PR VI GU AG AI BB BM BS DM GD JM KN KY LC MS TC VC VG MP",
    "lacnic": "AR BO BR CL CO CR CU DO EC GF GT GY HN HT MX NI PA PE PY SR SV TT UY "
    "VE BZ AW BQ CW SX",
    "afrinic": "DZ AO BJ BW BF BI CM CV CF TD KM CG CD CI DJ EG GQ ER ET GA GM GH GN "
    "GW KE LS LR LY MG MW ML MR MU YT MA MZ NA NE NG RE RW ST SN SC SL SO ZA SS SD "
    "SZ TZ TG TN UG EH ZM ZW",
    "apnic": "AF AU BD BT BN KH CN FJ HK IN ID JP KI KP KR LA MO MY MV MH FM MN MM "
    "NR NP NC NZ PK PW PG PH WS SB SG LK TW TH TL TO TV VU VN AS CK NF NU PF TK WF "
    "CC CX",
}
#: IANA IPv4 /8 allocations per registry; unlisted public /8s count as ARIN (legacy).
_RIR_V4_OCTETS = {
    "ripe": "2 5 31 37 46 62 77-95 109 141 145 151 176 178 185 188 193-195 212 213 217",
    "apnic": "1 14 27 36 39 42 43 49 58-61 101 103 106 110-126 133 150 153 163 171 175 "
    "180 182 183 202 203 210 211 218-223",
    "lacnic": "177 179 181 186 187 189-191 200 201",
    "afrinic": "41 102 105 154 196 197",
}
#: A /12 of IPv6 per registry (first 12 bits) and the 32-bit ASN blocks each assigns.
_RIR_V6 = {
    "ripe": 0x2A0,
    "arin": 0x260,
    "apnic": 0x240,
    "lacnic": 0x280,
    "afrinic": 0x2C0,
}
_RIR_ASNS = {
    "ripe": (196_608, 216_475),
    "arin": (393_216, 401_308),
    "apnic": (131_072, 141_625),
    "lacnic": (262_144, 273_820),
    "afrinic": (327_680, 329_727),
}
#: Non-public IPv4 space, as /16 ranges "a.b-c" (blocks smaller than /16 exclude
#: their whole /16); first octets 0, 10, 127 and 224+ are excluded separately.
_EXCLUDED_V4 = (
    "100.64-127 169.254 172.16-31 192.0 192.88 192.168 198.18-19 198.51 203.0"
)


class _Real(NamedTuple):
    """A well-known network: ASN, registry name, kind, country shares, prefixes."""

    asn: int
    org: str
    kind: int
    shares: str  # "CC:share ...": share of each country's IPs
    v4: str = ""  # /16 ranges "a.b a.b-c ..."
    v6: int = 0  # a /32 it announces (top 32 bits)


_REAL: tuple[_Real, ...] = (
    _Real(4134, "CHINANET-BACKBONE", _ISP, "CN:0.30", v6=0x240E0000),
    _Real(4837, "CHINA UNICOM China169 Backbone", _ISP, "CN:0.16", v6=0x24088000),
    _Real(9808, "China Mobile Communications Group", _ISP, "CN:0.06"),
    _Real(4808, "China Unicom Beijing Province Network", _ISP, "CN:0.03"),
    _Real(
        37963,
        "Hangzhou Alibaba Advertising Co.,Ltd.",
        _CLOUD,
        "CN:0.07",
        "47.92-123 39.96-108 120.24-27 121.40-43 139.224 101.132-133 106.14-15 "
        "112.124 114.55 115.28-29 118.31 182.92",
    ),
    _Real(
        45090,
        "Shenzhen Tencent Computer Systems Company Limited",
        _CLOUD,
        "CN:0.04",
        "1.12-15 42.192-194 81.68-71 82.156-157 110.40-43 111.229-231 118.24-25 "
        "122.51 123.206-207 134.175 152.136 175.24-27 182.254 193.112 211.159",
    ),
    _Real(
        132203,
        "TENCENT-NET-AP-CN Tencent Building, Kejizhongyi Avenue",
        _CLOUD,
        "CN:0.04 HK:0.08 SG:0.05 KR:0.03 JP:0.02 DE:0.01",
        "43.128-159 49.51 101.32-33 119.28-29 124.156 129.204 129.211 150.109 "
        "162.14 162.62 170.106",
        0x24024E00,
    ),
    _Real(
        45102,
        "Alibaba US Technology Co., Ltd.",
        _CLOUD,
        "SG:0.06 HK:0.06 US:0.015 JP:0.03 DE:0.02",
        "47.74-91 47.236-254 8.208-222 149.129 161.117",
        0x2401B180,
    ),
    _Real(
        16509,
        "AMAZON-02",
        _CLOUD,
        "US:0.06 DE:0.04 SG:0.05 JP:0.05 IN:0.03 KR:0.03 "
        "GB:0.03 FR:0.03 BR:0.03 HK:0.03 ID:0.02 CA:0.03",
        "3.80-95 13.52-59 18.130-163 44.192-223 54.64-72 54.144-169",
        0x26001F18,
    ),
    _Real(14618, "AMAZON-AES", _CLOUD, "US:0.03", "52.0-9 34.192-207"),
    _Real(
        396982,
        "GOOGLE-CLOUD-PLATFORM",
        _CLOUD,
        "US:0.04 NL:0.03 TW:0.03 SG:0.03 JP:0.02 "
        "DE:0.02 GB:0.02 IN:0.02 BR:0.02 HK:0.02 BE:0.2",
        "34.64-127 35.184-247",
        0x26001900,
    ),
    _Real(
        8075,
        "MICROSOFT-CORP-MSN-AS-BLOCK",
        _CLOUD,
        "US:0.04 NL:0.03 IE:0.2 SG:0.03 JP:0.02 "
        "KR:0.02 IN:0.02 GB:0.02 BR:0.02 FR:0.02 HK:0.02",
        "20.36-63 40.74-76 40.78-79 13.64-95",
    ),
    _Real(
        14061,
        "DIGITALOCEAN-ASN",
        _HOSTING,
        "US:0.06 NL:0.06 DE:0.05 SG:0.10 GB:0.05 IN:0.04 CA:0.05",
        "159.65 159.89 159.203 138.197 138.68 167.99 167.71 165.227 165.22 206.189 "
        "188.166 178.128 174.138 134.209 137.184 143.198 143.110 142.93 146.190 "
        "157.245 161.35 164.90 164.92 170.64 64.225 68.183 104.131 104.236 107.170 "
        "128.199",
        0x2604A880,
    ),
    _Real(
        16276,
        "OVH SAS",
        _HOSTING,
        "FR:0.18 CA:0.05 DE:0.03 GB:0.03 PL:0.03 SG:0.03",
        "51.68 51.75 51.77 51.38 51.178 51.195 51.210 51.254 51.89 51.91 51.83 51.81 "
        "54.36-39 137.74 141.94-95 145.239 147.135 149.56 151.80 158.69 164.132 "
        "167.114 176.31 178.32-33 188.165 192.95 198.27 198.50 5.135 5.196 5.39 "
        "37.59 37.187 46.105 87.98 91.121 91.134 92.222 94.23 135.125 135.148 "
        "139.99 142.4 142.44 144.217 148.113 149.202 193.70 213.32 213.186 217.182",
        0x200141D0,
    ),
    _Real(
        24940,
        "Hetzner Online GmbH",
        _HOSTING,
        "DE:0.15 FI:0.3",
        "5.9 78.46-47 88.198 88.99 136.243 138.201 144.76 148.251 176.9 46.4 94.130 "
        "95.216-217 116.202-203 135.181 65.108-109 65.21 157.90 159.69 162.55 "
        "168.119 188.40 195.201 49.12-13 5.75 85.10 91.107 37.27 142.132 128.140 "
        "23.88 167.235 178.63 213.133 213.239",
        0x2A0104F8,
    ),
    _Real(
        63949,
        "Akamai Connected Cloud",
        _HOSTING,
        "US:0.03 DE:0.02 GB:0.02 SG:0.03 JP:0.02 IN:0.02",
        "45.33 45.56 45.79 50.116 139.162 172.104-105 173.255 178.79 96.126 69.164 "
        "74.207 66.175 97.107 23.239 170.187 143.42 194.195 212.71",
        0x26003C00,
    ),
    _Real(
        51167,
        "Contabo GmbH",
        _HOSTING,
        "DE:0.06 US:0.01 SG:0.02 GB:0.01",
        "161.97 164.68 173.212 167.86 207.180 62.171 5.189 144.91 173.249 75.119 "
        "84.247 194.163",
        0x2A02C207,
    ),
    _Real(
        9009,
        "M247 Europe SRL",
        _HOSTING,
        "RO:0.15 GB:0.03 NL:0.02 US:0.01 DE:0.01 FR:0.01",
        "37.120 146.70 217.138",
    ),
    _Real(
        36352,
        "AS-COLOCROSSING",
        _HOSTING,
        "US:0.04",
        "107.172-175 192.3 198.23 198.46 23.94-95 172.245 192.227 104.168",
    ),
    _Real(
        60781,
        "LeaseWeb Netherlands B.V.",
        _HOSTING,
        "NL:0.08",
        "5.79 37.48 46.165 85.17 95.211 212.32 178.162",
    ),
    _Real(202425, "IP Volume inc", _HOSTING, "NL:0.05 SC:0.3"),
    _Real(49981, "WorldStream B.V.", _HOSTING, "NL:0.05"),
    _Real(47890, "UNMANAGED LTD", _HOSTING, "GB:0.03 DE:0.01"),
    _Real(210644, "AEZA GROUP LLC", _HOSTING, "RU:0.02 DE:0.01"),
    _Real(49505, "JSC Selectel", _HOSTING, "RU:0.04"),
    _Real(135377, "UCLOUD INFORMATION TECHNOLOGY (HK) LIMITED", _HOSTING, "HK:0.1"),
    _Real(9371, "SAKURA Internet Inc.", _HOSTING, "JP:0.04"),
    _Real(12389, "PJSC Rostelecom", _ISP, "RU:0.25"),
    _Real(8359, "MTS PJSC", _ISP, "RU:0.08"),
    _Real(31133, "PJSC MegaFon", _ISP, "RU:0.06"),
    _Real(28573, "Claro NXT Telecomunicacoes Ltda", _ISP, "BR:0.18"),
    _Real(18881, "TELEFONICA BRASIL S.A", _ISP, "BR:0.12"),
    _Real(45899, "VNPT Corp", _ISP, "VN:0.30"),
    _Real(7552, "Viettel Group", _ISP, "VN:0.25"),
    _Real(18403, "FPT Telecom Company", _ISP, "VN:0.15"),
    _Real(4766, "Korea Telecom", _ISP, "KR:0.35"),
    _Real(9318, "SK Broadband Co Ltd", _ISP, "KR:0.20"),
    _Real(3786, "LG DACOM Corporation", _ISP, "KR:0.10"),
    _Real(9829, "National Internet Backbone", _ISP, "IN:0.15"),
    _Real(55836, "Reliance Jio Infocomm Limited", _ISP, "IN:0.20", v6=0x24094000),
    _Real(45609, "Bharti Airtel Ltd. AS for GPRS Service", _ISP, "IN:0.12"),
    _Real(24560, "Bharti Airtel Ltd., Telemedia Services", _ISP, "IN:0.06"),
    _Real(3320, "Deutsche Telekom AG", _ISP, "DE:0.12", v6=0x20030000),
    _Real(3209, "Vodafone GmbH", _ISP, "DE:0.05"),
    _Real(7922, "COMCAST-7922", _ISP, "US:0.08", v6=0x26010000),
    _Real(7018, "ATT-INTERNET4", _ISP, "US:0.05"),
    _Real(701, "UUNET", _ISP, "US:0.03"),
    _Real(20115, "CHARTER-20115", _ISP, "US:0.03"),
    _Real(17974, "PT Telekomunikasi Indonesia", _ISP, "ID:0.35"),
    _Real(3462, "Data Communication Business Group", _ISP, "TW:0.45"),
    _Real(3215, "Orange S.A.", _ISP, "FR:0.12"),
    _Real(12322, "Free SAS", _ISP, "FR:0.08"),
    _Real(2856, "British Telecommunications PLC", _ISP, "GB:0.15"),
    _Real(5089, "Virgin Media Limited", _ISP, "GB:0.06"),
    _Real(4760, "HKT Limited", _ISP, "HK:0.20"),
    _Real(9381, "HKBN Enterprise Solutions HK Limited", _ISP, "HK:0.08"),
    _Real(9506, "Singtel Fibre Broadband", _ISP, "SG:0.08"),
    _Real(15895, "Kyivstar PJSC", _ISP, "UA:0.15"),
    _Real(6849, "PJSC Ukrtelecom", _ISP, "UA:0.12"),
    _Real(58224, "Iran Telecommunication Company PJS", _ISP, "IR:0.35"),
    _Real(197207, "Mobile Communication Company of Iran PLC", _ISP, "IR:0.20"),
    _Real(23969, "TOT Public Company Limited", _ISP, "TH:0.15"),
    _Real(45758, "Triple T Broadband Public Company Limited", _ISP, "TH:0.15"),
    _Real(1136, "KPN B.V.", _ISP, "NL:0.08"),
    _Real(4713, "NTT Communications Corporation", _ISP, "JP:0.20"),
    _Real(2516, "KDDI CORPORATION", _ISP, "JP:0.10"),
    _Real(9121, "Turk Telekom", _ISP, "TR:0.30"),
    _Real(7303, "Telecom Argentina S.A.", _ISP, "AR:0.30"),
    _Real(8151, "UNINET", _ISP, "MX:0.35"),
    _Real(577, "BACOM", _ISP, "CA:0.15"),
    _Real(3269, "Telecom Italia S.p.A.", _ISP, "IT:0.25"),
    _Real(17557, "Pakistan Telecommunication Company Limited", _ISP, "PK:0.40"),
    _Real(8452, "TE-AS", _ISP, "EG:0.35"),
    _Real(9299, "Philippine Long Distance Telephone Company", _ISP, "PH:0.30"),
    _Real(4788, "TM TECHNOLOGY SERVICES SDN BHD", _ISP, "MY:0.30"),
    _Real(5617, "Orange Polska Spolka Akcyjna", _ISP, "PL:0.20"),
    _Real(3352, "TELEFONICA_DE_ESPANA", _ISP, "ES:0.25"),
)


class _Benign(NamedTuple):
    """A known-benign scanner: discount, operator network and its /24 blocks."""

    name: str
    discount: float
    asn: int
    org: str
    share: float  # of all IPs, before the block capacity caps it
    blocks: str  # "a.b.c" /24s, "a.b.c-d" ranges


_BENIGN_SOURCES: tuple[_Benign, ...] = (
    _Benign("Googlebot", 0.1, 15169, "GOOGLE", 0.0008, "66.249.64-95"),
    _Benign(
        "Bingbot",
        0.1,
        8075,
        "MICROSOFT-CORP-MSN-AS-BLOCK",
        0.0003,
        "157.55.39 207.46.13 40.77.167",
    ),
    _Benign(
        "Censys",
        0.2,
        398324,
        "CENSYS-ARIN-01",
        0.0005,
        "162.142.125 167.94.138 167.94.145-146 199.45.154-155 206.168.34",
    ),
    _Benign(
        "Shodan",
        0.3,
        10439,
        "CARINET",
        0.0004,
        "71.6.135 71.6.146 71.6.158 71.6.165 71.6.167 66.240.192 66.240.205 66.240.236",
    ),
)

_NAME_STEMS = (
    "Tele Net Sky Star Fast Giga Blue Nova Metro Prime Global Smart Hyper Alpha Omega "
    "Digi Info Micro Inter Uni Trans City Air Fiber Link Wave Core Next Open Green Red "
    "Silver Gold North South East West Pro Max Ultra"
)
_NAME_PARTS = "com net link tel web wave line host cloud byte data port zone sys"
_NAME_SUFFIXES = {
    _ISP: "Telecom,Broadband,Communications,Internet,Fiber,Cable,Mobile,Networks",
    _HOSTING: "Hosting,Cloud,Datacenter,Servers,VPS,IT Solutions,Networks,Data",
}
_LEGAL = ("Ltd", "LLC", "Inc.", "S.A.", "GmbH", "Co., Ltd.", "B.V.", "JSC", "SRL")


class _Net(NamedTuple):
    """One network: an ASN in one country, with its kind and share of all IPs."""

    asn: int
    org: str
    country: str
    kind: int
    weight: float
    known_v4: np.ndarray  # /16 prefixes (a << 8 | b); /24s for benign sources
    known_v6: int = 0  # a /32 (top 32 bits), 0 = none
    benign: int = 0  # 1-based index into _BENIGN_SOURCES


@dataclass
class _World:
    """Every network as columns (index = network id)."""

    asn: np.ndarray  # uint32
    org: list[str]
    country: np.ndarray  # S2
    kind: np.ndarray  # uint8: _ISP, _HOSTING, _CLOUD, _BENIGN
    benign: np.ndarray  # uint8
    weight: np.ndarray  # float64, sums to 1 (0 for benign sources)
    rir: np.ndarray  # uint8 index into _RIRS
    known_v4: list[np.ndarray]
    known_v6: np.ndarray  # uint64


def _octet_ranges(spec: str) -> list[int]:
    """Expand "a b-c" into integers."""
    values: list[int] = []
    for part in spec.split():
        lo, _, hi = part.partition("-")
        values.extend(range(int(lo), int(hi or lo) + 1))
    return values


def _prefix_ranges(spec: str) -> np.ndarray:
    """Expand dotted ranges ("35.184-247", "66.249.64-95") into prefix integers."""
    values: list[int] = []
    for part in spec.split():
        *head, last = part.split(".")
        base = 0
        for octet in head:
            base = base << 8 | int(octet)
        values.extend(base << 8 | v for v in _octet_ranges(last))
    return np.array(values, np.int64)


def _weights(spec: str) -> dict[str, float]:
    """Parse "name:weight name:weight" into a dict."""
    pairs = (item.split(":") for item in spec.split())
    return {name: float(weight) for name, weight in pairs}


def _country_weights(rng: np.random.Generator) -> dict[str, float]:
    """Return Zipf-like country shares: the head list first, then a shuffled tail."""
    head = _HEAD_COUNTRIES.split()
    tail = sorted(set(countries()) - set(head) - _UNINHABITED)
    codes = head + [tail[i] for i in rng.permutation(len(tail))]
    weights = (np.arange(len(codes)) + 3.5) ** -1.6
    return dict(zip(codes, (weights / weights.sum()).tolist(), strict=True))


_RIR_BY_COUNTRY = {
    code: _RIRS.index(rir)
    for rir, members in _RIR_COUNTRIES.items()
    for code in members.split()
}


def _rir_of(code: str) -> int:
    """Return the registry index of a country (RIPE unless listed)."""
    return _RIR_BY_COUNTRY.get(code, _RIRS.index("ripe"))


def _org_name(rng: np.random.Generator, kind: int) -> str:
    """Return a made-up organisation name such as "Novalink Broadband Ltd"."""
    stems, parts = _NAME_STEMS.split(), _NAME_PARTS.split()
    stem, part = stems[rng.integers(len(stems))], parts[rng.integers(len(parts))]
    suffixes = _NAME_SUFFIXES[kind].split(",")
    suffix = suffixes[rng.integers(len(suffixes))]
    return f"{stem}{part} {suffix} {_LEGAL[rng.integers(len(_LEGAL))]}"


def _real_networks(share: dict[str, float]) -> list[_Net]:
    """Expand the well-known networks, splitting their prefixes among countries."""
    nets = []
    for real in _REAL:
        prefixes = _prefix_ranges(real.v4)
        shares = _weights(real.shares)
        for i, (code, part) in enumerate(shares.items()):
            nets.append(
                _Net(
                    real.asn,
                    real.org,
                    code,
                    real.kind,
                    part * share[code],
                    prefixes[i :: len(shares)],
                    real.v6 if i == 0 else 0,
                )
            )
    return nets


def _generated_networks(
    rng: np.random.Generator, share: dict[str, float]
) -> list[_Net]:
    """Return ISPs and hosting companies filling each country's remaining share."""
    real_share: dict[str, float] = {}
    for real in _REAL:
        for code, part in _weights(real.shares).items():
            real_share[code] = real_share.get(code, 0.0) + part
    root = np.sqrt(np.array(list(share.values())))
    per_country = np.maximum(2, np.round(_GENERATED_NETWORKS * root / root.sum()))
    taken = {r.asn for r in _REAL} | {b.asn for b in _BENIGN_SOURCES}
    none = np.zeros(0, np.int64)
    nets = []
    for code, count in zip(share, per_country.astype(int).tolist(), strict=True):
        sizes = rng.lognormal(0.0, 1.3, count)
        sizes *= max(0.1, 1.0 - real_share.get(code, 0.0)) * share[code] / sizes.sum()
        kinds = np.where(rng.random(count) < 0.22, _HOSTING, _ISP).tolist()
        low, high = _RIR_ASNS[_RIRS[_rir_of(code)]]
        for size, kind in zip(sizes.tolist(), kinds, strict=True):
            asn = int(rng.integers(low, high))
            while asn in taken:
                asn = int(rng.integers(low, high))
            taken.add(asn)
            nets.append(_Net(asn, _org_name(rng, kind), code, kind, size, none))
    return nets


def _benign_networks() -> list[_Net]:
    """Return one network per known-benign source, holding its own /24s."""
    return [
        _Net(s.asn, s.org, "US", _BENIGN, 0.0, _prefix_ranges(s.blocks), benign=i)
        for i, s in enumerate(_BENIGN_SOURCES, 1)
    ]


def _build_world(seed: int) -> _World:
    """Lay out every network of the demo world for ``seed``."""
    rng = np.random.default_rng([seed, 0])
    share = _country_weights(rng)
    nets = _real_networks(share) + _generated_networks(rng, share) + _benign_networks()
    weight = np.array([net.weight for net in nets])
    return _World(
        asn=np.array([net.asn for net in nets], np.uint32),
        org=[net.org for net in nets],
        country=np.array([net.country for net in nets], "S2"),
        kind=np.array([net.kind for net in nets], np.uint8),
        benign=np.array([net.benign for net in nets], np.uint8),
        weight=weight / weight.sum(),
        rir=np.array([_rir_of(net.country) for net in nets], np.uint8),
        known_v4=[net.known_v4 for net in nets],
        known_v6=np.array([net.known_v6 for net in nets], np.uint64),
    )


# -- addresses -----------------------------------------------------------------

#: ISP addresses per /16 (under 1%, so they look scattered).
_ISP_DENSITY = 400
#: Usable host numbers in a dense /24 (.1 to .254).
_HOSTS = 254


class _Layout(NamedTuple):
    """Per-network placement parameters (index = network id)."""

    flat: np.ndarray  # every network's /16 prefixes, concatenated
    start: np.ndarray  # first prefix of each network in ``flat``
    length: np.ndarray  # number of prefixes (at least 1)
    fill: np.ndarray  # addresses per dense block
    mult: np.ndarray  # odd multiplier of the scattering bijection
    offset: np.ndarray
    stride: np.ndarray  # step between addresses in a dense /24


def _counts(
    world: _World, n: int, weight: np.ndarray, rng: np.random.Generator, benign: bool
) -> np.ndarray:
    """Return how many of ``n`` IPs each network gets (benign scanners capped)."""
    counts = np.zeros(len(weight), np.int64)
    if benign:
        for net in np.flatnonzero(world.kind == _BENIGN).tolist():
            source = _BENIGN_SOURCES[world.benign[net] - 1]
            capacity = len(world.known_v4[net]) * _HOSTS
            counts[net] = min(capacity, round(n * source.share))
    counts += rng.multinomial(n - counts.sum(), weight / weight.sum())
    return counts


def _free_slash16s(world: _World, rng: np.random.Generator) -> list[np.ndarray]:
    """Return, per registry, its shuffled public /16s that no known network holds."""
    first = np.repeat(np.arange(256), 256)
    prefix = np.arange(1 << 16)
    public = (first > 0) & (first < 224) & (first != 10) & (first != 127)
    public[_prefix_ranges(_EXCLUDED_V4)] = False
    for known, kind in zip(world.known_v4, world.kind.tolist(), strict=True):
        public[known >> 8 if kind == _BENIGN else known] = False
    owner = np.full(256, _RIRS.index("arin"))
    for rir, spec in _RIR_V4_OCTETS.items():
        owner[_octet_ranges(spec)] = _RIRS.index(rir)
    pools = [prefix[public & (owner[first] == rir)] for rir in range(len(_RIRS))]
    return [pool[rng.permutation(len(pool))] for pool in pools]


def _allocate(
    world: _World, need: np.ndarray, rng: np.random.Generator
) -> list[np.ndarray]:
    """Give each network ``need`` /16s: its known ones, then free ones of its registry.

    A registry that runs out borrows from the others' leftovers.
    """
    pools = _free_slash16s(world, rng)
    extra = np.array(
        [
            max(0, int(k) - len(p)) if k else 0
            for k, p in zip(need, world.known_v4, strict=True)
        ]
    )
    demand = np.bincount(world.rir, weights=extra, minlength=len(pools)).astype(int)
    given = [
        pool[: min(d, len(pool))]
        for pool, d in zip(pools, demand.tolist(), strict=True)
    ]
    spare = np.concatenate(
        [pool[len(g) :] for pool, g in zip(pools, given, strict=True)]
    )
    if (demand - [len(g) for g in given]).sum() > len(spare):
        raise ValueError("too many IPs for the public IPv4 space of the demo world")
    used = 0
    supply = []
    for rir, got in enumerate(given):
        short = int(demand[rir]) - len(got)
        supply.append(np.concatenate([got, spare[used : used + short]]))
        used += short
    cursor = [0] * len(pools)
    result = []
    for net, count in enumerate(extra.tolist()):
        rir = int(world.rir[net])
        result.append(
            np.concatenate(
                [world.known_v4[net], supply[rir][cursor[rir] : cursor[rir] + count]]
            )
        )
        cursor[rir] += count
    return result


def _ceil_div(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """Return ceil(a / b) for non-negative integers."""
    return (a + b - 1) // b


def _layout_v4(world: _World, counts: np.ndarray, rng: np.random.Generator) -> _Layout:
    """Choose /24 fill and /16 prefixes for ``counts`` IPv4 addresses per network."""
    size = len(counts)
    hosting = world.kind == _HOSTING
    fill = np.where(
        hosting,
        np.clip(rng.lognormal(3.4, 0.7, size), 8, _HOSTS),
        np.clip(rng.lognormal(1.2, 0.5, size), 2, 10),
    ).astype(np.int64)
    dense_need = _ceil_div(_ceil_div(counts, fill), 128)  # 128 /24s used per /16
    need = np.where(world.kind == _ISP, _ceil_div(counts, _ISP_DENSITY), dense_need)
    need[world.kind == _BENIGN] = 0
    prefixes = _allocate(world, need, rng)
    prefixes = [p if len(p) else np.zeros(1, np.int64) for p in prefixes]
    count = np.array([len(p) for p in prefixes], np.int64)
    return _Layout(
        flat=np.concatenate(prefixes),
        start=np.cumsum(count) - count,
        length=count,
        fill=fill,
        mult=rng.integers(0, 1 << 15, size) * 2 + 1,
        offset=rng.integers(0, 1 << 16, size),
        stride=rng.choice(np.array([1, 1, 1, 3, 5, 7]), size),
    )


def _ranks(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (network, rank within it) of IPs laid out network by network."""
    net = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return net, np.arange(len(net)) - starts[net]


def _mix16(x: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """Scramble 16-bit values with a bijection (odd multiplies and xor-shifts)."""
    x = x * mult & 0xFFFF
    x ^= x >> 7
    x = x * 0x9E37 & 0xFFFF
    return x ^ (x >> 8)


def _isp_v4(rank: np.ndarray, net: np.ndarray, lay: _Layout) -> np.ndarray:
    """Scatter addresses pseudo-randomly over the network's /16s."""
    length = lay.length[net]
    prefix = lay.flat[lay.start[net] + rank % length]
    slot = _mix16((rank // length + lay.offset[net]) & 0xFFFF, lay.mult[net])
    return prefix << 16 | slot


def _dense_v4(rank: np.ndarray, net: np.ndarray, lay: _Layout) -> np.ndarray:
    """Pack addresses into /24 blocks of ``fill`` consecutive (strided) hosts."""
    fill, length = lay.fill[net], lay.length[net]
    block, pos = rank // fill, rank % fill
    prefix = lay.flat[lay.start[net] + block % length]
    third = (lay.offset[net] + block // length * 97) % 256
    host = 1 + (block * 89 + lay.offset[net] + pos * lay.stride[net]) % _HOSTS
    return prefix << 16 | third << 8 | host


def _benign_v4(rank: np.ndarray, net: np.ndarray, world: _World) -> np.ndarray:
    """Fill the scanner's own /24s host by host."""
    out = np.empty(len(rank), np.int64)
    for index in np.unique(net).tolist():
        sel = net == index
        blocks = world.known_v4[index]
        out[sel] = blocks[rank[sel] // _HOSTS] << 8 | (1 + rank[sel] % _HOSTS)
    return out


def _place_v4(
    world: _World, counts: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return (network, IPv4 address) of ``counts`` IPs per network."""
    lay = _layout_v4(world, counts, rng)
    net, rank = _ranks(counts)
    kind = world.kind[net]
    addr = np.empty(len(net), np.int64)
    isp = kind == _ISP
    addr[isp] = _isp_v4(rank[isp], net[isp], lay)
    dense = (kind == _HOSTING) | (kind == _CLOUD)
    addr[dense] = _dense_v4(rank[dense], net[dense], lay)
    benign = kind == _BENIGN
    addr[benign] = _benign_v4(rank[benign], net[benign], world)
    return net, addr.astype(np.uint32)


def _v6_bases(world: _World, used: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return a distinct /32 (top 32 bits) for each network with IPv6 addresses."""
    bases = world.known_v6.copy()
    taken = set(bases[bases > 0].tolist())
    regions = np.array([_RIR_V6[r] for r in _RIRS], np.uint64)
    for net in np.flatnonzero(used & (bases == 0)).tolist():
        base = int(regions[world.rir[net]]) << 20 | int(rng.integers(1, 1 << 20))
        while base in taken:
            base = int(regions[world.rir[net]]) << 20 | int(rng.integers(1, 1 << 20))
        taken.add(base)
        bases[net] = base
    return bases


def _place_v6(
    world: _World, counts: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (network, high 64 bits, low 64 bits) of ``counts`` IPs per network.

    Hosting addresses share /64s (small interface ids) inside a few /48s; ISP
    addresses each get their own /64 with a random interface id.
    """
    size = len(counts)
    base = _v6_bases(world, counts > 0, rng)
    fill = np.clip(rng.lognormal(1.4, 0.6, size), 2, 16).astype(np.uint64)
    mult = rng.integers(0, 1 << 31, size, np.uint64) * np.uint64(2) + np.uint64(1)
    offset = rng.integers(0, 1 << 32, size, np.uint64)
    net, rank_ = _ranks(counts)
    rank = rank_.astype(np.uint64)
    dense = world.kind[net] != _ISP
    mask16, mask32 = np.uint64(0xFFFF), np.uint64(0xFFFF_FFFF)
    low = rng.integers(1, 1 << 64, len(net), np.uint64, endpoint=False)
    block = rank // fill[net]
    site = ((block >> np.uint64(6)) * mult[net] + offset[net]) & mask16
    dense_low = (block * np.uint64(2654435761) & mask16) << np.uint64(16)
    dense_low |= rank % fill[net] + np.uint64(1)
    net_bits = np.where(
        dense,
        site << np.uint64(16) | (block & np.uint64(63)),
        (rank * mult[net] + offset[net]) & mask32,
    )
    high = base[net] << np.uint64(32) | net_bits
    return net, high, np.where(dense, dense_low, low)


def _ip16(addr4: np.ndarray, high6: np.ndarray, low6: np.ndarray) -> np.ndarray:
    """Return the (N, 16) storage form: IPv4-mapped IPv4, then IPv6."""
    n4 = len(addr4)
    ip = np.zeros((n4 + len(high6), 16), np.uint8)
    ip[:n4, 10:12] = 0xFF
    ip[:n4, 12:] = addr4.astype(">u4").view(np.uint8).reshape(-1, 4)
    ip[n4:, :8] = high6.astype(">u8").view(np.uint8).reshape(-1, 8)
    ip[n4:, 8:] = low6.astype(">u8").view(np.uint8).reshape(-1, 8)
    return ip


# -- evidence per IP -------------------------------------------------------------

#: Relative protocol popularity: ISP space (home routers, IoT) and hosting space.
_PROTOCOL_WEIGHTS = (
    # ssh telnet http ftp smtp mysql postgresql mongodb redis docker elasticsearch
    # mssql imap smb rtsp sip (the order of vocab.PROTOCOLS)
    (34, 28, 10, 2, 2, 2.5, 1.5, 0.6, 1.5, 0.8, 0.7, 3, 1.2, 6, 0.8, 0.8),
    (48, 5, 16, 2.5, 2.5, 3.5, 3, 1.5, 4, 3, 2, 3, 1.5, 3, 0.4, 1.5),
)
#: Chances of 1, 2, 3 or 4 protocol draws per profile (repeated draws collapse).
_PROTOCOL_DRAWS = ((0.74, 0.17, 0.06, 0.03), (0.5, 0.25, 0.15, 0.10))
#: Pareto exponent of sessions per IP, per profile (smaller = heavier tail).
_SESSION_ALPHA = (1.1, 0.95)
_MAX_SESSIONS = 2_000_000
#: Mean extra events per session.
_EVENTS_PER_SESSION = (6, 4, 0.6, 3, 4, 2, 2, 3, 3, 2, 1, 2, 3, 3, 1, 1)
#: Behavior draw weight per severity level (1-4), times a per-behavior boost.
_SEVERITY_PREVALENCE = (0.0, 6.0, 4.0, 1.5, 1.0)
_PREVALENCE = {
    "ssh-brute-force": 8,
    "telnet-brute-force": 6,
    "iot-default-credentials": 3,
    "host-fingerprinting": 3,
    "system-info-discovery": 3,
    "connect-only-probe": 4,
    "automated-ssh-client": 3,
    "mirai-busybox-probe": 2,
    "web-vulnerability-scanner": 2,
    "secrets-file-probe": 2,
    "smb-share-enumeration": 2,
    "sip-options-scan": 2,
}
_MAX_BEHAVIORS = 6
#: Report category weights (ids 1-16) by the protocol an IP was first seen on.
_CATEGORY_WEIGHTS = {
    "default": (
        "brute_force:5 port_scan:4 exploited_host:1 other:0.5 "
        "ddos:0.3 dns_abuse:0.1 spoofing:0.1"
    ),
    "ssh": "brute_force:10 port_scan:3 exploited_host:1 malware:0.5",
    "telnet": "brute_force:6 iot_targeted:5 port_scan:2 malware:1",
    "http": (
        "web_exploit:6 bad_bot:3 sql_injection:1.5 port_scan:1.5 "
        "open_proxy:0.5 brute_force:1"
    ),
    "smtp": "spam:6 phishing:3 brute_force:2 open_proxy:0.5",
    "imap": "brute_force:6 phishing:1 spam:1",
    "redis": "web_exploit:3 port_scan:3 malware:2 exploited_host:1",
    "docker": "web_exploit:3 port_scan:3 malware:2 exploited_host:1",
    "smb": "port_scan:4 malware:2 brute_force:2 exploited_host:1",
    "rtsp": "iot_targeted:5 brute_force:3 port_scan:2",
    "sip": "fraud:4 port_scan:3 brute_force:3 spoofing:0.5",
}


class _Tables(NamedTuple):
    """Catalog lookups for drawing behaviors and their primitives."""

    cum: np.ndarray  # per (class, protocol) row r: r + normalised cumulative weight
    ids: np.ndarray  # uint64 behavior index per ``cum`` entry, _NONE when none fits
    level: np.ndarray  # severity level per behavior, plus 0 for _NONE
    refs: np.ndarray  # (behaviors, variants, width) primitive indexes, _NONE padded
    variants: np.ndarray  # number of ``any`` variants per behavior (at least 1)
    categories: tuple[np.ndarray, np.ndarray]  # (cum, ids) per protocol row


_NONE = 0xFFFF_FFFF


def _cumulative(rows: list[dict[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Flatten weighted choices per row into (r + cumulative share, id) arrays."""
    cum, ids = [], []
    for r, weights in enumerate(rows):
        if not weights:
            weights = {_NONE: 1.0}
        share = np.cumsum(list(weights.values()))
        cum.append(r + share / share[-1])
        cum[-1][-1] = r + 1.0
        ids.append(np.array(list(weights), np.uint64))
    return np.concatenate(cum), np.concatenate(ids)


def _tables(catalog: Catalog) -> _Tables:
    """Build the draw tables: behaviors per (benign?, protocol), refs, categories."""
    behaviors = catalog.behaviors
    rows: list[dict[int, float]] = []
    for benign_only in (False, True):
        for name in PROTOCOLS:
            rows.append(
                {
                    i: _SEVERITY_PREVALENCE[b.level] * _PREVALENCE.get(b.id, 1.0)
                    for i, b in enumerate(behaviors)
                    if name in b.protocols and (b.level == 1 or not benign_only)
                }
            )
    cum, ids = _cumulative(rows)
    variants = np.array([max(1, len(b.any_of)) for b in behaviors] or [1], np.int64)
    width = max([len(b.all_of) + bool(b.any_of) for b in behaviors] or [1])
    refs = np.full(
        (max(1, len(behaviors)), int(variants.max()), width), _NONE, np.uint64
    )
    for i, b in enumerate(behaviors):
        for v in range(variants[i]):
            chosen = b.all_of + b.any_of[v : v + 1]
            refs[i, v, : len(chosen)] = [catalog.primitive_index(p) for p in chosen]
    cat_ix = {name: i + 1 for i, name in enumerate(CATEGORIES)}
    cat_rows = [
        {
            cat_ix[c]: w
            for c, w in _weights(
                _CATEGORY_WEIGHTS.get(name, _CATEGORY_WEIGHTS["default"])
            ).items()
        }
        for name in PROTOCOLS
    ]
    return _Tables(
        cum=cum,
        ids=ids,
        level=np.array([b.level for b in behaviors] + [0], np.int64),
        refs=refs,
        variants=variants,
        categories=_cumulative(cat_rows),
    )


def _pick(
    table: tuple[np.ndarray, np.ndarray], row: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Draw one id per element from the weighted choices of its ``row``."""
    cum, ids = table
    return ids[np.searchsorted(cum, row + u, side="right")]


def _dedupe(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort rows of ``id << 32 | value`` keys; drop padding and repeated ids.

    Returns the number of entries kept per row and the kept keys, row by row.
    Of a repeated id the largest value is kept.
    """
    keys.sort(axis=1)
    ids = keys >> np.uint64(32)
    keep = keys != _SENTINEL
    keep[:, :-1] &= ids[:, :-1] != ids[:, 1:]
    return keep.sum(axis=1).astype(np.uint8), keys[keep]


def _keys(
    ids: np.ndarray, values: np.ndarray, valid: np.ndarray | np.bool_
) -> np.ndarray:
    """Pack ``id << 32 | value``; padding (invalid or _NONE ids) becomes _SENTINEL."""
    keys = ids.astype(np.uint64) << np.uint64(32) | values.astype(np.uint64)
    return np.where(valid & (ids != _NONE), keys, _SENTINEL)


def _split_ids(keys: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Unpack keys into (ids as ``dtype``, uint32 values)."""
    return (keys >> np.uint64(32)).astype(dtype), (keys & np.uint64(_NONE)).astype(
        np.uint32
    )


def _starts(lengths: np.ndarray) -> np.ndarray:
    """Return the offset of each row's first entry."""
    return np.cumsum(lengths, dtype=np.int64) - lengths


@dataclass
class _Part:
    """The columns of one chunk of rows."""

    scalars: dict[str, np.ndarray]
    ragged: dict[str, tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]


_PROTOCOL_CUM = [_cumulative([dict(enumerate(w))]) for w in _PROTOCOL_WEIGHTS]
_PROTOCOL_POPULARITY = np.array(_PROTOCOL_WEIGHTS[0])
_EVENT_RATE = np.array(_EVENTS_PER_SESSION)
_HTTP = PROTOCOL_IDS["http"]
#: Benign sources that only crawl the web (Googlebot, Bingbot); others scan all.
_CRAWLERS = (1, 2)


def _protocols(
    rng: np.random.Generator, profile: np.ndarray, benign: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (protocols per IP, protocol ids row by row, ascending)."""
    n = len(profile)
    draws = np.empty((n, 4), np.uint64)
    count = np.empty(n, np.int64)
    for p, chances in enumerate(_PROTOCOL_DRAWS):
        sel = profile == p
        size = int(sel.sum())
        draws[sel] = _pick(_PROTOCOL_CUM[p], np.zeros((size, 1)), rng.random((size, 4)))
        count[sel] = 1 + np.searchsorted(np.cumsum(chances)[:-1], rng.random(size))
    crawler = np.isin(benign, _CRAWLERS)
    draws[crawler, 0], count[crawler] = _HTTP, 1
    scanner = (benign > 0) & ~crawler
    draws[scanner] = rng.integers(0, len(PROTOCOLS), (int(scanner.sum()), 4))
    count[scanner] = 4
    lengths, keys = _dedupe(_keys(draws, np.zeros(1), np.arange(4) < count[:, None]))
    return lengths, (keys >> np.uint64(32)).astype(np.uint8)


def _sessions(
    rng: np.random.Generator, profile: np.ndarray, minimum: np.ndarray
) -> np.ndarray:
    """Return Pareto-distributed sessions per IP: mostly 1-10, a few 10^5 and more."""
    alpha = np.array(_SESSION_ALPHA)[profile]
    sessions = np.floor((1.0 - rng.random(len(profile))) ** (-1.0 / alpha))
    return np.maximum(np.minimum(sessions, _MAX_SESSIONS).astype(np.int64), minimum)


def _split(
    rng: np.random.Generator, sessions: np.ndarray, lengths: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Split each IP's sessions over its protocols; derive events (>= sessions)."""
    owner = np.repeat(np.arange(len(sessions)), lengths)
    starts = _starts(lengths)
    weight = rng.exponential(size=len(ids)) * _PROTOCOL_POPULARITY[ids]
    share = weight / np.add.reduceat(weight, starts)[owner]
    parts = 1 + np.floor(share * (sessions - lengths)[owner]).astype(np.int64)
    parts[starts] += sessions - np.add.reduceat(parts, starts)
    rate = _EVENT_RATE[ids] * rng.gamma(2.0, 0.5, len(sessions))[owner]
    return parts, parts + rng.poisson(parts * rate)


def _grouped(lengths: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deduplicate flat per-row keys (``lengths`` per row) like :func:`_dedupe`."""
    rows = np.flatnonzero(lengths)
    per_row = lengths[rows].astype(np.int64)
    local = np.repeat(np.arange(len(rows)), per_row)
    grid = np.full((len(rows), max(1, int(per_row.max(initial=0)))), _SENTINEL)
    grid[local, np.arange(len(keys)) - _starts(per_row)[local]] = keys
    found = np.zeros(len(lengths), np.uint8)
    found[rows], flat = _dedupe(grid)
    return found, flat


def _behaviors(
    rng: np.random.Generator,
    tables: _Tables,
    benign: np.ndarray,
    sessions: np.ndarray,
    protocols: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw behaviors fitting each IP's protocols: (lengths, keys, max level)."""
    lengths, ids, per_protocol_sessions = protocols
    wanted = 0.3 + 0.3 * np.log10(sessions) + 0.2 * (lengths - 1.0)
    slots = np.minimum(rng.poisson(wanted), _MAX_BEHAVIORS)
    owner = np.repeat(np.arange(len(sessions)), slots)
    entry = _starts(lengths)[owner] + (rng.random(len(owner)) * lengths[owner]).astype(
        np.int64
    )
    row = (benign[owner] > 0) * len(PROTOCOLS) + ids[entry]
    behavior = _pick((tables.cum, tables.ids), row, rng.random(len(owner)))
    share = rng.random(len(owner)) ** 2
    count = 1 + rng.binomial(per_protocol_sessions[entry] - 1, share)
    level = tables.level[np.minimum(behavior, len(tables.level) - 1).astype(np.int64)]
    max_level = np.zeros(len(sessions), np.int64)
    np.maximum.at(max_level, owner, level)
    found, flat = _grouped(slots, _keys(behavior, count, np.bool_(True)))
    return found, flat, max_level


def _primitives(
    rng: np.random.Generator, tables: _Tables, lengths: np.ndarray, keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the primitives the drawn behaviors reference, with match counts."""
    behavior, count = _split_ids(keys, "i8")
    variant = (rng.random(len(behavior)) * tables.variants[behavior]).astype(np.int64)
    refs = tables.refs[behavior, variant]
    matches = count[:, None] * (1 + rng.poisson(0.7, refs.shape))
    flat = _keys(refs, matches, np.bool_(True)).ravel()
    return _grouped(lengths.astype(np.int64) * refs.shape[1], flat)


def _reports(
    rng: np.random.Generator,
    tables: _Tables,
    evidence: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (reports, reporters, category lengths, category keys).

    Busier, more dangerous and hosted IPs are reported more often. Every report
    carries the main category, some also others.
    """
    sessions, max_level, profile, first_protocol = evidence
    n = len(sessions)
    chance = 0.08 + 0.05 * np.log10(sessions) + 0.08 * (max_level >= 3) + 0.05 * profile
    hit = np.flatnonzero(rng.random(n) < np.minimum(chance, 0.85))
    reports, reporters = np.zeros(n, np.int64), np.zeros(n, np.int64)
    volume = np.minimum(np.floor((1.0 - rng.random(len(hit))) ** (-1 / 1.3)), 20_000)
    reports[hit] = volume
    reporters[hit] = 1 + rng.binomial(
        reports[hit] - 1, rng.uniform(0.15, 0.8, len(hit))
    )
    category = _pick(
        tables.categories, first_protocol[hit, None], rng.random((len(hit), 3))
    )
    extra = 1 + rng.binomial(
        reports[hit, None] - 1, rng.uniform(0.1, 0.6, (len(hit), 2))
    )
    count = np.column_stack([reports[hit], extra])
    wanted = 1 + np.searchsorted([0.55, 0.85], rng.random(len(hit)))
    lengths = np.zeros(n, np.uint8)
    lengths[hit], keys = _dedupe(_keys(category, count, np.arange(3) < wanted[:, None]))
    return reports, reporters, lengths, keys


def _times(
    rng: np.random.Generator, now: int, sessions: np.ndarray, reports: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (first seen, last seen, last reported) within WINDOW before ``now``."""
    n = len(sessions)
    last_age = np.minimum(rng.exponential(12 * DAY, n), WINDOW - DAY).astype(np.int64)
    span = rng.exponential(DAY, n) * (1 + np.log10(sessions)) ** 2
    first = now - last_age - np.minimum(span, WINDOW - 1 - last_age).astype(np.int64)
    reported = first + (rng.random(n) * (now - first)).astype(np.int64)
    return first, now - last_age, np.where(reports > 0, reported, 0)


#: Score points of one behavior per severity level (index 1-4).
SEVERITY_POINTS = np.array([0.0, 4.0, 10.0, 24.0, 45.0])


def evidence_score(
    sessions: np.ndarray,
    protocols: np.ndarray,
    behavior_points: np.ndarray,
    max_severity: np.ndarray,
    reports: np.ndarray,
    reporters: np.ndarray,
) -> np.ndarray:
    """Return a plausible 0-100 confidence per IP (the demo's scoring model).

    Sensor evidence: log-scaled sessions, sqrt-scaled protocol diversity and
    behavior points (see SEVERITY_POINTS). Community evidence: distinct
    reporters weigh more than report volume. When both exist, an agreement
    bonus scales with the weaker one. A saturation curve maps the raw sum to
    0-100 and a critical behavior floors the score at 80. The real scoring
    engine replaces this function.
    """
    sensor = 6.0 * np.log1p(sessions) + 8.0 * np.sqrt(protocols - 1.0) + behavior_points
    community = 12.0 * np.sqrt(reporters) + 3.0 * np.log1p(reports - reporters)
    weaker, stronger = np.minimum(sensor, community), np.maximum(sensor, community)
    raw = (sensor + community) * (1.0 + 0.3 * weaker / np.maximum(stronger, 1.0))
    score = 100.0 * (1.0 - np.exp(-raw / 34.0))
    score = np.where(max_severity >= 4, np.maximum(score, 80.0), score)
    return np.rint(score).astype(np.uint8)


_DISCOUNTS = np.array([1.0] + [s.discount for s in _BENIGN_SOURCES])


def _chunk(
    seed: int,
    index: int,
    kind: np.ndarray,
    benign: np.ndarray,
    tables: _Tables,
    now: int,
) -> _Part:
    """Generate every column but the address, country and ASN for one chunk."""
    rng = np.random.default_rng([seed, 2, index])
    n = len(kind)
    profile = (kind != _ISP).astype(np.int64)
    plen, pids = _protocols(rng, profile, benign)
    sessions = _sessions(rng, profile, plen)
    psessions, pevents = _split(rng, sessions, plen, pids)
    blen, bkeys, max_level = _behaviors(
        rng, tables, benign, sessions, (plen, pids, psessions)
    )
    prlen, prkeys = _primitives(rng, tables, blen, bkeys)
    first_protocol = pids[_starts(plen)]
    reports, reporters, clen, ckeys = _reports(
        rng, tables, (sessions, max_level, profile, first_protocol)
    )
    first, last, last_reported = _times(rng, now, sessions, reports)
    behavior, bcount = _split_ids(bkeys, "<u2")
    points = SEVERITY_POINTS[tables.level[behavior]] * (1.0 + 0.25 * np.log1p(bcount))
    owner = np.repeat(np.arange(n), blen)
    raw = evidence_score(
        sessions,
        plen,
        np.bincount(owner, weights=points, minlength=n),
        max_level,
        reports,
        reporters,
    )
    primitive, prcount = _split_ids(prkeys, "<u2")
    category, ccount = _split_ids(ckeys, "u1")
    return _Part(
        scalars={
            "score": np.rint(raw * _DISCOUNTS[benign]).astype(np.uint8),
            "raw_score": raw,
            "first_seen": first.astype(np.uint32),
            "last_seen": last.astype(np.uint32),
            "sessions": sessions.astype(np.uint32),
            "events": np.add.reduceat(pevents, _starts(plen)).astype(np.uint32),
            "reports": reports.astype(np.uint32),
            "reporters": reporters.astype(np.uint32),
            "last_reported": last_reported.astype(np.uint32),
            "benign_source": benign,
        },
        ragged={
            "protocols": (
                plen,
                pids,
                {
                    "sessions": psessions.astype(np.uint32),
                    "events": pevents.astype(np.uint32),
                },
            ),
            "behaviors": (blen, behavior, {"count": bcount}),
            "primitives": (prlen, primitive, {"count": prcount}),
            "categories": (clen, category, {"count": ccount}),
        },
    )


# -- assembly ------------------------------------------------------------------

_SCALAR_TYPES = {
    "score": np.uint8,
    "raw_score": np.uint8,
    "first_seen": np.uint32,
    "last_seen": np.uint32,
    "sessions": np.uint32,
    "events": np.uint32,
    "reports": np.uint32,
    "reporters": np.uint32,
    "last_reported": np.uint32,
    "benign_source": np.uint8,
}
_RAGGED_TYPES = {
    "protocols": ("u1", ("sessions", "events")),
    "behaviors": ("<u2", ("count",)),
    "primitives": ("<u2", ("count",)),
    "categories": ("u1", ("count",)),
}


def _concat(arrays: list[np.ndarray], dtype: Any) -> np.ndarray:
    """Concatenate and empty the list (to free each chunk as soon as possible)."""
    out = (
        np.concatenate(arrays).astype(dtype, copy=False)
        if arrays
        else np.zeros(0, dtype)
    )
    arrays.clear()
    return out


def _ragged(parts: list[_Part], name: str) -> Ragged:
    """Join one ragged column of every chunk."""
    id_type, value_names = _RAGGED_TYPES[name]
    pieces = [part.ragged.pop(name) for part in parts]
    lengths = _concat([p[0] for p in pieces], np.uint8)
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Ragged(
        offsets,
        _concat([p[1] for p in pieces], id_type),
        {v: _concat([p[2][v] for p in pieces], np.uint32) for v in value_names},
    )


def _assemble(
    parts: list[_Part], ip: np.ndarray, net: np.ndarray, world: _World, catalog: Catalog
) -> RecordTable:
    """Join the chunks with the addresses and the network columns."""
    scalars: dict[str, Any] = {
        name: _concat([part.scalars.pop(name) for part in parts], dtype)
        for name, dtype in _SCALAR_TYPES.items()
    }
    ragged: dict[str, Any] = {name: _ragged(parts, name) for name in _RAGGED_TYPES}
    used = np.unique(net)
    return RecordTable(
        ip=ip,
        country=world.country[net],
        asn=world.asn[net],
        **scalars,
        **ragged,
        asn_orgs={int(world.asn[i]): world.org[i] for i in used.tolist()},
        catalog=catalog.to_snapshot(),
        benign_sources=[
            {"name": s.name, "discount": s.discount} for s in _BENIGN_SOURCES
        ],
    )


def _chunks(n: int) -> Iterator[tuple[int, int, int]]:
    """Yield (index, start, stop) of each chunk of ``n`` rows."""
    for index, start in enumerate(range(0, n, CHUNK)):
        yield index, start, min(n, start + CHUNK)


def generate(
    n: int,
    seed: int = 1,
    now: int | None = None,
    ipv6_share: float = 0.1,
    catalog: Catalog | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RecordTable:
    """Return ``n`` realistic scored demo records.

    Args:
        n: number of distinct IPs.
        seed: the same seed (and other arguments) gives the same table.
        now: end of the 90-day evidence window (epoch seconds); default now.
        ipv6_share: fraction of IPv6 addresses (0-1).
        catalog: behaviors and primitives to draw from; default the shipped one.
        progress: called as ``progress(done, total)`` after each chunk of rows.

    Raises:
        ValueError: ``n`` is negative or ``ipv6_share`` is outside 0-1.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= ipv6_share <= 1.0:
        raise ValueError(f"ipv6_share must be within 0-1, got {ipv6_share}")
    now = int(time.time()) if now is None else int(now)
    catalog = load_catalog() if catalog is None else catalog
    report = progress or (lambda done, total: None)
    report(0, n)
    world = _build_world(seed)
    rng = np.random.default_rng([seed, 1])
    n6 = round(n * ipv6_share)
    net4, addr4 = _place_v4(world, _counts(world, n - n6, world.weight, rng, True), rng)
    v6_weight = world.weight * np.where(world.kind == _ISP, 1.0, 2.0)
    net6, high6, low6 = _place_v6(world, _counts(world, n6, v6_weight, rng, False), rng)
    net = np.concatenate([net4, net6])
    ip = _ip16(addr4, high6, low6)
    del addr4, high6, low6
    tables = _tables(catalog)
    parts = []
    for index, start, stop in _chunks(n):
        rows = net[start:stop]
        parts.append(
            _chunk(seed, index, world.kind[rows], world.benign[rows], tables, now)
        )
        report(stop, n)
    return _assemble(parts, ip, net, world, catalog)
