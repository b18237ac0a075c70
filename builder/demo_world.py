"""The demo world: countries, registries and the networks that hold the IPs.

:func:`build_world` lays out, for a seed, a Zipf-like country mix, each country's
registry (RIR), the well-known ASNs with their real names and some of their real
prefixes, a few thousand generated ISPs and hosting companies with made-up names,
and the known-benign scanners with their own /24s. :mod:`.demo_addresses` places
IPs into it.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sikker.core.vocab import countries

#: Network kinds (``World.kind``).
ISP, HOSTING, CLOUD, BENIGN = range(4)

#: Countries in decreasing order of attack traffic; the rest follow in a long tail.
_HEAD_COUNTRIES = (
    "CN US RU BR IN VN KR DE NL ID TW FR GB SG HK UA IR TH JP TR AR MX CA IT PK BD "
    "EG PH MY PL ES CO ZA RO BG SE SC PA LT VE CL EC PE KZ NG MA TN DZ KE AU CZ HU "
    "GR PT BE CH AT IL SA AE FI IE NO DK"
)
_UNINHABITED = {"AQ", "BV", "HM", "UM", "TF", "GS", "IO", "PN"}
_GENERATED_NETWORKS = 3000

#: Regional internet registries (``World.rir`` indexes them).
RIRS = ("ripe", "arin", "apnic", "lacnic", "afrinic")
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
#: The 32-bit ASN blocks each registry assigns.
_RIR_ASNS = {
    "ripe": (196_608, 216_475),
    "arin": (393_216, 401_308),
    "apnic": (131_072, 141_625),
    "lacnic": (262_144, 273_820),
    "afrinic": (327_680, 329_727),
}


class _Real(NamedTuple):
    """A well-known network: ASN, registry name, kind, country shares, prefixes."""

    asn: int
    org: str
    kind: int
    shares: str  # "CC:share ...": share of each country's IPs
    v4: str = ""  # /16 ranges "a.b a.b-c ..."
    v6: int = 0  # a /32 it announces (top 32 bits)


_REAL: tuple[_Real, ...] = (
    _Real(4134, "CHINANET-BACKBONE", ISP, "CN:0.30", v6=0x240E0000),
    _Real(4837, "CHINA UNICOM China169 Backbone", ISP, "CN:0.16", v6=0x24088000),
    _Real(9808, "China Mobile Communications Group", ISP, "CN:0.06"),
    _Real(4808, "China Unicom Beijing Province Network", ISP, "CN:0.03"),
    _Real(
        37963,
        "Hangzhou Alibaba Advertising Co.,Ltd.",
        CLOUD,
        "CN:0.07",
        "47.92-123 39.96-108 120.24-27 121.40-43 139.224 101.132-133 106.14-15 "
        "112.124 114.55 115.28-29 118.31 182.92",
    ),
    _Real(
        45090,
        "Shenzhen Tencent Computer Systems Company Limited",
        CLOUD,
        "CN:0.04",
        "1.12-15 42.192-194 81.68-71 82.156-157 110.40-43 111.229-231 118.24-25 "
        "122.51 123.206-207 134.175 152.136 175.24-27 182.254 193.112 211.159",
    ),
    _Real(
        132203,
        "TENCENT-NET-AP-CN Tencent Building, Kejizhongyi Avenue",
        CLOUD,
        "CN:0.04 HK:0.08 SG:0.05 KR:0.03 JP:0.02 DE:0.01",
        "43.128-159 49.51 101.32-33 119.28-29 124.156 129.204 129.211 150.109 "
        "162.14 162.62 170.106",
        0x24024E00,
    ),
    _Real(
        45102,
        "Alibaba US Technology Co., Ltd.",
        CLOUD,
        "SG:0.06 HK:0.06 US:0.015 JP:0.03 DE:0.02",
        "47.74-91 47.236-254 8.208-222 149.129 161.117",
        0x2401B180,
    ),
    _Real(
        16509,
        "AMAZON-02",
        CLOUD,
        "US:0.06 DE:0.04 SG:0.05 JP:0.05 IN:0.03 KR:0.03 "
        "GB:0.03 FR:0.03 BR:0.03 HK:0.03 ID:0.02 CA:0.03",
        "3.80-95 13.52-59 18.130-163 44.192-223 54.64-72 54.144-169",
        0x26001F18,
    ),
    _Real(14618, "AMAZON-AES", CLOUD, "US:0.03", "52.0-9 34.192-207"),
    _Real(
        396982,
        "GOOGLE-CLOUD-PLATFORM",
        CLOUD,
        "US:0.04 NL:0.03 TW:0.03 SG:0.03 JP:0.02 "
        "DE:0.02 GB:0.02 IN:0.02 BR:0.02 HK:0.02 BE:0.2",
        "34.64-127 35.184-247",
        0x26001900,
    ),
    _Real(
        8075,
        "MICROSOFT-CORP-MSN-AS-BLOCK",
        CLOUD,
        "US:0.04 NL:0.03 IE:0.2 SG:0.03 JP:0.02 "
        "KR:0.02 IN:0.02 GB:0.02 BR:0.02 FR:0.02 HK:0.02",
        "20.36-63 40.74-76 40.78-79 13.64-95",
    ),
    _Real(
        14061,
        "DIGITALOCEAN-ASN",
        HOSTING,
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
        HOSTING,
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
        HOSTING,
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
        HOSTING,
        "US:0.03 DE:0.02 GB:0.02 SG:0.03 JP:0.02 IN:0.02",
        "45.33 45.56 45.79 50.116 139.162 172.104-105 173.255 178.79 96.126 69.164 "
        "74.207 66.175 97.107 23.239 170.187 143.42 194.195 212.71",
        0x26003C00,
    ),
    _Real(
        51167,
        "Contabo GmbH",
        HOSTING,
        "DE:0.06 US:0.01 SG:0.02 GB:0.01",
        "161.97 164.68 173.212 167.86 207.180 62.171 5.189 144.91 173.249 75.119 "
        "84.247 194.163",
        0x2A02C207,
    ),
    _Real(
        9009,
        "M247 Europe SRL",
        HOSTING,
        "RO:0.15 GB:0.03 NL:0.02 US:0.01 DE:0.01 FR:0.01",
        "37.120 146.70 217.138",
    ),
    _Real(
        36352,
        "AS-COLOCROSSING",
        HOSTING,
        "US:0.04",
        "107.172-175 192.3 198.23 198.46 23.94-95 172.245 192.227 104.168",
    ),
    _Real(
        60781,
        "LeaseWeb Netherlands B.V.",
        HOSTING,
        "NL:0.08",
        "5.79 37.48 46.165 85.17 95.211 212.32 178.162",
    ),
    _Real(202425, "IP Volume inc", HOSTING, "NL:0.05 SC:0.3"),
    _Real(49981, "WorldStream B.V.", HOSTING, "NL:0.05"),
    _Real(47890, "UNMANAGED LTD", HOSTING, "GB:0.03 DE:0.01"),
    _Real(210644, "AEZA GROUP LLC", HOSTING, "RU:0.02 DE:0.01"),
    _Real(49505, "JSC Selectel", HOSTING, "RU:0.04"),
    _Real(135377, "UCLOUD INFORMATION TECHNOLOGY (HK) LIMITED", HOSTING, "HK:0.1"),
    _Real(9371, "SAKURA Internet Inc.", HOSTING, "JP:0.04"),
    _Real(12389, "PJSC Rostelecom", ISP, "RU:0.25"),
    _Real(8359, "MTS PJSC", ISP, "RU:0.08"),
    _Real(31133, "PJSC MegaFon", ISP, "RU:0.06"),
    _Real(28573, "Claro NXT Telecomunicacoes Ltda", ISP, "BR:0.18"),
    _Real(18881, "TELEFONICA BRASIL S.A", ISP, "BR:0.12"),
    _Real(45899, "VNPT Corp", ISP, "VN:0.30"),
    _Real(7552, "Viettel Group", ISP, "VN:0.25"),
    _Real(18403, "FPT Telecom Company", ISP, "VN:0.15"),
    _Real(4766, "Korea Telecom", ISP, "KR:0.35"),
    _Real(9318, "SK Broadband Co Ltd", ISP, "KR:0.20"),
    _Real(3786, "LG DACOM Corporation", ISP, "KR:0.10"),
    _Real(9829, "National Internet Backbone", ISP, "IN:0.15"),
    _Real(55836, "Reliance Jio Infocomm Limited", ISP, "IN:0.20", v6=0x24094000),
    _Real(45609, "Bharti Airtel Ltd. AS for GPRS Service", ISP, "IN:0.12"),
    _Real(24560, "Bharti Airtel Ltd., Telemedia Services", ISP, "IN:0.06"),
    _Real(3320, "Deutsche Telekom AG", ISP, "DE:0.12", v6=0x20030000),
    _Real(3209, "Vodafone GmbH", ISP, "DE:0.05"),
    _Real(7922, "COMCAST-7922", ISP, "US:0.08", v6=0x26010000),
    _Real(7018, "ATT-INTERNET4", ISP, "US:0.05"),
    _Real(701, "UUNET", ISP, "US:0.03"),
    _Real(20115, "CHARTER-20115", ISP, "US:0.03"),
    _Real(17974, "PT Telekomunikasi Indonesia", ISP, "ID:0.35"),
    _Real(3462, "Data Communication Business Group", ISP, "TW:0.45"),
    _Real(3215, "Orange S.A.", ISP, "FR:0.12"),
    _Real(12322, "Free SAS", ISP, "FR:0.08"),
    _Real(2856, "British Telecommunications PLC", ISP, "GB:0.15"),
    _Real(5089, "Virgin Media Limited", ISP, "GB:0.06"),
    _Real(4760, "HKT Limited", ISP, "HK:0.20"),
    _Real(9381, "HKBN Enterprise Solutions HK Limited", ISP, "HK:0.08"),
    _Real(9506, "Singtel Fibre Broadband", ISP, "SG:0.08"),
    _Real(15895, "Kyivstar PJSC", ISP, "UA:0.15"),
    _Real(6849, "PJSC Ukrtelecom", ISP, "UA:0.12"),
    _Real(58224, "Iran Telecommunication Company PJS", ISP, "IR:0.35"),
    _Real(197207, "Mobile Communication Company of Iran PLC", ISP, "IR:0.20"),
    _Real(23969, "TOT Public Company Limited", ISP, "TH:0.15"),
    _Real(45758, "Triple T Broadband Public Company Limited", ISP, "TH:0.15"),
    _Real(1136, "KPN B.V.", ISP, "NL:0.08"),
    _Real(4713, "NTT Communications Corporation", ISP, "JP:0.20"),
    _Real(2516, "KDDI CORPORATION", ISP, "JP:0.10"),
    _Real(9121, "Turk Telekom", ISP, "TR:0.30"),
    _Real(7303, "Telecom Argentina S.A.", ISP, "AR:0.30"),
    _Real(8151, "UNINET", ISP, "MX:0.35"),
    _Real(577, "BACOM", ISP, "CA:0.15"),
    _Real(3269, "Telecom Italia S.p.A.", ISP, "IT:0.25"),
    _Real(17557, "Pakistan Telecommunication Company Limited", ISP, "PK:0.40"),
    _Real(8452, "TE-AS", ISP, "EG:0.35"),
    _Real(9299, "Philippine Long Distance Telephone Company", ISP, "PH:0.30"),
    _Real(4788, "TM TECHNOLOGY SERVICES SDN BHD", ISP, "MY:0.30"),
    _Real(5617, "Orange Polska Spolka Akcyjna", ISP, "PL:0.20"),
    _Real(3352, "TELEFONICA_DE_ESPANA", ISP, "ES:0.25"),
)


class _Benign(NamedTuple):
    """A known-benign scanner: discount, operator network and its /24 blocks."""

    name: str
    discount: float
    asn: int
    org: str
    share: float  # of all IPs, before the block capacity caps it
    blocks: str  # "a.b.c" /24s, "a.b.c-d" ranges


BENIGN_SOURCES: tuple[_Benign, ...] = (
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
    ISP: "Telecom,Broadband,Communications,Internet,Fiber,Cable,Mobile,Networks",
    HOSTING: "Hosting,Cloud,Datacenter,Servers,VPS,IT Solutions,Networks,Data",
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
    benign: int = 0  # 1-based index into BENIGN_SOURCES


@dataclass
class World:
    """Every network as columns (index = network id)."""

    asn: np.ndarray  # uint32
    org: list[str]
    country: np.ndarray  # S2
    kind: np.ndarray  # uint8: ISP, HOSTING, CLOUD, BENIGN
    benign: np.ndarray  # uint8
    weight: np.ndarray  # float64, sums to 1 (0 for benign sources)
    rir: np.ndarray  # uint8 index into RIRS
    known_v4: list[np.ndarray]
    known_v6: np.ndarray  # uint64


def octet_ranges(spec: str) -> list[int]:
    """Expand "a b-c" into integers."""
    values: list[int] = []
    for part in spec.split():
        lo, _, hi = part.partition("-")
        values.extend(range(int(lo), int(hi or lo) + 1))
    return values


def prefix_ranges(spec: str) -> np.ndarray:
    """Expand dotted ranges ("35.184-247", "66.249.64-95") into prefix integers."""
    values: list[int] = []
    for part in spec.split():
        *head, last = part.split(".")
        base = 0
        for octet in head:
            base = base << 8 | int(octet)
        values.extend(base << 8 | v for v in octet_ranges(last))
    return np.array(values, np.int64)


def weights(spec: str) -> dict[str, float]:
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
    code: RIRS.index(rir)
    for rir, members in _RIR_COUNTRIES.items()
    for code in members.split()
}


def _rir_of(code: str) -> int:
    """Return the registry index of a country (RIPE unless listed)."""
    return _RIR_BY_COUNTRY.get(code, RIRS.index("ripe"))


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
        prefixes = prefix_ranges(real.v4)
        shares = weights(real.shares)
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
        for code, part in weights(real.shares).items():
            real_share[code] = real_share.get(code, 0.0) + part
    root = np.sqrt(np.array(list(share.values())))
    per_country = np.maximum(2, np.round(_GENERATED_NETWORKS * root / root.sum()))
    taken = {r.asn for r in _REAL} | {b.asn for b in BENIGN_SOURCES}
    none = np.zeros(0, np.int64)
    nets = []
    for code, count in zip(share, per_country.astype(int).tolist(), strict=True):
        sizes = rng.lognormal(0.0, 1.3, count)
        sizes *= max(0.1, 1.0 - real_share.get(code, 0.0)) * share[code] / sizes.sum()
        kinds = np.where(rng.random(count) < 0.22, HOSTING, ISP).tolist()
        low, high = _RIR_ASNS[RIRS[_rir_of(code)]]
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
        _Net(s.asn, s.org, "US", BENIGN, 0.0, prefix_ranges(s.blocks), benign=i)
        for i, s in enumerate(BENIGN_SOURCES, 1)
    ]


def build_world(seed: int) -> World:
    """Lay out every network of the demo world for ``seed``."""
    rng = np.random.default_rng([seed, 0])
    share = _country_weights(rng)
    nets = _real_networks(share) + _generated_networks(rng, share) + _benign_networks()
    weight = np.array([net.weight for net in nets])
    return World(
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
