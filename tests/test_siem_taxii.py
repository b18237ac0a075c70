"""The TAXII requests of the SIEM connectors in docs/integrations.md work.

Microsoft Sentinel, Splunk and QRadar ask for a user name and a password
(HTTP Basic): any user name, the API key as the password. Elastic's Custom
Threat Intelligence integration sends the key as a Bearer token and pages
with ``added_after``, ``limit`` and ``next`` on the objects URL it was
given. Each is replayed here against the documented URLs, and the OASIS
``taxii2-client`` walks them with Basic credentials over real HTTP.
"""

import base64
import re
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
from taxii2client.v21 import Server, as_pages

from sikker.core.config import load_config
from sikker.core.layout import current_path
from sikker.core.snapshot import Snapshot
from sikker.server.app import create_app
from sikker.server.taxii.collections import COLLECTIONS, HIGH_CONFIDENCE_MINIMUM
from tests.factories import api_key, build
from tests.lists import write
from tests.tools import ROOT, sikker_site

ACCEPT = {"Accept": "application/taxii+json;version=2.1"}
ROOT_URL = "/taxii2/api/"
PATTERN = re.compile(r"\[ipv[46]-addr:value = '([^']+)'\]")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("siem")
    build(data)
    config = load_config(
        overrides={"data_dir": str(data), "snapshot_check_interval": 0}, environ={}
    )
    app = create_app(config)
    key = api_key(data, store=app.keyed.service.store())
    with Snapshot.open(current_path(data)) as snapshot:
        listed = write(
            snapshot,
            "plaintext",
            data / "high.txt",
            scoreMinimum=str(HIGH_CONFIDENCE_MINIMUM),
        )
    return {
        "client": falcon.testing.TestClient(app),
        "key": key,
        "high": set(listed.read_text().split()),
    }


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def addresses(objects: list[dict[str, Any]]) -> set[str]:
    return {
        PATTERN.search(o["pattern"]).group(1)  # type: ignore[union-attr]
        for o in objects
        if o["type"] == "indicator"
    }


def test_sentinel_style_basic_credentials_read_a_collection(site) -> None:  # type: ignore[no-untyped-def]
    # API root URL + collection id + username/password, as Sentinel's form
    url = f"{ROOT_URL}collections/sikker-high-confidence/objects/"
    resp = site["client"].simulate_get(
        url, headers={**ACCEPT, **basic("sentinel", site["key"])}
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/taxii+json")
    assert addresses(resp.json["objects"]) == site["high"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("sentinel", "sk_live_not_a_key"),
        {"Authorization": "Basic not base64!"},
        {"Authorization": "Basic " + base64.b64encode(b"no colon").decode()},
    ],
)
def test_bad_or_missing_credentials_are_challenged_for_basic_too(site, headers) -> None:  # type: ignore[no-untyped-def]
    url = f"{ROOT_URL}collections/sikker-threat-intel/objects/"
    resp = site["client"].simulate_get(url, headers={**ACCEPT, **headers})
    assert resp.status_code == 401
    challenge = resp.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'Basic realm="sikker"' in challenge


def test_elastic_style_paging_with_added_after_limit_and_next(site) -> None:  # type: ignore[no-untyped-def]
    # the integration's "URL API endpoint", then url + "/?" + query each page
    url = f"{ROOT_URL}collections/sikker-high-confidence/objects/"
    auth = {**ACCEPT, "Authorization": f"Bearer {site['key']}"}
    query = "added_after=1970-01-01T00:00:00Z&limit=3"
    objects: list[dict[str, Any]] = []
    for _ in range(100):
        resp = site["client"].simulate_get(
            url.rstrip("/") + "/", query_string=query, headers=auth
        )
        assert resp.status_code == 200, resp.text
        assert resp.headers["X-TAXII-Date-Added-Last"]  # its cursor
        objects += resp.json.get("objects", [])
        if not resp.json.get("next"):
            break
        query = f"next={resp.json['next']}&limit=3"
    assert not resp.json.get("more")
    assert addresses(objects) == site["high"]


def test_every_collection_id_in_the_guide_exists() -> None:
    guide = (ROOT / "docs" / "integrations.md").read_text()
    named = set(re.findall(r"`(sikker-[a-z-]+)`", guide)) - {
        "sikker-report",
        "sikker-update",
    }
    assert {"sikker-threat-intel", "sikker-high-confidence", "sikker-ssh"} <= named
    assert named <= set(COLLECTIONS), named - set(COLLECTIONS)


@pytest.mark.slow
def test_taxii2_client_walks_the_documented_urls_with_basic_credentials(
    tmp_path: Path,
) -> None:
    with sikker_site(tmp_path) as (base, key):
        server = Server(f"{base}/taxii2/", user="siem", password=key)
        [root] = server.api_roots
        assert root.url == f"{base}{ROOT_URL}"
        ids = {c.id for c in root.collections}
        assert {"sikker-threat-intel", "sikker-high-confidence"} <= ids
        collection = next(c for c in root.collections if c.id == "sikker-ssh")
        objects = [o for page in as_pages(collection.get_objects, per_request=2)
                   for o in page.get("objects", [])]  # fmt: skip
    assert addresses(objects)  # ssh attackers in the factory records
