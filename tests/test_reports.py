"""Community reports: validation, CSV, partial success, the log, the score."""

from pathlib import Path
from typing import Any

import pytest

from sikker.core.report_csv import decode, read_rows, sniff_delimiter
from sikker.core.reports import Networks, ReportRules, parse_category
from sikker.errors import InvalidReportError
from tests.community import Env

ATTACKER = "45.155.205.7"


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def report(**fields: Any) -> dict[str, Any]:
    return {"ip": ATTACKER, "category": "brute_force", **fields}


# -- validation -------------------------------------------------------------------

RULES = ReportRules(Networks(["45.156.0.0/16", "2a01:4f8::/32"]), client="198.51.7.7")

GOOD = [
    (report(), ("45.155.205.7", "brute_force", None, None)),
    (report(category=2), ("45.155.205.7", "port_scan", None, None)),
    (report(category="16"), ("45.155.205.7", "other", None, None)),
    (report(category="Web-Exploit"), ("45.155.205.7", "web_exploit", None, None)),
    (report(ip="::ffff:45.155.205.7"), ("45.155.205.7", "brute_force", None, None)),
    (report(ip="2a02:0C7F::1"), ("2a02:c7f::1", "brute_force", None, None)),
    (report(protocol="SSH"), ("45.155.205.7", "brute_force", "ssh", None)),
    (report(protocol="postgres"), ("45.155.205.7", "brute_force", "postgresql", None)),
    (report(protocol=""), ("45.155.205.7", "brute_force", None, None)),
    (
        report(comment="  x" * 333),
        ("45.155.205.7", "brute_force", None, "x" + "  x" * 332),
    ),
]

BAD = [
    ({"category": "brute_force"}, "ip", "is required"),
    (report(ip="10.0.0.8"), "ip", "not a public address (private)"),
    (report(ip="127.0.0.1"), "ip", "(loopback)"),
    (report(ip="::ffff:192.168.1.1"), "ip", "(private)"),
    (report(ip="198.51.100.1"), "ip", "(documentation)"),
    (report(ip="224.0.0.1"), "ip", "(multicast)"),
    (report(ip="1.2.3"), "ip", "1.2.3"),
    (report(ip="45.156.3.4"), "ip", "inside your own allow-listed ranges"),
    (report(ip="2a01:4f8:1::9"), "ip", "inside your own allow-listed ranges"),
    (report(ip="198.51.7.7"), "ip", "the address this request comes from"),
    (report(ip=7), "ip", "must be a string"),
    (report(category=None), "category", "is required"),
    (report(category=0), "category", "out of range 1-16"),
    (report(category=17), "category", "out of range 1-16"),
    (report(category="hacking"), "category", "unknown category"),
    (report(category=True), "category", "must be a name or an id"),
    (report(protocol="gopher"), "protocol", "unknown protocol"),
    (report(protocol="s" * 33), "protocol", "longer than 32"),
    (report(protocol=22), "protocol", "must be a string"),
    (report(comment="x" * 1001), "comment", "longer than 1000 characters"),
    (report(comment=["x"]), "comment", "must be a string"),
    ("1.2.3.4", "report", "must be an object"),
]


@pytest.mark.parametrize(("obj", "expected"), GOOD)
def test_a_valid_report_is_normalised(obj: dict[str, Any], expected: tuple) -> None:
    r = RULES.parse(obj)
    assert (r.ip, r.category, r.protocol, r.comment) == expected


@pytest.mark.parametrize(("obj", "field", "reason"), BAD)
def test_a_bad_report_is_refused_with_its_field_and_reason(
    obj: Any, field: str, reason: str
) -> None:
    with pytest.raises(InvalidReportError) as info:
        RULES.parse(obj)
    assert info.value.field == field
    assert reason in str(info.value)


def test_the_reporters_own_public_address_is_refused() -> None:
    rules = ReportRules(client="45.155.205.7")
    with pytest.raises(InvalidReportError, match="this request comes from"):
        rules.parse(report())


def test_categories_are_names_or_ids_1_to_16() -> None:
    assert parse_category(1) == "brute_force"
    assert parse_category("other") == "other"
    assert [parse_category(i) for i in range(1, 17)][-1] == "other"


# -- CSV ------------------------------------------------------------------------------


def test_a_header_row_is_detected_and_skipped() -> None:
    rows = read_rows("IP,Category,Protocol,Comment\n45.155.205.7,1,ssh,x\n", 10)
    assert rows.header and rows.rows == [
        (2, {"ip": "45.155.205.7", "category": "1", "protocol": "ssh", "comment": "x"})
    ]


