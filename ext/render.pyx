# cython: language_level=3, binding=True, embedsignature=True
"""Compose blacklist lines and JSON answers: the compiled twin.

Same API, behaviour and errors as the pure-Python reference
``sikker.core.render_py``; import either through :mod:`sikker.core.render`.
Addresses are formatted and classified by the IP core's C functions
(``ipcore.pxd``). ``render_lines`` checks every input, sizes the output
exactly in a first pass and writes every line into one ``bytes`` object in
a second, both without the GIL for big jobs.
"""

from cpython.object cimport PyObject
from cpython.bytes cimport PyBytes_AS_STRING
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.bytes cimport PyBytes_GET_SIZE
from cpython.ref cimport Py_DECREF
from libc.stdint cimport uint8_t
from libc.stdint cimport uint32_t
from libc.stdint cimport uint64_t
from libc.stdlib cimport free
from libc.stdlib cimport malloc
from libc.stdlib cimport realloc
from libc.string cimport memcmp
from libc.string cimport memcpy
from libc.string cimport strlen

import numpy as np

from sikker.ext.ipcore import format_ip as _format_ip

from sikker.ext.ipcore cimport _classify_v4
from sikker.ext.ipcore cimport _classify_v6
from sikker.ext.ipcore cimport _format_ip16
from sikker.ext.ipcore cimport _load_be64
from sikker.ext.ipcore cimport _reason_name

cdef extern from *:
    PyObject *PyBytes_FromStringAndSize_raw "PyBytes_FromStringAndSize" (
        const char *, Py_ssize_t) except NULL
    char *PyBytes_AS_STRING_raw "PyBytes_AS_STRING" (PyObject *) noexcept nogil
    int _PyBytes_Resize(PyObject **, Py_ssize_t) except -1

__all__ = [
    "DECIMAL",
    "ISO_TIME",
    "LOOKUP",
    "MAX_CELLS",
    "UNBLOCKABLE",
    "keep_rows",
    "render_check",
    "render_compact",
    "render_lines",
]

DECIMAL = 0
ISO_TIME = 1
LOOKUP = 2
MAX_CELLS = 32
UNBLOCKABLE = frozenset(
    {"unspecified", "private", "loopback", "link-local", "multicast", "shared"}
    | {"reserved"}
)

cdef enum:
    K_DECIMAL = 0
    K_ISO_TIME = 1
    K_LOOKUP = 2
    C_MAX_CELLS = 32
    V4_WIDTH = 15
    V6_WIDTH = 39
    DECIMAL_WIDTH = 10
    ISO_WIDTH = 20
    # Over this many rows the GIL is released; below it the switch costs more.
    NOGIL_ROWS = 4096

cdef frozenset _U32_FORMATS = frozenset(
    {"I", "@I", "=I", "<I", "L", "@L", "=L", "<L"}
)
cdef const char *_MAPPED_PREFIX = b"\0\0\0\0\0\0\0\0\0\0\xff\xff"

# Classification codes of ipcore.pxd that a firewall must never block:
# unspecified, private, loopback, link-local, multicast, reserved, shared.
cdef uint8_t _UNBLOCKABLE[16]
_UNBLOCKABLE[:] = [0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]


cdef struct Cell:
    int kind
    const uint32_t *values
    const char **texts  # LOOKUP: table entries
    Py_ssize_t *lengths
    Py_ssize_t size  # LOOKUP: table length


cdef struct Job:
    const uint8_t *column
    Py_ssize_t count  # addresses in the column
    const uint32_t *rows
    Py_ssize_t nrows
    int ncells
    Cell cells[C_MAX_CELLS]
    const char *pieces[C_MAX_CELLS + 2]
    Py_ssize_t piece_lens[C_MAX_CELLS + 2]
    Py_ssize_t fixed  # bytes of pieces per line


cdef memoryview _u32(object values, str name):
    view = memoryview(values)
    if view.itemsize != 4 or view.format not in _U32_FORMATS:
        raise TypeError(f"{name} must be a buffer of uint32, not format {view.format!r}")
    return view.cast("B").cast("I")


