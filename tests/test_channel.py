"""The data-only channel between the trusted test process and the student's kernel.

Both ends run ``course/grading/channel.py``; here the student's end serves from a thread over a
socket pair, with the "student" functions below as its answer names. What a test sees must be
plain data of the right type (tuple stays tuple, np.float64 stays np.float64, float stays
float), in-place changes must come back, and nothing but data may cross: no pickle, no trusted
module or builtin handed to the student's side, caps on size and depth.
"""

import socket
import threading
import os

import numpy as np
import pytest


from course.grading import channel  # noqa: E402
from nnlib import checks, network, optim  # noqa: E402


def passo(w, g, state, alpha=0.1):
    state = {"t": 0} if state is None else state
    state["t"] += 1
    return w - alpha * g, state


def no_lugar(w):
    w -= 1.0
    return w


def lotes(n, m, rng):
    ordem = rng.permutation(n)
    for i in range(0, n, m):
        yield ordem[i:i + m]


def chama(f, x):
    return f(x) + 1


def tipos():
    return (1, 1.0, np.float64(1.0), np.int32(3), [1, (2, 3)], {"a": None, 4: True},
            "texto", b"\x00\x01", 1 + 2j, float("nan"), {1, 2})


class Sempre:
    def __eq__(self, other):
        return True

    def __float__(self):
        return 5.0


def sempre():
    return Sempre()


def enorme():
    return np.zeros(10_000_000)


def fundo():
    x = 0.0
    for _ in range(500):
        x = [x]
    return x


def ciclo():
    d = {}
    d["eu"] = d
    return d


def rede_constante():
    return network.MLP([2, 3, 1], "tanh", rng=np.random.default_rng(0))


def treina(net, alpha):
    net.w -= alpha
    return None


def usa_modulo(m):
    return m


def le_atributo(obj, nome):
    return getattr(obj, nome)


def pede_atributo(obj, nome):  # a forged request, as hostile kernel code could send it
    return obj._endpoint.remote_getattr(obj, nome)


NAMES = {f.__name__: f for f in (passo, no_lugar, lotes, chama, tipos, sempre, enorme, fundo,
                                 ciclo, rede_constante, treina, usa_modulo, le_atributo,
                                 pede_atributo)}


@pytest.fixture
def trusted():
    a, b = socket.socketpair()
    student = channel.Endpoint(b, "student", dict(NAMES))

    def serve():
        while not student.closed:
            try:
                msg = student.recv()
            except channel.ChannelClosed:
                return
            if msg["op"] == "done":
                return
            student.answer(msg)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    end = channel.Endpoint(a, "trusted")
    yield end
    end.done()
    thread.join(5)
    a.close()
    b.close()


def test_student_functions_are_remote_and_return_plain_data(trusted):
    f = trusted.get("passo")
    assert type(f).t320_remote_kind == "function"
    checks.check_callable(f, "passo")
    w, g = np.ones((2, 3)), np.full((2, 3), 2.0)
    w1, state = f(w, g, None, alpha=0.5)
    assert type(w1) is np.ndarray and w1.dtype == np.float64 and w1.shape == (2, 3)
    assert np.array_equal(w1, np.zeros((2, 3))) and state == {"t": 1} and type(state) is dict


def test_types_survive_the_round_trip(trusted):
    got = trusted.get("tipos")()
    want = tipos()
    assert type(got) is tuple and len(got) == len(want)
    for a, b in zip(got, want):
        assert type(a) is type(b), (a, b)
    assert got[3].dtype == np.int32 and got[4] == [1, (2, 3)] and got[5] == {"a": None, 4: True}
    assert np.isnan(got[9]) and got[7] == b"\x00\x01" and got[8] == 1 + 2j


def test_in_place_changes_and_identity_come_back(trusted):
    state = {"t": 5}
    _, back = trusted.get("passo")(np.ones(2), np.ones(2), state)
    assert back is state and state == {"t": 6}
    w = np.ones(3)
    out = trusted.get("no_lugar")(w)
    assert out is w and np.array_equal(w, np.zeros(3))


