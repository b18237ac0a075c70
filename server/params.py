"""Query-parameter helpers shared by resources."""

import falcon

from sikker.errors import InvalidFilterError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def flag(req: falcon.Request, name: str, default: bool = False) -> bool:
    """Return a boolean query parameter, rejecting values that are neither."""
    value = req.get_param(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidFilterError(name, f"expected true or false, got {value!r}")


def single_params(req: falcon.Request) -> dict[str, str]:
    """Return query parameters, rejecting any given more than once."""
    out = {}
    for name, value in req.params.items():
        if isinstance(value, list):
            raise InvalidFilterError(
                name, "given more than once; use a comma-separated list"
            )
        out[name] = value
    return out
