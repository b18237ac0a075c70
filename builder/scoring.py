"""The confidence model, as the builder uses it (see :mod:`sikker.core.scoring`).

The model itself lives in ``sikker.core`` so that the server can explain a
stored score too; this module is the builder's name for it.
"""

from sikker.core.scoring import (
    COMPONENTS,
    CRITICAL_FLOOR,
    Evidence,
    components,
    explain,
    raw_scores,
)

__all__ = [
    "COMPONENTS",
    "CRITICAL_FLOOR",
    "Evidence",
    "components",
    "explain",
    "raw_scores",
]
