# cython: language_level=3
"""C-level functions of the IP core that other compiled modules cimport.

``sikker.ext.render`` formats and classifies addresses with these; the
definitions are in ipcore.pyx (``_load_be64`` is here, inline). Classification
codes (``_reason_name`` names them): 0 public, 1
unspecified, 2 private, 3 loopback, 4 link-local, 5 multicast, 6 reserved,
7 documentation, 8 shared, 9 benchmarking.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef inline uint64_t _load_be64(const uint8_t *b) noexcept nogil:
    """Read 8 big-endian bytes."""
    cdef uint64_t value = 0
    cdef int k
    for k in range(8):
        value = value << 8 | b[k]
    return value

cdef object _reason_name(int code)
cdef int _classify_v4(uint32_t value) noexcept nogil
cdef int _classify_v6(uint64_t hi, uint64_t lo) noexcept nogil
cdef Py_ssize_t _format_ip16(const uint8_t *b, char *out) noexcept nogil
