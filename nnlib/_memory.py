"""Keep freed memory in the process, so large numpy temporaries stop costing page faults.

Not part of the lesson; nnlib calls :func:`keep_freed_memory` once, on import.

The update rules are written as the slides write them, ``v = mu * v - alpha * g``: each
operation makes a temporary array as large as the weight vector (2 MB for the 264k weights
of the 256-512-256-10 benchmark network). glibc's malloc serves blocks that large straight
from the operating system and hands them back when they are freed, so every temporary starts
as fresh pages, and every page costs a fault. Measured on this course's 2-core VM, one step
for those 264k weights: momentum 2.9 ms of CPU, Adam 11.5 ms; with the settings below 0.4 ms
and 2.0 ms (docs/performance.md).

The settings keep freed blocks of up to 32 MB inside the process for reuse (the ceiling of
glibc's own dynamic mmap threshold on 64-bit) and give memory back to the system only when
256 MB at the top of the heap are free. Elsewhere (macOS, Windows, musl) nothing changes.
Set ``NNLIB_DEFAULT_MALLOC=1`` in the environment before importing nnlib to keep glibc's
defaults (for example, to measure the difference).
"""

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's <malloc.h>
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 256 * 1024 * 1024


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds; return True if they were set."""
    if os.environ.get("NNLIB_DEFAULT_MALLOC"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
