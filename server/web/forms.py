"""Read the fields of a posted web form, strictly.

A form is ``application/x-www-form-urlencoded`` (or, where a file may be
uploaded, ``multipart/form-data``) UTF-8 text in which every field is
known, given once and no longer than its cap. Anything else is refused
before a handler sees it: another media type is a 415, a malformed body or
field a 400 naming it (:class:`~sikker.errors.InvalidFormError`).
"""

import io
from collections.abc import Mapping
from urllib.parse import parse_qsl

import falcon
from falcon.media import MultipartFormHandler

from sikker.errors import InvalidFormError
from sikker.server.body import media_type, read_body
from sikker.server.web.csrf import FIELD, TOKEN_CHARS

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
#: Largest form body without a file (bytes).
MAX_FORM = 64 * 1024


class Form:
    """The text fields and uploaded files of one posted form."""

    def __init__(self, fields: dict[str, str], files: dict[str, bytes]) -> None:
        self.fields = fields
        self.files = files

    def get(self, name: str, default: str = "") -> str:
        """Return a text field, stripped, or ``default`` when absent."""
        return self.fields.get(name, default).strip()

    def require(self, name: str, what: str = "is required") -> str:
        """Return a non-blank text field, or raise InvalidFormError."""
        value = self.get(name)
        if not value:
            raise InvalidFormError(name, what)
        return value


def read_form(
    req: falcon.Request,
    fields: Mapping[str, int],
    files: Mapping[str, int] | None = None,
    cap: int = MAX_FORM,
) -> Form:
    """Return the form posted with ``req``.

    Args:
        req: The request.
        fields: Text field names and the most characters each may hold
            (the CSRF field is always allowed).
        files: File field names and the most bytes each may hold; a form
            with files may be multipart.
        cap: The most bytes the whole body may hold (413 beyond).

    Raises:
        falcon.HTTPUnsupportedMediaType: not a form.
        InvalidFormError: malformed, an unknown, repeated or too long field.
    """
    allowed = {**fields, FIELD: TOKEN_CHARS}
    kind = media_type(req)
    if kind == URLENCODED:
        body = read_body(req, cap, "the form size limit")
        return Form(_urlencoded(body, allowed), {})
    if kind == MULTIPART and files:
        body = read_body(req, cap, "the form size limit")
        return _multipart(req, body, allowed, files)
    accepted = URLENCODED + (f" or {MULTIPART}" if files else "")
    raise falcon.HTTPUnsupportedMediaType(
        title="unsupported media type",
        description=f"Content-Type {kind!r} is not accepted; post the form as "
        f"{accepted}",
    )


def _urlencoded(body: bytes, allowed: Mapping[str, int]) -> dict[str, str]:
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=len(allowed) + 1,
        )
    except UnicodeDecodeError:
        raise InvalidFormError("body", "is not UTF-8 form data") from None
    except ValueError as ex:
        raise InvalidFormError("body", f"is not form data: {str(ex)[:80]}") from None
    out: dict[str, str] = {}
    for name, value in pairs:
        _add(out, name, value, allowed)
    return out


def _add(
    out: dict[str, str], name: str, value: str, allowed: Mapping[str, int]
) -> None:
    shown = name[:40]
    if name not in allowed:
        raise InvalidFormError(shown or "body", "is not a field of this form")
    if name in out:
        raise InvalidFormError(shown, "is given more than once")
    if len(value) > allowed[name]:
        raise InvalidFormError(shown, f"is longer than {allowed[name]} characters")
    out[name] = value


def _multipart(
    req: falcon.Request,
    body: bytes,
    allowed: Mapping[str, int],
    files: Mapping[str, int],
) -> Form:
    form = MultipartFormHandler().deserialize(
        io.BytesIO(body), req.content_type, len(body)
    )
    fields: dict[str, str] = {}
    uploads: dict[str, bytes] = {}
    for part in form:
        name = part.name or ""
        if name in files:
            if name in uploads:
                raise InvalidFormError(name[:40], "is given more than once")
            data = part.stream.read(files[name] + 1)
            if len(data) > files[name]:
                raise falcon.HTTPContentTooLarge(
                    title="payload too large",
                    description=f"the file {name} is larger than {files[name]} "
                    "bytes; split it into smaller files",
                )
            if part.filename or data:
                uploads[name] = data
            continue
        raw = part.stream.read(allowed.get(name, 0) * 4 + 1)
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidFormError(name[:40] or "body", "is not UTF-8") from None
        _add(fields, name, value, allowed)
    return Form(fields, uploads)
