"""The 400 every operation with a path parameter may answer: a path not UTF-8.

See ``server/path_encoding.py``. The answer has the media type and schema of
the operation's own errors (its 404, else the one error shape).
"""

from typing import Any

from sikker.server.openapi.common import error

METHODS = ("get", "put", "post", "patch", "delete")
WHAT = "a path that is not UTF-8 once percent-decoded (`invalid_encoding`)"


def _bad_encoding(responses: dict[str, Any]) -> dict[str, Any]:
    """Return the operation's 400 that also names a path not UTF-8."""
    known = responses.get("400")
    if known is not None:
        if WHAT in known["description"]:
            return dict(known)
        return {**known, "description": f"{known['description']} Or {WHAT}."}
    description = f"{WHAT[0].upper()}{WHAT[1:]}."
    like = responses.get("404")
    if like is not None and "content" in like:
        return {"description": description, "content": like["content"]}
    return error(description)


def add_encoding_errors(paths: dict[str, Any]) -> None:
    """Give every operation whose path has a parameter that 400 (copies, so
    responses shared with other operations are left as they are)."""
    for template, item in paths.items():
        if "{" not in template:
            continue
        for method in METHODS:
            operation = item.get(method)
            if operation is not None:
                responses = dict(operation["responses"])
                responses["400"] = _bad_encoding(responses)
                item[method] = {**operation, "responses": responses}
