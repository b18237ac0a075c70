"""Placing demo IPs into the world: IPv4 and IPv6 addresses per network.

:func:`place_addresses` spreads IPs over the networks of a
:class:`~sikker.builder.demo_world.World` by weight: hosting addresses packed in
dense /24s (and shared /64s), ISP addresses scattered, known-benign scanners in
their own /24s, public unicast only and each address distinct.
"""

from typing import NamedTuple

import numpy as np

from sikker.builder.demo_world import (
    BENIGN,
    BENIGN_SOURCES,
    CLOUD,
    HOSTING,
    ISP,
    RIRS,
    World,
    octet_ranges,
    prefix_ranges,
)

#: IANA IPv4 /8 allocations per registry; unlisted public /8s count as ARIN (legacy).
_RIR_V4_OCTETS = {
    "ripe": "2 5 31 37 46 62 77-95 109 141 145 151 176 178 185 188 193-195 212 213 217",
    "apnic": "1 14 27 36 39 42 43 49 58-61 101 103 106 110-126 133 150 153 163 171 175 "
    "180 182 183 202 203 210 211 218-223",
    "lacnic": "177 179 181 186 187 189-191 200 201",
    "afrinic": "41 102 105 154 196 197",
}
#: A /12 of IPv6 per registry (first 12 bits).
_RIR_V6 = {
    "ripe": 0x2A0,
    "arin": 0x260,
    "apnic": 0x240,
    "lacnic": 0x280,
    "afrinic": 0x2C0,
}
#: Non-public IPv4 space, as /16 ranges "a.b-c" (blocks smaller than /16 exclude
#: their whole /16); first octets 0, 10, 127 and 224+ are excluded separately.
_EXCLUDED_V4 = (
    "100.64-127 169.254 172.16-31 192.0 192.88 192.168 198.18-19 198.51 203.0"
)

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
    world: World, n: int, weight: np.ndarray, rng: np.random.Generator, benign: bool
) -> np.ndarray:
    """Return how many of ``n`` IPs each network gets (benign scanners capped)."""
    counts = np.zeros(len(weight), np.int64)
    if benign:
        for net in np.flatnonzero(world.kind == BENIGN).tolist():
            source = BENIGN_SOURCES[world.benign[net] - 1]
            capacity = len(world.known_v4[net]) * _HOSTS
            counts[net] = min(capacity, round(n * source.share))
    counts += rng.multinomial(n - counts.sum(), weight / weight.sum())
    return counts


def _free_slash16s(world: World, rng: np.random.Generator) -> list[np.ndarray]:
    """Return, per registry, its shuffled public /16s that no known network holds."""
    first = np.repeat(np.arange(256), 256)
    prefix = np.arange(1 << 16)
    public = (first > 0) & (first < 224) & (first != 10) & (first != 127)
    public[prefix_ranges(_EXCLUDED_V4)] = False
    for known, kind in zip(world.known_v4, world.kind.tolist(), strict=True):
        public[known >> 8 if kind == BENIGN else known] = False
    owner = np.full(256, RIRS.index("arin"))
    for rir, spec in _RIR_V4_OCTETS.items():
        owner[octet_ranges(spec)] = RIRS.index(rir)
    pools = [prefix[public & (owner[first] == rir)] for rir in range(len(RIRS))]
    return [pool[rng.permutation(len(pool))] for pool in pools]


def _allocate(
    world: World, need: np.ndarray, rng: np.random.Generator
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


def _layout_v4(world: World, counts: np.ndarray, rng: np.random.Generator) -> _Layout:
    """Choose /24 fill and /16 prefixes for ``counts`` IPv4 addresses per network."""
    size = len(counts)
    hosting = world.kind == HOSTING
    fill = np.where(
        hosting,
        np.clip(rng.lognormal(3.4, 0.7, size), 8, _HOSTS),
        np.clip(rng.lognormal(1.2, 0.5, size), 2, 10),
    ).astype(np.int64)
    dense_need = _ceil_div(_ceil_div(counts, fill), 128)  # 128 /24s used per /16
    need = np.where(world.kind == ISP, _ceil_div(counts, _ISP_DENSITY), dense_need)
    need[world.kind == BENIGN] = 0
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


def _benign_v4(rank: np.ndarray, net: np.ndarray, world: World) -> np.ndarray:
    """Fill the scanner's own /24s host by host."""
    out = np.empty(len(rank), np.int64)
    for index in np.unique(net).tolist():
        sel = net == index
        blocks = world.known_v4[index]
        out[sel] = blocks[rank[sel] // _HOSTS] << 8 | (1 + rank[sel] % _HOSTS)
    return out


def _place_v4(
    world: World, counts: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return (network, IPv4 address) of ``counts`` IPs per network."""
    lay = _layout_v4(world, counts, rng)
    net, rank = _ranks(counts)
    kind = world.kind[net]
    addr = np.empty(len(net), np.int64)
    isp = kind == ISP
    addr[isp] = _isp_v4(rank[isp], net[isp], lay)
    dense = (kind == HOSTING) | (kind == CLOUD)
    addr[dense] = _dense_v4(rank[dense], net[dense], lay)
    benign = kind == BENIGN
    addr[benign] = _benign_v4(rank[benign], net[benign], world)
    return net, addr.astype(np.uint32)


def _v6_bases(world: World, used: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return a distinct /32 (top 32 bits) for each network with IPv6 addresses."""
    bases = world.known_v6.copy()
    taken = set(bases[bases > 0].tolist())
    regions = np.array([_RIR_V6[r] for r in RIRS], np.uint64)
    for net in np.flatnonzero(used & (bases == 0)).tolist():
        base = int(regions[world.rir[net]]) << 20 | int(rng.integers(1, 1 << 20))
        while base in taken:
            base = int(regions[world.rir[net]]) << 20 | int(rng.integers(1, 1 << 20))
        taken.add(base)
        bases[net] = base
    return bases


def _place_v6(
    world: World, counts: np.ndarray, rng: np.random.Generator
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
    dense = world.kind[net] != ISP
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


def place_addresses(
    world: World, n: int, ipv6_share: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return (network, (N, 16) address) of ``n`` IPs, ``ipv6_share`` of them IPv6."""
    rng = np.random.default_rng([seed, 1])
    n6 = round(n * ipv6_share)
    net4, addr4 = _place_v4(world, _counts(world, n - n6, world.weight, rng, True), rng)
    v6_weight = world.weight * np.where(world.kind == ISP, 1.0, 2.0)
    net6, high6, low6 = _place_v6(world, _counts(world, n6, v6_weight, rng, False), rng)
    return np.concatenate([net4, net6]), _ip16(addr4, high6, low6)
