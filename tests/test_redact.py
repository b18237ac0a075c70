"""Comments shown to other users are redacted (core/redact.py)."""

import pytest

from sikker.core.redact import redact, strip_controls

SUBJECT = "203.0.113.10"

TABLE = [
    ("SSH brute force, 40 attempts", "SSH brute force, 40 attempts"),
    ("contact admin@example.com for logs", "contact [email] for logs"),
    ("from 198.51.100.7 to our host 192.0.2.1", "from [ip] to our host [ip]"),
    (f"attacker {SUBJECT} hit us", f"attacker {SUBJECT} hit us"),
    ("attacker ::ffff:203.0.113.10 again", "attacker ::ffff:203.0.113.10 again"),
    ("our v6 2001:db8::1 and fe80::1%eth0", "our v6 [ip] and [ip]%eth0"),
    (
        "see https://bob:hunter2@logs.example.com/x?id=3",
        "see https://[redacted]@logs.example.com/x?id=3",
    ),
    (
        "https://api.example.com/v1?token=abc123&page=2&api_key=zzz",
        "https://api.example.com/v1?token=[redacted]&page=2&api_key=[redacted]",
    ),
    ("Authorization: Bearer abcdefghijklmnop", "Authorization: Bearer [redacted]"),
    ("key sk_live_abcdefgh12345678 leaked", "key [redacted] leaked"),
    ("bell\x07 and \x1b[31mred\x1b[0m", "bell and [31mred[0m"),
    ("bidi \u202eevil\u202c text", "bidi evil text"),
    ("zero\u200bwidth", "zerowidth"),
    ("line one\r\nline two", "line one\nline two"),
    ("time 12:34:56 and version 1.2.3.4.5", "time 12:34:56 and version 1.2.3.4.5"),
    ("mac 00:11:22:33:44:55 stays", "mac 00:11:22:33:44:55 stays"),
    ("999.1.1.1 is no address", "999.1.1.1 is no address"),
    ("ended with 198.51.100.7.", "ended with [ip]."),
]


@pytest.mark.parametrize(("text", "shown"), TABLE, ids=[t[:24] for t, _ in TABLE])
def test_a_comment_is_redacted_before_others_see_it(text: str, shown: str) -> None:
    assert redact(text, subject=SUBJECT) == shown


def test_the_subject_is_recognised_in_any_spelling() -> None:
    assert redact("seen 2001:DB8:0::7", subject="2001:db8::7") == "seen 2001:DB8:0::7"


def test_a_shown_comment_is_capped() -> None:
    assert len(redact("x" * 5000)) == 1000
    assert redact("abcdef", limit=3) == "abc"


def test_control_characters_go_but_newlines_and_tabs_stay() -> None:
    assert strip_controls("a\tb\nc\x00d\x7fe") == "a\tb\ncde"
