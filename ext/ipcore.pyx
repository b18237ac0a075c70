# cython: language_level=3, binding=True, embedsignature=True
"""Parse, format and classify IP addresses: the compiled twin.

Same API, behaviour, error classes and error reasons as the pure-Python
reference ``sikker.core.ipcore_py``; import either through
:mod:`sikker.core.ipcore`. Text is read straight from the ``str`` object's
ASCII buffer (non-ASCII is rejected before any parsing), parsed in C, and
results are built with one Python object each. ``render_ips`` writes every
line into one preallocated ``bytes`` object.
"""

from cpython.bytes cimport PyBytes_AS_STRING
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.bytes cimport PyBytes_GET_SIZE
from cpython.long cimport PyLong_AsUnsignedLongLong
from cpython.long cimport PyLong_AsUnsignedLongLongMask
from cpython.number cimport PyNumber_Index
from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF
from cpython.unicode cimport PyUnicode_1BYTE_DATA
from cpython.unicode cimport PyUnicode_DATA
from cpython.unicode cimport PyUnicode_GET_LENGTH
from cpython.unicode cimport PyUnicode_New
from libc.stdint cimport uint8_t
from libc.stdint cimport uint16_t
from libc.stdint cimport uint32_t
from libc.stdint cimport uint64_t
from libc.string cimport memchr
from libc.string cimport memcmp
from libc.string cimport memcpy

from sikker.errors import InvalidAddressError

cdef extern from *:
    """
    #if PY_VERSION_HEX < 0x030C0000
    #define SIKKER_UNICODE_READY(o) PyUnicode_READY(o)
    #else
    #define SIKKER_UNICODE_READY(o) 0
    #endif
    """
    int SIKKER_UNICODE_READY(object) except -1
    bint PyUnicode_IS_ASCII(object)
    object _PyLong_FromByteArray(const unsigned char *, size_t, int, int)
    PyObject *PyBytes_FromStringAndSize_raw "PyBytes_FromStringAndSize" (
        const char *, Py_ssize_t) except NULL
    char *PyBytes_AS_STRING_raw "PyBytes_AS_STRING" (PyObject *) noexcept nogil
    int _PyBytes_Resize(PyObject **, Py_ssize_t) except -1
    const Py_ssize_t PY_SSIZE_T_MAX

__all__ = [
    "classify",
    "format_ip",
    "from_ip16",
    "pack_ip",
    "parse_cidr",
    "parse_ip",
    "render_ips",
    "to_ip16",
    "unpack_ip",
]

cdef enum:
    # NOTE: the longest accepted address is six full hextets and a dotted
    # quad, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".
    MAX_TEXT = 45
    # Text buffers have slack: dotted-quad octets are copied 4 bytes at once.
    TEXT_BUF = 64
    V4_WIDTH = 15
    V6_WIDTH = 39

cdef object V4_MAX = 0xFFFFFFFF
cdef object V6_MAX = (1 << 128) - 1
cdef frozenset _U32_FORMATS = frozenset(
    {"I", "@I", "=I", "<I", "L", "@L", "=L", "<L"}
)
cdef str _WHITESPACE = " \t\n\r\x0b\x0c"
cdef const char *_MAPPED_PREFIX = b"\0\0\0\0\0\0\0\0\0\0\xff\xff"
cdef const char *_HEX_DIGITS = b"0123456789abcdef"

# Reasons, shared word for word with the pure twin.
cdef str EMPTY = "empty"
cdef str NON_ASCII = "non-ASCII characters are not permitted"
cdef str TOO_LONG = "too long for an IP address"
cdef str SCOPE_ID = "scope ids are not accepted"
cdef str WHITESPACE = "whitespace is not permitted"
cdef str SLASH = "'/' is not permitted in an address (parse it as a network)"
cdef str NOT_AN_ADDRESS = "not an IPv4 or IPv6 address"
cdef str TOO_MANY_OCTETS = "more than 4 octets"
cdef str EMPTY_OCTET = "empty octet"
cdef str LEADING_ZEROS = "leading zeros are not permitted"
cdef str DOUBLE_COLONS = "at most one '::' is permitted"
cdef str V4_NOT_LAST = "an embedded IPv4 address must come last"
cdef str LEADING_COLON = "a leading ':' must be part of '::'"
cdef str TRAILING_COLON = "a trailing ':' must be part of '::'"
cdef str TOO_MANY_GROUPS = "too many groups"
cdef str TOO_FEW_GROUPS = "too few groups (8 are needed without '::')"
cdef str EMPTY_PREFIX = "empty prefix length"
cdef str SLASHES = "only one '/' is permitted"
cdef str NETMASK = "netmask and hostmask forms are not accepted; use a prefix length"

# Parse outcomes; the span fields of Parsed locate the offending text.
cdef enum:
    OK = 0
    E_EMPTY
    E_TOO_LONG
    E_CHAR
    E_NOT_AN_ADDRESS
    E_TOO_MANY_OCTETS
    E_EMPTY_OCTET
    E_NOT_DECIMAL
    E_LEADING_ZEROS
    E_OCTET_RANGE
    E_TOO_FEW_OCTETS
    E_DOUBLE_COLONS
    E_V4_NOT_LAST
    E_LEADING_COLON
    E_TRAILING_COLON
    E_TOO_MANY_GROUPS
    E_HEXTET_LENGTH
    E_TOO_FEW_GROUPS

