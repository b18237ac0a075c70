"""The check-first router finds exactly what Falcon's compiled router finds."""

from pathlib import Path

import pytest
from falcon import inspect
from falcon.routing import CompiledRouter

from sikker.core.config import load_config
from sikker.server.app import create_app
from sikker.server.router import CheckFirstRouter

PATHS = [
    "/v1/key/check/1.2.3.4",
    "/v1/key/check/2001:db8::1",
    "/v1/key/check/not-an-ip",
    "/v1/key/check/%2F",
    "/v1/key/check/",
    "/v1/key/check",
    "/v1/key/check/1.2.3.4/extra",
    "/v1/key/check//",
    "/v1/key/check-block",
    "/v1/key/checks/1.2.3.4",
    "/v1/key/blacklist",
    "/healthz",
    "/",
    "/nowhere",
]


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> CheckFirstRouter:
    data: Path = tmp_path_factory.mktemp("data")
    app = create_app(load_config(overrides={"data_dir": str(data)}))
    assert isinstance(app._router, CheckFirstRouter)
    return app._router


def every_template_filled(router: CheckFirstRouter) -> list[str]:
    return [
        route.path.replace("{", "x").replace("}", "")
        for route in inspect.inspect_compiled_router(router)
    ]


def test_every_path_finds_what_the_compiled_router_finds(
    router: CheckFirstRouter,
) -> None:
    paths = PATHS + every_template_filled(router)
    assert len(paths) > 50
    for path in paths:
        assert router.find(path) == CompiledRouter.find(router, path), path


def test_the_check_route_gets_a_fresh_params_dict_each_time(
    router: CheckFirstRouter,
) -> None:
    first = router.find("/v1/key/check/1.2.3.4")
    first[2]["ip"] = "changed"
    assert router.find("/v1/key/check/1.2.3.4")[2] == {"ip": "1.2.3.4"}


def test_an_app_without_a_check_route_routes_as_usual() -> None:
    router = CheckFirstRouter()
    resource = type("Health", (), {"on_get": lambda self, req, resp: None})()
    router.add_route("/healthz", resource)
    assert router.find("/v1/key/check/1.2.3.4") is None
    assert router.find("/healthz")[0] is resource
    check = type("Check", (), {"on_get": lambda self, req, resp, ip: None})()
    router.add_route("/v1/key/check/{ip}", check)
    assert router.find("/v1/key/check/1.2.3.4")[0] is check