def test_without_a_header_the_first_row_is_data() -> None:
    rows = read_rows("45.155.205.7,brute_force\n45.155.205.8,2\n", 10)
    assert not rows.header
    assert [r[1]["ip"] for r in rows.rows] == ["45.155.205.7", "45.155.205.8"]


def test_semicolons_are_detected_and_quoted_commas_kept() -> None:
    text = 'ip;category;protocol;comment\n45.155.205.7;1;ssh;"a, b; c"\n'
    assert sniff_delimiter(text) == ";"
    assert read_rows(text, 10).rows[0][1]["comment"] == "a, b; c"


def test_quoted_commas_survive_in_a_comma_file() -> None:
    rows = read_rows('45.155.205.7,1,ssh,"failed, then ""root"""\n', 10)
    assert rows.rows[0][1]["comment"] == 'failed, then "root"'


def test_unquoted_delimiters_in_a_comment_are_kept() -> None:
    rows = read_rows("45.155.205.7,1,ssh,failed login, user root\n", 10)
    assert rows.rows[0][1]["comment"] == "failed login, user root"


def test_blank_lines_are_skipped_and_rows_keep_their_line_numbers() -> None:
    rows = read_rows("\n45.155.205.7,1\n\n\n45.155.205.8,1\n", 10)
    assert [r[0] for r in rows.rows] == [2, 5]


def test_a_200_kb_field_is_an_error_of_its_row_only() -> None:
    text = f'45.155.205.7,1,ssh,"{"x" * 200_000}"\n45.155.205.8,1\n'
    rows = read_rows(text, 10)
    assert [r[1]["ip"] for r in rows.rows] == ["45.155.205.8"]
    assert (
        rows.errors[0][0] == 1 and "field larger than field limit" in rows.errors[0][2]
    )


def test_an_unterminated_quote_is_a_row_error() -> None:
    rows = read_rows('45.155.205.8,1\n45.155.205.7,1,ssh,"oops\n', 10)
    assert len(rows.rows) == 1 and rows.errors[0][0] == 2


def test_more_rows_than_allowed_are_refused() -> None:
    text = "".join(f"45.155.{i // 256}.{i % 256},1\n" for i in range(11))
    with pytest.raises(InvalidReportError, match="more than 10 rows"):
        read_rows(text, 10)
    assert len(read_rows(text, 11).rows) == 11


def test_a_file_that_is_not_utf8_is_refused() -> None:
    assert decode("\ufeffip,cat\n".encode()) == "ip,cat\n"
    with pytest.raises(InvalidReportError, match="not UTF-8"):
        decode(b"45.155.205.7,1,ssh,\xff\xfe\n")


# -- POST /v1/key/report --------------------------------------------------------------


def test_an_accepted_report_is_in_the_event_log_before_the_answer(env: Env) -> None:
    resp = env.client.simulate_post(
        "/v1/key/report", json=report(category=4, protocol="http", comment="GET /.env")
    )
    assert resp.status_code == 200, resp.text
    assert resp.json["success"] is True
    assert resp.json["report"]["category"] == "web_exploit"
    (event,) = env.events()
    assert event == {
        "event": "report",
        "ts": event["ts"],
        "src_ip": ATTACKER,
        "reporter": env.account_id(),
        "category": "web_exploit",
        "protocol": "http",
        "comment": "GET /.env",
    }
    assert resp.headers["X-Report-Remaining"] == "99999"


def test_a_refused_report_says_why_and_stores_nothing(env: Env) -> None:
    resp = env.client.simulate_post("/v1/key/report", json=report(ip="10.1.2.3"))
    assert resp.status_code == 400
    assert resp.json["success"] is False
    assert resp.json["code"] == "invalid_report" and resp.json["field"] == "ip"
    assert "private" in resp.json["error"]
    assert env.events() == []


def test_reports_of_the_reporters_own_ranges_are_refused(env: Env) -> None:
    env.accounts.set_allowed_ranges(env.account_id(), ["45.155.205.0/24"])
    resp = env.client.simulate_post("/v1/key/report", json=report())
    assert resp.status_code == 400
    assert "own allow-listed ranges" in resp.json["error"]
    other = env.as_(env.new_key("other@example.com"))
    assert other.simulate_post("/v1/key/report", json=report()).status_code == 200


def test_a_report_needs_an_api_key(env: Env) -> None:
    import falcon.testing

    anonymous = falcon.testing.TestClient(env.app)
    assert anonymous.simulate_post("/v1/key/report", json=report()).status_code == 401