cdef memoryview _column(object column):
    view = memoryview(column).cast("B")
    if len(view) % 16:
        raise ValueError(f"column length {len(view)} is not a multiple of 16")
    return view


cdef inline bint _is_mapped(const uint8_t *b) noexcept nogil:
    return memcmp(b, _MAPPED_PREFIX, 12) == 0


cdef Py_ssize_t _bad_row(const Job *job) noexcept nogil:
    """Return the index of the first row not below job.count, or -1."""
    cdef Py_ssize_t k
    for k in range(job.nrows):
        if job.rows[k] >= job.count:
            return k
    return -1


cdef Py_ssize_t _bad_value(const Cell *cell, Py_ssize_t nrows) noexcept nogil:
    """Return the index of the first LOOKUP value off the table, or -1."""
    cdef Py_ssize_t k
    for k in range(nrows):
        if cell.values[k] >= cell.size:
            return k
    return -1


cdef Py_ssize_t _size(const Job *job) noexcept nogil:
    """Return the exact upper bound of the output of a checked job."""
    cdef Py_ssize_t total = 0
    cdef Py_ssize_t k
    cdef int c
    cdef const Cell *cell
    for k in range(job.nrows):
        if _is_mapped(job.column + 16 * <Py_ssize_t>job.rows[k]):
            total += V4_WIDTH
        else:
            total += V6_WIDTH
    total += job.nrows * job.fixed
    for c in range(job.ncells):
        cell = &job.cells[c]
        if cell.kind == K_DECIMAL:
            total += job.nrows * DECIMAL_WIDTH
        elif cell.kind == K_ISO_TIME:
            total += job.nrows * ISO_WIDTH
        else:
            for k in range(job.nrows):
                total += cell.lengths[cell.values[k]]
    return total


cdef inline Py_ssize_t _decimal(uint32_t value, char *out) noexcept nogil:
    cdef char digits[DECIMAL_WIDTH]
    cdef int n = 0
    cdef int k
    while True:
        digits[n] = <char>(48 + value % 10)
        n += 1
        value //= 10
        if value == 0:
            break
    for k in range(n):
        out[k] = digits[n - 1 - k]
    return n


