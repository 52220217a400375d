"""Checks for notebook test cells (autograded exercises).

Test cells import this module (``from nnlib import checks``) in a locked cell at the top
of the notebook, before any student code runs, and call only these functions. Each check
raises ``AssertionError`` with a message in Portuguese that tells the student what is
wrong.

The checks are written so that the usual cheats do not pass:

- exact types (``type(x) is np.ndarray``, no subclasses, no look-alike objects), so an
  object whose ``__eq__`` always returns True is rejected;
- values are converted to Python builtins (``ndarray.tolist()``, a method of a C type that
  cannot be replaced) and compared with ``math.isclose``; every function used is captured
  when this module is imported, so monkeypatching ``numpy.testing``, ``numpy.allclose``,
  ``math.isclose`` or builtins later does not change the verdict;
- ``check_not_calling`` detects, with a profiler hook, a graded function that simply
  calls nnlib's own implementation.

What it cannot do: student code runs in the same process, so a student who replaces the
functions of this very module can defeat it. That is visible in the submitted code, which
the instructor reviews (see docs/course.md).
"""

import builtins as _builtins
import math as _math
import sys as _sys
import types as _types

import numpy as _np

_type = _builtins.type
_isinstance = _builtins.isinstance
_len = _builtins.len
_tuple = _builtins.tuple
_float = _builtins.float
_int = _builtins.int
_bool = _builtins.bool
_list = _builtins.list
_str = _builtins.str
_repr = _builtins.repr
_callable = _builtins.callable
_zip = _builtins.zip
_isclose = _math.isclose
_isnan = _math.isnan
_isinf = _math.isinf
_ndarray = _np.ndarray
_full = _np.full
_tolist = _np.ndarray.tolist
_AssertionError = _builtins.AssertionError
_setprofile = _sys.setprofile
_getprofile = _sys.getprofile
_FunctionType = _types.FunctionType

__all__ = ["check_array", "check_close", "check_agrees", "check_scalar", "check_callable",
           "check_not_calling", "check_generator", "check_true", "is_close"]


def _fail(msg):
    raise _AssertionError(msg)


def _builtin_values(x, name):
    """``x`` (exact ndarray, float, int or nested list/tuple of them) as nested floats."""
    t = _type(x)
    if t is _ndarray:
        x = _tolist(x)
        t = _type(x)
    if t is _float or t is _int:
        return _float(x)
    if t is _list or t is _tuple:
        return [_builtin_values(v, name) for v in x]
    _fail(f"{name}: esperava um número ou um np.ndarray, recebi {t.__name__}")


def _shape_of(v, name):
    """The shape of nested lists ``v``; a ragged one (rows of different shapes) fails."""
    if _type(v) is not _list:
        return ()
    shapes = [_shape_of(item, name) for item in v]
    for s in shapes:
        if s != shapes[0]:
            _fail(f"{name}: formato irregular: as partes têm formatos diferentes "
                  f"({shapes[0]} e {s})")
    return (_len(v),) + (shapes[0] if shapes else ())


def _flatten(v, out):
    if _type(v) is _list:
        for item in v:
            _flatten(item, out)
    else:
        out.append(v)
    return out


def check_array(x, shape, dtype="float64", name="resultado"):
    """Assert ``x`` is exactly a ``np.ndarray`` of the given shape and dtype (name or dtype).

    Returns None: a test cell whose last line has a value gets it as partial credit
    in nbgrader.
    """
    if _type(x) is not _ndarray:
        _fail(f"{name}: esperava np.ndarray, recebi {_type(x).__name__} "
              "(use np.asarray / operações do numpy e devolva um array)")
    got_shape = _tuple(_int(n) for n in x.shape)
    want_shape = _tuple(_int(n) for n in shape)
    if got_shape != want_shape:
        _fail(f"{name}: formato (shape) errado: esperava {want_shape}, recebi {got_shape}")
    want = _str(_np.dtype(dtype).name) if _type(dtype) is not _str else _str(dtype)
    got = _str(x.dtype.name)
    if got != want:
        _fail(f"{name}: dtype errado: esperava {want}, recebi {got}")


