"""The TAXII endpoints in-process: filters, paging, lookups, errors, auth."""

import copy
import time
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from sikker.core import stix_order
from sikker.core.config import load_config
from sikker.core.stix import TLP_WHITE, indicator_id
from sikker.server.app import create_app
from tests.factories import RECORDS, api_key, bearer, build

ACCEPT = "application/taxii+json;version=2.1"
ROOT = "/taxii2/api/collections"
ALL = f"{ROOT}/sikker-threat-intel"


def client_for(data: Path, **settings: Any) -> falcon.testing.TestClient:
    key = api_key(data)
    overrides = {"data_dir": str(data), "snapshot_check_interval": 0, **settings}
    app = create_app(load_config(overrides=overrides, environ={}))
    return falcon.testing.TestClient(app, headers={**bearer(key), "Accept": ACCEPT})


@pytest.fixture
def client(tmp_path: Path) -> falcon.testing.TestClient:
    build(tmp_path)
    return client_for(tmp_path)


def objects(client: falcon.testing.TestClient, path: str, **params: str) -> list:
    resp = client.simulate_get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json.get("objects", [])


def walk(client: falcon.testing.TestClient, path: str, **params: str) -> list:
    """Return every object of a paged listing, following ``next``."""
    out: list = []
    query = dict(params)
    while True:
        resp = client.simulate_get(path, params=query)
        assert resp.status_code == 200, resp.text
        out.extend(resp.json.get("objects", []))
        if not resp.json["more"]:
            return out
        query = {**params, "next": resp.json["next"]}


def test_discovery_api_root_and_collections_need_no_key(
    client: falcon.testing.TestClient, tmp_path: Path
) -> None:
    anonymous = falcon.testing.TestClient(client.app)
    for path in ("/taxii2/", "/taxii2/api/", f"{ROOT}/", "/taxii2/collections/"):
        resp = anonymous.simulate_get(path)
        assert resp.status_code == 200, path
        assert resp.headers["Content-Type"] == ACCEPT
    assert anonymous.simulate_get("/taxii2/").json["api_roots"] == ["/taxii2/api/"]
    collection = anonymous.simulate_get(f"{ALL}/").json
    assert collection["id"] == "sikker-threat-intel" and not collection["can_write"]


def test_objects_need_a_key_in_the_header_or_the_query(
    client: falcon.testing.TestClient, tmp_path: Path
) -> None:
    anonymous = falcon.testing.TestClient(client.app)
    resp = anonymous.simulate_get(f"{ALL}/objects/")
    assert resp.status_code == 401
    assert resp.json["http_status"] == "401" and resp.headers["Content-Type"] == ACCEPT
    key = api_key(tmp_path, store=client.app.keyed.service.store())
    assert anonymous.simulate_get(f"{ALL}/objects/", params={"key": key}).status == (
        "200 OK"
    )


def test_paging_with_next_returns_the_one_big_page_in_pieces(
    client: falcon.testing.TestClient,
) -> None:
    whole = objects(client, f"{ALL}/objects/")
    assert [o["id"] for o in walk(client, f"{ALL}/objects/", limit="3")] == [
        o["id"] for o in whole
    ]
    first = client.simulate_get(f"{ALL}/objects/", params={"limit": "3"})
    assert first.json["more"] is True and len(first.json["objects"]) == 3
    assert first.headers["X-TAXII-Date-Added-First"] == "2025-01-01T00:00:00.000Z"
    assert whole[0] == TLP_WHITE
    kinds = [o["type"] for o in whole]
    assert kinds.count("indicator") == len(RECORDS)
    assert kinds.count("attack-pattern") == 4


def test_manifest_lists_each_object_with_its_version_and_date_added(
    client: falcon.testing.TestClient,
) -> None:
    whole = objects(client, f"{ALL}/objects/")
    manifest = walk(client, f"{ALL}/manifest/", limit="4")
    assert [m["id"] for m in manifest] == [o["id"] for o in whole]
    dates = [m["date_added"] for m in manifest]
    assert dates == sorted(dates)
    for record, obj in zip(manifest, whole, strict=True):
        assert record["version"] == obj.get("modified", obj["created"])
        assert record["media_type"] == "application/stix+json;version=2.1"


def test_added_after_is_strictly_after(client: falcon.testing.TestClient) -> None:
    manifest = objects(client, f"{ALL}/manifest/")
    cut = manifest[5]["date_added"]
    later = objects(client, f"{ALL}/manifest/", added_after=cut)
    assert [m["id"] for m in later] == [
        m["id"] for m in manifest if m["date_added"] > cut
    ]
    resp = client.simulate_get(
        f"{ALL}/objects/", params={"added_after": "2099-01-01T00:00:00Z"}
    )
    assert resp.json == {"more": False}
    assert "X-TAXII-Date-Added-First" not in resp.headers