cdef inline void _two(uint32_t value, char *out) noexcept nogil:
    out[0] = <char>(48 + value // 10)
    out[1] = <char>(48 + value % 10)


cdef inline Py_ssize_t _iso_time(uint32_t epoch, char *out) noexcept nogil:
    """Write epoch seconds as YYYY-MM-DDTHH:MM:SSZ (proleptic Gregorian)."""
    cdef uint64_t days
    cdef uint64_t secs
    cdef uint64_t era
    cdef uint64_t doe
    cdef uint64_t yoe
    cdef uint64_t doy
    cdef uint64_t mp
    cdef uint64_t year
    cdef uint64_t month
    cdef uint64_t day
    if epoch == 0:
        return 0
    days = epoch // 86400
    secs = epoch % 86400
    # civil_from_days (H. Hinnant), for days >= 0.
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    _two(<uint32_t>(year // 100), out)
    _two(<uint32_t>(year % 100), out + 2)
    out[4] = b"-"
    _two(<uint32_t>month, out + 5)
    out[7] = b"-"
    _two(<uint32_t>day, out + 8)
    out[10] = b"T"
    _two(<uint32_t>(secs // 3600), out + 11)
    out[13] = b":"
    _two(<uint32_t>(secs // 60 % 60), out + 14)
    out[16] = b":"
    _two(<uint32_t>(secs % 60), out + 17)
    out[19] = b"Z"
    return ISO_WIDTH


cdef inline char *_put(char *out, const char *data, Py_ssize_t n) noexcept nogil:
    if n == 1:
        out[0] = data[0]
    elif n:
        memcpy(out, data, n)
    return out + n


cdef Py_ssize_t _render(const Job *job, char *out) noexcept nogil:
    """Write every line of a checked job to out; return the bytes used."""
    cdef char *start = out
    cdef Py_ssize_t k
    cdef uint32_t value
    cdef int c
    cdef const Cell *cell
    for k in range(job.nrows):
        out = _put(out, job.pieces[0], job.piece_lens[0])
        out += _format_ip16(job.column + 16 * <Py_ssize_t>job.rows[k], out)
        out = _put(out, job.pieces[1], job.piece_lens[1])
        for c in range(job.ncells):
            cell = &job.cells[c]
            value = cell.values[k]
            if cell.kind == K_DECIMAL:
                out += _decimal(value, out)
            elif cell.kind == K_ISO_TIME:
                out += _iso_time(value, out)
            else:
                out = _put(out, cell.texts[value], cell.lengths[value])
            out = _put(out, job.pieces[c + 2], job.piece_lens[c + 2])
    return out - start


cdef void _free_tables(Job *job) noexcept:
    cdef int c
    for c in range(job.ncells):
        free(job.cells[c].texts)
        free(job.cells[c].lengths)
        job.cells[c].texts = NULL
        job.cells[c].lengths = NULL


cdef int _load_table(Cell *cell, tuple table, int index) except -1:
    cdef Py_ssize_t k
    cdef Py_ssize_t n = len(table)
    for entry in table:
        if not isinstance(entry, bytes):
            raise TypeError(
                f"cell {index}: table entries must be bytes, not {type(entry).__name__}"
            )
    cell.size = n
    cell.texts = <const char **>malloc(max(n, 1) * sizeof(char *))
    cell.lengths = <Py_ssize_t *>malloc(max(n, 1) * sizeof(Py_ssize_t))
    if cell.texts == NULL or cell.lengths == NULL:
        raise MemoryError()
    for k in range(n):
        entry = table[k]
        cell.texts[k] = <bytes>entry
        cell.lengths[k] = len(<bytes>entry)
    return 0


cdef int _load_cells(Job *job, object pieces, object cells, list keep) except -1:
    """Check pieces and cells and point the job at them (kept alive in keep)."""
    cdef int c
    cdef Py_ssize_t bad
    cdef const uint32_t[::1] values
    cdef Cell *cell
    cdef tuple table
    pieces = tuple(pieces)
    cells = tuple(cells)
    keep.append(pieces)
    if len(cells) > C_MAX_CELLS:
        raise ValueError(f"at most {C_MAX_CELLS} cells, got {len(cells)}")
    if len(pieces) != len(cells) + 2:
        raise ValueError(
            f"{len(cells)} cells need {len(cells) + 2} pieces, got {len(pieces)}"
        )
    job.fixed = 0
    for c, piece in enumerate(pieces):
        if not isinstance(piece, bytes):
            raise TypeError(f"pieces must be bytes, not {type(piece).__name__}")
        job.pieces[c] = <bytes>piece
        job.piece_lens[c] = len(<bytes>piece)
        job.fixed += job.piece_lens[c]
    job.ncells = 0
    for c, spec in enumerate(cells):
        kind, raw, table_spec = spec
        if kind not in (K_DECIMAL, K_ISO_TIME, K_LOOKUP):
            raise ValueError(f"cell {c}: unknown kind {kind!r}")
        view = _u32(raw, f"cell {c} values")
        if len(view) != job.nrows:
            raise ValueError(f"cell {c} has {len(view)} values for {job.nrows} rows")
        values = view
        keep.append(view)
        cell = &job.cells[c]
        cell.kind = kind
        cell.values = &values[0] if job.nrows else NULL
        cell.texts = NULL
        cell.lengths = NULL
        cell.size = 0
        job.ncells = c + 1
        if kind != K_LOOKUP:
            continue
        table = tuple(table_spec)
        keep.append(table)
        _load_table(cell, table, c)
        if job.nrows > NOGIL_ROWS:
            with nogil:
                bad = _bad_value(cell, job.nrows)
        else:
            bad = _bad_value(cell, job.nrows)
        if bad >= 0:
            raise IndexError(
                f"cell {c}: value {cell.values[bad]} out of range "
                f"for a table of {cell.size}"
            )
    return 0


def render_lines(column, rows, pieces, cells=()):
    """Render one line per row: fixed pieces around the address and its cells.

    Line ``i`` is ``pieces[0]``, the address of ``column[rows[i]]`` (as
    ``ipcore.render_ips`` prints it), ``pieces[1]``, cell 0 of row ``i``,
    ``pieces[2]``, ..., the last cell, ``pieces[-1]``.

    Args:
        column: N consecutive 16-byte storage-form addresses.
        rows: Native uint32 row indexes into ``column``.
        pieces: ``len(cells) + 2`` byte strings written between the fields.
        cells: At most 32 ``(kind, values, table)``: ``values`` holds one
            uint32 per row; ``kind`` is :data:`DECIMAL`, :data:`ISO_TIME` or
            :data:`LOOKUP` (prints ``table[value]``; ``table`` is ignored
            for the other kinds).

    Returns:
        The concatenated lines.

    Raises:
        IndexError: A row is not below N, or a LOOKUP value is not below
            the table's length.
        ValueError: The column length is not a multiple of 16, the number
            of pieces does not match, a cell's length differs from the
            rows', a kind is unknown, or there are more than 32 cells.
        TypeError: A buffer is not uint32, or a piece or table entry is not
            bytes.
    """
    cdef const uint8_t[::1] col = _column(column)
    cdef const uint32_t[::1] idx = _u32(rows, "rows")
    cdef Job job
    cdef list keep = []
    cdef Py_ssize_t bad
    cdef Py_ssize_t size
    cdef Py_ssize_t used
    cdef PyObject *raw
    cdef char *out
    job.ncells = 0
    job.nrows = idx.shape[0]
    job.count = col.shape[0] // 16
    job.rows = &idx[0] if job.nrows else NULL
    job.column = &col[0] if job.count else NULL
    try:
        _load_cells(&job, pieces, cells, keep)
        if job.nrows == 0:
            return b""
        if job.nrows > NOGIL_ROWS:
            with nogil:
                bad = _bad_row(&job)
        else:
            bad = _bad_row(&job)
        if bad >= 0:
            raise IndexError(
                f"row {job.rows[bad]} out of range for a column of {job.count}"
            )
        if job.nrows > NOGIL_ROWS:
            with nogil:
                size = _size(&job)
        else:
            size = _size(&job)
        # 4 bytes of slack: the IP core copies dotted-quad octets 4 at a time.
        raw = PyBytes_FromStringAndSize_raw(NULL, size + 4)
        out = PyBytes_AS_STRING_raw(raw)
        if job.nrows > NOGIL_ROWS:
            with nogil:
                used = _render(&job, out)
        else:
            used = _render(&job, out)
        _PyBytes_Resize(&raw, used)
        result = <object>raw  # takes a new reference; drop the creation one
        Py_DECREF(result)
        return result
    finally:
        _free_tables(&job)


cdef Py_ssize_t _keep(const uint8_t *column, Py_ssize_t count, const uint32_t *rows,
                      Py_ssize_t nrows, int version, bint firewall_safe,
                      uint8_t *out) noexcept nogil:
    """Fill out[k] with 1 to keep row k, 0 to drop it; return the first bad row or -1."""
    cdef Py_ssize_t k
    cdef const uint8_t *b
    cdef bint mapped
    cdef int code
    cdef uint32_t v4
    for k in range(nrows):
        if rows[k] >= count:
            return k
        b = column + 16 * <Py_ssize_t>rows[k]
        mapped = _is_mapped(b)
        if version and (version == 4) != mapped:
            out[k] = 0
            continue
        out[k] = 1
        if not firewall_safe:
            continue
        if mapped:
            v4 = (<uint32_t>b[12] << 24 | <uint32_t>b[13] << 16
                  | <uint32_t>b[14] << 8 | b[15])
            code = _classify_v4(v4)
        else:
            code = _classify_v6(_load_be64(b), _load_be64(b + 8))
        out[k] = 0 if _UNBLOCKABLE[code & 15] else 1
    return -1


def keep_rows(column, rows, version=0, firewall_safe=False):
    """Say which rows a blacklist of one family, or a firewall, may list.

    Args:
        column: N consecutive 16-byte storage-form addresses.
        rows: Native uint32 row indexes into ``column``.
        version: 4 or 6 keeps only that family; 0 keeps both.
        firewall_safe: Drop addresses a firewall must never block
            (loopback, private, link-local, shared, unspecified, multicast,
            reserved).

    Returns:
        A numpy bool array, True for each row to keep.

    Raises:
        IndexError: A row is not below N.
        ValueError: The column length is not a multiple of 16, or
            ``version`` is not 0, 4 or 6.
        TypeError: ``rows`` is not a uint32 buffer.
    """
    if version not in (0, 4, 6):
        raise ValueError(f"version must be 0, 4 or 6, not {version!r}")
    cdef const uint8_t[::1] col = _column(column)
    cdef const uint32_t[::1] idx = _u32(rows, "rows")
    cdef Py_ssize_t nrows = idx.shape[0]
    cdef Py_ssize_t count = col.shape[0] // 16
    cdef int family = version
    cdef bint safe = bool(firewall_safe)
    cdef Py_ssize_t bad
    keep = np.ones(nrows, dtype=bool)
    if nrows == 0:
        return keep
    cdef uint8_t[::1] out = keep.view(np.uint8)
    cdef const uint8_t *cp = &col[0] if count else NULL
    if nrows > NOGIL_ROWS:
        with nogil:
            bad = _keep(cp, count, &idx[0], nrows, family, safe, &out[0])
    else:
        bad = _keep(cp, count, &idx[0], nrows, family, safe, &out[0])
    if bad >= 0:
        raise IndexError(f"row {idx[bad]} out of range for a column of {count}")
    return keep


# -- check answers (see sikker.core.check_json) ---------------------------------

cdef enum:
    RECORD_HEADER = 52  # sikker.core.records.HEADER.size
    PROTOCOL_BYTES = 9
    COUNTED_BYTES = 6
    CATEGORY_BYTES = 5
    # byte offsets in the record header (sikker.core.records.HEADER):
    # u8 score, raw_score, max_severity, benign_source, then the array lengths
    AT_SCORE = 0
    AT_RAW_SCORE = 1
    AT_SEVERITY = 2
    AT_BENIGN = 3
    AT_N_PROTOCOLS = 4
    AT_N_BEHAVIORS = 5
    AT_N_PRIMITIVES = 6
    AT_N_CATEGORIES = 7
    # u32 little-endian
    AT_COUNTRY = 16
    AT_ASN = 20
    AT_FIRST_SEEN = 24
    AT_LAST_SEEN = 28
    AT_SESSIONS = 32
    AT_EVENTS = 36
    AT_REPORTS = 40
    AT_REPORTERS = 44
    AT_LAST_REPORTED = 48


cdef struct Out:
    char *data
    Py_ssize_t size
    Py_ssize_t capacity


cdef int _start(Out *out, Py_ssize_t capacity) except -1:
    """Give ``out`` an empty buffer of ``capacity`` bytes (free ``out.data`` after)."""
    out.data = <char *>malloc(capacity)
    if out.data == NULL:
        raise MemoryError()
    out.size = 0
    out.capacity = capacity
    return 0


cdef int _reserve(Out *out, Py_ssize_t extra) except -1:
    cdef Py_ssize_t need = out.size + extra
    cdef Py_ssize_t capacity
    cdef char *grown
    if need <= out.capacity:
        return 0
    capacity = max(need, 2 * out.capacity)
    grown = <char *>realloc(out.data, capacity)
    if grown == NULL:
        raise MemoryError()
    out.data = grown
    out.capacity = capacity
    return 0


cdef inline int _text(Out *out, const char *text, Py_ssize_t n) except -1:
    _reserve(out, n)
    memcpy(out.data + out.size, text, n)
    out.size += n
    return 0


cdef inline int _lit(Out *out, const char *text) except -1:
    return _text(out, text, strlen(text))


cdef int _piece(Out *out, object piece) except -1:
    if type(piece) is not bytes:
        raise TypeError(f"fragments must be bytes, not {type(piece).__name__}")
    return _text(out, PyBytes_AS_STRING(piece), PyBytes_GET_SIZE(piece))


cdef int _entry(Out *out, object table, Py_ssize_t index, str what) except -1:
    if index < 0 or index >= len(table):
        raise IndexError(f"{what} index {index} is out of range")
    return _piece(out, table[index])


cdef inline int _number(Out *out, uint32_t value) except -1:
    _reserve(out, DECIMAL_WIDTH)
    out.size += _decimal(value, out.data + out.size)
    return 0


cdef int _time(Out *out, uint32_t epoch) except -1:
    if epoch == 0:
        return _lit(out, b"null")
    _reserve(out, ISO_WIDTH + 2)
    out.data[out.size] = b'"'
    out.size += 1 + _iso_time(epoch, out.data + out.size + 1)
    out.data[out.size] = b'"'
    out.size += 1
    return 0


cdef inline uint32_t _u16(const uint8_t *p) noexcept nogil:
    return p[0] | (<uint32_t>p[1] << 8)


cdef inline uint32_t _u32le(const uint8_t *p) noexcept nogil:
    return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)


cdef int _counted(
    Out *out, const uint8_t *p, int n, object table, str what
) except -1:
    """Write ``n`` (index u16, count u32) items as ``[<fragment>count}, ...``."""
    cdef int i
    for i in range(n):
        if i:
            _lit(out, b",")
        _entry(out, table, _u16(p), what)
        _number(out, _u32le(p + 2))
        _lit(out, b"}")
        p += COUNTED_BYTES
    return 0


cdef int _listed(
    Out *out, bytes record, bint ignore_whitelist, object public, object fragments
) except -1:
    """Write a listed address's members, from ``confidenceLevel``'s value on."""
    cdef const uint8_t *r = <const uint8_t *>PyBytes_AS_STRING(record)
    cdef Py_ssize_t size = PyBytes_GET_SIZE(record)
    cdef int n_protocols
    cdef int n_behaviors
    cdef int n_primitives
    cdef int n_categories
    cdef int i
    cdef uint32_t country
    cdef const uint8_t *p
    if size < RECORD_HEADER:
        raise ValueError(f"the record is truncated ({size} bytes)")
    n_protocols = r[AT_N_PROTOCOLS]
    n_behaviors = r[AT_N_BEHAVIORS]
    n_primitives = r[AT_N_PRIMITIVES]
    n_categories = r[AT_N_CATEGORIES]
    if size < (
        RECORD_HEADER
        + PROTOCOL_BYTES * n_protocols
        + COUNTED_BYTES * (n_behaviors + n_primitives)
        + CATEGORY_BYTES * n_categories
    ):
        raise ValueError(f"the record is truncated ({size} bytes)")
    _number(out, r[AT_RAW_SCORE] if ignore_whitelist else r[AT_SCORE])
    _lit(out, b',"rawConfidenceLevel":')
    _number(out, r[AT_RAW_SCORE])
    _lit(out, b",")
    _piece(out, public)
    _entry(out, fragments.whitelists, r[AT_BENIGN], "benign source")
    country = _u32le(r + AT_COUNTRY)
    countries = fragments.countries
    if country < <uint32_t>len(countries):
        _piece(out, countries[country])
    else:
        _piece(out, fragments.no_country)
    _piece(out, fragments.asns[_u32le(r + AT_ASN)])
    _lit(out, b'"firstSeen":')
    _time(out, _u32le(r + AT_FIRST_SEEN))
    _lit(out, b',"lastSeen":')
    _time(out, _u32le(r + AT_LAST_SEEN))
    _lit(out, b',"totalSessions":')
    _number(out, _u32le(r + AT_SESSIONS))
    _lit(out, b',"totalEvents":')
    _number(out, _u32le(r + AT_EVENTS))
    _lit(out, b",")
    _entry(out, fragments.severities, r[AT_SEVERITY], "severity")
    _lit(out, b'"protocols":[')
    p = r + RECORD_HEADER
    protocols = fragments.protocols
    for i in range(n_protocols):
        if i:
            _lit(out, b",")
        _entry(out, protocols, p[0], "protocol")
        _number(out, _u32le(p + 1))
        _lit(out, b',"events":')
        _number(out, _u32le(p + 5))
        _lit(out, b"}")
        p += PROTOCOL_BYTES
    _lit(out, b'],"behaviors":[')
    _counted(out, p, n_behaviors, fragments.behaviors, "behavior")
    p += COUNTED_BYTES * n_behaviors
    _lit(out, b'],"primitives":[')
    _counted(out, p, n_primitives, fragments.primitives, "primitive")
    p += COUNTED_BYTES * n_primitives
    _lit(out, b'],"reports":{"total":')
    _number(out, _u32le(r + AT_REPORTS))
    _lit(out, b',"distinctReporters":')
    _number(out, _u32le(r + AT_REPORTERS))
    _lit(out, b',"lastReportedAt":')
    _time(out, _u32le(r + AT_LAST_REPORTED))
    _lit(out, b',"categories":{')
    categories = fragments.categories
    for i in range(n_categories):
        if i:
            _lit(out, b",")
        _entry(out, categories, <Py_ssize_t>p[0] - 1, "category")
        _number(out, _u32le(p + 1))
        p += CATEGORY_BYTES
    _lit(out, b"}},")
    return 0


def render_check(ip, ip16, record, ignore_whitelist, fragments):
    """Render the check answer of an address as JSON (:mod:`~sikker.core.check_json`).

    Args:
        ip: The address as asked; only whether it holds a ``:`` matters
            (an IPv4-mapped address asked in IPv6 form is answered in that
            form, as ``ipcore.format_ip`` prints it).
        ip16: Its 16-byte storage form (``ipcore.to_ip16(ip)``).
        record: Its stored record (:mod:`sikker.core.records`), or None
            when it is not listed.
        ignore_whitelist: Write the raw score as ``confidenceLevel``.
        fragments: The snapshot's serialised pieces.

    Returns:
        The bytes ``orjson.dumps(check_payload(...))`` would return.

    Raises:
        ValueError: ``ip16`` is not 16 bytes, or ``record`` is shorter than
            its header says.
        IndexError: ``record`` names an index ``fragments`` lacks.
        TypeError: ``ip``, ``ip16`` or ``record`` has the wrong type, or a
            fragment is not bytes.
    """
    if type(ip) is not str:
        raise TypeError(f"ip must be str, not {type(ip).__name__}")
    if type(ip16) is not bytes:
        raise TypeError(f"ip16 must be bytes, not {type(ip16).__name__}")
    if PyBytes_GET_SIZE(ip16) != 16:
        raise ValueError(f"ip16 must be 16 bytes, not {PyBytes_GET_SIZE(ip16)}")
    cdef const uint8_t *b = <const uint8_t *>PyBytes_AS_STRING(ip16)
    cdef char text[V6_WIDTH]
    cdef Py_ssize_t n
    public = fragments.publics[_reason_name(_classify_v6(_load_be64(b), _load_be64(b + 8)))]
    cdef Out out
    _start(&out, 1024)
    try:
        _lit(&out, b'{"ip":"')
        if _is_mapped(b) and ":" in ip:  # rare: print it as format_ip(6, ...) does
            _piece(&out, _format_ip(6, int.from_bytes(ip16, "big")).encode("ascii"))
        else:
            n = _format_ip16(b, text)
            _text(&out, text, n)
        if record is None:
            _lit(&out, b'","found":false,"confidenceLevel":0,"rawConfidenceLevel":0,')
            _piece(&out, public)
        else:
            if type(record) is not bytes:
                raise TypeError(f"record must be bytes, not {type(record).__name__}")
            _lit(&out, b'","found":true,"confidenceLevel":')
            _listed(&out, <bytes>record, ignore_whitelist, public, fragments)
        _piece(&out, fragments.tail)
        return PyBytes_FromStringAndSize(out.data, out.size)
    finally:
        free(out.data)


# -- compact answers of many addresses (see sikker.core.bulk) -------------------

cdef const char *_NOT_LISTED = (
    b'","found":false,"confidenceLevel":0,"countryCode":null,"asn":null,'
    b'"lastSeen":null,"totalSessions":0,"maxSeverity":null,"reports":0}'
)


def render_compact(keys, values, countries, severities, ignore_whitelist):
    """Render the compact answers of many addresses as one JSON array.

    Args:
        keys: The addresses in 16-byte storage form.
        values: Each one's stored record, or None when it is not listed.
        countries: JSON of each country index's code (``null`` for none);
            an index beyond them writes ``null``.
        severities: JSON of each severity level (0: ``null``).
        ignore_whitelist: Write the raw score as ``confidenceLevel``.

    Returns:
        The bytes ``orjson.dumps(bulk.compact(...))`` would return.

    Raises:
        ValueError: ``keys`` and ``values`` differ in length, a key is not
            16 bytes or a record is shorter than its header.
        IndexError: a record names a severity ``severities`` lacks.
        TypeError: a key or a record is not bytes, or a piece is not bytes.
    """
    cdef Py_ssize_t count = len(keys)
    cdef Py_ssize_t i
    cdef Py_ssize_t n
    cdef const uint8_t *r
    cdef uint32_t country, asn, last_seen
    cdef Py_ssize_t n_countries = len(countries)
    cdef char text[V6_WIDTH]
    cdef Out out
    if len(values) != count:
        raise ValueError(f"{count} keys but {len(values)} values")
    _start(&out, 64 + 160 * count)
    try:
        _lit(&out, b"[")
        for i in range(count):
            key = keys[i]
            value = values[i]
            if type(key) is not bytes:
                raise TypeError(f"keys must be bytes, not {type(key).__name__}")
            if PyBytes_GET_SIZE(key) != 16:
                raise ValueError(f"keys must be 16 bytes, not {PyBytes_GET_SIZE(key)}")
            _lit(&out, b'{"ip":"' if i == 0 else b',{"ip":"')
            n = _format_ip16(<const uint8_t *>PyBytes_AS_STRING(key), text)
            _text(&out, text, n)
            if value is None:
                _lit(&out, _NOT_LISTED)
                continue
            if type(value) is not bytes:
                raise TypeError(f"records must be bytes, not {type(value).__name__}")
            if PyBytes_GET_SIZE(value) < RECORD_HEADER:
                raise ValueError(f"the record is truncated ({PyBytes_GET_SIZE(value)} bytes)")
            r = <const uint8_t *>PyBytes_AS_STRING(value)
            _lit(&out, b'","found":true,"confidenceLevel":')
            _number(&out, r[AT_RAW_SCORE] if ignore_whitelist else r[AT_SCORE])
            _lit(&out, b',"countryCode":')
            country = _u32le(r + AT_COUNTRY)
            if country < <uint32_t>n_countries:
                _piece(&out, countries[country])
            else:
                _lit(&out, b"null")
            asn = _u32le(r + AT_ASN)
            if asn:
                _lit(&out, b',"asn":"')
                _number(&out, asn)
                _lit(&out, b'","lastSeen":')
            else:
                _lit(&out, b',"asn":null,"lastSeen":')
            last_seen = _u32le(r + AT_LAST_SEEN)
            if last_seen:
                _number(&out, last_seen)
                _lit(&out, b"000")  # epoch milliseconds
            else:
                _lit(&out, b"null")
            _lit(&out, b',"totalSessions":')
            _number(&out, _u32le(r + AT_SESSIONS))
            _lit(&out, b',"maxSeverity":')
            _entry(&out, severities, r[AT_SEVERITY], "severity")
            _lit(&out, b',"reports":')
            _number(&out, _u32le(r + AT_REPORTS))
            _lit(&out, b"}")
        _lit(&out, b"]")
        return PyBytes_FromStringAndSize(out.data, out.size)
    finally:
        free(out.data)
