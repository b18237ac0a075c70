"""Check real responses against the served OpenAPI document.

``Contract(app)`` finds the operation a request was routed to (Falcon's own
router), then checks that the answer's status is one the document lists for
it, that its media type (parameters included, when the document names them)
is listed, that a JSON body (``application/json`` or any ``+json`` type)
validates against the listed schema (jsonschema, draft 2020-12, formats
checked) and that declared headers parse. Every error, routed or not, must be
the one error shape. It remembers which operations answered with a success
(or, for an operation the document marks ``x-refused``, with that refusal),
so a scenario can insist that every operation was exercised.
"""

from typing import Any
from urllib.parse import quote, unquote

import falcon
import falcon.testing
import orjson
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from sikker.server.openapi import build

_URN = "urn:sikker:openapi"
_HEADER_TYPES = {"integer": int, "string": str}


def _pointer(*parts: str) -> str:
    escaped = (p.replace("~", "~0").replace("/", "~1") for p in parts)
    return quote("/" + "/".join(escaped), safe="/~")


class Contract:
    """The document of one app, and the operations seen answering."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.spec = build(app.config)
        self.registry = Registry().with_resource(
            _URN, DRAFT202012.create_resource(self.spec)
        )
        self.succeeded: set[tuple[str, str]] = set()
        self.statuses: set[tuple[str, str, int]] = set()
        self.undocumented: set[str] = set()

    def operations(self) -> set[tuple[str, str]]:
        """Return every (METHOD, path template) the document describes."""
        return {
            (method.upper(), path)
            for path, item in self.spec["paths"].items()
            for method in item
            if method in {"get", "post", "put", "patch", "delete"}
        }

    def operation(self, method: str, template: str) -> dict[str, Any]:
        """Return the operation object of a route ({} when undocumented)."""
        return self.spec["paths"].get(template, {}).get(method.lower(), {})

    def validator(self, *parts: str) -> Draft202012Validator:
        """Return a validator for the schema at ``parts`` of the document."""
        return Draft202012Validator(
            {"$ref": f"{_URN}#{_pointer(*parts)}"},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def template(self, path: str) -> str | None:
        """Return the route template Falcon sends ``path`` to, if any."""
        path = unquote(path.split("?", 1)[0])
        if len(path) > 1:
            path = path.rstrip("/")
        found = self.app._router.find(path)
        return found[3] if found else None

    def check(self, method: str, path: str, result: falcon.testing.Result) -> None:
        """Assert that one real answer is what the document promises."""
        status = result.status_code
        assert status < 500 or status == 503, (
            f"{method} {path}: {status} {result.text[:300]}"
        )
        if status >= 400 and method != "HEAD":  # HEAD answers carry no body
            self.check_error(result)
        template = self.template(path)
        if template is None:
            assert status == 404, f"{method} {path}: unrouted but {status}"
            return
        if template not in self.spec["paths"]:  # test_openapi names it
            self.undocumented.add(template)
            return
        operation = self.spec["paths"][template].get(method.lower())
        if operation is None:  # Falcon's own 405 and OPTIONS answers
            assert status in (405, 200) and method in {*falcon.HTTP_METHODS}, status
            if status == 405:
                assert result.headers.get("Allow"), "405 without Allow"
            return
        documented = operation["responses"]
        assert str(status) in documented, (
            f"{method} {template} answered {status}, which the document does not "
            f"list ({', '.join(documented)}): {result.text[:300]}"
        )
        self.statuses.add((method, template, status))
        # A redirect (303 See Other) is how a web form post succeeds.
        if 200 <= status < 400 or str(status) == operation.get("x-refused"):
            self.succeeded.add((method, template))
        self._check_body(method.lower(), template, str(status), result)
        self._check_headers(documented[str(status)], result)

    def check_error(self, result: falcon.testing.Result) -> None:
        """Assert that an error answer is the one error shape (TAXII's own
        error message under ``/taxii2/``)."""
        assert "Traceback" not in result.text
        media = result.headers.get("Content-Type", "")
        body = orjson.loads(result.content)
        if media.startswith("application/taxii+json"):
            assert isinstance(body.get("title"), str), body
            assert body.get("http_status") == str(result.status_code), body
            return
        assert media.startswith("application/json"), media
        errors = [
            e.message for e in self.validator("components", "schemas", "Error")
            .iter_errors(body)
        ]  # fmt: skip
        assert not errors, (errors, body)
        assert body["status"] == result.status_code

    def _check_body(
        self, method: str, template: str, status: str, result: falcon.testing.Result
    ) -> None:
        described = self.spec["paths"][template][method]["responses"][status]
        content = described.get("content")
        if not content:
            return
        full = result.headers.get("Content-Type", "").replace(" ", "").lower()
        media = full.split(";")[0]
        listed = next(
            (k for k in content if k.replace(" ", "").lower() in (full, media)), None
        )
        assert listed, f"{template} {status}: {full} not in {list(content)}"
        if not (media == "application/json" or media.endswith("+json")):
            return
        validator = self.validator(
            "paths", template, method, "responses", status, "content", listed,
            "schema",
        )  # fmt: skip
        body = orjson.loads(result.content)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in
                  validator.iter_errors(body)]  # fmt: skip
        assert not errors, f"{method.upper()} {template} {status}: {errors[:5]}"

    def _check_headers(
        self, described: dict[str, Any], result: falcon.testing.Result
    ) -> None:
        for name, header in described.get("headers", {}).items():
            if "$ref" in header:
                header = self.spec["components"]["headers"][
                    header["$ref"].split("/")[-1]
                ]
            value = result.headers.get(name)
            if value is None:
                assert not header.get("required"), f"header {name} missing"
                continue
            kind = _HEADER_TYPES.get(header["schema"].get("type"), str)
            kind(value)  # parses as described (int("x") raises)
