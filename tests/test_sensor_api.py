"""POST /v1/sensor/events: auth, body limits, formats, partial success, durability."""

import io
from pathlib import Path
from typing import Any

import falcon
import falcon.testing
import orjson
import pytest

from sikker.core.config import load_config
from sikker.core.sensors import SensorRegistry
from sikker.server.app import create_app
from sikker.server.resources.sensor import SensorEventsResource

DATA = Path(__file__).resolve().parent / "data"
PATH = "/v1/sensor/events"
ATTACKER = "45.155.205.7"
NDJSON = "application/x-ndjson"
CAP = 4096


class Env:
    """A test app, its sensor token and its event log."""

    def __init__(self, data_dir: Path, **settings: Any) -> None:
        config = load_config(
            overrides={"data_dir": str(data_dir), **settings}, environ={}
        )
        self.registry = SensorRegistry(config.data_path)
        _, self.token = self.registry.add("web1")
        self.app = create_app(config)
        self.client = falcon.testing.TestClient(self.app)
        resource, *_ = self.app._router.find(PATH)
        assert isinstance(resource, SensorEventsResource)
        self.resource = resource

    def post(
        self, body: bytes | str, content_type: str = NDJSON, token: str | None = None
    ) -> falcon.testing.Result:
        return self.client.simulate_post(
            PATH,
            body=body,
            headers={
                "Authorization": f"Bearer {token or self.token}",
                "Content-Type": content_type,
            },
        )

    def stored(self) -> list[tuple[int, dict[str, Any]]]:
        return list(self.resource.event_log().read())


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path, sensor_max_body_bytes=CAP)


def generic(**fields: Any) -> dict[str, Any]:
    return {
        "ts": "2026-11-22T12:46:09Z",
        "sensor": "web1",
        "src_ip": ATTACKER,
        "protocol": "ssh",
        "event": "login_failed",
        "username": "root",
        "password": "123456",
        **fields,
    }


def lines(*objs: Any) -> bytes:
    return b"\n".join(o if isinstance(o, bytes) else orjson.dumps(o) for o in objs)


def test_events_are_committed_before_the_answer(env: Env) -> None:
    resp = env.post(lines(generic(), generic(username="admin")))
    assert resp.status_code == 200
    assert resp.json == {
        "accepted": 2,
        "rejected": 0,
        "skipped": 0,
        "errors": [],
        "firstSequence": 1,
        "lastSequence": 2,
    }
    stored = env.stored()
    assert [s for s, _ in stored] == [1, 2]
    assert stored[1][1]["username"] == "admin"


def test_a_missing_or_bad_token_is_401_json(env: Env) -> None:
    resp = env.client.simulate_post(PATH, body=lines(generic()))
    assert resp.status_code == 401
    assert resp.json["code"] == "unauthorized" and resp.json["status"] == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    resp = env.post(lines(generic()), token="sks_wrong")
    assert resp.status_code == 401 and "unknown" in resp.json["error"]
    resp = env.post(lines(generic()), token="Basic abc")
    assert resp.status_code == 401
    assert env.stored() == []


def test_a_removed_sensor_token_stops_working(env: Env) -> None:
    assert env.post(lines(generic())).status_code == 200
    env.registry.remove("web1")
    assert env.post(lines(generic())).status_code == 401


def test_the_event_sensor_is_the_token_sensor(env: Env) -> None:
    resp = env.post(lines(generic(sensor="somebody-else")))
    assert resp.status_code == 200
    assert env.stored()[0][1]["sensor"] == "web1"


def test_other_content_types_are_415(env: Env) -> None:
    resp = env.post(lines(generic()), content_type="text/plain")
    assert resp.status_code == 415 and resp.json["code"] == "unsupported_media_type"
    resp = env.post(lines(generic()), content_type="")
    assert resp.status_code == 415