def test_form_encoded_reports_are_accepted(env: Env) -> None:
    resp = env.client.simulate_post(
        "/v1/key/report",
        body=f"ip={ATTACKER}&category=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 200, resp.text


def test_a_used_up_report_quota_is_a_429(env: Env) -> None:
    client = env.as_(env.new_key("free@example.com", plan="free"))
    assert (
        client.simulate_post(
            "/v1/key/bulk-report",
            json={"reports": [report(ip=f"45.155.1.{i}") for i in range(1, 201)] * 5},
        ).status_code
        == 200
    )
    resp = client.simulate_post("/v1/key/report", json=report())
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) > 0


# -- POST /v1/key/bulk-report ---------------------------------------------------------


def test_a_json_bulk_report_accepts_the_good_rows_and_lists_the_bad(env: Env) -> None:
    body = {
        "reports": [
            report(),
            report(ip="10.0.0.1"),
            report(ip="45.155.205.8", category="nope"),
            report(ip="45.155.205.9", category=3, comment="flood"),
        ]
    }
    resp = env.client.simulate_post("/v1/key/bulk-report", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json["total"] == 4
    assert (resp.json["accepted"], resp.json["rejected"]) == (2, 2)
    assert [(e["row"], e["ip"]) for e in resp.json["errors"]] == [
        (2, "10.0.0.1"),
        (3, "45.155.205.8"),
    ]
    assert "unknown category" in resp.json["errors"][1]["error"]
    assert [e["src_ip"] for e in env.events()] == [ATTACKER, "45.155.205.9"]
    seqs = (resp.json["firstSequence"], resp.json["lastSequence"])
    assert seqs == (1, 2)


def test_a_bulk_report_with_nothing_valid_is_a_400(env: Env) -> None:
    resp = env.client.simulate_post(
        "/v1/key/bulk-report", json={"reports": [report(ip="10.0.0.1")]}
    )
    assert resp.status_code == 400
    assert resp.json["code"] == "no_valid_reports" and resp.json["rejected"] == 1


def test_more_than_10000_json_reports_are_refused(env: Env) -> None:
    resp = env.client.simulate_post(
        "/v1/key/bulk-report", json={"reports": [report()] * 10_001}
    )
    assert resp.status_code == 400 and "more than 10,000" in resp.json["error"]
    assert env.events() == []


def multipart(data: bytes, name: str = "file") -> tuple[bytes, str]:
    boundary = "sikkerTESTboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            'filename="reports.csv"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def post_csv(env: Env, data: bytes, name: str = "file") -> Any:
    body, content_type = multipart(data, name)
    return env.client.simulate_post(
        "/v1/key/bulk-report", body=body, headers={"Content-Type": content_type}
    )


@pytest.mark.parametrize(
    "text",
    [
        "IP,Category,Protocol,Comment\n45.155.205.7,1,ssh,one\n45.155.205.8,4,http,two\n",
        "45.155.205.7,1,ssh,one\n45.155.205.8,4,http,two\n",
        "ip;category;protocol;comment\r\n45.155.205.7;1;ssh;one\r\n45.155.205.8;4;http;two\r\n",
        '"IP","Category"\n"45.155.205.7","brute_force","ssh","one"\n'
        '"45.155.205.8","web_exploit","http","two"\n',
    ],
    ids=["header", "no-header", "semicolons", "quoted"],
)
def test_csv_uploads_in_every_dialect_are_accepted(env: Env, text: str) -> None:
    resp = post_csv(env, text.encode())
    assert resp.status_code == 200, resp.text
    assert (resp.json["total"], resp.json["accepted"]) == (2, 2)
    events = env.events()
    assert [(e["src_ip"], e["category"], e["comment"]) for e in events] == [
        ("45.155.205.7", "brute_force", "one"),
        ("45.155.205.8", "web_exploit", "two"),
    ]


def test_a_csv_with_a_200_kb_field_rejects_that_row_only(env: Env) -> None:
    text = f'45.155.205.7,1,ssh,"{"x" * 200_000}"\n45.155.205.8,1,ssh,ok\n'
    resp = post_csv(env, text.encode())
    assert resp.status_code == 200, resp.text
    assert (resp.json["total"], resp.json["accepted"], resp.json["rejected"]) == (
        2,
        1,
        1,
    )
    assert resp.json["errors"][0]["row"] == 1


def test_a_csv_with_10001_rows_is_refused(env: Env) -> None:
    text = "".join(f"45.155.{i // 250}.{i % 250 + 1},1\n" for i in range(10_001))
    resp = post_csv(env, text.encode())
    assert resp.status_code == 400
    assert "more than 10,000 rows" in resp.json["error"]
    assert env.events() == []


def test_a_csv_of_10000_rows_is_accepted(env: Env) -> None:
    text = "".join(f"45.155.{i // 250}.{i % 250 + 1},1\n" for i in range(10_000))
    resp = post_csv(env, text.encode())
    assert resp.status_code == 200 and resp.json["accepted"] == 10_000
    assert len(env.events()) == 10_000


def test_a_csv_larger_than_2_mb_is_a_413(env: Env) -> None:
    line = b"45.155.205.7,1,ssh," + b"x" * 900 + b"\n"
    resp = post_csv(env, line * (2 * 1024 * 1024 // len(line) + 1))
    assert resp.status_code == 413
    assert "report_csv_max_bytes" in resp.json["error"]


def test_a_multipart_body_without_a_file_part_is_a_400(env: Env) -> None:
    resp = post_csv(env, b"45.155.205.7,1\n", name="data")
    assert resp.status_code == 400 and resp.json["field"] == "file"


def test_a_raw_text_csv_body_is_accepted(env: Env) -> None:
    resp = env.client.simulate_post(
        "/v1/key/bulk-report",
        body=b"45.155.205.7,1\n",
        headers={"Content-Type": "text/csv"},
    )
    assert resp.status_code == 200 and resp.json["accepted"] == 1


def test_a_free_plan_bulk_report_is_capped_at_its_plan(env: Env) -> None:
    client = env.as_(env.new_key("free@example.com", plan="free"))
    resp = client.simulate_post(
        "/v1/key/bulk-report", json={"reports": [report()] * 1001}
    )
    assert resp.status_code == 400 and "more than 1,000" in resp.json["error"]


# -- from reports to scores -----------------------------------------------------------


def test_reports_from_distinct_reporters_raise_the_score_after_a_build(
    env: Env,
) -> None:
    def score() -> int:
        return int(
            env.client.simulate_get(f"/v1/key/check/{ATTACKER}").json["confidenceLevel"]
        )

    assert score() == 0
    builder = env.builder()
    try:
        env.client.simulate_post("/v1/key/report", json=report())
        env.client.simulate_post("/v1/key/report", json=report())  # same reporter
        env.step(builder)
        one = env.client.simulate_get(f"/v1/key/check/{ATTACKER}").json
        assert one["found"] and one["reports"]["total"] == 1  # repeats fold
        assert one["reports"]["distinctReporters"] == 1
        for n in range(3):
            client = env.as_(env.new_key(f"r{n}@example.com"))
            assert (
                client.simulate_post("/v1/key/report", json=report()).status_code == 200
            )
        env.step(builder)
    finally:
        builder.close()
    four = env.client.simulate_get(f"/v1/key/check/{ATTACKER}").json
    assert four["reports"]["distinctReporters"] == 4
    assert four["confidenceLevel"] > one["confidenceLevel"] > 0


# -- listings -------------------------------------------------------------------------


def test_reporters_see_their_own_comments_and_others_see_them_redacted(
    env: Env,
) -> None:
    comment = "from 192.0.2.9 (our web1), mail ops@example.com"
    env.client.simulate_post("/v1/key/report", json=report(comment=comment))
    mine = env.client.simulate_get("/v1/key/reports").json["reports"]
    assert [r["comment"] for r in mine] == [comment]
    assert mine[0]["own"] is True and mine[0]["ip"] == ATTACKER
    other = env.as_(env.new_key("other@example.com"))
    assert other.simulate_get("/v1/key/reports").json["reports"] == []
    seen = other.simulate_get(f"/v1/key/reports/{ATTACKER}").json
    assert seen["reports"][0]["comment"] == "from [ip] (our web1), mail [email]"
    assert seen["reports"][0]["own"] is False
    assert "reporter" not in seen["reports"][0]
    own_view = env.client.simulate_get(f"/v1/key/reports/{ATTACKER}").json
    assert own_view["reports"][0]["comment"] == comment


def test_listings_are_newest_first_and_filter_by_address(env: Env) -> None:
    for ip in ("45.155.205.7", "45.155.205.8", "45.155.205.7"):
        env.client.simulate_post("/v1/key/report", json=report(ip=ip))
    everything = env.client.simulate_get("/v1/key/reports").json["reports"]
    assert [r["sequence"] for r in everything] == [3, 2, 1]
    only = env.client.simulate_get(
        "/v1/key/reports", params={"ip": "45.155.205.7", "limit": "1"}
    ).json["reports"]
    assert [r["sequence"] for r in only] == [3]