# Character classes of the address alphabet; everything else is BAD.
cdef enum:
    BAD = 0
    DIGIT
    LETTER
    COLON
    DOT

cdef struct Parsed:
    int version
    uint32_t v4
    uint16_t groups[8]
    Py_ssize_t start  # offending span [start, stop) of the text
    Py_ssize_t stop

cdef uint8_t _CLASS[256]
cdef uint8_t _HEXVAL[256]
cdef char _DEC[256][4]  # "0." .. "255." (the dot is used between octets)
cdef uint8_t _DECLEN[256]


cdef void _init_tables() noexcept:
    cdef int c
    cdef bytes text
    for c in range(256):
        _CLASS[c] = BAD
        _HEXVAL[c] = 0
    for c in range(ord("0"), ord("9") + 1):
        _CLASS[c] = DIGIT
        _HEXVAL[c] = c - ord("0")
    for c in range(6):
        _CLASS[ord("a") + c] = LETTER
        _CLASS[ord("A") + c] = LETTER
        _HEXVAL[ord("a") + c] = 10 + c
        _HEXVAL[ord("A") + c] = 10 + c
    _CLASS[ord(":")] = COLON
    _CLASS[ord(".")] = DOT
    for c in range(256):
        text = (str(c) + ".").encode("ascii")
        _DECLEN[c] = len(text) - 1
        memcpy(_DEC[c], <const char *>text, len(text))
        if len(text) < 4:
            _DEC[c][3] = 0


_init_tables()


# --- parsing ----------------------------------------------------------------


cdef int _parse_v4(const char *s, Py_ssize_t i, Py_ssize_t n,
                   uint32_t *out, Parsed *p) noexcept nogil:
    """Parse the dotted quad in s[i:n] into out (host byte order)."""
    cdef uint32_t value = 0
    cdef uint32_t octet
    cdef int count = 0
    cdef Py_ssize_t start
    cdef bint letter
    cdef uint8_t c
    while True:
        if count == 4:
            return E_TOO_MANY_OCTETS
        start = i
        letter = False
        octet = 0
        while i < n and s[i] != b".":
            c = <uint8_t>s[i]
            if _CLASS[c] != DIGIT:
                letter = True
            elif i - start < 4:
                octet = octet * 10 + (c - 48)
            i += 1
        p.start = start
        p.stop = i
        if i == start:
            return E_EMPTY_OCTET
        if letter:
            return E_NOT_DECIMAL
        if i - start > 1 and s[start] == b"0":
            return E_LEADING_ZEROS
        if i - start > 3 or octet > 255:
            return E_OCTET_RANGE
        value = value << 8 | octet
        count += 1
        if i == n:
            break
        i += 1
    if count < 4:
        p.start = count
        return E_TOO_FEW_OCTETS
    out[0] = value
    return OK


cdef int _parse_v6(const char *s, Py_ssize_t n, Py_ssize_t pairs,
                   Py_ssize_t first_dot, Py_ssize_t last_colon,
                   Parsed *p) noexcept nogil:
    """Parse the IPv6 text s[0:n] (alphabet already checked) into p.groups."""
    cdef uint16_t head[8]
    cdef uint16_t tail[8]
    cdef int units[2]
    cdef int side = 0
    cdef int limit
    cdef int used
    cdef int k
    cdef int err
    cdef uint32_t v4 = 0
    cdef uint32_t value
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t start
    cdef bint dot
    if pairs > 1:
        return E_DOUBLE_COLONS
    if 0 <= first_dot < last_colon:
        return E_V4_NOT_LAST
    if s[0] == b":" and (n < 2 or s[1] != b":"):
        return E_LEADING_COLON
    if s[n - 1] == b":" and (n < 2 or s[n - 2] != b":"):
        return E_TRAILING_COLON
    limit = 7 if pairs else 8
    units[0] = 0
    units[1] = 0
    if s[0] == b":":  # starts with "::"
        side = 1
        i = 2
    while i < n:
        start = i
        dot = False
        while i < n and s[i] != b":":
            if s[i] == b".":
                dot = True
            i += 1
        used = units[0] + units[1]
        if dot:  # the last group: an embedded dotted quad
            if used + 2 > limit:
                return E_TOO_MANY_GROUPS
            err = _parse_v4(s, start, n, &v4, p)
            if err:
                return err
            if side:
                tail[units[1]] = <uint16_t>(v4 >> 16)
                tail[units[1] + 1] = <uint16_t>v4
            else:
                head[units[0]] = <uint16_t>(v4 >> 16)
                head[units[0] + 1] = <uint16_t>v4
            units[side] += 2
            break
        if used >= limit:
            return E_TOO_MANY_GROUPS
        if i - start > 4:
            p.start = start
            p.stop = i
            return E_HEXTET_LENGTH
        value = 0
        while start < i:
            value = value << 4 | _HEXVAL[<uint8_t>s[start]]
            start += 1
        if side:
            tail[units[1]] = <uint16_t>value
        else:
            head[units[0]] = <uint16_t>value
        units[side] += 1
        if i < n:  # skip the ':' and note a "::"
            i += 1
            if i < n and s[i] == b":":
                side = 1
                i += 1
    if not pairs and units[0] < 8:
        return E_TOO_FEW_GROUPS
    for k in range(8):
        p.groups[k] = 0
    for k in range(units[0]):
        p.groups[k] = head[k]
    for k in range(units[1]):
        p.groups[8 - units[1] + k] = tail[k]
    p.version = 6
    return OK