def check_close(actual, expected, rtol=1e-7, atol=1e-12, name="resultado"):
    """Assert ``actual`` equals ``expected`` elementwise within ``|a - e| <= atol + rtol |e|``.

    ``actual`` must be a float/int or an exact ``np.ndarray``; ``expected`` a number, a
    nested list or an exact ``np.ndarray`` with the same shape. NaN never matches.
    """
    a = _builtin_values(actual, name)
    e = _builtin_values(expected, "valor esperado")
    se = _shape_of(e, "valor esperado")
    sa = _shape_of(a, name)
    if sa != se:
        _fail(f"{name}: formato (shape) errado: esperava {se}, recebi {sa}")
    fa = _flatten(a, []) if _type(a) is _list else [a]
    fe = _flatten(e, []) if _type(e) is _list else [e]
    if _len(fa) != _len(fe):  # equal regular shapes hold equally many numbers
        _fail(f"{name}: esperava {_len(fe)} valor(es), recebi {_len(fa)}")
    bad = 0
    first = None
    for i, (va, ve) in enumerate(_zip(fa, fe)):
        ok = (not _isnan(va)) and (not _isnan(ve)) and (
            va == ve or _isclose(va, ve, rel_tol=rtol, abs_tol=atol))
        if _isinf(va) or _isinf(ve):
            ok = va == ve
        if not ok:
            bad += 1
            if first is None:
                first = (i, va, ve)
    if bad:
        i, va, ve = first
        _fail(f"{name}: {bad} de {_len(fa)} valor(es) fora da tolerância "
              f"(rtol={rtol}, atol={atol}); primeiro no índice plano {i}: "
              f"recebi {va!r}, esperava {ve!r}")


def check_agrees(actual, expected, message, rtol=1e-7, atol=1e-12):
    """Assert ``actual`` is close to ``expected`` as `check_close` does, failing with ``message`` only.

    For the visible part of a test cell, which says what is wrong (a property: "the first
    step must be the gradient-descent step") without printing the expected value; the
    comparison is `check_close`'s, so it has the same protections.
    """
    try:
        check_close(actual, expected, rtol=rtol, atol=atol, name="")
    except _AssertionError:
        raise _AssertionError(message) from None


def check_scalar(x, expected=None, rtol=1e-7, atol=1e-12, name="resultado", kind=float):
    """Assert ``x`` is a Python or numpy scalar of ``kind`` (float or int), close to ``expected``.

    numpy scalars (``np.float64``) and 0-d arrays are accepted and converted with
    ``.item()`` semantics; bool is never a number here. Returns None (see
    ``check_array``).
    """
    t = _type(x)
    if t is _ndarray:
        if x.shape != ():
            _fail(f"{name}: esperava um escalar, recebi um array de formato {_tuple(x.shape)}")
        x = _tolist(x)
    elif t is not _float and t is not _int and _isinstance(x, _np.generic) \
            and _type(x).__module__ == "numpy":
        x = _tolist(_np.asarray(x))
    t = _type(x)
    if kind is _float:
        if t is not _float and t is not _int:
            _fail(f"{name}: esperava um número real, recebi {_type(x).__name__}")
        x = _float(x)
    elif kind is _int:
        if t is not _int:
            _fail(f"{name}: esperava um inteiro, recebi {_type(x).__name__}")
    if expected is not None:
        check_close(x, expected, rtol=rtol, atol=atol, name=name)


def check_true(condition, message):
    """Assert a yes/no property the test computed; on failure raise ``message`` (Portuguese).

    ``condition`` must be exactly ``True`` or ``False`` (a bool the test cell computed, not a
    student object): a property check says what is wrong in words, not "recebi 0.0, esperava
    1.0", and prints no expected value.
    """
    if _type(condition) is not _bool and not _isinstance(condition, _np.bool_):
        _fail(f"check_true: a condição deve ser True ou False, recebi {_type(condition).__name__}")
    if not _bool(condition):
        _fail(_str(message))


def is_close(actual, expected, rtol=1e-7, atol=1e-12):
    """True when ``actual`` equals ``expected`` within tolerance, as `check_close` compares them.

    For the yes/no properties a test cell passes to `check_true` (the comparison is the one of
    this module, not ``numpy.allclose``, which student code could replace). A number as
    ``expected`` is compared with every element of an array ``actual``, which must then
    hold at least one. Never raises: a wrong type or shape, a ragged list, or an empty
    array against a number is ``False``.
    """
    if _isinstance(expected, _np.generic) and _type(expected).__module__ == "numpy":
        expected = _tolist(_np.asarray(expected))        # a numpy scalar: a Python number
    if _type(actual) is _ndarray and (_type(expected) is _float or _type(expected) is _int):
        if actual.size == 0:
            return False
        expected = _full(actual.shape, _float(expected))
    try:
        check_close(actual, expected, rtol=rtol, atol=atol, name="")
    except _AssertionError:
        return False
    return True


def check_callable(f, name="função"):
    """Assert ``f`` is a plain Python function (``def``/``lambda``), not a stub or object.

    While grading, a student's function reaches the test as a remote function
    (``course/grading/channel.py``): that counts as a function.
    """
    if _type(f) is not _FunctionType and getattr(_type(f), "t320_remote_kind", None) != "function":
        _fail(f"{name}: esperava uma função definida com def, recebi {_type(f).__name__}")


