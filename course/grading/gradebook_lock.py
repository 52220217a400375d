"""One writer at a time to nbgrader's SQLite gradebook, across grading processes.

nbgrader's FAQ: an SQLite gradebook is not safe for concurrent writers. nbgrader opens it
only in short ``with Gradebook(...)`` blocks (recording the submission, saving the
autograded scores, the late penalty, reading grades for feedback), never while the
notebook executes. :func:`install` makes every ``Gradebook`` of this process take an
exclusive ``flock`` on a lock file when it is created and release it when it is closed, so
the parallel workers of ``course.grading.driver`` execute notebooks side by side and write one after
another. The lock is reentrant within a process (a Gradebook opened inside another one does
not wait for itself); :func:`release_all` is the backstop after each submission in case
nbgrader left one unclosed.
"""

import fcntl

_state = {"path": None, "fh": None, "depth": 0}


def _acquire():
    if _state["path"] is None:
        return False
    if _state["depth"] == 0:
        fh = open(_state["path"], "a")
        fcntl.flock(fh, fcntl.LOCK_EX)
        _state["fh"] = fh
    _state["depth"] += 1
    return True


def _release():
    if _state["depth"] == 0:
        return
    _state["depth"] -= 1
    if _state["depth"] == 0:
        _state["fh"].close()  # closing the file releases the flock
        _state["fh"] = None


def release_all():
    """Release the lock whatever the depth (after a submission is done)."""
    if _state["depth"]:
        _state["depth"] = 1
        _release()


def install(path):
    """Serialize this process's gradebook access with the other processes using ``path``."""
    from nbgrader.api import Gradebook

    _state["path"] = path
    if getattr(Gradebook, "_t320_locked", False):
        return
    original_init, original_close = Gradebook.__init__, Gradebook.close

    def __init__(self, *args, **kwargs):
        self._t320_holds = _acquire()
        try:
            original_init(self, *args, **kwargs)
        except BaseException:
            if self._t320_holds:
                self._t320_holds = False
                _release()
            raise

    def close(self):
        try:
            original_close(self)
        finally:
            if getattr(self, "_t320_holds", False):
                self._t320_holds = False
                _release()

    Gradebook.__init__, Gradebook.close = __init__, close
    Gradebook._t320_locked = True