cdef int _parse(const char *s, Py_ssize_t n, Parsed *p) noexcept nogil:
    """Parse the ASCII address s[0:n] into p; return OK or an E_ code."""
    cdef Py_ssize_t i
    cdef Py_ssize_t pairs = 0
    cdef Py_ssize_t first_dot = -1
    cdef Py_ssize_t last_colon = -1
    cdef uint8_t kind
    p.start = 0
    p.stop = 0
    if n == 0:
        return E_EMPTY
    if n > MAX_TEXT:
        return E_TOO_LONG
    for i in range(n):
        kind = _CLASS[<uint8_t>s[i]]
        if kind == COLON:
            if i > 0 and s[i - 1] == b":":
                pairs += 1
            last_colon = i
        elif kind == DOT:
            if first_dot < 0:
                first_dot = i
        elif kind == BAD:
            p.start = i
            return E_CHAR
    if last_colon >= 0:
        return _parse_v6(s, n, pairs, first_dot, last_colon, p)
    if first_dot < 0:
        return E_NOT_AN_ADDRESS
    p.version = 4
    return _parse_v4(s, 0, n, &p.v4, p)


cdef object _error(object text, int err, Parsed *p):
    """Return the InvalidAddressError for parse outcome ``err``."""
    cdef Py_ssize_t start = p.start
    cdef Py_ssize_t stop = p.stop
    cdef str char
    if err == E_EMPTY:
        return InvalidAddressError(text, EMPTY)
    if err == E_TOO_LONG:
        return InvalidAddressError(text, TOO_LONG)
    if err == E_CHAR:
        char = text[start]
        if char == "%":
            return InvalidAddressError(text, SCOPE_ID)
        if char in _WHITESPACE:
            return InvalidAddressError(text, WHITESPACE)
        if char == "/":
            return InvalidAddressError(text, SLASH)
        return InvalidAddressError(text, f"invalid character {char!r}")
    if err == E_NOT_AN_ADDRESS:
        return InvalidAddressError(text, NOT_AN_ADDRESS)
    if err == E_TOO_MANY_OCTETS:
        return InvalidAddressError(text, TOO_MANY_OCTETS)
    if err == E_EMPTY_OCTET:
        return InvalidAddressError(text, EMPTY_OCTET)
    if err == E_NOT_DECIMAL:
        return InvalidAddressError(text, f"octet {text[start:stop]!r} is not decimal")
    if err == E_LEADING_ZEROS:
        return InvalidAddressError(text, LEADING_ZEROS)
    if err == E_OCTET_RANGE:
        return InvalidAddressError(text, f"octet {text[start:stop]} out of range")
    if err == E_TOO_FEW_OCTETS:
        return InvalidAddressError(text, f"expected 4 octets, found {p.start}")
    if err == E_DOUBLE_COLONS:
        return InvalidAddressError(text, DOUBLE_COLONS)
    if err == E_V4_NOT_LAST:
        return InvalidAddressError(text, V4_NOT_LAST)
    if err == E_LEADING_COLON:
        return InvalidAddressError(text, LEADING_COLON)
    if err == E_TRAILING_COLON:
        return InvalidAddressError(text, TRAILING_COLON)
    if err == E_TOO_MANY_GROUPS:
        return InvalidAddressError(text, TOO_MANY_GROUPS)
    if err == E_HEXTET_LENGTH:
        return InvalidAddressError(
            text, f"hextet {text[start:stop]!r} has more than 4 digits"
        )
    return InvalidAddressError(text, TOO_FEW_GROUPS)


cdef const char *_ascii(object text, str name, Py_ssize_t *n) except NULL:
    """Return the ASCII bytes of str ``text``; reject other types and text."""
    if not isinstance(text, str):
        raise TypeError(f"{name}() argument must be str, not {type(text).__name__}")
    SIKKER_UNICODE_READY(text)
    n[0] = PyUnicode_GET_LENGTH(text)
    if n[0] == 0:
        raise InvalidAddressError(text, EMPTY)
    if not PyUnicode_IS_ASCII(text):
        raise InvalidAddressError(text, NON_ASCII)
    return <const char *>PyUnicode_DATA(text)


cdef inline void _store_be(const Parsed *p, uint8_t *out) noexcept nogil:
    """Write the parsed address as 4 or 16 big-endian bytes."""
    cdef int k
    if p.version == 4:
        out[0] = <uint8_t>(p.v4 >> 24)
        out[1] = <uint8_t>(p.v4 >> 16)
        out[2] = <uint8_t>(p.v4 >> 8)
        out[3] = <uint8_t>p.v4
        return
    for k in range(8):
        out[2 * k] = <uint8_t>(p.groups[k] >> 8)
        out[2 * k + 1] = <uint8_t>p.groups[k]


cdef inline uint64_t _low_bits(int count) noexcept nogil:
    """Return a mask of the ``count`` (0..64) lowest bits."""
    if count >= 64:
        return ~(<uint64_t>0)
    return ((<uint64_t>1) << count) - 1



cdef inline void _store_be64(uint64_t value, uint8_t *b) noexcept nogil:
    cdef int k
    for k in range(7, -1, -1):
        b[k] = <uint8_t>value
        value >>= 8


