"""Prometheus text exposition format (version 0.0.4), written by hand.

Small on purpose: metric families with ``# HELP`` and ``# TYPE`` lines and
samples with escaped label values; no client library, no registry.
"""

import math

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value: float) -> str:
    """Return a sample value as Prometheus writes it."""
    if isinstance(value, int):
        return str(value)
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value))


class Exposition:
    """Lines of one scrape, family by family."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        """Start a metric family (kind: counter, gauge or histogram)."""
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value: float, **labels: str) -> None:
        """Add one sample of the current family."""
        if labels:
            pairs = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            name = f"{name}{{{pairs}}}"
        self.lines.append(f"{name} {format_value(value)}")

    def text(self) -> str:
        """Return the whole exposition, newline-terminated."""
        return "\n".join(self.lines) + "\n"
