"""Frames on the pipe between the grading process and its trusted test process.

A frame is a 4-byte big-endian length and that many bytes of JSON (an object); a frame
may carry file descriptors (``SCM_RIGHTS``): that is how the grading process hands the
trusted process its connection to the student's kernel. The reader refuses a frame longer
than its ``max_bytes`` before reading it, so neither side can make the other allocate what
it declares.
"""

import json
import socket
import struct

_HEADER = struct.Struct(">I")


class PipeClosed(Exception):
    """The other process closed the pipe, or sent something that is not a frame."""


def send(sock, obj, fds=()):
    data = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    header = _HEADER.pack(len(data))
    if fds:
        socket.send_fds(sock, [header], list(fds))
    else:
        sock.sendall(header)
    sock.sendall(data)


def _read_exactly(sock, n, first=b""):
    chunks, got = [first], len(first)
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise PipeClosed("pipe closed in the middle of a frame")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def receive(sock, max_bytes, max_fds=0):
    """``(object, [fds])`` of the next frame; ``PipeClosed`` at the end or on a bad frame.

    File descriptors are accepted only with ``max_fds`` > 0 (the trusted process's side).
    """
    if max_fds:
        head, fds, _, _ = socket.recv_fds(sock, _HEADER.size, max_fds)
    else:
        head, fds = sock.recv(_HEADER.size), []
    if not head:
        raise PipeClosed("pipe closed")
    (n,) = _HEADER.unpack(_read_exactly(sock, _HEADER.size, head))
    if n > max_bytes:
        raise PipeClosed(f"frame of {n} bytes, over the limit of {max_bytes}")
    try:
        obj = json.loads(_read_exactly(sock, n).decode("utf-8"))
    except (ValueError, RecursionError):
        raise PipeClosed("frame is not JSON") from None
    if type(obj) is not dict:
        raise PipeClosed("frame is not a JSON object")
    return obj, fds