def parse_ip(text):
    """Parse an IPv4 or IPv6 address into its version and integer value.

    Accepts what :func:`ipaddress.ip_address` accepts for a ``str``, except
    IPv6 scope ids. Nothing is stripped or normalised first.

    Args:
        text: The address, e.g. ``"192.0.2.1"`` or ``"2001:db8::1"``.

    Returns:
        ``(version, value)`` with version 4 or 6.

    Raises:
        InvalidAddressError: ``text`` is not an address; ``reason`` says why.
        TypeError: ``text`` is not a ``str``.
    """
    cdef Py_ssize_t n = 0
    cdef const char *s = _ascii(text, "parse_ip", &n)
    cdef Parsed p
    cdef uint8_t packed[16]
    cdef int err = _parse(s, n, &p)
    if err:
        raise _error(text, err, &p)
    if p.version == 4:
        return 4, p.v4
    _store_be(&p, packed)
    return 6, _PyLong_FromByteArray(packed, 16, 0, 0)


def parse_cidr(text, strict=True):
    """Parse an address or ``address/prefixlen`` network.

    Agrees with :func:`ipaddress.ip_network` except that netmask and
    hostmask forms (``1.2.3.0/255.255.255.0``) and scope ids are rejected.
    A bare address is a network of one address.

    Args:
        text: The network, e.g. ``"192.0.2.0/24"`` or ``"2001:db8::/32"``.
        strict: Reject host bits set below the prefix; when False they
            are masked off instead.

    Returns:
        ``(version, network value, prefix length)``.

    Raises:
        InvalidAddressError: ``text`` is not a network; ``reason`` says why.
        TypeError: ``text`` is not a ``str``.
    """
    cdef Py_ssize_t n = 0
    cdef const char *s = _ascii(text, "parse_cidr", &n)
    cdef const char *slash = <const char *>memchr(s, b"/", n)
    cdef Py_ssize_t alen = slash - s if slash != NULL else n
    cdef Py_ssize_t i
    cdef Parsed p
    cdef uint8_t packed[16]
    cdef uint64_t hi
    cdef uint64_t lo
    cdef uint64_t host_hi
    cdef uint64_t host_lo
    cdef int width
    cdef int length = 0
    cdef int digits = 0
    cdef bint other_slash = False
    cdef bint dot = False
    cdef bint nondigit = False
    cdef int err = _parse(s, alen, &p)
    if err:
        raise _error(text, err, &p)
    width = 32 if p.version == 4 else 128
    if slash == NULL:
        length = width
    else:
        if alen + 1 == n:
            raise InvalidAddressError(text, EMPTY_PREFIX)
        for i in range(alen + 1, n):
            if s[i] == b"/":
                other_slash = True
            elif s[i] == b".":
                dot = True
            elif _CLASS[<uint8_t>s[i]] != DIGIT:
                nondigit = True
            elif digits or s[i] != b"0":  # significant digits only
                digits += 1
                if digits <= 3:
                    length = length * 10 + (s[i] - 48)
        if other_slash:
            raise InvalidAddressError(text, SLASHES)
        if dot:
            raise InvalidAddressError(text, NETMASK)
        if nondigit:
            raise InvalidAddressError(
                text, f"invalid prefix length {text[alen + 1:]!r}"
            )
        if digits > 3 or length > width:
            raise InvalidAddressError(
                text,
                f"prefix length {text[alen + 1:]} out of range for IPv{p.version}",
            )
    if p.version == 4:
        host_lo = ((<uint64_t>1) << (32 - length)) - 1
        if p.v4 & host_lo:
            if strict:
                network = format_ip(4, p.v4 & ~host_lo)
                raise InvalidAddressError(
                    text, f"host bits set (the network is {network}/{length})"
                )
            p.v4 &= <uint32_t>~host_lo
        return 4, p.v4, length
    _store_be(&p, packed)
    hi = _load_be64(packed)
    lo = _load_be64(packed + 8)
    # NOTE: shifting a 64-bit value by 64 is undefined in C, hence _low_bits.
    host_hi = _low_bits(64 - length) if length < 64 else 0
    host_lo = _low_bits(128 - length) if length > 64 else ~(<uint64_t>0)
    if hi & host_hi or lo & host_lo:
        hi &= ~host_hi
        lo &= ~host_lo
        _store_be64(hi, packed)
        _store_be64(lo, packed + 8)
        if strict:
            network = format_ip(6, _PyLong_FromByteArray(packed, 16, 0, 0))
            raise InvalidAddressError(
                text, f"host bits set (the network is {network}/{length})"
            )
    return 6, _PyLong_FromByteArray(packed, 16, 0, 0), length


# --- formatting ---------------------------------------------------------------


cdef inline Py_ssize_t _format_v4(const uint8_t *b, char *out) noexcept nogil:
    """Write the dotted quad of 4 bytes; needs 3 bytes of slack after it."""
    cdef char *start = out
    memcpy(out, _DEC[b[0]], 4)
    out += _DECLEN[b[0]] + 1
    memcpy(out, _DEC[b[1]], 4)
    out += _DECLEN[b[1]] + 1
    memcpy(out, _DEC[b[2]], 4)
    out += _DECLEN[b[2]] + 1
    memcpy(out, _DEC[b[3]], 4)
    out += _DECLEN[b[3]]
    return out - start


