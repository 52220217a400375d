"""nnlib._memory: the glibc malloc settings nnlib makes on import (Linux only)."""

import ctypes.util
import platform

import pytest

from nnlib import _memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's: elsewhere nnlib changes nothing")
def test_thresholds_are_accepted_by_glibc(monkeypatch):
    monkeypatch.delenv("NNLIB_DEFAULT_MALLOC", raising=False)
    assert ctypes.util.find_library("c")
    assert _memory.keep_freed_memory() is True


def test_environment_variable_keeps_the_defaults(monkeypatch):
    monkeypatch.setenv("NNLIB_DEFAULT_MALLOC", "1")
    assert _memory.keep_freed_memory() is False
