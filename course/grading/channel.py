"""The data-only channel between the trusted test process and the student's kernel.

While ``make grade`` runs, a test cell executes in the trusted process
(``course/grading/trusted_process.py``) and the student's code in the sandboxed kernel. The
two talk over one Unix socket with length-prefixed JSON messages; nothing is pickled and
nothing crosses as code. Both ends run this same module (the kernel receives its source
text), each as an :class:`Endpoint` with its ``role``: ``"trusted"`` or ``"student"``.

What the trusted side builds from what the kernel sends is **data only**:

- ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``;
- numpy scalars and numeric arrays (bool, int, uint, float, complex dtypes), always built
  from their own bytes: a view with offsets or strides, an object, structured or void
  dtype, a shape whose size does not match the bytes sent, or more than
  ``CHANNEL_ARRAY_MAX`` elements is refused before anything is allocated;
- lists, tuples, dicts, sets of those, at most ``CHANNEL_DEPTH_MAX`` levels deep and
  ``CHANNEL_ITEMS_MAX`` values per message; ``np.random.Generator`` as the state of one of
  numpy's own bit generators;
- *handles* (:class:`Remote`) to anything else of the student's (functions, generators,
  objects, nnlib objects the student built): the object stays in the kernel, and a test
  reads plain data from it explicitly (an attribute read, a call, ``next``), each answered
  with data again. Using a handle as data (``float``, ``==``, ``np.asarray``) raises
  :class:`NotData`, an ``AssertionError`` with a Portuguese message, so the test fails
  instead of the grading run.

No class or function is ever looked up by a name the kernel sends. The other direction is
the tests' business: nnlib functions and objects a test passes to the student's code cross
by name and contents (the kernel rebuilds them in its own process), a test's own callables
(``grad_fn``, a lambda) as handles the student's code may only call, whose calls run in the
trusted process on decoded arguments. Modules, classes and builtins of the trusted side
never cross.

Arrays, lists, dicts and nnlib objects a test passes to a call come back changed when the
callee changed them in place (``np.copyto``, ``clear``/``update``, ``net.w -= ...``): an
array only with its shape and kind kept, an object only in the attributes it already had.
Tests that do not ask for in-place updates pass copies (docs/course.md). A
``np.random.Generator`` is shared: both sides keep one copy and every message carries the
new state of each copy that moved. An object the callee returns unchanged is the caller's
own object again, so ``return w`` behaves as it would in one process.

The module imports only the standard library and numpy: it is also the kernel's copy,
executed from its source with ``T320_LIMITS`` set; the trusted process reads
``course/grading/limits.py``.
"""

import base64
import builtins
import json
import struct
import sys
import types

import numpy as np

if "T320_LIMITS" not in globals():  # imported (the trusted process), not exec'd (the kernel)
    from course.grading import limits as _limits

    T320_LIMITS = {name: getattr(_limits, name) for name in (
        "CHANNEL_MESSAGE_MAX", "CHANNEL_DEPTH_MAX", "CHANNEL_ITEMS_MAX", "CHANNEL_ARRAY_MAX",
        "CHANNEL_TEXT_MAX")}
MAX_MESSAGE = T320_LIMITS["CHANNEL_MESSAGE_MAX"]
MAX_DEPTH = T320_LIMITS["CHANNEL_DEPTH_MAX"]
MAX_ITEMS = T320_LIMITS["CHANNEL_ITEMS_MAX"]
MAX_ARRAY = T320_LIMITS["CHANNEL_ARRAY_MAX"]
MAX_TEXT = T320_LIMITS["CHANNEL_TEXT_MAX"]
NUMERIC_KINDS = "biufc"
# Tags only the trusted side sends (the kernel rebuilds nnlib functions, objects and array
# views that a test passes): the trusted side refuses them from the kernel.
FROM_TRUSTED_ONLY = ("fn", "o", "v")
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")
# exception types re-raised as themselves on the other side; any other becomes StudentError
PLAIN_ERRORS = ("ArithmeticError", "AssertionError", "AttributeError", "FloatingPointError",
                "IndexError", "KeyError", "LookupError", "NameError", "NotImplementedError",
                "OverflowError", "RecursionError", "RuntimeError", "StopIteration",
                "TypeError", "UnboundLocalError", "ValueError", "ZeroDivisionError",
                "MemoryError")


class ChannelClosed(AssertionError):
    """The other process went away or broke the protocol; the test cannot go on."""