cdef inline Py_ssize_t _format_v6(const uint8_t *b, char *out) noexcept nogil:
    """Write 16 bytes as Python 3.11's ipaddress prints them (RFC 5952)."""
    cdef uint16_t groups[8]
    cdef int k
    cdef int best_start = -1
    cdef int best_len = 0
    cdef int start = 0
    cdef int run = 0
    cdef Py_ssize_t pos = 0
    cdef uint16_t g
    cdef bint colon = False
    for k in range(8):
        g = <uint16_t>(b[2 * k] << 8 | b[2 * k + 1])
        groups[k] = g
        if g:
            run = 0
            continue
        if run == 0:
            start = k
        run += 1
        if run > best_len:
            best_start = start
            best_len = run
    if best_len < 2:
        best_start = -1
    k = 0
    while k < 8:
        if k == best_start:
            out[pos] = b":"
            out[pos + 1] = b":"
            pos += 2
            k += best_len
            colon = False
            continue
        if colon:
            out[pos] = b":"
            pos += 1
        g = groups[k]
        if g >= 0x1000:
            out[pos] = _HEX_DIGITS[g >> 12]
            pos += 1
        if g >= 0x100:
            out[pos] = _HEX_DIGITS[(g >> 8) & 15]
            pos += 1
        if g >= 0x10:
            out[pos] = _HEX_DIGITS[(g >> 4) & 15]
            pos += 1
        out[pos] = _HEX_DIGITS[g & 15]
        pos += 1
        colon = True
        k += 1
    return pos


cdef inline bint _is_mapped(const uint8_t *b) noexcept nogil:
    return memcmp(b, _MAPPED_PREFIX, 12) == 0


cdef inline Py_ssize_t _format_ip16(const uint8_t *b, char *out) noexcept nogil:
    if _is_mapped(b):
        return _format_v4(b + 12, out)
    return _format_v6(b, out)


cdef str _ascii_str(const char *data, Py_ssize_t n):
    cdef str result = PyUnicode_New(n, 127)
    memcpy(PyUnicode_1BYTE_DATA(result), data, n)
    return result


cdef tuple _check_value(object version, object value):
    version = PyNumber_Index(version)
    number = PyNumber_Index(value)
    if version != 4 and version != 6:
        raise ValueError(f"version must be 4 or 6, not {version}")
    if number < 0 or number > (V4_MAX if version == 4 else V6_MAX):
        raise InvalidAddressError(value, f"value out of range for IPv{version}")
    return version, number


cdef void _value_bytes(int version, object number, uint8_t *out) except *:
    """Write a range-checked integer as 4 or 16 big-endian bytes."""
    cdef uint64_t lo = PyLong_AsUnsignedLongLongMask(number)
    if version == 4:
        out[0] = <uint8_t>(lo >> 24)
        out[1] = <uint8_t>(lo >> 16)
        out[2] = <uint8_t>(lo >> 8)
        out[3] = <uint8_t>lo
        return
    _store_be64(PyLong_AsUnsignedLongLong(number >> 64), out)
    _store_be64(lo, out + 8)


def format_ip(version, value):
    """Format an integer address as text.

    The result equals ``str(ipaddress.ip_address(value))`` in Python 3.11:
    dotted quad for IPv4; lowercase RFC 5952 compression for IPv6, with
    IPv4-mapped addresses printed in hex (``::ffff:102:304``).

    Args:
        version: 4 or 6.
        value: The address as an integer.

    Returns:
        The canonical text form.

    Raises:
        InvalidAddressError: ``value`` is out of range for ``version``.
        ValueError: ``version`` is neither 4 nor 6.
        TypeError: ``version`` or ``value`` is not an integer.
    """
    cdef uint8_t packed[16]
    cdef char buf[TEXT_BUF]
    version, number = _check_value(version, value)
    _value_bytes(version, number, packed)
    if version == 4:
        return _ascii_str(buf, _format_v4(packed, buf))
    return _ascii_str(buf, _format_v6(packed, buf))


def pack_ip(text):
    """Pack an address into 4 (IPv4) or 16 (IPv6) big-endian bytes.

    Gives what :func:`socket.inet_pton` gives for the right family, with
    the acceptance rules of :func:`parse_ip`.

    Args:
        text: The address.

    Returns:
        The packed address.

    Raises:
        InvalidAddressError: ``text`` is not an address.
        TypeError: ``text`` is not a ``str``.
    """
    cdef Py_ssize_t n = 0
    cdef const char *s = _ascii(text, "pack_ip", &n)
    cdef Parsed p
    cdef uint8_t packed[16]
    cdef int err = _parse(s, n, &p)
    if err:
        raise _error(text, err, &p)
    _store_be(&p, packed)
    return PyBytes_FromStringAndSize(<char *>packed, 4 if p.version == 4 else 16)


cdef bytes _as_bytes(object packed):
    if isinstance(packed, bytes):
        return packed
    return memoryview(packed).tobytes()