def _code_objects(target, seen=None):
    """Code objects of the functions (and class methods) in a module, class or function."""
    seen = set() if seen is None else seen
    codes, builtin_ids = set(), set()
    if _type(target) is _FunctionType:
        codes.add(target.__code__)
        return codes, builtin_ids
    if not _isinstance(target, (_types.ModuleType, _type)):
        # C functions, ufuncs, method descriptors, numpy dispatchers: matched by identity,
        # plus the Python implementation a dispatcher wraps
        impl = getattr(target, "_implementation", None)
        if _type(impl) is not _FunctionType:
            raise TypeError(f"check_not_calling: cannot trace {target!r}; give a module, a "
                            "class or a Python function (C functions and ufuncs such as "
                            "np.maximum emit no profiler event for their own calls)")
        builtin_ids.add(id(target))
        codes.add(impl.__code__)
        return codes, builtin_ids
    if id(target) in seen:
        return codes, builtin_ids
    seen.add(id(target))
    module_name = getattr(target, "__name__", None)
    for value in _list(vars(target).values()):
        value = getattr(value, "__func__", value)  # staticmethod / classmethod
        if _type(value) is _FunctionType:
            if _type(target) is _type or value.__module__ == module_name:
                codes.add(value.__code__)
        elif _type(value) is _type and getattr(value, "__module__", None) == module_name:
            c, b = _code_objects(value, seen)
            codes |= c
            builtin_ids |= b
        elif _type(value) is property:
            for acc in (value.fget, value.fset):
                if _type(acc) is _FunctionType:
                    codes.add(acc.__code__)
    return codes, builtin_ids


# Set by course/grading/trusted_process.py while grading: ``tracer(call, targets) -> (result, hits)`` runs
# ``call()`` with the kernel profiling the student's functions (a hit ``"sys.setprofile"``
# means the student's code removed that profiler).
_remote_tracer = None