class NotData(AssertionError):
    """A value of the student's that a test tried to use as data, and is not data."""


class NotSendable(TypeError):
    """A value that may not be sent to the other side (a module, a builtin, too deep)."""


class StudentError(Exception):
    """An exception of a type that is not re-raised as itself (name and message kept)."""


class StudentTimeout(AssertionError):
    """The student's code was interrupted: it ran past the cell's time limit."""


def _short(text):
    text = str(text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + " [...]"


# ----------------------------------------------------------------------------- handles
class Remote:
    """An object that lives in the other process, reached through the channel."""

    t320_remote_kind = "object"
    __slots__ = ("_endpoint", "_id", "_label", "__weakref__")

    def __init__(self, endpoint, hid, label):
        object.__setattr__(self, "_endpoint", endpoint)
        object.__setattr__(self, "_id", hid)
        object.__setattr__(self, "_label", label)

    def __call__(self, *args, **kwargs):
        return self._endpoint.remote_call(self, args, kwargs)

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        return self._endpoint.remote_getattr(self, attr)

    def __setattr__(self, attr, value):
        if attr.startswith("_"):
            raise AttributeError(f"não é possível alterar {attr} de {self!r}")
        self._endpoint.remote_setattr(self, attr, value)

    def __repr__(self):
        return f"<{self._label} (no outro processo)>"

    def __hash__(self):
        return object.__hash__(self)

    def _not_data(self, *args, **kwargs):
        raise NotData(f"{self!r} não é um valor (número, array, lista, tupla, dict): "
                      "devolva dados, não um objeto")

    def __len__(self):  # TypeError, so that list(remote_iterator) skips the length hint
        raise TypeError(f"{self!r} não tem len(): não é uma lista nem um array")

    __float__ = __int__ = __index__ = __complex__ = __bool__ = _not_data
    __array__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _not_data
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _not_data
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __neg__ = __abs__ = _not_data
    __matmul__ = __rmatmul__ = __getitem__ = __contains__ = __iter__ = _not_data


class RemoteFunction(Remote):
    t320_remote_kind = "function"
    __slots__ = ()


class RemoteIterator(Remote):
    """A generator or iterator of the other process: ``next`` is a request."""

    t320_remote_kind = "iterator"
    __slots__ = ()

    def __iter__(self):
        return self

    def __next__(self):
        return self._endpoint.remote_next(self)


class RemoteGenerator(RemoteIterator):
    t320_remote_kind = "generator"
    __slots__ = ()


_PROXY = {"function": RemoteFunction, "generator": RemoteGenerator,
          "iterator": RemoteIterator, "object": Remote, "class": Remote}


def _kind(obj):
    if isinstance(obj, types.GeneratorType):
        return "generator"
    if isinstance(obj, type):
        return "class"
    if isinstance(obj, (types.FunctionType, types.MethodType, types.BuiltinFunctionType)):
        return "function"
    if hasattr(type(obj), "__next__"):
        return "iterator"
    return "object"


def _label(obj):
    name = getattr(type(obj), "__qualname__", "objeto")
    if isinstance(obj, (types.FunctionType, types.MethodType, type)):
        name = getattr(obj, "__qualname__", name)
    return _short(f"{_kind(obj)} {name}")[:200]


def _scalar_snapshot(v):
    return v if v is None or type(v) in (bool, int, float, str, complex) else id(v)


def _snapshot(obj):
    """What :meth:`Endpoint._changed` compares to tell whether a call changed ``obj``."""
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return [(_scalar_snapshot(k), _scalar_snapshot(v)) for k, v in dict.items(obj)]
    if _library_name(obj) is not None and hasattr(obj, "__dict__"):
        return [(k, _scalar_snapshot(v)) for k, v in vars(obj).items()]
    if isinstance(obj, list):
        return [_scalar_snapshot(v) for v in list.__iter__(obj)]
    return None


def _changed(obj, snap):
    if isinstance(obj, np.ndarray):
        return not (obj.shape == snap.shape and obj.dtype == snap.dtype
                    and np.array_equal(obj, snap, equal_nan=obj.dtype.kind in "fc"))
    return _snapshot(obj) != snap


class _Codec:
    """Encodes or decodes one message. ``sent`` maps keys of the request being answered."""

    def __init__(self, endpoint, sent=None):
        self.ep = endpoint
        self.sent = sent or {}          # key -> object of ours this message may refer back to
        self.sent_ids = {id(o): k for k, o in self.sent.items()}
        self.keys = {}                  # id(obj) -> key, objects encoded in this message
        self.keep = []                  # keeps encoded objects alive while ids are in use
        self.seen = {}                  # decoding: key -> object built
        self.received = {}              # decoding: key -> (object, snapshot) for sync
        self.items = 0                  # decoding: values built so far (MAX_ITEMS)

    # ---- encoding
    def encode(self, obj, depth=0, top_ref=True):
        if depth > MAX_DEPTH:
            raise NotSendable("estrutura aninhada demais para o canal")
        t = type(obj)
        if obj is None or t in (bool, int, str):
            return obj
        if t is float:
            return obj if obj == obj and obj not in (float("inf"), float("-inf")) else \
                {"t": "f", "v": repr(obj)}
        if top_ref and id(obj) in self.sent_ids:
            return {"t": "yours", "k": self.sent_ids[id(obj)]}
        if id(obj) in self.keys:
            return {"t": "same", "k": self.keys[id(obj)]}
        if isinstance(obj, Remote):
            if obj._endpoint is not self.ep:
                raise NotSendable("handle de outro canal")
            return {"t": "mine", "id": obj._id}
        if isinstance(obj, np.generic) and obj.dtype.kind in NUMERIC_KINDS:
            return {"t": "ns", "d": obj.dtype.str, "b": base64.b64encode(obj.tobytes()).decode()}
        if t is complex:
            return {"t": "c", "v": [repr(obj.real), repr(obj.imag)]}
        if isinstance(obj, (bytes, bytearray)):
            return {"t": "bytes", "b": base64.b64encode(bytes(obj)).decode()}
        trusted = self.ep.role == "trusted"
        ref = _library_name(obj) if trusted else None  # the kernel sends nnlib objects as handles
        if ref is not None and isinstance(obj, types.FunctionType):
            return {"t": "fn", "ref": ref}
        if isinstance(obj, np.ndarray) and obj.dtype.kind in NUMERIC_KINDS:
            base = obj.base
            if trusted and isinstance(base, np.ndarray) and base.dtype.kind in NUMERIC_KINDS \
                    and base.base is None and base.flags.c_contiguous:
                encoded_base = self.encode(base, depth + 1)
                key = len(self.keys)
                self._remember(obj, key)
                offset = obj.__array_interface__["data"][0] - base.__array_interface__["data"][0]
                return {"t": "v", "k": key, "base": encoded_base, "off": offset,
                        "d": obj.dtype.str, "s": list(obj.shape), "st": list(obj.strides)}
            key = len(self.keys)
            self._remember(obj, key)
            data = np.ascontiguousarray(obj)
            return {"t": "a", "k": key, "d": data.dtype.str, "s": list(data.shape),
                    "b": base64.b64encode(data.tobytes()).decode()}
        key = len(self.keys)
        if ref is not None and hasattr(obj, "__dict__"):
            self._remember(obj, key)
            return {"t": "o", "k": key, "cls": ref,
                    "v": [[str(n), self.encode(v, depth + 1)] for n, v in list(vars(obj).items())]}
        if isinstance(obj, np.random.Generator) and \
                type(obj.bit_generator).__name__ in BIT_GENERATORS:
            return {"t": "g", "pid": self.ep.mirror(obj), "bg": type(obj.bit_generator).__name__,
                    "st": self.encode(obj.bit_generator.state, depth + 1)}
        if isinstance(obj, list):
            self._remember(obj, key)
            return {"t": "l", "k": key, "v": [self.encode(v, depth + 1) for v in list.__iter__(obj)]}
        if isinstance(obj, tuple):
            return {"t": "t", "v": [self.encode(v, depth + 1) for v in tuple.__iter__(obj)]}
        if isinstance(obj, dict):
            self._remember(obj, key)
            return {"t": "d", "k": key, "v": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                             for k, v in dict.items(obj)]}
        if isinstance(obj, (set, frozenset)):
            return {"t": "set" if isinstance(obj, set) else "fset",
                    "v": [self.encode(v, depth + 1) for v in obj]}
        if isinstance(obj, slice):
            return {"t": "slice", "v": [self.encode(v, depth + 1) for v in (obj.start, obj.stop, obj.step)]}
        return self.ep.export(obj)

    def _remember(self, obj, key):
        self.keys[id(obj)] = key
        self.keep.append(obj)

    def encode_contents(self, obj):
        """Encode ``obj`` itself (not as a reference to the caller's object): for syncs.

        An nnlib object received from the trusted side goes back as its attributes only
        (``od``): the trusted side applies them to its own object, never builds one.
        """
        if self.ep.role == "student" and _library_name(obj) is not None \
                and hasattr(obj, "__dict__"):
            return {"t": "od", "v": [[str(n), self.encode(v, 1)]
                                     for n, v in list(vars(obj).items())]}
        return self.encode(obj, top_ref=False)

    # ---- decoding
    def decode(self, v, depth=0):
        if depth > MAX_DEPTH:
            raise NotData("o valor recebido é aninhado demais")
        self.items += 1
        if self.items > MAX_ITEMS:
            raise NotData("o valor recebido tem elementos demais")
        if v is None or type(v) in (bool, int, float, str):
            return v
        if type(v) is not dict:
            raise ChannelClosed("mensagem fora do protocolo")
        t = v.get("t")
        if t == "f":
            return float(v["v"]) if v["v"] in ("nan", "inf", "-inf") else _bad()
        if t == "yours":
            return self.sent[v["k"]]
        if t == "same":
            return self.seen[v["k"]]
        if t == "mine":
            return self.ep.local_object(v["id"])
        if t == "h":
            proxy = _PROXY.get(v.get("kind"), Remote)
            return proxy(self.ep, int(v["id"]), _short(v.get("label", "objeto"))[:200])
        if t == "ns":
            return _array_from(v["d"], [], v["b"])[()]
        if t == "c":
            return complex(float(v["v"][0]), float(v["v"][1]))
        if t == "bytes":
            return base64.b64decode(v["b"])
        if t == "a":
            return self._register(v, _array_from(v["d"], v["s"], v["b"]))
        if t == "g":
            return self.ep.mirrored(str(v["pid"]), v["bg"], self.decode(v["st"], depth + 1))
        if t in FROM_TRUSTED_ONLY and self.ep.role != "student":
            raise NotData(f"o processo do aluno enviou um valor que não é dado ({t}): "
                          "devolva números, arrays, listas, tuplas ou dicts")
        if t == "v":
            base = self.decode(v["base"], depth + 1)
            if not isinstance(base, np.ndarray):
                raise NotData("vista de array sem o array de base")
            try:
                view = np.ndarray(tuple(v["s"]), dtype=_numeric_dtype(v["d"]), buffer=base,
                                  offset=int(v["off"]), strides=tuple(v["st"]))
            except (TypeError, ValueError):
                raise NotData("vista de array inválida") from None
            return self._register(v, view)
        if t == "fn":
            obj = _library_object(v["ref"])
            if not isinstance(obj, types.FunctionType):
                raise NotData("função desconhecida do nnlib")
            return obj
        if t == "o":
            cls = _library_object(v["cls"])
            if not isinstance(cls, type):
                raise NotData("classe desconhecida do nnlib")
            out = self._register(v, object.__new__(cls), snapshot=False)
            for name, x in v["v"]:
                out.__dict__[str(name)] = self.decode(x, depth + 1)
            self._snap(v, out)
            return out
        if t == "l":
            out = self._register(v, [], snapshot=False)
            out.extend(self.decode(x, depth + 1) for x in v["v"])
            self._snap(v, out)
            return out
        if t == "t":
            return tuple(self.decode(x, depth + 1) for x in v["v"])
        if t == "d":
            out = self._register(v, {}, snapshot=False)
            for k, x in v["v"]:
                out[self.decode(k, depth + 1)] = self.decode(x, depth + 1)
            self._snap(v, out)
            return out
        if t == "od":
            return {str(name): self.decode(x, depth + 1) for name, x in v["v"]}
        if t in ("set", "fset"):
            items = [self.decode(x, depth + 1) for x in v["v"]]
            return set(items) if t == "set" else frozenset(items)
        if t == "slice":
            return slice(*(self.decode(x, depth + 1) for x in v["v"]))
        raise ChannelClosed(f"tipo desconhecido no canal: {_short(t)[:40]}")

    def _register(self, v, obj, snapshot=True):
        self.seen[v["k"]] = obj
        if snapshot:
            self._snap(v, obj)
        return obj

    def _snap(self, v, obj):
        self.received[v["k"]] = (obj, _snapshot(obj))


