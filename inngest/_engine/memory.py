"""Give memory back to the system after large step outputs (glibc only).

Every call to an app carries the run's step outputs, so large outputs pass through the
engine as buffers of several megabytes, freed once the call is done. glibc raises its mmap
threshold each time such a buffer is freed, after which the next ones come from the heap and
stay in the process when freed (the engine grew by 25 MB and never shrank after 40 runs of
three 1 MB outputs). A fixed threshold keeps every buffer over 128 KiB on its own mapping,
returned to the system on free: the same as ``MALLOC_MMAP_THRESHOLD_=131072`` in the
environment, set from here because that variable must be in place before Python starts.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
THRESHOLD_BYTES = 128 * 1024


def return_large_buffers() -> bool:
    """Fix glibc's mmap threshold for this process; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES))
