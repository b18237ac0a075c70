"""The integration files are shipped and served, and nothing else is."""

import fnmatch
import hashlib
import re
import shutil
import subprocess
import tomllib

import falcon.testing
import pytest

from sikker.core.config import load_config
from sikker.integrations import FILES
from sikker.server.app import create_app
from tests.tools import ROOT

FOLDER = ROOT / "integrations"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> falcon.testing.TestClient:
    data = tmp_path_factory.mktemp("empty")  # no snapshot, no account: still served
    app = create_app(load_config(overrides={"data_dir": str(data)}, environ={}))
    return falcon.testing.TestClient(app)


def shipped() -> set[str]:
    """Return every file under integrations/ but the package's own Python."""
    return {
        str(p.relative_to(FOLDER))
        for p in FOLDER.rglob("*")
        if p.is_file() and p.parent != FOLDER and "__pycache__" not in p.parts
    }


def test_every_file_in_the_folder_is_listed_and_every_listed_file_exists() -> None:
    assert shipped() == set(FILES)
    assert all(description.strip() for description in FILES.values())


def test_the_package_data_globs_ship_every_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = config["tool"]["setuptools"]
    assert setuptools["package-dir"]["sikker.integrations"] == "integrations"
    assert "sikker.integrations" in setuptools["packages"]
    globs = setuptools["package-data"]["sikker.integrations"]
    for path in FILES:
        assert any(fnmatch.fnmatch(path, g) for g in globs), path


def test_the_index_lists_each_file_with_its_url_size_and_checksum(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.simulate_get("/integrations/")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    listed = {f["path"]: f for f in resp.json["files"]}
    assert set(listed) == set(FILES)
    for path, entry in listed.items():
        data = (FOLDER / path).read_bytes()
        assert entry["url"] == f"/integrations/{path}"
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["description"] == FILES[path]


@pytest.mark.parametrize("path", sorted(FILES))
def test_each_file_is_served_as_text_without_a_key(client, path: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.simulate_get(f"/integrations/{path}")
    assert resp.status_code == 200
    assert resp.content == (FOLDER / path).read_bytes()
    assert resp.headers["content-type"] == "text/plain; charset=utf-8"
    assert resp.headers["x-content-type-options"] == "nosniff"
    digest = hashlib.sha256(resp.content).hexdigest()
    assert resp.headers["etag"] == f'"{digest}"'
    resp.content.decode("utf-8")


def test_a_current_copy_is_a_304_without_a_body(client) -> None:  # type: ignore[no-untyped-def]
    path = sorted(FILES)[0]
    etag = client.simulate_get(f"/integrations/{path}").headers["etag"]
    again = client.simulate_get(
        f"/integrations/{path}", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    stale = client.simulate_get(
        f"/integrations/{path}", headers={"If-None-Match": '"0000"'}
    )
    assert stale.status_code == 200 and stale.content


@pytest.mark.parametrize(
    "path",
    [
        "/integrations/report/nothing",
        "/integrations/report/__init__.py",
        "/integrations/fail2ban/sikker-report",  # a real name, the wrong folder
        "/integrations/report/..%2f__init__.py",
        "/integrations/..%2f..%2fpyproject.toml",
        "/integrations/%2e%2e/%2e%2e",
        "/integrations/report",
        "/integrations/report/sikker-report/x",
        "/integrations/update/sikker-update%00",
    ],
)
def test_anything_else_is_a_json_404(client, path: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.simulate_get(path)
    assert resp.status_code == 404
    assert resp.json["code"] == "not_found" and resp.json["status"] == 404


def test_the_shell_script_parses_in_posix_sh() -> None:
    shells = [s for s in ("sh", "dash", "bash") if shutil.which(s)]
    assert shells
    for shell in shells:
        script = FOLDER / "update" / "sikker-update"
        result = subprocess.run([shell, "-n", str(script)], capture_output=True)
        assert result.returncode == 0, (shell, result.stderr)


def test_scripts_are_executable_and_name_their_interpreter() -> None:
    for path in ("report/sikker-report", "update/sikker-update"):
        file = FOLDER / path
        assert file.stat().st_mode & 0o111, path
        assert file.read_text().startswith(("#!/usr/bin/env python3\n", "#!/bin/sh\n"))


def test_every_integration_url_in_the_docs_is_served() -> None:
    text = "".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    named = set(re.findall(r"/integrations/([a-z0-9]+/[\w.-]+)", text))
    assert named and named <= set(FILES), named - set(FILES)
