"""Redact community-report comments before anyone but their author sees them.

Reporters paste log lines into comments, and log lines carry what should not
travel: e-mail addresses, their own servers' addresses, URLs with passwords
or tokens, terminal control sequences. :func:`redact` removes those and caps
the length. The reported address itself (``subject``) is kept, since every
reader already knows it. Reporters see their own comments as they wrote them.
"""

import re
import unicodedata

from sikker.core.canonical import canonical_text as _canonical

#: Characters a shown comment keeps at most (SikkerAPI's comment limit).
MAX_SHOWN = 1000

EMAIL_MARK = "[email]"
IP_MARK = "[ip]"
SECRET_MARK = "[redacted]"

# Any http(s)/ftp URL, or a bare host with credentials (user:pass@host).
_URL = re.compile(r"\b(?:[a-z][a-z0-9+.-]{1,15})://[^\s<>\"']+", re.I)
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_SECRET_PARAM = re.compile(
    r"(?P<name>(?:access_?|api_?|auth_?|session_?|client_?)?"
    r"(?:token|key|secret|password|passwd|pwd|signature|sig|auth|apikey|code))"
    r"=(?P<value>[^&#\s]+)",
    re.I,
)
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_BEARER = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}", re.I)
_API_KEY = re.compile(r"\bsk[sa]?_[A-Za-z0-9_]{8,}")
# Candidates only; each is confirmed by the IP parser before it is replaced.
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.]*\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:)[0-9A-Fa-f:.]{2,45}(?![\w:])"
)
#: Unicode categories removed: controls, format (bidi overrides, zero-width),
#: surrogates, private use, unassigned.
_DROP = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_KEEP = frozenset("\n\t")


def strip_controls(text: str) -> str:
    """Return ``text`` without control, format and unassigned characters.

    Newlines and tabs stay; carriage returns become newlines.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isprintable():
        return text
    return "".join(
        ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in _DROP
    )


def redact(text: str, subject: str | None = None, limit: int = MAX_SHOWN) -> str:
    """Return a comment fit to show to other users.

    Args:
        text: The comment as the reporter wrote it.
        subject: The reported address; it stays visible (any spelling).
        limit: Characters kept at most.

    Returns:
        The comment with control characters removed, URL credentials and
        token-like query values, bearer tokens and API keys replaced by
        ``[redacted]``, e-mail addresses by ``[email]``, other IP
        addresses by ``[ip]``, and cut to ``limit`` characters.
    """
    text = strip_controls(text)
    text = _URL.sub(_clean_url, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {SECRET_MARK}", text)
    text = _API_KEY.sub(SECRET_MARK, text)
    text = _EMAIL.sub(EMAIL_MARK, text)
    keep = _canonical(subject) if subject else None
    text = _IPV6.sub(lambda m: _address(m.group(0), keep), text)
    text = _IPV4.sub(lambda m: _address(m.group(0), keep), text)
    return text.strip()[:limit]


def _clean_url(match: re.Match[str]) -> str:
    url = _USERINFO.sub(f"{SECRET_MARK}@", match.group(0), count=1)
    return _SECRET_PARAM.sub(lambda m: f"{m.group('name')}={SECRET_MARK}", url)


def _address(candidate: str, keep: str | None) -> str:
    canonical = _canonical(candidate)
    if canonical is None or canonical == keep:
        return candidate
    return IP_MARK