@pytest.mark.parametrize(
    ("params", "types"),
    [
        ({"match[type]": "indicator"}, {"indicator"}),
        ({"match[type]": "attack-pattern,identity"}, {"attack-pattern", "identity"}),
        ({"match[type]": "relationship"}, {"relationship"}),
        ({"match[spec_version]": "2.1"}, None),
        ({"match[version]": "last"}, None),
        ({"match[version]": "all"}, None),
    ],
)
def test_match_filters_select_objects(
    client: falcon.testing.TestClient, params: dict, types: set | None
) -> None:
    found = walk(client, f"{ALL}/objects/", limit="2", **params)
    whole = objects(client, f"{ALL}/objects/")
    expected = [o for o in whole if types is None or o["type"] in types]
    assert [o["id"] for o in found] == [o["id"] for o in expected]


def test_match_id_version_and_spec_version_narrow_down(
    client: falcon.testing.TestClient,
) -> None:
    whole = objects(client, f"{ALL}/objects/")
    some = [whole[1]["id"], whole[-1]["id"]]
    found = objects(client, f"{ALL}/objects/", **{"match[id]": ",".join(some)})
    assert [o["id"] for o in found] == some
    indicator = next(o for o in whole if o["type"] == "indicator")
    at = objects(client, f"{ALL}/objects/", **{"match[version]": indicator["modified"]})
    assert indicator in at and all(o["modified"] == indicator["modified"] for o in at)
    none = client.simulate_get(f"{ALL}/objects/", params={"match[spec_version]": "2.0"})
    assert none.json == {"more": False}


def test_collections_select_by_confidence_and_protocol(
    client: falcon.testing.TestClient,
) -> None:
    def names(collection: str) -> set[str]:
        return {
            o["name"]
            for o in objects(client, f"{ROOT}/{collection}/objects/")
            if o["type"] == "indicator"
        }

    assert names("sikker-high-confidence") == {
        r["ip"] for r in RECORDS if r["score"] >= 75
    }
    assert names("sikker-ssh") == {r["ip"] for r in RECORDS if "ssh" in r["protocols"]}
    assert names("sikker-mssql") == set()
    statics = objects(client, f"{ROOT}/sikker-mssql/objects/")
    assert {o["type"] for o in statics} == {
        "marking-definition",
        "identity",
        "attack-pattern",
    }


def test_an_object_is_found_by_ip_or_by_id_on_both_path_forms(
    client: falcon.testing.TestClient,
) -> None:
    for root in ("/taxii2/api/collections", "/taxii2/collections"):
        by_ip = objects(client, f"{root}/sikker-threat-intel/objects/203.0.113.10/")
        assert [o["type"] for o in by_ip] == [
            "indicator",
            "relationship",
            "relationship",
        ]
        assert by_ip[0]["id"] == indicator_id("203.0.113.10")
        for obj in by_ip:
            path = f"{root}/sikker-threat-intel/objects/{obj['id']}/"
            assert objects(client, path) == [obj]
    v6 = objects(client, f"{ALL}/objects/2001:0db8:0:0:0:0:0:7/")
    assert v6[0]["pattern"] == "[ipv6-addr:value = '2001:db8::7']"
    versions = client.simulate_get(f"{ALL}/objects/203.0.113.10/versions/").json
    assert versions == {"more": False, "versions": [by_ip[0]["modified"]]}


