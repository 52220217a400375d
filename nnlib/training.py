"""One training loop for the slides' three algorithms: online, mini-batch and batch.

The batch size m decides which one runs:

- ``batch_size=1``: online (stochastic) gradient descent, one update per example;
- ``batch_size=m`` (1 < m < N): mini-batch, one update per m examples;
- ``batch_size=None`` (= N): batch gradient descent, one update per epoch.

Each epoch the N examples are put in a random order and split into consecutive mini-batches,
so every example is used exactly once per epoch (sampling without replacement; the last
mini-batch is smaller when m does not divide N). As in the slides, J(w) on the whole
training set is computed before training (k = 0) and after every epoch k. With
``J_epoch="batch_mean"`` the J of each epoch is instead the mean of its mini-batch J (weighted
by their sizes, so a mean over the N examples), as Keras and scikit-learn record it: no extra
pass over the data, which on a large set costs about a third of an epoch of training.
"""

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from nnlib import losses
from nnlib.network import classes, forward_in_blocks
from nnlib._argument_validation import check_finite_array, check_int, check_non_negative, check_rng


class DivergenceError(RuntimeError):
    """Training diverged: J became inf or NaN."""


class DivergenceWarning(RuntimeWarning):
    """Training diverged and was stopped: J became inf or NaN."""


def minibatches(N, m, rng, shuffle=True):
    """Split the indices 0..N-1 into mini-batches of m, in a random order (without replacement).

    Yields index arrays of length m; the last one is shorter when m does not divide N.
    """
    N = check_int("N", N, low=1)
    m = check_int("batch_size", m, low=1, high=N)
    order = check_rng(rng).permutation(N) if shuffle else np.arange(N)
    for start in range(0, N, m):
        yield order[start:start + m]


@dataclass
class History:
    """What :func:`train` recorded.

    Attributes
    ----------
    J : list of float
        J(w) on the whole training set, before training (epoch 0) and after each epoch; with
        ``J_epoch="batch_mean"``, from epoch 1 on, the mean of that epoch's mini-batch J.
    J_batch : list of float
        J of each mini-batch, at the weights the update started from (one per iteration).
    updates : list of int
        Number of weight updates done by the end of each epoch (0 for epoch 0).
    seconds : list of float
        Wall-clock seconds since training started, at the end of each epoch (0 for epoch 0).
    val_J : list of float
        J on the validation data at each epoch, when given.
    accuracy, val_accuracy : list of float
        Fraction of correct classes, for classification losses (``accuracy`` only with
        ``J_epoch="full"``: it needs the pass over the training set).
    diverged : str or None
        The divergence message, if training stopped because J became inf or NaN.
    """

    J: list = field(default_factory=list)
    J_batch: list = field(default_factory=list)
    updates: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    val_J: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    diverged: str = None

    @property
    def epochs(self):
        """Number of epochs completed."""
        return len(self.J) - 1


def accuracy(net, X, labels):
    """Fraction of examples whose predicted class equals the label."""
    return _accuracy(net.predict(X), labels)


def _accuracy(out, labels):
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = np.argmax(labels, axis=1)
    return float(np.mean(classes(out) == labels.reshape(-1)))


def train(net, X, Y, loss, optimizer, epochs, batch_size=None, rng=None, X_val=None, Y_val=None,
          callback=None, tol=None, on_divergence="warn", J_epoch="full"):
    """Train ``net`` on (X, Y) with ``optimizer`` for ``epochs`` epochs.

    Parameters
    ----------
    net : MLP
        Trained in place (its flat weight vector ``net.w`` is what the optimizer updates).
    X, Y : ndarray
        N training examples (N, d) and their targets.
    loss : str or Loss
        Name from :mod:`nnlib.losses` (``"mse"``, ``"softmax_cross_entropy"``, ...).
    optimizer : object with ``step(params, grad_fn)``
        Any optimizer of :mod:`nnlib.optim`.
    epochs : int
        Maximum number of epochs k.
    batch_size : int or None
        m: 1 (online), 1 < m < N (mini-batch), None or N (batch).
    rng : numpy.random.Generator
        Source of the random order of the examples in each epoch.
    X_val, Y_val : ndarray, optional
        Validation data, evaluated after each epoch.
    callback : callable, optional
        ``callback(history)`` after each epoch (progress bars, live plots); returning
        ``False`` stops training.
    tol : float, optional
        Stop when J changes by less than ``tol`` between two epochs.
    on_divergence : {"warn", "raise"}
        When J becomes inf or NaN, stop and warn (``history.diverged`` holds the message),
        or raise :class:`DivergenceError`.
    J_epoch : {"full", "batch_mean"}
        What ``history.J`` records after each epoch: ``"full"`` (the slides) J(w(k)) on the
        whole training set, one forward pass over the N examples; ``"batch_mean"`` the mean
        of the epoch's mini-batch J, free but measured while w was still changing (the
        ``loss`` of Keras' History and scikit-learn's ``loss_curve_``). J(w(0)) is always
        computed on the whole set.

    Returns
    -------
    History
    """
    loss = losses.get(loss)
    X, Y = _check_data(net, X, Y, "X", "Y")
    N = X.shape[0]
    m = N if batch_size is None else check_int("batch_size", batch_size, low=1, high=N)
    epochs = check_int("epochs", epochs, low=0)
    rng = check_rng(rng)
    if tol is not None:
        tol = check_non_negative("tol", tol)
    if on_divergence not in ("warn", "raise"):
        raise ValueError(f"on_divergence must be 'warn' or 'raise', got {on_divergence!r}")
    if J_epoch not in ("full", "batch_mean"):
        raise ValueError(f"J_epoch must be 'full' or 'batch_mean', got {J_epoch!r}")
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(params, grad_fn) method, got {type(optimizer).__name__}")
    if X_val is not None:
        X_val, Y_val = _check_data(net, X_val, Y_val, "X_val", "Y_val")

    # Overflow is how divergence shows up: it is reported once, by _diverged, not by numpy.
    with np.errstate(over="ignore", invalid="ignore"):
        return _loop(net, X, Y, loss, optimizer, epochs, m, rng, X_val, Y_val, callback, tol,
                     on_divergence, J_epoch == "full")


