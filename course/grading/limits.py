"""Every bound and wait of grading, in one place.

The grading process, the kernel launcher and the trusted test process read their limits
from here; tests import these names instead of repeating numbers. Each can be changed for
one run with an environment variable ``T320_<NAME>`` (an integer), which is how the hostile
tests set small limits for a sandbox started in another process.
"""

import os


def _setting(name, default):
    """``default``, or the integer in the environment variable ``T320_<name>``."""
    value = os.environ.get(f"T320_{name}")
    return default if value is None else int(value)


MiB = 2**20

# ---- the student's kernel (course/grading/kernel_launcher.py)
KERNEL_MEM_MB = _setting("KERNEL_MEM_MB", 3072)        # RLIMIT_AS of the kernel
KERNEL_CPU_S = _setting("KERNEL_CPU_S", 300)           # RLIMIT_CPU of the kernel
KERNEL_NPROC = _setting("KERNEL_NPROC", 32)            # processes of the kernel's uid
KERNEL_FSIZE_MB = _setting("KERNEL_FSIZE_MB", 64)      # one file the kernel writes
SCRATCH_MB = _setting("SCRATCH_MB", 256)               # the kernel's scratch home, in all
SCRATCH_FILES = _setting("SCRATCH_FILES", 10000)       # entries in the scratch home
SCRATCH_POLL_S = 0.1                                   # how often the launcher measures it

USER_TASK_MARGIN = 512        # as a normal user: room for the other workers' processes

# ---- the trusted test process (course/grading/trusted_process.py)
TRUSTED_MEM_MB = _setting("TRUSTED_MEM_MB", 2048)      # RLIMIT_AS of the trusted process
TRUSTED_CPU_S = _setting("TRUSTED_CPU_S", 300)         # RLIMIT_CPU of the trusted process
TRUSTED_NPROC = _setting("TRUSTED_NPROC", 16)          # processes of its uid (threads count)
TRUSTED_FSIZE_MB = _setting("TRUSTED_FSIZE_MB", 16)    # one file it writes (its tmpfs /tmp)
TRUSTED_START_S = 60         # from starting its sandbox to its "ready"
TRUSTED_SETUP_S = 120        # the grader-setup cells
KERNEL_CONNECT_S = 20        # the kernel connecting to the channel's socket
KERNEL_REPLY_S = 10          # the kernel finishing a silent request (bootstrap, serve)
INTERRUPT_GRACE_S = 10       # after interrupting the kernel, before killing it
KILL_GRACE_S = 5             # after asking a process to exit, before SIGKILL
REPLY_MAX_BYTES = 8 * MiB    # one reply line of the trusted process to the grading process
REPLY_TEXT_MAX = 1 * MiB     # its stdout/stderr text kept per test cell
ERROR_TEXT_MAX = 4000        # an error's name/value kept per test cell

# ---- the channel between the trusted process and the kernel (course/grading/channel.py)
CHANNEL_MESSAGE_MAX = 64 * MiB   # one message, either way
CHANNEL_DEPTH_MAX = 48           # nesting of a value
CHANNEL_ITEMS_MAX = 1_000_000    # values (list items, dict entries, arrays) in one message
CHANNEL_ARRAY_MAX = 2**24        # elements of one array received by the trusted side
CHANNEL_TEXT_MAX = 4000          # an error message crossing the channel

# ---- what the student's cells may cost the grading process (course/grading/execute.py)
CELL_TIMEOUT_S = 30               # nbgrader's Execute.timeout, per cell (nbgrader_config.py)
STUDENT_SECONDS = 180             # all the student's cells together
OUTPUT_MAX_BYTES = 32 * MiB       # all the student's outputs together
KERNEL_MESSAGE_MAX = 64 * MiB     # one kernel message (ZMQ_MAXMSGSIZE on the client)
KERNEL_SHUTDOWN_WAIT_S = 1.0      # nbgrader_config.py: KernelManager.shutdown_wait_time