def unpack_ip(packed):
    """Turn 4 or 16 packed bytes back into text.

    The inverse of :func:`pack_ip`; the text is the one :func:`format_ip`
    gives (so IPv4-mapped IPv6 prints as hex, unlike ``inet_ntop``).

    Args:
        packed: A bytes-like object of 4 or 16 bytes.

    Returns:
        The canonical text form.

    Raises:
        InvalidAddressError: ``packed`` is neither 4 nor 16 bytes long.
        TypeError: ``packed`` is not bytes-like.
    """
    cdef bytes data = _as_bytes(packed)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef char buf[TEXT_BUF]
    cdef const uint8_t *b = <const uint8_t *>PyBytes_AS_STRING(data)
    if n == 4:
        return _ascii_str(buf, _format_v4(b, buf))
    if n == 16:
        return _ascii_str(buf, _format_v6(b, buf))
    raise InvalidAddressError(packed, f"expected 4 or 16 bytes, got {n}")


def to_ip16(text):
    """Return the 16-byte storage form of an address.

    IPv4 becomes IPv4-mapped IPv6, so ``"1.2.3.4"`` and
    ``"::ffff:1.2.3.4"`` give the same key. IPv6 is packed as is.

    Args:
        text: The address.

    Returns:
        16 big-endian bytes.

    Raises:
        InvalidAddressError: ``text`` is not an address.
        TypeError: ``text`` is not a ``str``.
    """
    cdef Py_ssize_t n = 0
    cdef const char *s = _ascii(text, "to_ip16", &n)
    cdef Parsed p
    cdef uint8_t packed[16]
    cdef int err = _parse(s, n, &p)
    if err:
        raise _error(text, err, &p)
    if p.version == 4:
        memcpy(packed, _MAPPED_PREFIX, 12)
        _store_be(&p, packed + 12)
    else:
        _store_be(&p, packed)
    return PyBytes_FromStringAndSize(<char *>packed, 16)


def from_ip16(packed):
    """Turn the 16-byte storage form back into text.

    IPv4-mapped addresses print as dotted IPv4 (``"1.2.3.4"``), all others
    as compressed IPv6.

    Args:
        packed: A bytes-like object of 16 bytes.

    Returns:
        The text form.

    Raises:
        InvalidAddressError: ``packed`` is not 16 bytes long.
        TypeError: ``packed`` is not bytes-like.
    """
    cdef bytes data = _as_bytes(packed)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef char buf[TEXT_BUF]
    if n != 16:
        raise InvalidAddressError(packed, f"expected 16 bytes, got {n}")
    return _ascii_str(
        buf, _format_ip16(<const uint8_t *>PyBytes_AS_STRING(data), buf)
    )


# --- classification -----------------------------------------------------------

cdef enum:
    PUBLIC = 0
    UNSPECIFIED
    PRIVATE
    LOOPBACK
    LINK_LOCAL
    MULTICAST
    RESERVED
    DOCUMENTATION
    SHARED
    BENCHMARKING
    EMBED_MAPPED
    EMBED_NAT64
    EMBED_TEREDO
    EMBED_6TO4

cdef tuple _REASONS = (
    None,
    "unspecified",
    "private",
    "loopback",
    "link-local",
    "multicast",
    "reserved",
    "documentation",
    "shared",
    "benchmarking",
)

cdef object _reason_name(int code):
    """Return what ``classify`` says of a classification code."""
    return _REASONS[code]


cdef enum:
    V4_ROWS = 18
    V6_ROWS = 26

# IANA IPv4 Special-Purpose Address Registry plus multicast, most specific
# first; PUBLIC marks a globally reachable exception inside a listed block.
cdef uint32_t _V4_NET[V4_ROWS]
cdef uint8_t _V4_LEN[V4_ROWS]
cdef uint8_t _V4_CODE[V4_ROWS]
_V4_NET[:] = [
    0x00000000, 0x00000000, 0x0A000000, 0x64400000, 0x7F000000, 0xA9FE0000,
    0xAC100000, 0xC0000009, 0xC000000A, 0xC0000000, 0xC0000200, 0xC0586300,
    0xC0A80000, 0xC6120000, 0xC6336400, 0xCB007100, 0xE0000000, 0xF0000000,
]
_V4_LEN[:] = [32, 8, 8, 10, 8, 16, 12, 32, 32, 24, 24, 24, 16, 15, 24, 24, 4, 4]
_V4_CODE[:] = [
    UNSPECIFIED,  # 0.0.0.0/32 "this host"
    RESERVED,  # 0.0.0.0/8 "this network"
    PRIVATE,  # 10.0.0.0/8
    SHARED,  # 100.64.0.0/10
    LOOPBACK,  # 127.0.0.0/8
    LINK_LOCAL,  # 169.254.0.0/16
    PRIVATE,  # 172.16.0.0/12
    PUBLIC,  # 192.0.0.9/32 PCP anycast
    PUBLIC,  # 192.0.0.10/32 TURN anycast
    RESERVED,  # 192.0.0.0/24 IETF protocol assignments
    DOCUMENTATION,  # 192.0.2.0/24 TEST-NET-1
    RESERVED,  # 192.88.99.0/24 deprecated 6to4 relay
    PRIVATE,  # 192.168.0.0/16
    BENCHMARKING,  # 198.18.0.0/15
    DOCUMENTATION,  # 198.51.100.0/24 TEST-NET-2
    DOCUMENTATION,  # 203.0.113.0/24 TEST-NET-3
    MULTICAST,  # 224.0.0.0/4
    RESERVED,  # 240.0.0.0/4 incl. 255.255.255.255
]