def _bad():
    raise ChannelClosed("número inválido no canal")


def _library_name(obj):
    """``"module:qualname"`` of an nnlib function or of an instance of an nnlib class."""
    target = obj if isinstance(obj, types.FunctionType) else type(obj)
    module = getattr(target, "__module__", None)
    if not isinstance(module, str) or not (module == "nnlib" or module.startswith("nnlib.")):
        return None
    ref = f"{module}:{target.__qualname__}"
    return ref if _library_object(ref) is target else None


def _library_object(ref):
    """The nnlib function or class named ``ref`` on this side (None if there is none)."""
    import importlib

    module, _, qualname = str(ref).partition(":")
    if not (module == "nnlib" or module.startswith("nnlib.")) or \
            not all(p.isidentifier() and not p.startswith("_") for p in module.split(".")):
        return None
    try:
        obj = importlib.import_module(module)
    except Exception:
        return None
    for part in qualname.split("."):
        if not part.isidentifier() or part.startswith("_"):
            return None
        obj = getattr(obj, part, None)
    return obj


def _numeric_dtype(dtype):
    try:
        dt = np.dtype(str(dtype))
    except TypeError:
        raise NotData(f"array de tipo {_short(dtype)[:20]} não é numérico") from None
    if dt.kind not in NUMERIC_KINDS or dt.itemsize > 16 or dt.fields is not None or dt.subdtype:
        raise NotData(f"array de tipo {_short(dtype)[:20]} não é numérico")
    return dt