def check_not_calling(call, forbidden, name="sua função"):
    """Run ``call()`` and assert it never enters any function in ``forbidden``.

    ``forbidden`` is a module (every function and method defined in it), a class, a
    Python function, a numpy function with a Python implementation (``np.linalg.norm``,
    ``np.clip``), or a list of these; ufuncs (``np.maximum``) cannot be traced and raise
    ``TypeError``. Works however the student imported or renamed them,
    because calls are matched by code object. Returns what ``call()`` returned (assign
    it: a value on a test cell's last line counts as partial credit in nbgrader).
    """
    targets = forbidden if _type(forbidden) in (_list, _tuple) else [forbidden]
    codes, builtin_ids = set(), set()
    for t in targets:
        c, b = _code_objects(t)
        codes |= c
        builtin_ids |= b
    hits = []

    def profiler(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            hits.append(frame.f_code.co_name)
        elif event == "c_call" and id(arg) in builtin_ids:
            hits.append(getattr(arg, "__name__", "?"))

    previous = _getprofile()
    _setprofile(profiler)
    try:
        remote_hits = []
        if _remote_tracer is None:
            result = call()
        else:  # grading: the student's functions run in the kernel, which profiles them
            result, remote_hits = _remote_tracer(call, targets)
        hits += [h for h in remote_hits if h != "sys.setprofile"]
        still_ours = _getprofile() is profiler and "sys.setprofile" not in remote_hits
    finally:
        _setprofile(previous)
    if not still_ours:
        _fail(f"{name} desligou o profiler (sys.setprofile): não é permitido")
    if hits:
        _fail(f"{name} chama a implementação pronta ({', '.join(sorted(set(hits)))}); "
              "escreva o cálculo você mesmo")
    return result


def check_generator(x, name="resultado"):
    """Assert ``x`` is a generator (a function with ``yield`` was called), not a list.

    While grading, test cells run in a separate process (``course/grading/trusted_process.py``) and a
    student's generator reaches them as a remote generator: that counts as a generator.
    """
    if _type(x) is _types.GeneratorType or getattr(_type(x), "t320_remote_kind", None) == "generator":
        return
    _fail(f"{name}: esperava um gerador (uma função com yield), recebi {_type(x).__name__}")




def call_answer(call, name):
    """Return ``call()``, a call of an answer function; a crash fails in Portuguese.

    ``NotImplementedError`` (the blank exercise) and any other exception become an
    ``AssertionError`` that names the function, not a library traceback in English.
    """
    try:
        return call()
    except NotImplementedError:
        _fail(f"{name} ainda não foi implementada: apague o raise NotImplementedError() e "
              "escreva a sua solução")
    except _AssertionError:
        raise
    except Exception as error:  # noqa: BLE001 - any crash of the student's code
        raise _AssertionError(
            f"{name} levantou {_type(error).__name__} numa chamada válida do teste; rode o "
            "exemplo do enunciado na sua célula para ver onde") from None


def check_partition(batches, N, name="mini-batches"):
    """Assert ``batches`` (a list) holds 1-D int64 arrays that use each of 0..N-1 exactly once."""
    if _type(batches) is not _list:
        _fail(f"{name}: esperava uma lista de mini-batches, recebi {_type(batches).__name__}")
    seen = []
    for b, batch in enumerate(batches):
        if _type(batch) is not _ndarray or batch.ndim != 1 or _str(batch.dtype.name) != "int64":
            _fail(f"{name}: o mini-batch {b} deve ser um np.ndarray 1-D de int64")
        seen.extend(_tolist(batch))
    if sorted(seen) != _list(range(N)):
        _fail(f"{name}: numa época cada índice 0..{N - 1} deve aparecer exatamente uma vez "
              "(amostragem sem reposição)")


# ---- lista01 helpers ----
# Repeated steps of the lista01 test cells: a returned value that must be a finite real number,
# and a call that must raise a given exception. Messages are Portuguese and never show an
# expected value (the visible tests check properties; exact values are in hidden tests).


def check_real_number(x, name="resultado", positive=False):
    """Assert ``x`` is a finite real number (Python or numpy scalar, not bool); return it as float.

    With ``positive=True`` it must also be > 0.
    """
    check_scalar(x, name=name, kind=_float)
    value = _float(_tolist(_np.asarray(x)))
    if _isnan(value) or _isinf(value):
        _fail(f"{name}: esperava um número finito, recebi {value!r}")
    if positive and not value > 0:
        _fail(f"{name}: esperava um número positivo, recebi {value!r}")
    return value


def check_raises(call, exception, name="sua função"):
    """Assert ``call()`` raises ``exception`` (a class); return the message of the error raised.

    Any other exception (``NotImplementedError`` of a blank exercise included) fails the
    check with its name, so the student sees what was raised instead.
    """
    try:
        call()
    except exception as error:
        return _str(error)
    except Exception as error:  # noqa: BLE001 - the student's code may raise anything
        _fail(f"{name}: esperava {exception.__name__}, mas foi levantado "
              f"{_type(error).__name__}: {error}")
    _fail(f"{name}: esperava que levantasse {exception.__name__}, mas a chamada terminou sem erro")


def _raised_while_blank(error):
    """True if ``error`` was raised while handling a NotImplementedError (a blank stub)."""
    seen = []
    context = error.__context__
    while context is not None and not any(context is s for s in seen):
        if _isinstance(context, NotImplementedError):
            return True
        seen.append(context)
        context = context.__context__
    return False


def visible_tests_summary(history, exercises, namespace):
    """Run again the test cells already executed and print one Portuguese line per exercise.

    For notebooks opened where there is no nbgrader Validate button (Colab). ``history`` is
    IPython's ``In`` (the sources of the cells run so far); ``exercises`` lists
    ``(title, answer name, points)``, and the test cell of ``answer name`` is the last entry of
    ``history`` whose first line is ``# Testa <answer name>:``. Each one runs in ``namespace``
    (the notebook's globals) with its output hidden. Returns ``{answer name: status}``.
    """
    import contextlib as _contextlib
    import io as _io

    statuses, passed, total = {}, 0, 0
    for title, name, points in exercises:
        marker = f"# Testa {name}:"
        sources = [s for s in history if _type(s) is _str and s.lstrip().startswith(marker)]
        total += points
        if not sources:
            status = "não executado (rode a célula de teste do exercício)"
        else:
            try:
                with _contextlib.redirect_stdout(_io.StringIO()):
                    exec(compile(sources[-1], f"<teste de {name}>", "exec"), namespace)
            except NotImplementedError:
                status = "ainda sem resposta"
            except NameError as error:  # the interpreter's message is English
                missing = getattr(error, "name", None)
                status = f"ainda sem resposta ({missing} não foi definido)" if missing else "ainda sem resposta"
            except AssertionError as error:
                if _raised_while_blank(error):  # call_answer turns the stub's error into a message
                    status = "ainda sem resposta"
                else:
                    status = f"falhou: {_str(error).splitlines()[0] if _str(error) else 'AssertionError'}"
            except Exception as error:  # noqa: BLE001 - the answer may raise anything
                status = f"erro: {_type(error).__name__}: {error}"
            else:
                status = "testes visíveis ok"
                passed += points
        statuses[name] = status
        print(f"{title} ({points} {'ponto' if points == 1 else 'pontos'}): {status}")
    print(f"Testes visíveis ok em {passed} de {total} pontos corrigidos automaticamente. "
          "A nota vem dos testes ocultos, mais completos, e das respostas corrigidas pelo professor.")
    return statuses