def test_generators_are_iterators_sharing_the_rng(trusted):
    rng = np.random.default_rng(2)
    gen = trusted.get("lotes")(10, 4, rng)
    checks.check_generator(gen, "lotes")
    first = [b.tolist() for b in gen]
    second = [b.tolist() for b in trusted.get("lotes")(10, 4, rng)]
    reference = np.random.default_rng(2)
    assert first == [b.tolist() for b in lotes(10, 4, reference)]
    assert second == [b.tolist() for b in lotes(10, 4, reference)]  # the rng moved on


def test_test_callables_run_in_the_trusted_process(trusted):
    seen = []

    def grad(x):
        seen.append(threading.get_ident())
        return 2 * x

    assert trusted.get("chama")(grad, 3.0) == 7.0
    assert seen == [threading.get_ident()]


def test_nnlib_objects_the_student_builds_stay_in_the_kernel(trusted):
    """No class is built from a name the kernel sends: the student's network is a handle,
    and a test reads plain data from it explicitly."""
    net = trusted.get("rede_constante")()
    assert isinstance(net, channel.Remote) and not isinstance(net, network.MLP)
    assert net.sizes == [2, 3, 1]
    w = net.w
    assert type(w) is np.ndarray and w.shape == (13,) and w.dtype == np.float64
    assert type(net.forward(np.ones((4, 2)))) is np.ndarray


def test_nnlib_objects_a_test_passes_cross_by_value_and_sync_back(trusted):
    ours = network.MLP([2, 3, 1], "tanh", rng=np.random.default_rng(0))
    before = ours.w.copy()
    trusted.get("treina")(ours, 0.5)
    assert np.allclose(ours.w, before - 0.5)
    assert np.allclose(ours.params[0].ravel(), ours.w[:ours.params[0].size])
    opt = optim.Momentum(alpha=0.1, mu=0.9)
    assert trusted.get("usa_modulo")(opt).mu == 0.9


def test_student_objects_are_not_data(trusted):
    s = trusted.get("sempre")()
    with pytest.raises(channel.NotData, match="não é um valor"):
        s == 1.0  # noqa: B015
    with pytest.raises(channel.NotData):
        float(s)
    with pytest.raises(AssertionError):
        checks.check_close(s, 1.0)


def test_size_depth_and_cycles_are_bounded(trusted):
    with pytest.raises(AssertionError, match="limite do canal"):
        trusted.get("enorme")()
    with pytest.raises(AssertionError, match="aninhada demais"):
        trusted.get("fundo")()
    d = trusted.get("ciclo")()
    assert d["eu"] is d


def test_trusted_side_sends_no_module_class_or_builtin(trusted):
    f = trusted.get("usa_modulo")
    for value in (os, np.linalg, open, eval, type, Sempre):
        with pytest.raises(channel.NotSendable):
            f(value)


def test_student_side_cannot_reach_underscore_attributes(trusted):
    class Espia:  # as a class defined in a test cell (the trusted process's __main__)
        __module__ = "__main__"

        def __init__(self):
            self.lotes = [1]

        def metodo(self):
            return 1

    assert trusted.get("le_atributo")(Espia(), "lotes") == [1]
    assert trusted.get("le_atributo")(Espia(), "metodo")() == 1
    forged = trusted.get("pede_atributo")
    assert forged(Espia(), "lotes") == [1]
    for name in ("__class__", "__dict__", "__init__", "metodo.__globals__", "_x"):
        with pytest.raises(AttributeError, match="não é acessível"):
            forged(Espia(), name)


def test_no_pickle_anywhere():
    source = open(channel.__file__, encoding="utf-8").read()
    assert "pickle" not in source.replace("no pickle", "").replace("nothing is pickled", "")
    assert "eval(" not in source and "marshal" not in source


def test_forged_messages_fail_the_test_not_the_run():
    a, b = socket.socketpair()
    end = channel.Endpoint(a, "trusted")
    b.sendall(b"\x7f\xff\xff\xff")  # announces a 2 GB message
    with pytest.raises(AssertionError, match="acima do limite"):
        end.recv()
    a2, b2 = socket.socketpair()
    end2 = channel.Endpoint(a2, "trusted")
    payload = b'{"op": "reply", "value": {"t": "a", "k": 0, "d": "|O", "s": [1], "b": ""}}'
    b2.sendall(len(payload).to_bytes(4, "big") + payload)
    with pytest.raises(AssertionError, match="não é numérico"):
        end2._reply_value(end2.recv(), channel._Codec(end2))