def _loop(net, X, Y, loss, optimizer, epochs, m, rng, X_val, Y_val, callback, tol, on_divergence,
          full_J):
    N = X.shape[0]
    history = History()
    start = time.perf_counter()
    _record_epoch(history, net, loss, X, Y, X_val, Y_val, 0, 0.0, with_accuracy=full_J)
    t = 0
    for k in range(1, epochs + 1):
        J_sum = 0.0  # Σ (J of a mini-batch) × (its size), for J_epoch="batch_mean"
        for batch in minibatches(N, m, rng):
            Xb, Yb = X[batch], Y[batch]
            J_batch = []

            def grad_fn(ws):
                J, g = net.loss_and_gradient(Xb, Yb, loss, w=ws[0])
                J_batch.append(J)
                return [g]

            optimizer.step([net.w], grad_fn)
            t += 1
            history.J_batch.append(J_batch[0])
            J_sum += J_batch[0] * len(batch)
            if not math.isfinite(J_batch[0]):
                return _diverged(history, t, k, on_divergence)
        epoch_J = None if full_J else J_sum / N  # mean over the N examples of the epoch
        _record_epoch(history, net, loss, X, Y, X_val, Y_val, t, time.perf_counter() - start,
                      epoch_J=epoch_J, with_accuracy=full_J)
        if not math.isfinite(history.J[-1]):
            return _diverged(history, t, k, on_divergence)
        if callback is not None and callback(history) is False:
            break
        if tol is not None and abs(history.J[-2] - history.J[-1]) < tol:
            break
    return history


def _check_data(net, X, Y, x_name, y_name):
    X = check_finite_array(x_name, X, ndim=2).astype(net.dtype, copy=False)
    Y = check_finite_array(y_name, Y)
    if X.shape[1] != net.sizes[0]:
        raise ValueError(f"{x_name} has {X.shape[1]} features per example, but the network expects {net.sizes[0]}")
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"{x_name} has {X.shape[0]} examples but {y_name} has {Y.shape[0]}")
    if np.issubdtype(Y.dtype, np.floating):
        Y = Y.astype(net.dtype, copy=False)
    return X, Y


def _record_epoch(history, net, loss, X, Y, X_val, Y_val, updates, seconds, epoch_J=None,
                  with_accuracy=True):
    """J(w(k)) on the whole training set (one forward pass) unless ``epoch_J`` is given, and
    the validation figures."""
    history.updates.append(updates)
    history.seconds.append(seconds)
    if epoch_J is not None:
        history.J.append(epoch_J)
    else:
        out = forward_in_blocks(net.forward, X)
        history.J.append(loss.value(out, Y))
        if loss.classification and with_accuracy:
            history.accuracy.append(_accuracy(out, Y))
    if X_val is not None:
        out_val = forward_in_blocks(net.forward, X_val)
        history.val_J.append(loss.value(out_val, Y_val))
        if loss.classification:
            history.val_accuracy.append(_accuracy(out_val, Y_val))


def _diverged(history, t, k, on_divergence):
    history.diverged = (
        f"training diverged at iteration {t} (epoch {k}): J became inf or NaN. "
        "Try a smaller learning rate α."
    )
    if on_divergence == "raise":
        raise DivergenceError(history.diverged)
    warnings.warn(history.diverged, DivergenceWarning, stacklevel=4)
    return history