def test_a_declared_oversized_body_is_413_without_reading_it(env: Env) -> None:
    class Unreadable(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("the body must not be read")

    environ = falcon.testing.create_environ(
        path=PATH,
        method="POST",
        headers={
            "Authorization": f"Bearer {env.token}",
            "Content-Type": NDJSON,
            "Content-Length": str(CAP + 1),
        },
    )
    environ["wsgi.input"] = Unreadable()
    start = falcon.testing.StartResponseMock()
    body = b"".join(env.app(environ, start))
    assert start.status.startswith("413")
    assert orjson.loads(body)["code"] == "payload_too_large"


class Endless(io.RawIOBase):
    """A chunked request body that never ends; counts what is read."""

    def __init__(self, line: bytes) -> None:
        self.line = line
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        size = 65536 if size is None or size < 0 else size
        self.read_bytes += size
        return (self.line * (size // len(self.line) + 1))[:size]


def _chunked(env: Env, stream: Any) -> tuple[str, dict[str, Any]]:
    environ = falcon.testing.create_environ(
        path=PATH,
        method="POST",
        headers={
            "Authorization": f"Bearer {env.token}",
            "Content-Type": NDJSON,
            "Transfer-Encoding": "chunked",
        },
    )
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = stream
    environ["wsgi.input_terminated"] = True
    start = falcon.testing.StartResponseMock()
    body = b"".join(env.app(environ, start))
    return start.status, orjson.loads(body)


def test_an_endless_chunked_body_is_413_after_cap_plus_one_bytes(env: Env) -> None:
    stream = Endless(lines(generic()) + b"\n")
    status, body = _chunked(env, stream)
    assert status.startswith("413") and body["code"] == "payload_too_large"
    assert stream.read_bytes == CAP + 1
    assert env.stored() == []


def test_a_small_chunked_body_is_accepted(env: Env) -> None:
    status, body = _chunked(env, io.BytesIO(lines(generic(), generic())))
    assert status.startswith("200") and body["accepted"] == 2


def test_a_body_without_length_or_chunking_is_empty(env: Env) -> None:
    environ = falcon.testing.create_environ(
        path=PATH,
        method="POST",
        headers={"Authorization": f"Bearer {env.token}", "Content-Type": NDJSON},
    )
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = Endless(b"{}\n")  # must not be read
    start = falcon.testing.StartResponseMock()
    body = b"".join(env.app(environ, start))
    assert start.status.startswith("400")
    assert orjson.loads(body)["code"] == "empty_body"
    assert environ["wsgi.input"].read_bytes == 0


def test_ndjson_mixes_formats_and_reports_bad_lines(tmp_path: Path) -> None:
    env = Env(tmp_path, accept_private_sources=True)
    cowrie = (DATA / "cowrie-sample.json").read_bytes().splitlines()
    canary = (DATA / "opencanary-sample.json").read_bytes().splitlines()
    body = lines(
        cowrie[0],  # connect
        generic(),
        b"{broken",
        canary[7],  # ssh login 4002
        generic(src_ip="not-an-ip"),
        canary[0],  # internal message: skipped
        b"",
        cowrie[7],  # login.failed
    )
    resp = env.post(body)
    assert resp.status_code == 200
    assert resp.json["accepted"] == 4
    assert resp.json["rejected"] == 2 and resp.json["skipped"] == 1
    assert [e["line"] for e in resp.json["errors"]] == [3, 5]
    assert "invalid JSON" in resp.json["errors"][0]["error"]
    assert resp.json["errors"][1]["error"].startswith("src_ip:")
    assert (resp.json["firstSequence"], resp.json["lastSequence"]) == (1, 4)
    stored = [e for _, e in env.stored()]
    assert [(e["protocol"], e["event"]) for e in stored] == [
        ("ssh", "connect"),
        ("ssh", "login_failed"),
        ("ssh", "login_failed"),
        ("ssh", "login_failed"),
    ]
    assert {e["sensor"] for e in stored} == {"web1"}


def test_cowrie_sessions_join_across_posts(env: Env) -> None:
    connect = {
        "eventid": "cowrie.session.connect",
        "session": "abc",
        "src_ip": ATTACKER,
        "protocol": "telnet",
        "dst_port": 23,
        "timestamp": "2026-11-22T12:46:09Z",
    }
    login = {
        "eventid": "cowrie.login.failed",
        "session": "abc",
        "src_ip": ATTACKER,
        "username": "root",
        "password": "vizxv",
        "timestamp": "2026-11-22T12:46:10Z",
    }
    assert env.post(lines(connect)).status_code == 200
    assert env.post(lines(login)).status_code == 200
    assert env.stored()[1][1]["protocol"] == "telnet"


def test_a_json_array_reports_positions(env: Env) -> None:
    body = orjson.dumps([generic(), generic(protocol="gopher"), generic()])
    resp = env.post(body, content_type="application/json; charset=utf-8")
    assert resp.status_code == 200
    assert resp.json["accepted"] == 2
    assert resp.json["errors"] == [
        {"line": 2, "error": resp.json["errors"][0]["error"]}
    ]
    assert "unknown protocol 'gopher'" in resp.json["errors"][0]["error"]


def test_a_single_json_object_is_accepted(env: Env) -> None:
    resp = env.post(orjson.dumps(generic()), content_type="application/json")
    assert resp.status_code == 200 and resp.json["lastSequence"] == 1


def test_nothing_usable_is_400_in_the_error_shape(env: Env) -> None:
    resp = env.post(lines(generic(src_ip="10.0.0.1"), b"nope"))
    assert resp.status_code == 400
    body = resp.json
    assert body["code"] == "no_valid_events" and body["status"] == 400
    assert body["rejected"] == 2 and body["accepted"] == 0
    assert "private" in body["error"]
    resp = env.post(b"", content_type="application/json")
    assert resp.status_code == 400
    resp = env.post(b"\n\n")
    assert resp.status_code == 400 and resp.json["code"] == "empty_body"
    assert env.stored() == []


def test_only_skipped_lines_is_a_200_with_nothing_stored(tmp_path: Path) -> None:
    env = Env(tmp_path, accept_private_sources=True)
    internal = (DATA / "opencanary-sample.json").read_bytes().splitlines()[:5]
    resp = env.post(lines(*internal))
    assert resp.status_code == 200
    assert resp.json["accepted"] == 0 and resp.json["skipped"] == 5
    assert resp.json["firstSequence"] is None


def test_private_sources_need_the_setting(tmp_path: Path) -> None:
    env = Env(tmp_path / "a")
    assert env.post(lines(generic(src_ip="127.0.0.1"))).status_code == 400
    lab = Env(tmp_path / "b", accept_private_sources=True)
    assert lab.post(lines(generic(src_ip="127.0.0.1"))).status_code == 200
