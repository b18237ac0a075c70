"""Requests that exercise every replication operation, for tests/test_openapi.py.

A replica token is made directly in the app's data directory; the steps
cover success, 304 (``If-None-Match``) and the documented refusals.
"""

import secrets
from typing import Any

from sikker.core.replica_tokens import ReplicaRegistry

Step = tuple[str, str, dict[str, Any], int]


def replica_scenario(app: Any) -> list[Step]:
    """Return (method, path, kwargs, status) steps for /v1/replica/..."""
    _, token = ReplicaRegistry(app.config.data_path).add(f"t{secrets.token_hex(4)}")
    auth = {"Authorization": f"Bearer {token}"}
    snapshot = app.store.current()
    generation = snapshot.path.name
    name, entry = sorted(snapshot.manifest.files.items())[0]
    files = f"/v1/replica/files/{generation}"
    return [
        ("GET", "/v1/replica/state", {"headers": auth}, 200),
        (
            "GET",
            "/v1/replica/state",
            {"headers": {**auth, "If-None-Match": "*"}},
            304,
        ),
        ("GET", "/v1/replica/state", {"headers": {"Authorization": "Bearer x"}}, 401),
        ("GET", "/v1/replica/state", {"headers": auth, "params": {"a": "1"}}, 400),
        ("GET", files, {"headers": auth, "params": {"path": name}}, 200),
        (
            "GET",
            files,
            {
                "headers": {**auth, "If-None-Match": f'"{entry["sha256"]}"'},
                "params": {"path": name},
            },
            304,
        ),
        ("GET", files, {"headers": auth, "params": {"path": "../secret"}}, 404),
        (
            "GET",
            "/v1/replica/files/x",
            {"headers": auth, "params": {"path": name}},
            404,
        ),
        ("GET", files, {"headers": auth}, 400),
        ("GET", files, {"params": {"path": name}}, 401),
        ("GET", "/v1/replica/accounts", {"headers": auth}, 200),
        (
            "GET",
            "/v1/replica/accounts",
            {"headers": {**auth, "If-None-Match": "*"}},
            304,
        ),
        ("GET", "/v1/replica/accounts", {}, 401),
        ("GET", "/v1/replica/sessions", {"headers": auth}, 200),
        (
            "GET",
            "/v1/replica/sessions",
            {"headers": {**auth, "If-None-Match": "*"}},
            304,
        ),
        ("GET", "/v1/replica/reports", {"headers": auth}, 200),
        (
            "GET",
            "/v1/replica/reports",
            {"headers": auth, "params": {"after": "2"}},
            200,
        ),
        (
            "GET",
            "/v1/replica/reports",
            {"headers": auth, "params": {"after": "-1"}},
            400,
        ),
        ("GET", "/v1/replica/reports", {}, 401),
    ]
