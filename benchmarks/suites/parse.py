"""Parse and render addresses: both IP core twins against the stdlib.

Parsing times ``pack_ip`` of each twin, ``ipaddress.ip_address`` and
``socket.inet_pton`` (family picked per address, as a caller would) over
the same list of realistic addresses: mostly public-looking IPv4, about 15%
compressed IPv6. Rendering times ``render_ips`` of IPv4 rows against
joining ``str(ipaddress.ip_address(...))`` of each row. Every figure is the
best of 3 runs; ratios are ``baseline / ours``.
"""

import ipaddress
import random
import socket
from collections.abc import Callable, Sequence
from types import ModuleType

import numpy as np

from benchmarks.timing import best_of
from sikker.core import ipcore_py
from sikker.core.twins import compiled

SEED = 20260523
REPEATS = 3
V6_SHARE = 0.15
# Where real IPv6 traffic comes from: a few big allocations, SLAAC-ish tails.
V6_PREFIXES = (0x2001_0DB8, 0x2A01_04F8, 0x2600_1F18, 0x2406_DA00, 0x2A03_2880)


def make_addresses(count: int, seed: int = SEED) -> list[str]:
    """Return ``count`` address strings, about 15% of them IPv6."""
    rnd = random.Random(seed)
    texts = []
    for _ in range(count):
        if rnd.random() >= V6_SHARE:
            # 1.0.0.0-223.255.255.255, the unicast space scanners come from
            value = rnd.randrange(0x01000000, 0xE0000000)
            texts.append(socket.inet_ntop(socket.AF_INET, value.to_bytes(4, "big")))
            continue
        high = rnd.choice(V6_PREFIXES) << 96 | rnd.getrandbits(32) << 64
        low = rnd.choice(
            (rnd.getrandbits(64), rnd.getrandbits(16), rnd.getrandbits(32))
        )
        packed = (high | low).to_bytes(16, "big")
        texts.append(socket.inet_ntop(socket.AF_INET6, packed))
    return texts


def best_ns(run: Callable[[], object], items: int) -> float:
    """Return the best of REPEATS timings of ``run`` in ns per item."""
    return best_of(run, REPEATS) / items * 1e9


def loop(func: Callable[[str], object], texts: Sequence[str]) -> Callable[[], None]:
    def run() -> None:
        for text in texts:
            func(text)

    return run


def inet_pton_loop(texts: Sequence[str]) -> Callable[[], None]:
    pton, v4, v6 = socket.inet_pton, socket.AF_INET, socket.AF_INET6

    def run() -> None:
        for text in texts:
            pton(v6 if ":" in text else v4, text)

    return run


def ipaddress_render(column: bytes, count: int) -> Callable[[], bytes]:
    def run() -> bytes:
        ip_address = ipaddress.ip_address
        lines = [
            str(ip_address(column[row * 16 + 12 : row * 16 + 16]))
            for row in range(count)
        ]
        return ("\n".join(lines) + "\n").encode()

    return run


def run(quick: bool, say: Callable[[str], None]) -> dict[str, float]:
    """Run the parse and render benchmarks; return the named figures."""
    count = 200_000 if quick else 1_000_000
    fast: ModuleType | None = compiled("ipcore")
    texts = make_addresses(count)
    v6 = sum(":" in text for text in texts)
    say(f"   {count:,} addresses ({v6 / count:.0%} IPv6), best of {REPEATS}")
    if fast is None:
        say("   compiled twin sikker.ext.ipcore is not built: Cython figures skipped")

    figures: dict[str, float] = {}
    cases: list[tuple[str, str, Callable[[], object]]] = []
    if fast is not None:
        cases.append(("parse_cython_ns", "cython pack_ip", loop(fast.pack_ip, texts)))
        cases.append(
            ("parse_ip_cython_ns", "cython parse_ip", loop(fast.parse_ip, texts))
        )
    cases += [
        ("parse_pure_ns", "pure pack_ip", loop(ipcore_py.pack_ip, texts)),
        (
            "parse_ipaddress_ns",
            "ipaddress.ip_address",
            loop(ipaddress.ip_address, texts),
        ),
        ("parse_inet_pton_ns", "socket.inet_pton", inet_pton_loop(texts)),
    ]
    for key, label, runner in cases:
        figures[key] = best_ns(runner, count)
        say(f"   parse   {label:<22} {figures[key]:9.1f} ns/address")
    if fast is not None:
        cython_ns = figures["parse_cython_ns"]
        figures["cython_vs_ipaddress"] = figures["parse_ipaddress_ns"] / cython_ns
        figures["cython_vs_inet_pton"] = figures["parse_inet_pton_ns"] / cython_ns
        figures["cython_vs_pure"] = figures["parse_pure_ns"] / cython_ns
        say(
            f"   parse   cython is {figures['cython_vs_ipaddress']:.1f}x ipaddress, "
            f"{figures['cython_vs_inet_pton']:.2f}x inet_pton, "
            f"{figures['cython_vs_pure']:.1f}x pure"
        )

    rnd = random.Random(SEED + 1)
    values = np.array([rnd.randrange(0x01000000, 0xE0000000) for _ in range(count)])
    keys = np.zeros((count, 16), dtype=np.uint8)
    keys[:, 10:12] = 0xFF
    keys[:, 12:] = values.astype(">u4").view(np.uint8).reshape(count, 4)
    column = keys.tobytes()
    rows = np.arange(count, dtype=np.uint32)
    baseline = ipaddress_render(column, count)
    if fast is not None:
        expected = baseline()
        if fast.render_ips(column, rows) != expected:
            raise RuntimeError("render_ips disagrees with the ipaddress baseline")
        figures["render_cython_ns"] = best_ns(
            lambda: fast.render_ips(column, rows), count
        )
        render_ns = figures["render_cython_ns"]
        say(f"   render  {'cython render_ips':<22} {render_ns:9.1f} ns/line")
    figures["render_ipaddress_ns"] = best_ns(baseline, count)
    ipaddress_ns = figures["render_ipaddress_ns"]
    say(f"   render  {'ipaddress + join':<22} {ipaddress_ns:9.1f} ns/line")
    if fast is not None:
        figures["render_vs_ipaddress"] = (
            figures["render_ipaddress_ns"] / figures["render_cython_ns"]
        )
        ratio = figures["render_vs_ipaddress"]
        say(f"   render  cython is {ratio:.0f}x ipaddress + join")
    return figures