# IANA IPv6 Special-Purpose Address Registry, multicast and the 2000::/3
# global unicast space, most specific first; first match wins.
cdef uint64_t _V6_HI[V6_ROWS]
cdef uint64_t _V6_LO[V6_ROWS]
cdef uint8_t _V6_LEN[V6_ROWS]
cdef uint8_t _V6_CODE[V6_ROWS]
cdef uint64_t _V6_MASK_HI[V6_ROWS]
cdef uint64_t _V6_MASK_LO[V6_ROWS]
_V6_HI[:] = [
    0, 0, 0, 0x0064FF9B00000000, 0x0064FF9B00010000, 0, 0x0100000000000000,
    0x2001000000000000, 0x2001000100000000, 0x2001000100000000,
    0x2001000100000000, 0x2001000200000000, 0x2001000300000000,
    0x2001000401120000, 0x2001002000000000, 0x2001003000000000,
    0x2001000000000000, 0x20010DB800000000, 0x2002000000000000,
    0x3FFF000000000000, 0x2000000000000000, 0x5F00000000000000,
    0xFC00000000000000, 0xFE80000000000000, 0xFF00000000000000, 0,
]
_V6_LO[:] = [
    0, 1, 0x0000FFFF00000000, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0,
]
_V6_LEN[:] = [
    128, 128, 96, 96, 48, 8, 64, 32, 128, 128, 128, 48, 32, 48, 28, 28, 23, 32,
    16, 20, 3, 16, 7, 10, 8, 0,
]
_V6_CODE[:] = [
    UNSPECIFIED,  # ::/128
    LOOPBACK,  # ::1/128
    EMBED_MAPPED,  # ::ffff:0:0/96
    EMBED_NAT64,  # 64:ff9b::/96
    PRIVATE,  # 64:ff9b:1::/48 local-use NAT64
    RESERVED,  # ::/8 incl. IPv4-compatible
    RESERVED,  # 100::/64 discard-only
    EMBED_TEREDO,  # 2001::/32
    PUBLIC,  # 2001:1::1 PCP anycast
    PUBLIC,  # 2001:1::2 TURN anycast
    PUBLIC,  # 2001:1::3 DNS-SD SRP anycast
    BENCHMARKING,  # 2001:2::/48
    PUBLIC,  # 2001:3::/32 AMT
    PUBLIC,  # 2001:4:112::/48 AS112-v6
    PUBLIC,  # 2001:20::/28 ORCHIDv2
    PUBLIC,  # 2001:30::/28 drone remote ID DETs
    RESERVED,  # 2001::/23 IETF protocol assignments
    DOCUMENTATION,  # 2001:db8::/32
    EMBED_6TO4,  # 2002::/16
    DOCUMENTATION,  # 3fff::/20
    PUBLIC,  # 2000::/3 global unicast
    RESERVED,  # 5f00::/16 SRv6 SIDs
    PRIVATE,  # fc00::/7 unique local
    LINK_LOCAL,  # fe80::/10
    MULTICAST,  # ff00::/8
    RESERVED,  # everything else is unassigned or reserved
]


cdef void _init_masks() noexcept:
    cdef int k
    cdef int length
    for k in range(V6_ROWS):
        length = _V6_LEN[k]
        if length == 0:
            _V6_MASK_HI[k] = 0
        elif length < 64:
            _V6_MASK_HI[k] = ~(<uint64_t>0) << (64 - length)
        else:
            _V6_MASK_HI[k] = ~(<uint64_t>0)
        if length <= 64:
            _V6_MASK_LO[k] = 0
        elif length < 128:
            _V6_MASK_LO[k] = ~(<uint64_t>0) << (128 - length)
        else:
            _V6_MASK_LO[k] = ~(<uint64_t>0)


_init_masks()


cdef int _classify_v4(uint32_t value) noexcept nogil:
    cdef int k
    for k in range(V4_ROWS):
        if (value ^ _V4_NET[k]) >> (32 - _V4_LEN[k]) == 0:
            return _V4_CODE[k]
    return PUBLIC


cdef int _classify_v6(uint64_t hi, uint64_t lo) noexcept nogil:
    cdef int k
    cdef int code
    for k in range(V6_ROWS):
        if (hi & _V6_MASK_HI[k]) != _V6_HI[k] or (lo & _V6_MASK_LO[k]) != _V6_LO[k]:
            continue
        code = _V6_CODE[k]
        if code == EMBED_MAPPED or code == EMBED_NAT64:
            return _classify_v4(<uint32_t>lo)
        if code == EMBED_TEREDO:
            return _classify_v4(~<uint32_t>lo)
        if code == EMBED_6TO4:
            return _classify_v4(<uint32_t>(hi >> 16))
        return code
    return RESERVED


def classify(version, value):
    """Say why an address is not public, or return None if it is.

    Judged by the IANA special-purpose registries. IPv4 embedded in IPv6
    (IPv4-mapped, NAT64 ``64:ff9b::/96``, 6to4 and Teredo) is judged by the
    embedded IPv4 address.

    Args:
        version: 4 or 6.
        value: The address as an integer.

    Returns:
        None for a globally routable unicast address, otherwise one of
        ``"unspecified"``, ``"private"``, ``"loopback"``, ``"link-local"``,
        ``"multicast"``, ``"reserved"``, ``"documentation"``, ``"shared"``
        or ``"benchmarking"``.

    Raises:
        InvalidAddressError: ``value`` is out of range for ``version``.
        ValueError: ``version`` is neither 4 nor 6.
        TypeError: ``version`` or ``value`` is not an integer.
    """
    cdef uint8_t packed[16]
    version, number = _check_value(version, value)
    _value_bytes(version, number, packed)
    if version == 4:
        return _REASONS[_classify_v4(
            <uint32_t>packed[0] << 24 | <uint32_t>packed[1] << 16
            | <uint32_t>packed[2] << 8 | packed[3]
        )]
    return _REASONS[_classify_v6(_load_be64(packed), _load_be64(packed + 8))]


