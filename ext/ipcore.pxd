# cython: language_level=3
"""C-level functions of the IP core that other compiled modules cimport.

``sikker.ext.render`` formats and classifies addresses with these; the
definitions are in ipcore.pyx. Classification codes: 0 public, 1
unspecified, 2 private, 3 loopback, 4 link-local, 5 multicast, 6 reserved,
7 documentation, 8 shared, 9 benchmarking.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef int _classify_v4(uint32_t value) noexcept nogil
cdef int _classify_v6(uint64_t hi, uint64_t lo) noexcept nogil
cdef Py_ssize_t _format_ip16(const uint8_t *b, char *out) noexcept nogil