def _array_from(dtype, shape, b64):
    """A new array of ``dtype`` and ``shape`` from base64 bytes; sizes checked first."""
    dt = _numeric_dtype(dtype)
    if type(shape) is not list or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
        raise NotData("formato de array inválido")
    count = 1
    for n in shape:  # Python integers: no overflow, whatever the student declared
        count *= n
    if count > MAX_ARRAY:
        raise NotData(f"array de {count} elementos passa do limite do canal ({MAX_ARRAY})")
    if type(b64) is not str or len(b64) != 4 * ((count * dt.itemsize + 2) // 3):
        raise NotData("array com dados incompletos")
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != count * dt.itemsize:
        raise NotData("array com dados incompletos")
    return np.frombuffer(raw, dtype=dt).reshape(shape).copy()


def _apply_sync(codec, sync):
    """Apply the in-place changes the callee reports to the caller's own objects.

    Arrays first (same shape, the values cast to the array's own dtype), then lists and
    dicts, then nnlib objects: only attributes the object already has, without a leading
    underscore, take the new values. Nothing new is built but the decoded data itself.
    """
    if type(sync) is not list or len(sync) > len(codec.sent):
        raise ValueError("sync")
    decoded = [(codec.sent[int(k)], codec.decode(value)) for k, value in sync]
    for orig, new in decoded:
        if isinstance(orig, np.ndarray) and isinstance(new, np.ndarray):
            if orig.shape == new.shape and orig.flags.writeable:
                np.copyto(orig, new, casting="unsafe")
    for orig, new in decoded:
        if isinstance(orig, np.ndarray):
            continue
        if type(orig) is dict and type(new) is dict:
            dict.clear(orig)
            dict.update(orig, new)
        elif type(orig) is list and type(new) is list:
            list.__setitem__(orig, slice(None), new)
        elif _library_name(orig) is not None and type(new) is dict:
            attrs = vars(orig)
            for name, value in new.items():
                if name in attrs and not name.startswith("_"):
                    attrs[name] = value


# ----------------------------------------------------------------------------- endpoint
class Endpoint:
    """One end of the channel: sends requests, answers the other side's.

    ``role`` is ``"trusted"`` (the test process) or ``"student"`` (the kernel). The trusted
    end exports only what :func:`_may_export` allows and answers ``call``, ``next`` and
    ``getattr``/``setattr`` of attributes without a leading underscore on them; the student
    end also answers ``get`` (an answer name, looked up in ``names``).
    """

    def __init__(self, sock, role, names=None):
        self.sock = sock
        self.role = role
        self.names = names if names is not None else {}
        self.exported = {}
        self.exported_ids = {}
        self.forbid = []       # trusted: check_not_calling targets of the current call
        self.hits = []
        self.closed = False
        self.mirrors = {}      # pid -> [np.random.Generator, repr of the state last shared]
        self.mirror_ids = {}   # id(generator) -> pid
        self.mirror_count = 0

    # ---- random generators shared by both sides
    def mirror(self, gen):
        """The id under which ``gen`` is shared; its state then follows every message."""
        pid = self.mirror_ids.get(id(gen))
        if pid is None:
            self.mirror_count += 1
            pid = f"{self.role[0]}{self.mirror_count}"
            self.mirrors[pid] = [gen, repr(gen.bit_generator.state)]
            self.mirror_ids[id(gen)] = pid
        return pid

    def mirrored(self, pid, bit_generator, state):
        """The generator shared as ``pid``, created on first sight, with ``state``."""
        if pid not in self.mirrors:
            if bit_generator not in BIT_GENERATORS:
                raise NotData("gerador de números aleatórios desconhecido")
            gen = np.random.Generator(getattr(np.random, bit_generator)())
            self.mirrors[pid] = [gen, None]
            self.mirror_ids[id(gen)] = pid
        entry = self.mirrors[pid]
        entry[0].bit_generator.state = state
        entry[1] = repr(entry[0].bit_generator.state)
        return entry[0]

    def _forget_unused_generators(self):
        """Stop sharing the generators this side no longer holds (tells the other side)."""
        dropped = []
        for pid, entry in list(self.mirrors.items()):
            gen = entry[0]
            if sys.getrefcount(gen) <= 3:  # the entry, ``gen`` and getrefcount's argument
                del self.mirrors[pid]
                self.mirror_ids.pop(id(gen), None)
                dropped.append(pid)
            del gen
        return dropped

    def _changed_generators(self):
        out = []
        for pid, entry in self.mirrors.items():
            state = entry[0].bit_generator.state
            if repr(state) != entry[1]:
                entry[1] = repr(state)
                out.append([pid, _Codec(self).encode(state)])
        return out

    def _apply_generators(self, changes, dropped):
        for pid, state in changes:
            entry = self.mirrors.get(str(pid))
            if entry is None:
                raise ChannelClosed("gerador desconhecido no canal")
            entry[0].bit_generator.state = _Codec(self).decode(state)
            entry[1] = repr(entry[0].bit_generator.state)
        for pid in dropped:
            entry = self.mirrors.pop(str(pid), None)
            if entry is not None:
                self.mirror_ids.pop(id(entry[0]), None)

    # ---- framing
    def send(self, msg):
        if self.mirrors:
            msg["gens"] = self._changed_generators()
            msg["drop"] = self._forget_unused_generators()
        data = json.dumps(msg, separators=(",", ":")).encode("utf-8")
        if len(data) > MAX_MESSAGE:
            raise NotSendable(f"mensagem de {len(data)} bytes passa do limite do canal")
        self._sendall(struct.pack(">I", len(data)) + data)

    def _sendall(self, data):
        if self.closed:
            raise ChannelClosed("o outro processo não está mais disponível")
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.closed = True
            raise ChannelClosed(f"o outro processo não está mais disponível ({exc})") from None

    def _read(self, n):
        chunks, got = [], 0
        while got < n:
            try:
                chunk = self.sock.recv(min(n - got, 1 << 20))
            except OSError as exc:
                self.closed = True
                raise ChannelClosed(f"o outro processo não responde ({exc})") from None
            if not chunk:
                self.closed = True
                raise ChannelClosed("o outro processo terminou")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def recv(self):
        if self.closed:
            raise ChannelClosed("o outro processo não está mais disponível")
        (n,) = struct.unpack(">I", self._read(4))
        if n > MAX_MESSAGE:
            self.closed = True
            raise NotData(f"o processo do aluno enviou {n} bytes, acima do limite do canal")
        try:
            msg = json.loads(self._read(n).decode("utf-8"))
        except (ValueError, RecursionError):
            self.closed = True
            raise ChannelClosed("mensagem inválida do outro processo") from None
        if type(msg) is not dict or type(msg.get("op")) is not str:
            self.closed = True
            raise ChannelClosed("mensagem fora do protocolo")
        try:
            self._apply_generators(msg.get("gens", []), msg.get("drop", []))
        except (KeyError, TypeError, ValueError):
            raise ChannelClosed("estado de gerador inválido no canal") from None
        return msg

    # ---- handles
    def export(self, obj):
        if self.role == "trusted" and not _may_export(obj):
            raise NotSendable(f"{type(obj).__name__} não pode ser enviado ao processo do aluno")
        hid = self.exported_ids.get(id(obj))
        if hid is None:
            hid = len(self.exported) + 1
            self.exported[hid] = obj
            self.exported_ids[id(obj)] = hid
        return {"t": "h", "id": hid, "kind": _kind(obj), "label": _label(obj)}

    def local_object(self, hid):
        try:
            return self.exported[int(hid)]
        except (KeyError, TypeError, ValueError):
            raise ChannelClosed("referência desconhecida no canal") from None

    # ---- requests we make
    def request(self, op, codec=None, **fields):
        codec = codec or _Codec(self)
        self.send({"op": op, **fields})
        while True:
            msg = self.recv()
            if msg["op"] == "reply":
                return self._reply_value(msg, codec)
            self.answer(msg)

    def _reply_value(self, msg, codec):
        reply = _Codec(self, sent={codec.keys[id(o)]: o for o in codec.keep})
        if msg.get("hits"):
            self.hits.extend(_short(h)[:100] for h in msg["hits"][:50])
        if "error" in msg:
            raise _error_from(msg["error"])
        try:
            value = reply.decode(msg.get("value"))
            _apply_sync(reply, msg.get("sync", []))
        except (KeyError, IndexError, TypeError, ValueError):
            raise ChannelClosed("resposta fora do protocolo") from None
        return value

    def _encode_args(self, args, kwargs):
        codec = _Codec(self)
        return codec, codec.encode(list(args), top_ref=False)["v"], \
            [[str(k), codec.encode(v)] for k, v in kwargs.items()]

    def remote_call(self, target, args, kwargs):
        codec, a, kw = self._encode_args(args, kwargs)
        fields = {"target": target._id, "args": a, "kwargs": kw}
        if self.forbid:
            fields["forbid"] = self.forbid
        return self.request("call", codec, **fields)

    def remote_getattr(self, target, attr):
        return self.request("getattr", target=target._id, attr=attr)

    def remote_setattr(self, target, attr, value):
        codec = _Codec(self)
        return self.request("setattr", codec, target=target._id, attr=attr,
                            value=codec.encode(value))

    def remote_next(self, target):
        return self.request("next", target=target._id)

    def get(self, name):
        return self.request("get", name=name)

    def done(self):
        if not self.closed:
            self.send({"op": "done"})

    # ---- requests we answer
    def answer(self, msg):
        """Run the other side's request ``msg`` here and send the reply."""
        codec = _Codec(self)
        reply = {"op": "reply"}
        try:
            reply["value"], hits = self._run(msg, codec)
            if hits is not None:
                reply["hits"] = hits
            out = _Codec(self, sent={k: o for k, (o, _) in codec.received.items()})
            reply["value"] = out.encode(reply["value"])
            reply["sync"] = [[k, out.encode_contents(o)] for k, (o, snap) in codec.received.items()
                             if snap is not None and _changed(o, snap)]
        except (ChannelClosed, KeyboardInterrupt) as exc:
            if isinstance(exc, ChannelClosed) and self.closed:
                raise
            reply = {"op": "reply", "error": _error_to(exc)}
        except BaseException as exc:  # the other side's code failed: report, keep serving
            reply = {"op": "reply", "error": _error_to(exc)}
        try:
            self.send(reply)
        except NotSendable as exc:
            self.send({"op": "reply", "error": _error_to(exc)})

    def _run(self, msg, codec):
        op = msg["op"]
        if op == "get" and self.role == "student":
            name = str(msg.get("name"))
            if name not in self.names:
                raise NameError(f"name '{name}' is not defined")
            return self.names[name], None
        target = self.local_object(msg.get("target"))
        if op == "call":
            args = [codec.decode(a) for a in msg.get("args", [])]
            kwargs = {str(k): codec.decode(v) for k, v in msg.get("kwargs", [])}
            if msg.get("forbid") and self.role == "student":
                return _profiled(lambda: target(*args, **kwargs), msg["forbid"])
            return target(*args, **kwargs), None
        if op == "next":
            return next(target), None
        attr = str(msg.get("attr"))
        if op in ("getattr", "setattr") and (attr.startswith("_") or not attr.isidentifier()):
            raise AttributeError(f"atributo {_short(attr)[:60]} não é acessível pelo canal")
        if op == "getattr":
            return getattr(target, attr), None
        if op == "setattr":
            _assign(target, attr, codec.decode(msg.get("value")))
            return None, None
        raise ChannelClosed(f"pedido não permitido: {_short(op)[:40]}")


def _assign(target, attr, value):
    """``setattr``, except that an array attribute of the same shape is overwritten in place.

    Over the channel ``net.w -= α g`` on a remote ``net`` reads a copy of ``net.w``, changes
    it and assigns it back; copying into the existing array keeps what shares its memory
    (nnlib's per-layer views of ``w``) in step, as the in-place ``-=`` would in one process.
    """
    old = getattr(target, attr, None)
    if isinstance(old, np.ndarray) and isinstance(value, np.ndarray) and value is not old \
            and old.shape == value.shape and old.flags.writeable:
        np.copyto(old, value, casting="same_kind")
    else:
        setattr(target, attr, value)


def _may_export(obj):
    """The trusted side's objects the student's code may hold.

    Functions and methods written in Python, generators, and instances of classes defined
    by the tests (module ``__main__``). Never a module, a class, a builtin or anything
    reached through an underscore attribute.
    """
    if isinstance(obj, types.FunctionType):
        return True
    if isinstance(obj, types.MethodType):
        return isinstance(obj.__func__, types.FunctionType)
    if isinstance(obj, types.GeneratorType):
        return True
    cls = type(obj)
    return cls.__module__ == "__main__" and isinstance(getattr(obj, "__dict__", None), dict) \
        and cls.__flags__ & (1 << 9) != 0  # Py_TPFLAGS_HEAPTYPE: a class written in Python


def _error_to(exc):
    name = type(exc).__name__
    if isinstance(exc, KeyboardInterrupt):
        name = "KeyboardInterrupt"
    return {"type": name[:80], "msg": _short(exc)}


def _error_from(err):
    name, text = str(err.get("type", "Exception"))[:80], _short(err.get("msg", ""))
    if name == "KeyboardInterrupt":
        return StudentTimeout("o código do aluno foi interrompido: passou do tempo limite")
    if name in ("ChannelClosed", "NotData", "NotSendable", "StudentTimeout"):
        return AssertionError(text)
    if name in PLAIN_ERRORS:
        cls = getattr(builtins, name)
        return cls(text)
    return StudentError(f"{name}: {text}")


def _profiled(call, specs):
    """Run ``call`` with a profiler that records entries into the functions of ``specs``."""
    codes, names = set(), {}
    for spec in specs[:50]:
        for code in _codes_of(str(spec)):
            codes.add(code)
            names[code] = code.co_name
    hits = []

    def profiler(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            hits.append(frame.f_code.co_name)

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        result = call()
        ours = sys.getprofile() is profiler
    finally:
        sys.setprofile(previous)
    if not ours:
        hits.append("sys.setprofile")
    return result, sorted(set(hits))


def _codes_of(spec):
    """Code objects of the functions named by ``module`` or ``module:qualname``."""
    import importlib

    module_name, _, qualname = spec.partition(":")
    try:
        obj = importlib.import_module(module_name)
        for part in filter(None, qualname.split(".")):
            obj = getattr(obj, part)
    except Exception:
        return set()
    out = set()
    stack, seen = [obj], set()
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        o = getattr(o, "__func__", o)
        impl = getattr(o, "_implementation", None)
        if isinstance(impl, types.FunctionType):
            out.add(impl.__code__)
        if isinstance(o, types.FunctionType):
            out.add(o.__code__)
        elif isinstance(o, (types.ModuleType, type)):
            mod = getattr(o, "__name__", None) if isinstance(o, types.ModuleType) else o.__module__
            for v in list(vars(o).values()):
                v = getattr(v, "__func__", v)
                if isinstance(v, types.FunctionType) and (isinstance(o, type) or v.__module__ == mod):
                    stack.append(v)
                elif isinstance(v, type) and getattr(v, "__module__", None) == mod:
                    stack.append(v)
                elif isinstance(v, property):
                    stack += [f for f in (v.fget, v.fset) if f is not None]
    return out


# ----------------------------------------------------------------------------- kernel side
_ENDPOINT = None


def connect(path, names):
    """Kernel side: connect to the trusted process's socket ``path`` (relative to the cwd)."""
    import socket

    global _ENDPOINT
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    _ENDPOINT = Endpoint(sock, "student", names)


def serve():
    """Kernel side: answer the trusted process's requests until it says the cell is done."""
    ep = _ENDPOINT
    if ep is None:
        return
    while not ep.closed:
        try:
            msg = ep.recv()
        except ChannelClosed:
            return
        except KeyboardInterrupt:
            continue
        if msg["op"] == "done":
            return
        ep.answer(msg)