# --- rendering ------------------------------------------------------------------


cdef memoryview _column_view(object column):
    view = memoryview(column).cast("B")
    if len(view) % 16:
        raise ValueError(f"column length {len(view)} is not a multiple of 16")
    return view


cdef memoryview _rows_view(object rows):
    view = memoryview(rows)
    if view.itemsize != 4 or view.format not in _U32_FORMATS:
        raise TypeError(f"rows must be a buffer of uint32, not format {view.format!r}")
    return view.cast("B").cast("I")


cdef struct Render:
    const uint8_t *column
    Py_ssize_t count  # addresses in the column
    const uint32_t *rows
    Py_ssize_t nrows
    const char *prefix
    Py_ssize_t prefix_len
    const char *suffix
    Py_ssize_t suffix_len
    Py_ssize_t bound  # output size that is always enough


cdef Py_ssize_t _check_rows(Render *job) noexcept nogil:
    """Return the index of the first bad row or -1; set job.bound."""
    cdef Py_ssize_t k
    cdef Py_ssize_t v4rows = 0
    for k in range(job.nrows):
        if job.rows[k] >= job.count:
            return k
        if _is_mapped(job.column + 16 * <Py_ssize_t>job.rows[k]):
            v4rows += 1
    job.bound = (
        job.nrows * (job.prefix_len + job.suffix_len)
        + v4rows * V4_WIDTH
        + (job.nrows - v4rows) * V6_WIDTH
    )
    return -1


cdef Py_ssize_t _render(const Render *job, char *out) noexcept nogil:
    """Write every line of a checked job to out; return the bytes used."""
    cdef char *start = out
    cdef const uint8_t *src
    cdef Py_ssize_t k
    for k in range(job.nrows):
        if job.prefix_len == 1:
            out[0] = job.prefix[0]
            out += 1
        elif job.prefix_len:
            memcpy(out, job.prefix, job.prefix_len)
            out += job.prefix_len
        src = job.column + 16 * <Py_ssize_t>job.rows[k]
        if _is_mapped(src):
            out += _format_v4(src + 12, out)
        else:
            out += _format_v6(src, out)
        if job.suffix_len == 1:
            out[0] = job.suffix[0]
            out += 1
        elif job.suffix_len:
            memcpy(out, job.suffix, job.suffix_len)
            out += job.suffix_len
    return out - start


def render_ips(column, rows, prefix=b"", suffix=b"\n"):
    """Render the addresses at ``rows`` of a storage-form column as text.

    For each row in order the output holds ``prefix``, the text
    :func:`from_ip16` gives for ``column[row]``, and ``suffix``.

    Args:
        column: A buffer of N consecutive 16-byte storage-form addresses
            (bytes, mmap, memoryview, numpy array).
        rows: A buffer of native uint32 row indexes (``array('I')``, numpy
            uint32, memoryview).
        prefix: Bytes written before each address.
        suffix: Bytes written after each address.

    Returns:
        The concatenated lines.

    Raises:
        IndexError: A row is not below N.
        ValueError: The column length is not a multiple of 16.
        TypeError: An argument is not a buffer, or rows are not uint32.
    """
    cdef const uint8_t[::1] col = _column_view(column)
    cdef const uint32_t[::1] idx = _rows_view(rows)
    cdef bytes before = _as_bytes(prefix)
    cdef bytes after = _as_bytes(suffix)
    cdef Render job
    cdef Py_ssize_t bad
    cdef Py_ssize_t used
    cdef PyObject *raw
    cdef char *out
    job.nrows = idx.shape[0]
    if job.nrows == 0:
        return b""
    job.count = col.shape[0] // 16
    job.rows = &idx[0]
    job.column = &col[0] if job.count else NULL
    job.prefix = before
    job.prefix_len = len(before)
    job.suffix = after
    job.suffix_len = len(after)
    if job.nrows > (PY_SSIZE_T_MAX - 4) // (
        job.prefix_len + job.suffix_len + V6_WIDTH
    ):
        raise MemoryError("render_ips output would not fit in memory")
    # PERF: big jobs release the GIL; for small ones the switch costs more.
    if job.nrows > 4096:
        with nogil:
            bad = _check_rows(&job)
    else:
        bad = _check_rows(&job)
    if bad >= 0:
        raise IndexError(
            f"row {job.rows[bad]} out of range for a column of {job.count}"
        )
    # The bound is exact for the longest texts; 4 bytes of slack let dotted
    # quads be copied 4 bytes at a time.
    raw = PyBytes_FromStringAndSize_raw(NULL, job.bound + 4)
    out = PyBytes_AS_STRING_raw(raw)
    if job.nrows > 4096:
        with nogil:
            used = _render(&job, out)
    else:
        used = _render(&job, out)
    _PyBytes_Resize(&raw, used)
    result = <object>raw  # takes a new reference; drop the creation one
    Py_DECREF(result)
    return result