@pytest.mark.parametrize(
    "path",
    [
        f"{ALL}/objects/8.8.8.8/",
        f"{ROOT}/sikker-sip/objects/203.0.113.10/",
        f"{ALL}/objects/indicator--00000000-0000-4000-8000-000000000000/",
        f"{ALL}/objects/not-an-id/",
        f"{ROOT}/nope/objects/",
        f"{ROOT}/nope/",
    ],
)
def test_what_is_not_there_is_a_taxii_404(
    client: falcon.testing.TestClient, path: str
) -> None:
    resp = client.simulate_get(path)
    assert resp.status_code == 404
    assert resp.headers["Content-Type"] == ACCEPT
    assert resp.json["http_status"] == "404" and resp.json["description"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"added_after": "yesterday"}, "added_after"),
        ({"added_after": "2026-01-01T00:00:00"}, "added_after"),
        ({"next": "garbage"}, "next"),
        ({"match[colour]": "red"}, "match[colour]"),
        ({"match[type]": ","}, "match[type]"),
        ({"offset": "-1"}, "offset"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(
    client: falcon.testing.TestClient, params: dict, parameter: str
) -> None:
    resp = client.simulate_get(f"{ALL}/objects/", params=params)
    assert resp.status_code == 400, resp.text
    assert resp.json["details"] == {"parameter": parameter}


def test_a_next_token_only_works_with_its_own_filters(
    client: falcon.testing.TestClient,
) -> None:
    first = client.simulate_get(f"{ALL}/objects/", params={"limit": "2"}).json
    other = client.simulate_get(
        f"{ALL}/objects/", params={"next": first["next"], "match[type]": "indicator"}
    )
    assert other.status_code == 400
    elsewhere = client.simulate_get(
        f"{ROOT}/sikker-ssh/objects/", params={"next": first["next"]}
    )
    assert elsewhere.status_code == 400


def test_limit_is_capped_by_the_setting_and_offset_skips(tmp_path: Path) -> None:
    build(tmp_path)
    client = client_for(tmp_path, taxii_max_page_size=5)
    page = client.simulate_get(f"{ALL}/objects/", params={"limit": "1000"}).json
    assert len(page["objects"]) == 5 and page["more"]
    whole = walk(client, f"{ALL}/objects/")
    skipped = objects(client, f"{ALL}/objects/", offset="3", limit="4")
    assert skipped == whole[3:7]


def test_collections_are_read_only(client: falcon.testing.TestClient) -> None:
    post = client.simulate_post(
        f"{ALL}/objects/", body="{}", headers={"Content-Type": ACCEPT}
    )
    assert post.status_code == 403 and post.json["http_status"] == "403"
    wrong = client.simulate_post(
        f"{ALL}/objects/", body="{}", headers={"Content-Type": "application/json"}
    )
    assert wrong.status_code == 415
    delete = client.simulate_delete(f"{ALL}/objects/203.0.113.10/")
    assert delete.status_code == 403
    put = client.simulate_put(f"{ALL}/", body="{}")
    assert put.status_code == 405 and put.headers["Content-Type"] == ACCEPT


@pytest.mark.parametrize(
    "accept",
    ["*/*", "application/*", "application/taxii+json", ACCEPT, f"text/html, {ACCEPT}"],
)
def test_acceptable_accept_headers(
    client: falcon.testing.TestClient, accept: str
) -> None:
    resp = client.simulate_get("/taxii2/", headers={"Accept": accept})
    assert resp.status_code == 200


@pytest.mark.parametrize(
    "accept",
    ["text/html", "application/json", "application/taxii+json;version=2.0",
     f"{ACCEPT};q=0"],
)  # fmt: skip
def test_unacceptable_accept_headers_are_406(
    client: falcon.testing.TestClient, accept: str
) -> None:
    resp = client.simulate_get(f"{ALL}/objects/", headers={"Accept": accept})
    assert resp.status_code == 406
    assert resp.headers["Content-Type"] == ACCEPT


def test_a_walk_across_a_new_snapshot_neither_skips_nor_repeats(
    tmp_path: Path,
) -> None:
    records = copy.deepcopy(RECORDS)
    build(tmp_path, records)
    client = client_for(tmp_path)
    whole_before = objects(client, f"{ALL}/objects/")
    first = client.simulate_get(f"{ALL}/objects/", params={"limit": "9"}).json
    delivered = {o["id"]: o for o in first["objects"]}
    # New evidence for an IP already delivered: it and its relationships move
    # to the end as new versions; everything else is unchanged.
    seen = next(o["name"] for o in first["objects"] if o["type"] == "indicator")
    changed = next(r for r in records if r["ip"] == seen)
    changed["lastSeen"] = "2026-12-01T00:00:00Z"
    build(tmp_path, records)
    rest = walk(client, f"{ALL}/objects/", next=first["next"])
    repeated = [o for o in rest if o["id"] in delivered]
    assert [o["id"] for o in repeated if o["type"] == "indicator"] == [
        indicator_id(seen)
    ]
    assert all(
        o["source_ref"] == indicator_id(seen)
        for o in repeated
        if o["type"] == "relationship"
    )
    assert repeated[0]["modified"] == "2026-12-01T00:00:00.000Z"
    assert repeated[0]["modified"] > delivered[indicator_id(seen)]["modified"]
    assert {o["id"] for o in whole_before} == {*delivered, *(o["id"] for o in rest)}


def test_a_large_index_is_built_in_the_background_meanwhile_503(
    client: falcon.testing.TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stix_order, "SYNC_ROWS", 0)
    resp = client.simulate_get(f"{ALL}/objects/")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "5" and resp.json["http_status"] == "503"
    deadline = time.monotonic() + 10
    while resp.status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.05)
        resp = client.simulate_get(f"{ALL}/objects/")
    assert resp.status_code == 200
