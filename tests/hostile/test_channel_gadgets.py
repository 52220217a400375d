"""What a hostile kernel can send the trusted process: data, never code or library objects.

Before (measured on fa4085f): the trusted side's decoder rebuilt an object of any class
reachable by public attributes from an nnlib module (``{"t": "o", "cls":
"nnlib.training:losses.np.lib.npyio.NpzFile", ...}``) with a ``__dict__`` the student chose,
and ``{"t": "fn", ...}`` handed back any reachable function: a destructor chain ran a shell
command as root (numpy ``NpzFile.__del__`` -> logging's ``MemoryHandler`` ->
``subprocess.getoutput``) and numpy's ``DataSource.__del__`` deleted a classmate's folder.
Three zero-stride views of ~200 bytes each took the process to 6.3 GB.

Each forged reply below is decoded by a trusted endpoint, as the trusted process decodes the
kernel's replies. The controls decode the same messages on the kernel's side, which still
rebuilds nnlib objects the *tests* send: there the names resolve, so the attack is live
where the decoder looks names up.
"""

import base64
import json
import resource
import socket

import numpy as np
import pytest

from course.grading import channel
from nnlib import network

GADGETS = {
    "classe_qualquer": {"t": "o", "k": 0, "cls": "nnlib.training:losses.np.lib.npyio.NpzFile",
                        "v": [["zip", None], ["fid", None], ["_files", []]]},
    "destrutor_datasource": {"t": "o", "k": 0, "cls": "nnlib.training:losses.np.lib.npyio.DataSource",
                             "v": [["_destpath", "/tmp/nao-apague"], ["_istmpdest", True]]},
    "funcao_por_nome": {"t": "fn", "ref": "nnlib.training:losses.np.lib.npyio.os.system"},
    "classe_nnlib": {"t": "o", "k": 0, "cls": "nnlib.network:MLP", "v": [["activation", "tanh"]]},
    "vista_passo_zero": {"t": "v", "k": 1, "d": "<f8", "s": [2**28], "st": [0], "off": 0,
                         "base": {"t": "a", "k": 0, "d": "<f8", "s": [1],
                                  "b": base64.b64encode(b"\0" * 8).decode()}},
}


def _reply(value, role="trusted", sync=()):
    """Decode ``{"op": "reply", "value": value}`` as the ``role`` side would."""
    a, b = socket.socketpair()
    try:
        end = channel.Endpoint(a, role)
        msg = {"op": "reply", "value": value, "sync": list(sync)}
        return end._reply_value(msg, channel._Codec(end))
    finally:
        a.close()
        b.close()


@pytest.fixture
def no_name_lookup(monkeypatch):
    """Fails the test if the trusted side ever resolves a name the kernel sent."""
    def forbidden(ref):
        raise AssertionError(f"the trusted side looked up {ref!r}")
    monkeypatch.setattr(channel, "_library_object", forbidden)


@pytest.mark.parametrize("name", sorted(GADGETS))
def test_the_trusted_side_refuses_library_objects_functions_and_views(name, no_name_lookup):
    with pytest.raises(channel.NotData, match="não é dado"):
        _reply(GADGETS[name])


def test_control_the_kernel_side_resolves_those_names():
    """The kernel still rebuilds what a test sends by name: the same bytes are live there."""
    net = _reply(GADGETS["classe_nnlib"], role="student")
    assert type(net) is network.MLP
    view = _reply(GADGETS["vista_passo_zero"], role="student")
    assert view.shape == (2**28,) and view.strides == (0,)


def _array(dtype, shape, data):
    return {"t": "a", "k": 0, "d": dtype, "s": shape, "b": base64.b64encode(data).decode()}


@pytest.mark.parametrize("value, why", [
    (_array("<f8", [2**28], b"\0" * 8), "limite do canal"),         # shape far beyond the bytes
    (_array("<f8", [2**20, 2**20], b"\0" * 8), "limite do canal"),  # overflows int64 products
    (_array("<f8", [3], b"\0" * 8), "dados incompletos"),
    (_array("|O", [1], b"\0" * 8), "não é numérico"),
    (_array("|V8", [1], b"\0" * 8), "não é numérico"),
    (_array("[('a', '<f8')]", [1], b"\0" * 8), "não é numérico"),
    (_array("<f8", [-1], b""), "formato"),
])
def test_arrays_are_checked_before_anything_is_allocated(value, why):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(AssertionError, match=why):
        _reply(value)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50, f"decoding a refused array took {grown_mb:.0f} MB"


def test_depth_and_item_count_are_capped(monkeypatch):
    monkeypatch.setattr(channel, "MAX_ITEMS", 10_000)  # the cap's logic, without a GB list
    deep = 0
    for _ in range(channel.MAX_DEPTH + 5):
        deep = {"t": "l", "k": 0, "v": [deep]}
    with pytest.raises(AssertionError, match="aninhado demais"):
        _reply(deep)
    many = {"t": "l", "k": 0, "v": [0] * (channel.MAX_ITEMS + 1)}
    with pytest.raises(AssertionError, match="elementos demais"):
        _reply(many)


def test_in_place_sync_changes_only_existing_attributes_with_data():
    """A test's network passed to the student's code comes back with its own attributes
    updated (``net.w -= ...``), never with new ones, underscore ones, or objects built."""
    ours = network.MLP([2, 3, 1], "tanh", rng=np.random.default_rng(0))
    a, b = socket.socketpair()
    try:
        end = channel.Endpoint(a, "trusted")
        codec = channel._Codec(end)
        codec.encode(ours)  # as a call's argument: key 0 is the network
        new_w = _array("<f8", list(ours.w.shape), np.ones_like(ours.w).tobytes())
        sync = [[0, {"t": "od", "v": [["w", new_w], ["novo", 1], ["_oculto", 2],
                                       ["__class__", "x"], ["sizes", {"t": "l", "k": 9, "v": [9, 9]}]]}]]
        end._reply_value({"op": "reply", "value": None, "sync": sync}, codec)
    finally:
        a.close()
        b.close()
    assert type(ours) is network.MLP
    assert ours.w.tolist() == np.ones_like(ours.w).tolist() or np.all(ours.w == 1.0)
    assert not hasattr(ours, "novo") and not hasattr(ours, "_oculto")
    assert ours.sizes == [9, 9]  # an existing attribute takes the student's data: only data


def test_a_forged_sync_cannot_build_an_object(no_name_lookup):
    ours = {"alpha": np.ones(3)}
    a, b = socket.socketpair()
    try:
        end = channel.Endpoint(a, "trusted")
        codec = channel._Codec(end)
        codec.encode(ours)
        with pytest.raises(AssertionError, match="não é dado"):
            end._reply_value({"op": "reply", "value": None,
                              "sync": [[0, {"t": "d", "k": 0, "v": [["alpha", GADGETS["classe_qualquer"]]]}]]},
                             codec)
    finally:
        a.close()
        b.close()
    assert json.dumps(ours["alpha"].tolist()) == "[1.0, 1.0, 1.0]"
